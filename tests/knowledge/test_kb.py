"""The knowledge base: categories, drafts and publishing, revisions, translations, helpful votes,
view counts, related articles, suggestions and the search documents."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from knowledge.kb import queries, search, services
from knowledge.kb.models import KbArticle, KbRevision, KbVote
from portal.extensions import db
from tests.factories import MemberFactory
from tests.helpers import count_queries
from tests.knowledge.factories import KbArticleFactory, KbCategoryFactory, index_kb
from tests.portal.web import fresh, post_form, recorded_events, sign_in


def test_editors_write_a_draft_publish_it_and_every_edit_is_a_revision(web, agent):
    category = KbCategoryFactory()
    sign_in(web, agent)
    response = post_form(
        web,
        "/kb/manage/new",
        {
            "title": "Resetting your password",
            "category_id": str(category.id),
            "language": "en",
            "translation_of_id": "0",
            "body": "Open **Forgot password**.",
        },
    )
    assert response.status_code == 303
    article = db.session.scalar(sa.select(KbArticle))
    assert (article.status, article.author_id, article.slug) == ("draft", agent.id, "resetting-your-password")
    assert web.get(f"/kb/a/{article.id}").status_code == 200  # editors preview drafts
    anonymous = web.application.test_client()
    assert anonymous.get(f"/kb/a/{article.id}").status_code == 404
    page = f"/kb/manage/{article.id}/edit"
    post_form(
        web,
        page,
        {"title": "Reset your password", "category_id": str(category.id), "body": "New text", "note": "shorter"},
    )
    post_form(web, f"/kb/manage/{article.id}/publish", {"action": "publish"}, page=page)
    article = fresh(article)
    assert (article.status, article.title) == ("published", "Reset your password")
    assert article.published_at is not None
    assert anonymous.get(f"/kb/a/{article.id}").status_code == 200
    notes = db.session.scalars(sa.select(KbRevision.note).order_by(KbRevision.id)).all()
    assert notes == ["created", "shorter"]


def test_members_cannot_edit_the_knowledge_base(web, member):
    sign_in(web, member)
    assert web.get("/kb/manage").status_code == 403
    with pytest.raises(services.NotAllowed):
        services.create_category(actor=member, slug="x", name_fa="x", name_en="x")


def test_markdown_is_sanitised(web):
    article = KbArticleFactory(body="Hi <script>alert(1)</script> [x](javascript:alert(1)) **bold**")
    html = web.get(f"/kb/a/{article.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert 'href="javascript' not in html
    assert "<strong>bold</strong>" in html


def test_translations_are_linked_and_the_article_offers_the_other_language(web, agent):
    category = KbCategoryFactory()
    fa = services.create_article(actor=agent, category_id=category.id, language="fa", title="بازنشانی رمز", body="متن")
    en = services.create_article(
        actor=agent, category_id=category.id, language="en", title="Reset", body="Text", translation_of_id=fa.id
    )
    for article in (fa, en):
        services.publish_article(actor=agent, article=article)
    db.session.commit()
    assert queries.translations(en) == {"fa": fa.id, "en": en.id}
    html = web.get(f"/kb/a/{en.id}").get_data(as_text=True)
    assert f'href="/kb/a/{fa.id}"' in html
    assert 'hreflang="fa"' in html
    with pytest.raises(services.Conflict):
        services.create_article(
            actor=agent, category_id=category.id, language="en", title="Again", body="x", translation_of_id=fa.id
        )


def test_a_view_is_counted_atomically_per_page_view(web):
    article = KbArticleFactory()
    db.session.commit()
    for _ in range(3):
        web.get(f"/kb/a/{article.id}")
    assert fresh(article).view_count == 3


def test_a_member_votes_once_and_the_author_earns_from_a_helpful_vote(web, member, agent):
    article = KbArticleFactory(author_id=agent.id)
    sign_in(web, member)
    with recorded_events("kb.article_helpful") as seen:
        post_form(web, f"/kb/a/{article.id}/vote", {"helpful": "yes"}, page=f"/kb/a/{article.id}")
        post_form(web, f"/kb/a/{article.id}/vote", {"helpful": "no"}, page=f"/kb/a/{article.id}")
    article = fresh(article)
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    vote = db.session.scalar(sa.select(KbVote))
    assert [(e.member_id, e.source, e.attributes["voter_id"]) for e in seen] == [
        (agent.id, ("kb_vote", vote.id), member.id)
    ]
    assert "Thank you for your answer!" in web.get(f"/kb/a/{article.id}").get_data(as_text=True)


def test_visitors_vote_once_per_session(web, other_web):
    article = KbArticleFactory()
    db.session.commit()
    page = f"/kb/a/{article.id}"
    post_form(web, f"{page}/vote", {"helpful": "no"}, page=page)
    post_form(web, f"{page}/vote", {"helpful": "no"}, page=page)
    post_form(other_web, f"{page}/vote", {"helpful": "yes"}, page=page)
    article = fresh(article)
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    html = web.get(page).get_data(as_text=True)
    assert "1 found this helpful, 1 did not." in html


def test_an_unhelpful_vote_earns_nothing_and_voting_on_a_draft_is_not_found(web, agent):
    article = KbArticleFactory(author_id=agent.id)
    draft = KbArticleFactory(status="draft")
    with recorded_events("kb.*") as seen:
        services.vote(article=article, helpful=False, member_id=None, visitor_key="abc")
    assert seen == []
    with pytest.raises(services.NotFound):
        services.vote(article=draft, helpful=True, member_id=None, visitor_key="abc")


def test_a_bad_vote_value_is_a_400(web):
    article = KbArticleFactory()
    db.session.commit()
    response = post_form(web, f"/kb/a/{article.id}/vote", {"helpful": "maybe"}, page=f"/kb/a/{article.id}")
    assert response.status_code == 400


def test_related_articles_share_the_category_and_language(web):
    category = KbCategoryFactory()
    article = KbArticleFactory(category=category, title="Main")
    sibling = KbArticleFactory(category=category, title="Sibling", view_count=5)
    KbArticleFactory(category=category, language="fa", title="Persian one")
    KbArticleFactory(title="Elsewhere")
    assert [a.title for a in queries.related(article)] == [sibling.title]


def test_the_index_shows_categories_in_the_readers_language(web):
    category = KbCategoryFactory(name_en="Billing", name_fa="صورتحساب")
    KbArticleFactory(category=category, title="Paying by card")
    KbArticleFactory(category=category, language="fa", title="پرداخت با کارت")
    db.session.commit()
    html = web.get("/kb/").get_data(as_text=True)
    assert "Billing" in html
    assert "Paying by card" in html
    assert "پرداخت با کارت" not in html
    persian = web.get("/kb/?lang=fa").get_data(as_text=True)
    assert "صورتحساب" in persian
    assert "پرداخت با کارت" in persian


def test_kb_pages_run_a_fixed_number_of_queries(web):
    categories = [KbCategoryFactory() for _ in range(3)]
    for category in categories:
        for _ in range(4):
            KbArticleFactory(category=category)
    article = KbArticleFactory(category=categories[0])
    db.session.commit()
    for path in ["/kb/", f"/kb/c/{categories[0].slug}", f"/kb/a/{article.id}"]:
        web.get(path)
        with count_queries() as counter:
            assert web.get(path).status_code == 200
        assert counter.count <= 8, (path, counter)


def test_suggestions_match_title_and_body_words_best_title_first():
    KbArticleFactory(title="Printer troubleshooting", body="Turn it off and on.")
    KbArticleFactory(title="Ink", body="If the printer shows an error, replace the cartridge.")
    KbArticleFactory(title="Unrelated", body="Nothing here.")
    KbArticleFactory(title="Printer draft", status="draft")
    index_kb()
    titles = [a.title for a in queries.suggest("my PRINTER is broken", "en")]
    assert titles == ["Printer troubleshooting", "Ink"]
    assert queries.suggest("", "en") == []
    assert queries.suggest("%_%", "en") == []


def test_search_documents_are_the_published_articles():
    category = KbCategoryFactory(name_en="Billing")
    author = MemberFactory(display_name="Writer")
    published = KbArticleFactory(
        category=category, title="Invoices", body="Your **invoice** is mailed.", author_id=author.id
    )
    draft = KbArticleFactory(status="draft")
    documents = list(search.SOURCE.iter_documents(batch=1))
    assert [(d.kind, d.id) for d in documents] == [("kb", str(published.id))]
    doc = documents[0]
    assert doc.body == "Your invoice is mailed."
    assert (doc.url, doc.language, doc.category_label) == (f"/kb/a/{published.id}", "en", "Billing")
    assert (doc.category, doc.author, doc.author_name) == (f"kb-{category.id}", str(author.id), "Writer")
    assert doc.created_at is not None
    assert search.SOURCE.count() == 1
    assert search.SOURCE.get_document(str(draft.id)) is None
    assert search.SOURCE.get_document("not-a-number") is None


def test_categories_are_created_by_editors_with_unique_addresses(web, admin):
    sign_in(web, admin)
    response = post_form(
        web, "/kb/manage/categories", {"name_fa": "پرداخت", "name_en": "Payments", "slug": "", "position": "1"}
    )
    assert response.status_code == 303
    assert queries.category_by_slug("payments") is not None
    again = post_form(web, "/kb/manage/categories", {"name_fa": "x", "name_en": "Payments", "slug": "payments"})
    assert again.status_code == 422
    assert "already exists" in again.get_data(as_text=True)


def test_admin_publishing_is_audited(admin):
    article = KbArticleFactory(status="draft")
    with recorded_events("audit.logged") as audits:
        services.publish_article(actor=admin, article=article)
    assert [a.attributes["action"] for a in audits] == ["kb.article_published"]
    assert MemberFactory


def test_the_index_searches_titles_and_bodies(web):
    KbArticleFactory(title="Gift cards online", body="Yes, you can.")
    KbArticleFactory(title="Opening hours", body="We open at eight.")
    index_kb()
    html = web.get("/kb/?q=gift").get_data(as_text=True)
    assert "Results for “gift”" in html
    assert "Gift cards online" in html
    assert html.count("Opening hours") == 1  # only on its shelf, not among the results
    assert "No matching articles." in web.get("/kb/?q=zzzz").get_data(as_text=True)
