"""The knowledge base in the shared search: published articles in both languages, kept current on
publish, edit and unpublish, rebuilt by reindex, found through /search/ and the ticket suggestions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from knowledge.kb import services
from knowledge.kb.models import KbArticle
from knowledge.kb.queries import SEARCH_KIND
from knowledge.tickets import queries as ticket_queries
from portal import search
from portal.extensions import db
from tests.knowledge.factories import KbArticleFactory, KbCategoryFactory
from tests.portal.web import post_form, use_language


def _publish(actor, *, title: str, body: str, language: str = "fa", category=None) -> KbArticle:
    category = category or KbCategoryFactory(name_en="Accounts", name_fa="حساب‌ها")
    article = services.create_article(actor=actor, category_id=category.id, language=language, title=title, body=body)
    services.publish_article(actor=actor, article=article)
    db.session.commit()
    return article


def _ids(query: str, **filters) -> list[str]:
    return [h.id for h in search.search(query, kinds=[SEARCH_KIND], filters=search.Filters(**filters)).hits]


def test_a_published_article_is_found_by_persian_variant_spellings(agent):
    # Written with Arabic kaf and yeh and a zero-width non-joiner; searched in Persian letters.
    article = _publish(agent, title="تغيير رمز عبور", body="براي تغيير رمز، به صفحهٔ كاربري می‌روید.")
    for query in ["تغییر رمز", "برای", "کاربری", "میروید", "می روید"]:
        assert _ids(query) == [str(article.id)], query
    hit = search.search("کاربری").hits[0]
    assert (hit.kind, hit.url) == ("kb", f"/kb/a/{article.id}")
    assert "<mark>" in str(hit.snippet)


def test_drafts_are_not_indexed_and_unpublished_articles_leave_the_index(agent):
    category = KbCategoryFactory()
    draft = services.create_article(actor=agent, category_id=category.id, language="en", title="Hidden", body="zebra")
    db.session.commit()
    assert _ids("zebra") == []
    services.publish_article(actor=agent, article=draft)
    db.session.commit()
    assert _ids("zebra") == [str(draft.id)]
    services.unpublish_article(actor=agent, article=draft)
    db.session.commit()
    assert _ids("zebra") == []


def test_an_edit_of_a_published_article_refreshes_its_document(agent):
    article = _publish(agent, title="Delivery times", body="Parcels take three days.", language="en")
    services.update_article(actor=agent, article=article, title="Delivery times", body="Parcels take a week.")
    db.session.commit()
    assert _ids("three") == []
    assert _ids("week") == [str(article.id)]


def test_both_languages_are_indexed_with_their_language(agent):
    en = _publish(agent, title="Gift cards", body="Buy a gift card online.", language="en")
    fa = services.create_article(
        actor=agent,
        category_id=en.category_id,
        language="fa",
        title="کارت هدیه",
        body="کارت هدیه را آنلاین بخرید. gift",
        translation_of_id=en.id,
    )
    services.publish_article(actor=agent, article=fa)
    db.session.commit()
    assert sorted(_ids("gift")) == sorted([str(en.id), str(fa.id)])
    assert _ids("gift", language="fa") == [str(fa.id)]
    assert _ids("gift", language="en") == [str(en.id)]


def test_reindex_includes_published_articles_only(app):
    published = KbArticleFactory(title="Warranty claims", body="Keep the receipt.")
    KbArticleFactory(title="Warranty draft", body="Keep the box.", status="draft")
    db.session.commit()
    assert _ids("warranty") == []  # written without the services: not indexed yet
    result = CliRunner().invoke(app.cli, ["portal", "search", "reindex", "--kind", SEARCH_KIND])
    assert result.exit_code == 0, result.output
    assert _ids("warranty") == [str(published.id)]
    search.backend().clear()
    search.reindex()
    assert _ids("warranty") == [str(published.id)]


def test_the_search_page_finds_articles_and_filters_by_kb_category(web, agent):
    shelf = KbCategoryFactory(name_en="Orders", name_fa="سفارش‌ها")
    other = KbCategoryFactory(name_en="Billing", name_fa="صورتحساب")
    article = _publish(agent, title="پيگيري سفارش", body="كد رهگيري را وارد کنید.", category=shelf)
    _publish(agent, title="پیگیری پرداخت", body="پرداخت", category=other)
    html = web.get("/search/?q=پیگیری سفارش").get_data(as_text=True)
    assert f'href="/kb/a/{article.id}"' in html
    assert f'<option value="kb-{shelf.id}"' in html
    assert 'value="kb"' in html  # the kind filter offers the knowledge base
    filtered = web.get(f"/search/?q=پیگیری&category=kb-{shelf.id}&kind=kb").get_data(as_text=True)
    assert f'href="/kb/a/{article.id}"' in filtered
    assert "پرداخت" not in filtered.split('class="list-unstyled search-results"')[1]
    use_language(web, "fa")
    assert f'href="/kb/a/{article.id}"' in web.get("/search/?q=رهگیری").get_data(as_text=True)


def test_ticket_suggestions_come_from_the_shared_search(web, agent):
    article = _publish(agent, title="بازيابي رمز عبور", body="اگر رمز را فراموش کرده‌اید")
    draft = services.create_article(
        actor=agent, category_id=article.category_id, language="fa", title="رمز عبور پیش‌نویس", body="رمز"
    )
    db.session.commit()
    use_language(web, "fa")
    fragment = web.get("/support/suggest", query_string={"subject": "رمز عبورم یادم رفته"}).get_data(as_text=True)
    assert f'href="/support/suggested/{article.id}"' in fragment
    assert f"/support/suggested/{draft.id}" not in fragment
    # Only what the index holds is offered: a published article missing from the index is not.
    search.backend().clear()
    assert "/support/suggested/" not in web.get("/support/suggest?subject=رمز+عبور").get_data(as_text=True)


def test_a_stale_index_entry_of_an_unpublished_article_is_not_suggested(web, agent):
    article = _publish(agent, title="Shipping abroad", body="We ship abroad.", language="en")
    db.session.execute(sa.update(KbArticle).where(KbArticle.id == article.id).values(status="draft"))
    db.session.commit()
    assert _ids("abroad") == [str(article.id)]  # the index has not heard of it
    assert "Shipping abroad" not in web.get("/support/suggest?subject=shipping+abroad").get_data(as_text=True)


@pytest.mark.postgres
def test_the_postgres_backend_finds_articles_too(app, agent):
    app.config["SEARCH_BACKEND"] = "postgres"
    try:
        article = _publish(agent, title="تغيير آدرس", body="آدرس جديد را ثبت کنید")
        assert _ids("تغییر ادرس") == [str(article.id)]
        services.unpublish_article(actor=agent, article=article)
        db.session.commit()
        assert _ids("تغییر") == []
    finally:
        app.config["SEARCH_BACKEND"] = "whoosh"


def test_a_suggestion_found_by_the_search_counts_as_a_deflection_until_a_ticket_follows(web, agent):
    article = _publish(agent, title="Refunds for cancelled orders", body="Refunds take five days.", language="en")
    fragment = web.get("/support/suggest?subject=refund+cancelled+order").get_data(as_text=True)
    link = f"/support/suggested/{article.id}"
    assert f'href="{link}"' in fragment
    assert web.get(link).headers["Location"] == f"/kb/a/{article.id}"
    assert ticket_queries.deflection_count() == 1
    post_form(
        web,
        "/support/new",
        {"kind": "support", "subject": "Refund still missing", "body": "It has been a week.", "email": "r@example.com"},
    )
    assert ticket_queries.deflection_count() == 0
