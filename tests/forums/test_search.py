"""portal.search: Persian-aware folding, the Whoosh backend through the forum sources, filters, the page, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from forums import services
from forums.models import Post, PostStatus
from portal import search, textfold
from portal.db import db, utcnow
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.portal.web import use_language


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("كتاب", "کتاب"),  # Arabic kaf
        ("علي", "علی"),  # Arabic yeh
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("أحمد", "احمد"),  # hamza on alef
        ("إسلام", "اسلام"),
        ("آب", "اب"),
        ("مؤمن", "مومن"),
        ("مسئول", "مسیول"),
        ("مُحَمَّد", "محمد"),  # harakat
        ("عـــلی", "علی"),  # tatweel
        ("۱۴۰۳", "1403"),  # Persian digits
        ("٢٠٢٤", "2024"),  # Arabic-Indic digits
        ("Running", "run"),  # English stemming
        ("connections", "connection"),
    ],
)
def test_folding_makes_variants_match(written, typed):
    assert set(search.terms_of(typed)) & set(search.terms_of(written))


def test_fold_text_is_exported_for_other_packages_and_is_the_portals_one_folding():
    assert search.fold_text is textfold.fold_text
    assert search.fold_text("كتاب‌هاي ۱۲", keep_zwnj=True) == "کتاب‌های 12"
    assert search.fold_text("كتاب‌هاي ۱۲") == "کتابهای 12"


def _index(*pairs: tuple[str, str]) -> None:
    search.index_documents(
        [
            search.Document(kind="test", id=str(i), title=title, body=body, url=f"/t/{i}")
            for i, (title, body) in enumerate(pairs)
        ]
    )


@pytest.mark.parametrize("query", ["می‌روم", "می روم", "میروم"])
def test_a_word_with_zwnj_a_space_or_joined_finds_every_spelling(query):
    _index(("a", "من هر روز به مدرسه می‌روم"), ("b", "فردا می روم"), ("c", "امروز میروم"), ("d", "نمی‌دانم"))
    found = {hit.id for hit in search.search(query).hits}
    assert found == {"0", "1", "2"}


def test_plural_with_zwnj_matches_joined_plural():
    _index(("a", "کتاب‌ها را خواندم"), ("b", "کتابها روی میز"))
    assert {hit.id for hit in search.search("کتاب‌ها").hits} == {"0", "1"}
    assert {hit.id for hit in search.search("کتابها").hits} == {"0", "1"}


def test_forum_posts_are_indexed_after_commit_and_found_with_highlighted_snippets():
    topic = make_topic(title="باتری گوشی", body="باتري گوشي من زود تمام می‌شود")
    make_reply(topic, body="Try calibrating the battery overnight")
    db.session.commit()
    results = search.search("باتری")
    assert results.total == 1
    hit = results.hits[0]
    assert hit.kind == "forum_topic"
    assert hit.url == f"/forums/t/{topic.id}"
    assert "<mark>باتري</mark>" in str(hit.snippet)
    english = search.search("calibrate batteries")
    assert [h.kind for h in english.hits] == ["forum_post"]
    assert "<mark>calibrating</mark>" in str(english.hits[0].snippet)


def test_nothing_is_indexed_when_the_transaction_rolls_back():
    make_topic(title="Rolled back topic", body="ephemeral words")
    db.session.rollback()
    assert search.search("ephemeral").total == 0


def test_hidden_posts_leave_the_index_and_restored_ones_come_back():
    topic = make_topic()
    post = make_reply(topic, body="forbidden snake oil")
    db.session.commit()
    assert search.search("snake").total == 1
    moderator = ModeratorFactory()
    services.moderate_post(actor=moderator, post=post, status=PostStatus.HIDDEN)
    db.session.commit()
    assert search.search("snake").total == 0
    services.moderate_post(actor=moderator, post=db.session.get(Post, post.id), status=PostStatus.VISIBLE)
    db.session.commit()
    assert search.search("snake").total == 1


def test_filters_by_kind_category_author_and_date():
    phones, laptops = CategoryFactory(name="Phones"), CategoryFactory(name="Laptops")
    alice, bob = MemberFactory(), MemberFactory()
    make_topic(alice, phones, title="Screen repair", body="cracked screen")
    make_topic(bob, laptops, title="Screen flicker", body="laptop screen flickers")
    db.session.commit()
    assert search.search("screen").total == 2
    assert search.search("screen", filters=search.Filters(category=str(phones.id))).total == 1
    assert search.search("screen", filters=search.Filters(author=str(bob.id))).hits[0].title == "Screen flicker"
    assert search.search("screen", kinds=["forum_post"]).total == 0
    future = search.Filters(since=utcnow() + timedelta(days=1))
    assert search.search("screen", filters=future).total == 0
    window = search.Filters(since=utcnow() - timedelta(days=1), until=utcnow() + timedelta(days=1))
    assert search.search("screen", filters=window).total == 2


def test_results_are_paginated_with_a_total():
    _index(*[(f"title {i}", "common word") for i in range(25)])
    first = search.search("common", page=1, per_page=10)
    third = search.search("common", page=3, per_page=10)
    assert first.total == third.total == 25
    assert len(first.hits) == 10
    assert len(third.hits) == 5
    assert first.pages == 3


def test_highlighting_escapes_the_text():
    _index(("t", "<b>bold</b> needle & more"))
    snippet = str(search.search("needle").hits[0].snippet)
    assert "&lt;b&gt;" in snippet
    assert "<mark>needle</mark>" in snippet


def test_reindex_rebuilds_from_the_sources_with_a_progress_bar(app):
    make_topic(title="Reindexed topic", body="findable after rebuild")
    db.session.commit()
    search.backend().clear()
    assert search.search("findable").total == 0
    result = CliRunner().invoke(app.cli, ["portal", "search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexing" in result.output
    assert "document(s) indexed with the whoosh backend" in result.output
    assert search.search("findable").total == 1


def test_the_search_page_in_english_and_persian(web):
    category = CategoryFactory(name="Products")
    make_topic(category=category, title="Warranty card lost", body="I lost my warranty card")
    db.session.commit()
    html = web.get("/search/?q=warranty").get_data(as_text=True)
    assert "<mark>Warranty</mark>" in html
    assert "1 results" in html
    assert f'<option value="{category.id}"' in html
    use_language(web, "fa")
    html = web.get("/search/?q=warranty&category=" + str(category.id)).get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "۱ نتیجه" in html


def test_the_search_page_filters_by_author_name_and_ignores_bad_dates(web):
    emma = MemberFactory(display_name="Emma Clarke")
    make_topic(emma, title="Emma's guide", body="pairing guide")
    make_topic(title="Another guide", body="pairing guide too")
    db.session.commit()
    html = web.get("/search/?q=pairing&author=emma&from=not-a-date").get_data(as_text=True)
    assert "Emma&#39;s guide" in html
    assert "Another guide" not in html


@pytest.mark.postgres
def test_the_postgres_backend_matches_the_same_words(app):
    app.config["SEARCH_BACKEND"] = "postgres"
    try:
        topic = make_topic(title="كتاب‌هاي قديمي", body="می روم تا مُحَمَّد را ببینم؛ running late")
        db.session.commit()
        for query in ["کتاب‌های", "کتابهای", "میروم", "می‌روم", "محمد", "run", "قدیمی"]:
            results = search.search(query)
            assert results.total == 1, query
            assert results.hits[0].id == str(topic.id)
        assert "<mark>" in str(search.search("محمد").hits[0].snippet)
        filtered = search.search("محمد", filters=search.Filters(category=str(topic.category_id + 1)))
        assert filtered.total == 0
        search.reindex()
        assert search.search("running").total == 1
    finally:
        app.config["SEARCH_BACKEND"] = "whoosh"


def test_an_affix_written_apart_is_found_by_the_joined_form_alone():
    _index(("a", "کتاب ها را خواندم"), ("b", "فردا نمی دانم"), ("c", "نمی خواهم ولی دانم"), ("d", "کتاب‌ها"))
    assert search.query_words("نمی دانم") == [["نمیدانم", "نمی", "دانم"]]
    assert {hit.id for hit in search.search("کتاب‌ها").hits} == {"0", "3"}
    assert {hit.id for hit in search.search("كتابها").hits} == {"0", "3"}
    # The parts far apart are not the word: only the post that writes it (spaced) matches.
    assert {hit.id for hit in search.search("نمی‌دانم").hits} == {"1"}
    assert {hit.id for hit in search.search("نمی دانم").hits} == {"1"}
    # A part alone still finds the compound.
    assert {hit.id for hit in search.search("کتاب").hits} == {"0", "3"}
    assert all("<mark>" in str(hit.snippet) for hit in search.search("کتابها").hits)


def test_relevance_orders_the_pages_a_title_match_first():
    _index(*[(f"post {i}", "ordinary words about a phone") for i in range(30)], ("Phone battery", "short"))
    first = search.search("phone", per_page=10)
    assert first.hits[0].id == "30"
    pages = [search.search("phone", page=n, per_page=10) for n in (1, 2, 3, 4)]
    ids = [hit.id for page in pages for hit in page.hits]
    assert len(ids) == len(set(ids)) == 31
    assert all(page.total == 31 and not page.capped for page in pages)
    assert search.search("phone", page=9, per_page=10).hits == []


def test_a_common_word_counts_up_to_the_cap_and_the_page_says_so(web):
    cap = search.COUNT_CAP
    _index(*[(f"t{i}", "common word") for i in range(cap + 5)], ("rare", "uncommon word"))
    results = search.search("common", per_page=20)
    assert results.capped
    assert results.total == cap
    assert len(results.hits) == 20
    assert results.pages == cap // 20
    # Deep pages count past the page asked for, so that a next page shows while there are hits.
    deep = search.search("common", page=cap // 20, per_page=20)
    assert len(deep.hits) == 20
    assert deep.pages == deep.page + 1
    last = search.search("common", page=cap // 20 + 1, per_page=20)
    assert len(last.hits) == 5
    assert not last.capped
    assert last.total == cap + 5
    exact = search.search("word", kinds=["nothing"])
    assert exact.total == 0
    assert not exact.capped
    html = web.get("/search/?q=common").get_data(as_text=True)
    assert "1,000+ results" in html
    use_language(web, "fa")
    html = web.get("/search/?q=common").get_data(as_text=True)
    assert "۱٬۰۰۰+ نتیجه" in html
    html = web.get("/search/?q=uncommon").get_data(as_text=True)
    assert "۱ نتیجه" in html
    assert "+ نتیجه" not in html


def _whoosh_ranking(words: list[str], filter_query=None) -> list[tuple[str, float]]:
    """What Whoosh's own matchers score for ``words``: the query the backend computes without them."""
    from whoosh import query as wq

    clauses = [wq.Or([wq.Term("title", w, boost=search.TITLE_BOOST), wq.Term("body", w)]) for w in words]
    searcher = search.backend()._current_searcher()
    results = searcher.search(wq.And(clauses), limit=None, filter=filter_query)
    return [(hit["key"], hit.score) for hit in results]


def _ranking(query: str, **kwargs) -> list[tuple[str, float]]:
    results = search.search(query, per_page=100, **kwargs)
    return [(f"{hit.kind}:{hit.id}", hit.score) for hit in results.hits]


def test_the_scores_are_whooshs_own_across_segments_and_deletions():
    now = utcnow()
    texts = [
        ("Phone battery", "the battery of my phone drains"),
        ("Battery", "battery battery battery and a phone"),
        ("Screen", "a phone with a cracked screen and a weak battery"),
        ("Phone", "nothing else"),
        ("Charger", "the charger of the phone is hot and the battery too, " * 5),
    ]
    for batch in range(3):  # three commits: three segments
        search.index_documents(
            [
                search.Document(
                    kind="test" if i % 2 else "other",
                    id=f"{batch}-{i}",
                    title=title,
                    body=body,
                    url="/x",
                    language="en" if i < 3 else "fa",
                    category=str(i % 2),
                    created_at=now - timedelta(days=batch * 10 + i),
                )
                for i, (title, body) in enumerate(texts)
            ]
        )
    search.remove_documents("other", ["1-0"])
    searcher = search.backend()._current_searcher()
    assert len(searcher.reader().leaf_readers()) > 1
    assert searcher.reader().has_deletions()
    for query, words in [("phone", ["phone"]), ("battery phone", ["batteri", "phone"]), ("charger", ["charger"])]:
        ours, theirs = _ranking(query), _whoosh_ranking(words)
        assert [key for key, _ in ours] == [key for key, _ in theirs], query
        assert [score for _, score in ours] == pytest.approx([score for _, score in theirs]), query
    assert "other:1-0" not in dict(_ranking("phone"))
    # Filters narrow without changing the order of what is left.
    everything = [key for key, _ in _ranking("phone")]
    for kwargs in [
        {"kinds": ["test"]},
        {"filters": search.Filters(category="1")},
        {"filters": search.Filters(language="fa")},
        {"filters": search.Filters(since=now - timedelta(days=12), until=now - timedelta(days=1))},
    ]:
        narrowed = [key for key, _ in _ranking("phone", **kwargs)]
        assert narrowed, kwargs
        assert narrowed == [key for key in everything if key in narrowed], kwargs
        assert len(narrowed) < len(everything), kwargs
    assert {key.split(":")[0] for key in dict(_ranking("phone", kinds=["test"]))} == {"test"}


def _old_schema_index(directory) -> None:
    """An index as an earlier version made it: title and body with positions."""
    from whoosh import fields as wf
    from whoosh import index as windex

    current = search.whoosh_schema()
    old = wf.Schema(**{name: current[name] for name in current.names() if name not in ("title", "body")})
    old.add("title", wf.TEXT(analyzer=search.analyzer(), stored=True))
    old.add("body", wf.TEXT(analyzer=search.analyzer(), stored=True))
    directory.mkdir(parents=True, exist_ok=True)
    windex.create_in(str(directory), old)


def test_an_index_with_the_old_schema_still_answers_and_a_reindex_upgrades_it(app, search_index):
    _old_schema_index(search_index)
    topic = make_topic(title="Outdated index", body="written before the schema changed")
    other = make_topic(title="Another topic", body="schema talk")
    db.session.commit()
    engine = search.backend()
    assert engine.outdated()
    assert {hit.id for hit in search.search("schema").hits} == {str(topic.id), str(other.id)}
    # Reindexing one kind of an outdated index rebuilds every kind with the current schema.
    search.reindex(["forum_topic"])
    assert not engine.outdated()
    assert search.search("outdated").hits[0].id == str(topic.id)
    assert search.search("schema").total == 2


def test_field_lengths_and_postings_read_without_the_codec_shortcuts_are_the_same():
    _index(("Phone battery", "one two three"), ("Phone", ""), ("x", "phone " * 40))
    reader = search.backend()._current_searcher().reader()

    class Plain:
        """The reader's public methods only (another codec): the slow paths of the shortcuts."""

        def __init__(self, wrapped):
            self._wrapped = wrapped

        def doc_count_all(self):
            return self._wrapped.doc_count_all()

        def doc_field_length(self, docnum, fieldname, default=0):
            return self._wrapped.doc_field_length(docnum, fieldname, default)

        def __contains__(self, term):
            return term in self._wrapped

        def postings(self, fieldname, text):
            return _Stepwise(self._wrapped.postings(fieldname, text))

    class _Stepwise:
        def __init__(self, matcher):
            self._matcher = matcher
            self.is_active, self.id, self.weight, self.next = (
                matcher.is_active,
                matcher.id,
                matcher.weight,
                matcher.next,
            )

    for field in ("title", "body"):
        assert search._length_bytes(Plain(reader), field) == search._length_bytes(reader, field)
        assert search._postings(Plain(reader), field, "phone") == search._postings(reader, field, "phone")
    assert search._postings(reader, "body", "phone") == {2: 40.0}
    assert search._length_bytes(reader, "body")[1] == 0
