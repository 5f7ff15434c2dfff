"""The anonymous page cache: hits cost one stamp read, every change a reader would see invalidates,
members never get it, languages and visitors' CSRF tokens stay apart, views still count."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from forums import pagecache, services, social
from forums.models import PostStatus, Topic
from portal.accounts.models import Member
from portal.db import db
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.helpers import count_queries
from tests.portal.web import CSRF_INPUT, RequestScopedClient, csrf_from, fresh, make_client, sign_in, use_language


@pytest.fixture
def topic():
    category = CategoryFactory(name="Phones")
    topic = make_topic(category=category, title="Battery life tips", body="Charge it at night")
    make_reply(topic, body="First reply here")
    db.session.commit()
    return topic


def _pages(topic: Topic) -> list[str]:
    return [
        "/forums/",
        "/forums/latest",
        f"/forums/c/{topic.category_id}",
        f"/forums/t/{topic.id}",
        f"/forums/t/{topic.id}?page=last",
    ]


def _tokenless(html: str) -> str:
    """The page without its CSRF tokens: a token is signed with the second it was made in, so the same
    visitor's token differs between two reads a second apart."""
    return re.sub(r'(name="csrf_token" value|name="csrf-token" content)="[^"]*"', r'\1=""', html)


def _read(web, path: str) -> tuple[str, str]:
    response = web.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.headers.get("X-Page-Cache", ""), response.get_data(as_text=True)


def test_an_anonymous_repeat_read_is_served_from_the_cache_with_only_the_stamp_read(web, topic, app):
    app.config["FORUM_VIEW_FLUSH_SECONDS"] = 3600  # the view counter waits: only the cache's own SQL is left
    for path in _pages(topic):
        state, first = _read(web, path)
        assert state == "miss", path
        with count_queries() as counter:
            state, second = _read(web, path)
        assert state == "hit", path
        assert _tokenless(second) == _tokenless(first)
        assert len(counter.statements) == 1, (path, counter.statements)
        assert "forum_page_stamp" in counter.statements[0]


def test_every_page_says_it_varies_by_cookie_and_language(web, topic):
    for path in _pages(topic):
        for _ in range(2):
            vary = web.get(path).headers.get("Vary", "")
            assert "Cookie" in vary, (path, vary)
            assert "Accept-Language" in vary, (path, vary)


def test_a_new_reply_shows_at_once_on_every_page(web, topic):
    for path in _pages(topic):
        _read(web, path)
        _read(web, path)
    make_reply(db.session.get(Topic, topic.id), body="A brand new answer")
    db.session.commit()
    state, html = _read(web, f"/forums/t/{topic.id}?page=last")
    assert state == "miss"
    assert "A brand new answer" in html
    for path in ("/forums/", "/forums/latest", f"/forums/c/{topic.category_id}"):
        state, html = _read(web, path)
        assert state == "miss", path


def test_an_edit_a_hide_and_a_like_each_show_on_the_next_anonymous_read(web, topic):
    path = f"/forums/t/{topic.id}"
    author = MemberFactory()
    reply = make_reply(db.session.get(Topic, topic.id), author=author, body="Words before the edit")
    db.session.commit()
    assert "Words before the edit" in _read(web, path)[1]
    assert _read(web, path)[0] == "hit"

    services.edit_post(actor=author, post=reply, body="Words after the edit")
    db.session.commit()
    state, html = _read(web, path)
    assert state == "miss"
    assert "Words after the edit" in html
    assert "Words before the edit" not in html

    social.like_post(actor=MemberFactory(), post=reply)
    db.session.commit()
    state, html = _read(web, path)
    assert state == "miss"
    assert f'data-post-id="{reply.id}">1</span>' in html

    services.moderate_post(actor=ModeratorFactory(), post=reply, status=PostStatus.HIDDEN)
    db.session.commit()
    state, html = _read(web, path)
    assert state == "miss"
    assert "Words after the edit" not in html


def test_an_author_renaming_themselves_shows_on_cached_pages(web, topic):
    path = f"/forums/t/{topic.id}"
    _read(web, path)
    author = db.session.get(Member, topic.author_id)
    author.display_name = "Renamed Person"
    db.session.commit()
    state, html = _read(web, path)
    assert state == "miss"
    assert "Renamed Person" in html


def test_a_rolled_back_change_and_the_view_counter_leave_the_cache_alone(web, topic):
    path = f"/forums/t/{topic.id}"
    _read(web, path)
    generation = pagecache.generation()
    make_reply(db.session.get(Topic, topic.id), body="Never committed")
    db.session.rollback()
    assert pagecache.generation() == generation
    assert _read(web, path)[0] == "hit"
    assert pagecache.generation() == generation  # the hits counted views without a new generation


def test_views_still_count_on_cache_hits(web, topic):
    before = fresh(db.session.get(Topic, topic.id)).view_count
    states = [_read(web, f"/forums/t/{topic.id}")[0] for _ in range(3)]
    assert states == ["miss", "hit", "hit"]
    assert fresh(db.session.get(Topic, topic.id)).view_count == before + 3


def test_a_signed_in_member_never_gets_or_fills_the_cache(web, topic, app):
    member = MemberFactory()
    sign_in(web, member)
    for path in _pages(topic):
        for _ in range(2):
            response = web.get(path)
            assert response.status_code == 200
            assert "X-Page-Cache" not in response.headers, path
            assert "Vary" in response.headers
    assert len(pagecache.store()) == 0
    # an anonymous reader's cached page is not served to a member either
    anonymous = make_client(app)
    use_language(anonymous, "en")
    _read(anonymous, f"/forums/t/{topic.id}")
    assert _read(anonymous, f"/forums/t/{topic.id}")[0] == "hit"
    html = web.get(f"/forums/t/{topic.id}").get_data(as_text=True)
    assert member.display_name in html  # the account menu


def test_each_language_has_its_own_cached_page(web, topic, app):
    path = f"/forums/t/{topic.id}"
    _, english = _read(web, path)
    persian_reader = make_client(app)
    use_language(persian_reader, "fa")
    state, persian = _read(persian_reader, path)
    assert state == "miss"
    assert 'lang="fa"' in persian
    assert 'dir="rtl"' in persian
    assert 'lang="en"' in english
    state, again = _read(persian_reader, path)
    assert (state, _tokenless(again)) == ("hit", _tokenless(persian))
    state, again = _read(web, path)
    assert (state, _tokenless(again)) == ("hit", _tokenless(english))
    # ?lang= in the address is part of the key too
    state, asked = _read(web, path + "?lang=fa")
    assert 'lang="fa"' in asked


def test_a_cached_page_carries_each_visitors_own_csrf_token(web, topic, app):
    path = f"/forums/t/{topic.id}"
    first_token = csrf_from(_read(web, path)[1])
    other = make_client(app)
    use_language(other, "en")
    state, html = _read(other, path)
    assert state == "hit"
    other_token = csrf_from(html)
    assert other_token
    assert other_token != first_token
    assert "\x00" not in html
    # the token works: the language switch on the cached page takes the visitor's form
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = other.post("/lang", data={"csrf_token": other_token, "lang": "fa", "next": path})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code in (302, 303), response.status_code


def test_flashed_messages_are_never_cached(web, topic):
    path = f"/forums/t/{topic.id}"
    _read(web, path)
    with web.session_transaction() as session:
        session["_flashes"] = [("success", "A one-time message")]
    state, html = _read(web, path)
    assert state == ""
    assert "A one-time message" in html
    assert "A one-time message" not in _read(web, path)[1]


def test_the_cache_can_be_turned_off(web, topic, app):
    app.config["FORUM_PAGE_CACHE_SECONDS"] = 0
    try:
        for _ in range(2):
            assert _read(web, f"/forums/t/{topic.id}")[0] == ""
    finally:
        app.config.pop("FORUM_PAGE_CACHE_SECONDS")


def test_the_store_is_bounded_by_entries_and_bytes():
    store = pagecache.PageStore(max_entries=3, max_bytes=100)
    for i in range(5):
        store.put(("page", i), b"x" * 10)
    assert len(store) == 3
    assert store.get(("page", 0), 60) is None
    assert store.get(("page", 4), 60) == b"x" * 10
    store.put(("big",), b"y" * 95)
    assert store.get(("big",), 60) == b"y" * 95
    assert len(store) == 1
    store.put(("huge",), b"z" * 200)
    assert store.get(("huge",), 60) is None
    assert store.get(("big",), -1) is None  # older than allowed: gone


def test_the_stamp_is_taken_before_forum_rows_are_locked_and_plain_reads_take_nothing(topic):
    generation = pagecache.generation()
    db.session.execute(sa.select(Topic.id).where(Topic.id == topic.id))
    assert pagecache.generation() == generation
    with count_queries() as counter:
        db.session.execute(sa.select(Topic.id).where(Topic.id == topic.id).with_for_update())
    assert "forum_page_stamp" in counter.statements[0]  # the stamp first, then the topic's row
    assert pagecache.generation() == generation + 1
    db.session.rollback()
    assert pagecache.generation() == generation


# --- visitors without cookies ---------------------------------------------------------------------------------------


def _cookieless(app):
    return RequestScopedClient(app, app.response_class, use_cookies=False)


@pytest.fixture
def past_the_application(app, monkeypatch):
    """Counts the requests that reach the application behind the cookieless fast path."""
    reached = []
    inner = app.wsgi_app.wsgi_app

    def counting(environ, start_response):
        reached.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    monkeypatch.setattr(app.wsgi_app, "wsgi_app", counting)
    return reached


def test_a_visitor_without_cookies_is_answered_before_the_application(app, topic, past_the_application):
    app.config["FORUM_VIEW_FLUSH_SECONDS"] = 3600
    visitor = _cookieless(app)
    for path in _pages(topic):
        first = visitor.get(path)
        assert first.headers["X-Page-Cache"] == "miss", path
        reached = len(past_the_application)
        with count_queries() as counter:
            second = visitor.get(path)
        assert len(past_the_application) == reached, path  # Flask never saw the second request
        assert second.status_code == 200
        assert second.headers["X-Page-Cache"] == "hit"
        assert len(counter.statements) == 1, (path, counter.statements)
        assert "forum_page_stamp" in counter.statements[0]
        assert "Set-Cookie" not in second.headers
        for header in ("Content-Security-Policy", "X-Content-Type-Options", "Vary", "Content-Type"):
            assert second.headers[header] == first.headers[header], (path, header)
        html = second.get_data(as_text=True)
        assert html.count("Battery life tips") == first.get_data(as_text=True).count("Battery life tips")
        assert 'name="csrf_token" value=""' in html  # no session, so no token
        assert not CSRF_INPUT.search(html)
        assert "\x00" not in html
        assert int(second.headers["Content-Length"]) == len(second.data)


def test_cookieless_pages_follow_changes_the_url_language_and_count_views(app, topic, past_the_application):
    visitor = _cookieless(app)
    path = f"/forums/t/{topic.id}"
    visitor.get(path)
    assert visitor.get(path).headers["X-Page-Cache"] == "hit"
    english = visitor.get(path + "?lang=en")
    assert english.headers["X-Page-Cache"] == "miss"
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert '<html lang="fa"' in visitor.get(path).get_data(as_text=True)
    assert '<html lang="en"' in visitor.get(path + "?lang=en").get_data(as_text=True)

    make_reply(db.session.get(Topic, topic.id), body="A brand new answer")
    db.session.commit()
    fresh_page = visitor.get(path + "?page=last")
    assert fresh_page.headers["X-Page-Cache"] == "miss"
    assert "A brand new answer" in fresh_page.get_data(as_text=True)

    app.config["FORUM_VIEW_FLUSH_SECONDS"] = 0
    before = fresh(db.session.get(Topic, topic.id)).view_count
    reached = len(past_the_application)
    states = [visitor.get(path).headers["X-Page-Cache"] for _ in range(3)]
    assert states == ["miss", "hit", "hit"]
    assert len(past_the_application) == reached + 1
    assert fresh(db.session.get(Topic, topic.id)).view_count == before + 3


def test_requests_with_cookies_or_other_methods_pass_through(app, topic, web, past_the_application):
    path = f"/forums/t/{topic.id}"
    _cookieless(app).get(path)
    reached = len(past_the_application)
    web.get(path)  # a session cookie
    _cookieless(app).get(path, headers={"HX-Request": "true"})
    _cookieless(app).head(path)
    assert len(past_the_application) == reached + 3


def test_a_visitor_without_a_session_switches_language_from_a_tokenless_page(app, topic):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        visitor = make_client(app)
        path = f"/forums/t/{topic.id}"
        _cookieless(app).get(path)
        page = _cookieless(app).get(path)
        assert not CSRF_INPUT.search(page.get_data(as_text=True))
        response = visitor.post("/lang", data={"csrf_token": "", "lang": "en", "next": path})
        assert response.status_code == 303
        assert response.headers["Location"].endswith(path)
        assert '<html lang="en"' in visitor.get(path).get_data(as_text=True)

        for header in ({"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = make_client(app).post("/lang", data={"lang": "en", "next": path}, headers=header)
            assert refused.status_code == 403, header
        same = make_client(app).post(
            "/lang", data={"lang": "en"}, headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
        )
        assert same.status_code == 303

        member = make_client(app)
        sign_in(member, MemberFactory())
        assert member.post("/lang", data={"lang": "en"}).status_code == 400  # members still need the token
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_view_flush_that_may_not_write_keeps_its_views_for_the_next_flush(web, topic, app, monkeypatch):
    # On SQLite a transaction that read before another process wrote may not write ("database is
    # locked" at once); the page must still be served and the views counted later.
    app.config["FORUM_VIEW_FLUSH_SECONDS"] = 0
    before = fresh(db.session.get(Topic, topic.id)).view_count
    real_execute = db.session.execute
    refused = []

    def locked(statement, *args, **kwargs):
        if getattr(getattr(statement, "table", None), "name", None) == Topic.__tablename__ and not refused:
            refused.append(statement)
            raise sa.exc.OperationalError("UPDATE forum_topics", {}, Exception("database is locked"))
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", locked)
    assert web.get(f"/forums/t/{topic.id}").status_code == 200
    assert refused
    monkeypatch.undo()
    assert fresh(db.session.get(Topic, topic.id)).view_count == before
    assert web.get(f"/forums/t/{topic.id}").status_code == 200
    assert fresh(db.session.get(Topic, topic.id)).view_count == before + 2


def test_on_postgresql_the_fast_path_reads_the_generation_on_a_held_autocommit_connection(app, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the held connection is for PostgreSQL; SQLite reads through the session")
    committed = db.engine.connect()
    try:
        expected = committed.exec_driver_sql("SELECT generation FROM forum_page_stamp WHERE id = 1").scalar()
    finally:
        committed.close()
    monkeypatch.setattr(db.session, "get_bind", lambda *a, **k: db.engine)  # a session not bound to a test transaction
    try:
        assert pagecache._cookieless_generation() == expected
        held = pagecache._held.connections[id(db.engine)]
        assert held.connection.dbapi_connection.autocommit is True  # no BEGIN, no rollback
        assert pagecache._cookieless_generation() == expected
        assert pagecache._held.connections[id(db.engine)] is held  # one connection per thread, kept
        held.invalidate()  # as after a server restart
        assert pagecache._cookieless_generation() == expected
        assert pagecache._held.connections[id(db.engine)] is not held
    finally:
        for connection in pagecache._held.connections.values():
            connection.close()
        pagecache._held.connections.clear()


def test_a_page_first_rendered_for_a_visitor_with_cookies_reaches_the_fast_path(app, topic, past_the_application):
    path = f"/forums/t/{topic.id}"
    reader = make_client(app)
    use_language(reader, "fa")  # a session cookie, in the language cookieless visitors get
    assert _read(reader, path)[0] == "miss"
    visitor = _cookieless(app)
    reached = len(past_the_application)
    first = visitor.get(path)
    assert first.headers["X-Page-Cache"] == "hit"  # from the application's store
    assert len(past_the_application) == reached + 1
    second = visitor.get(path)
    assert second.headers["X-Page-Cache"] == "hit"
    assert len(past_the_application) == reached + 1  # answered in front of the application
    assert "Set-Cookie" not in second.headers
    assert not CSRF_INPUT.search(second.get_data(as_text=True))
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
