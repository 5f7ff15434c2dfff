"""The anonymous page cache: the rendered HTML of the public forum pages, for visitors who are not signed in.

Most forum readers are not signed in, and for them a page is the same for everyone who reads it in
the same language. So the category index, the topic lists and the topic page keep their rendered
HTML in a small in-process LRU (bounded by entries and by bytes), keyed by

- the URL with its query string (page, cursor, ``?lang=``),
- the language the page is shown in,
- the forums' **generation**: one number in ``forum_page_stamp``, raised in the same transaction as
  any change the pages show (posts, topics, categories, likes, polls, a member's display name).
  Reading it is one primary-key query, so every process (each gunicorn worker keeps its own LRU)
  sees a committed change at once, and a rolled-back change raises nothing.

An entry also expires after ``FORUM_PAGE_CACHE_SECONDS`` (0 turns the cache off), which bounds how
stale the view counters and the footer's date can be. Signed-in members, other methods than GET,
htmx requests and visitors with flashed messages waiting are never served from the cache nor fill it.

Per-response parts stay per response: the page's CSRF token (the language switch form) is stored as
a placeholder and replaced by the visitor's own token; the CSP has no nonces (see portal/security.py);
the topic page still counts its view on a hit. Responses say ``Vary: Cookie, Accept-Language``.

Visitors without any cookie are answered earlier still, by the ``CookielessPages`` middleware at the
end of this module.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import ORMExecuteState, Session

from forums.models import Category, PageStamp, Poll, PollOption, PollVote, Post, PostLike, Topic
from portal.accounts.models import Member
from portal.db import db
from portal.i18n import current_language

# Execution option of a statement that changes nothing the pages show (the batched view counter).
UNSEEN = "forum_pages_unchanged"

_CSRF_SLOT = b"\x00csrf-token\x00"
_STAMP = PageStamp.__table__
_SHOWN_TABLES = frozenset(
    model.__table__.name for model in (Category, Topic, Post, PostLike, Poll, PollOption, PollVote)
)
_SHOWN_MODELS = (Category, Topic, Post, PostLike, Poll, PollOption, PollVote)
_MEMBER_FIELDS = ("display_name",)
_BUMPED = "forum_pages_bumped"


# --- the generation ---------------------------------------------------------------------------------------------


_READ_GENERATION = "SELECT generation FROM forum_page_stamp WHERE id = 1"


def generation() -> int:
    # Plain SQL on the session's connection: this read is most of a cache hit's own work, and the
    # ORM's statement machinery would double it.
    return int(db.session.connection().exec_driver_sql(_READ_GENERATION).scalar() or 0)


def _bump(session: Session) -> None:
    """Raises the generation once per transaction; the row lock is held until the commit.

    It is taken before the transaction's first write to (or ``FOR UPDATE`` read of) a forum table,
    so on PostgreSQL every forum writer locks the stamp first and then forum rows, never the other
    way round: writers queue on the stamp instead of deadlocking with each other."""
    if session.info.get(_BUMPED):
        return
    session.info[_BUMPED] = True
    session.connection().execute(sa.update(_STAMP).where(_STAMP.c.id == 1).values(generation=_STAMP.c.generation + 1))


def _member_shown_change(member: Member) -> bool:
    state = sa.inspect(member)
    return any(state.attrs[name].history.has_changes() for name in _MEMBER_FIELDS)


def _before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    if session.info.get(_BUMPED):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _SHOWN_MODELS):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if isinstance(obj, Topic) and obj in session.dirty and not _topic_shown_change(obj):
                continue
            _bump(session)
            return
        if isinstance(obj, Member) and (obj in session.deleted or (obj in session.dirty and _member_shown_change(obj))):
            _bump(session)
            return


def _topic_shown_change(topic: Topic) -> bool:
    state = sa.inspect(topic)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key != "view_count")


def _do_orm_execute(state: ORMExecuteState) -> None:
    locking_read = state.is_select and getattr(state.statement, "_for_update_arg", None) is not None
    if not (state.is_update or state.is_insert or state.is_delete or locking_read):
        return
    if state.execution_options.get(UNSEEN) or state.session.info.get(_BUMPED):
        return
    if locking_read:
        names = {getattr(table, "name", None) for table in state.statement.get_final_froms()}
    else:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name is None and table is not None:  # an ORM entity given to update()/insert()/delete()
            name = getattr(getattr(sa.inspect(table, raiseerr=False), "local_table", None), "name", None)
        names = {name}
    if names & _SHOWN_TABLES:
        _bump(state.session)


def _transaction_over(session: Session, *_: Any) -> None:
    session.info.pop(_BUMPED, None)


def _listen() -> None:
    if sa.event.contains(Session, "before_flush", _before_flush):
        return
    sa.event.listen(Session, "before_flush", _before_flush)
    sa.event.listen(Session, "do_orm_execute", _do_orm_execute)
    sa.event.listen(Session, "after_commit", _transaction_over)
    sa.event.listen(Session, "after_rollback", _transaction_over)
    sa.event.listen(Session, "after_soft_rollback", _transaction_over)


_listen()


# --- the store --------------------------------------------------------------------------------------------------


class PageStore:
    """A thread-safe LRU of rendered pages, bounded by entries and by bytes, with an age limit."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], max_age: float) -> Any:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, body, size = entry
            if now - stored_at > max_age:
                del self._entries[key]
                self._bytes -= size
                return None
            self._entries.move_to_end(key)
            return body

    def put(self, key: tuple[Any, ...], body: Any, size: int | None = None) -> None:
        size = len(body) if size is None else size
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (time.monotonic(), body, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


_stores: dict[int, PageStore] = {}


def _store_of(stores: dict[int, PageStore], app: Any) -> PageStore:
    """``app``'s store in ``stores``, made anew when the entry bound in its config changed."""
    found = stores.get(id(app))
    if found is None or found.max_entries != app.config.get("FORUM_PAGE_CACHE_ENTRIES", 500):
        found = stores[id(app)] = PageStore(
            int(app.config.get("FORUM_PAGE_CACHE_ENTRIES", 500)),
            int(app.config.get("FORUM_PAGE_CACHE_BYTES", 32 * 1024 * 1024)),
        )
    return found


def store() -> PageStore:
    """This application's store (tests build several applications in one process)."""
    return _store_of(_stores, current_app._get_current_object())  # type: ignore[attr-defined]


def clear_all() -> None:
    """Empties every application's store (a test's rolled-back transaction takes the generation back)."""
    for found in (*_stores.values(), *_cookieless_stores.values()):
        found.clear()


# --- the decorator ----------------------------------------------------------------------------------------------


def _cacheable() -> bool:
    return (
        request.method == "GET"
        and float(current_app.config.get("FORUM_PAGE_CACHE_SECONDS", 60)) > 0
        and not request.headers.get("HX-Request")
        and "_flashes" not in session
        and not current_user.is_authenticated
    )


def _vary(response: Response) -> Response:
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


def anonymous_cache(on_hit: Callable[..., None] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serves the view's page from the cache for anonymous visitors; ``on_hit(**view_args)`` runs on a hit
    (the topic page counts its view there), and the session is committed after it."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            if not _cacheable():
                return _vary(make_response(view(**kwargs)))
            key = (request.full_path, current_language(), generation())
            max_age = float(current_app.config.get("FORUM_PAGE_CACHE_SECONDS", 60))
            body = store().get(key, max_age)
            if body is not None:
                # A page first rendered for a visitor with cookies reaches the fast path from here.
                _keep_for_cookieless(key[2], body, on_hit, dict(kwargs))
                if on_hit is not None:
                    on_hit(**kwargs)
                    db.session.commit()
                if _CSRF_SLOT in body:
                    body = body.replace(_CSRF_SLOT, generate_csrf().encode())
                response = Response(body, mimetype="text/html")
                response.headers["X-Page-Cache"] = "hit"
                return _vary(response)
            response = make_response(view(**kwargs))
            if response.status_code == 200 and response.mimetype == "text/html" and not response.direct_passthrough:
                page = response.get_data()  # kept encoded: a hit sends bytes as they are
                token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
                if token:
                    page = page.replace(token.encode(), _CSRF_SLOT)
                store().put(key, page)
                response.headers["X-Page-Cache"] = "miss"
                _vary(response)
                _keep_for_cookieless(key[2], page, on_hit, dict(kwargs))
                return response
            return _vary(response)

        return wrapper

    return decorate


# --- the cookieless fast path -----------------------------------------------------------------------------------
#
# A request that carries no cookie at all (a first visit, a search engine's crawler, a link preview) is
# anonymous, has no session and no flashed messages, and is shown in the language its URL asks for
# (``?lang=`` or the default). So its page depends on the URL and the generation only, and a cached copy
# can be answered before Flask builds a request at all: no session, login, CSRF, rate limit or locale
# work, only the generation read and a dictionary lookup. Discourse answers anonymous visitors from its
# anonymous cache the same way, in front of the whole application.
#
# Such a page has no CSRF token: the visitor has no session to hold one. Its only form is the language
# switch, which takes anonymous visitors without a token (see portal/home/views.py). The headers are the
# ones the rendered page was sent with (security headers included), without Set-Cookie.


def _cookieless(environ: dict[str, Any]) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and not environ.get("HTTP_COOKIE")
        and not environ.get("HTTP_AUTHORIZATION")
        and not environ.get("HTTP_HX_REQUEST")
    )


def _raw_key(environ: dict[str, Any], generation_now: int) -> tuple[Any, ...]:
    return (
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        generation_now,
    )


_cookieless_stores: dict[int, PageStore] = {}


def cookieless_store(app: Any = None) -> PageStore:
    """This application's store of pages for cookieless visitors."""
    return _store_of(_cookieless_stores, app or current_app._get_current_object())  # type: ignore[attr-defined]


_DROPPED_HEADERS = frozenset({"set-cookie", "content-length", "x-page-cache"})
_KEEP = "forums.pagecache.cookieless"


def _keep_for_cookieless(
    generation_now: int, page: bytes, on_hit: Callable[..., None] | None, kwargs: dict[str, Any]
) -> None:
    """Hands the page to the fast path when it asked for it (a cookieless request), which stores it
    with its final headers (the security headers are added after the view) once the application has
    answered. The hand-over is a list the fast path put in the environ: the Socket.IO middleware passes
    a copy of the environ on, so a new key would not come back."""
    holder = request.environ.get(_KEEP)
    if holder is not None:
        holder.append((_raw_key(request.environ, generation_now), page.replace(_CSRF_SLOT, b""), on_hit, kwargs))


_held = threading.local()


def _cookieless_generation() -> int:
    """The generation for the fast path: on PostgreSQL from a connection this thread keeps, in autocommit.

    Through the session a hit took four round trips to the server (the pool's pre-ping, BEGIN, the
    read, the rollback when the connection goes back), and the server shares the machine's cores.
    A held autocommit connection reads the committed value in one. A session bound to one connection
    (the tests' transaction) and SQLite (a local read; an autocommit connection would still get the
    explicit BEGIN that portal/db.py sends and keep its first snapshot) read through the session."""
    bind = db.session.get_bind()
    if not isinstance(bind, sa.engine.Engine) or bind.dialect.name != "postgresql":
        return generation()
    held = getattr(_held, "connections", None)
    if held is None:
        held = _held.connections = {}
    connection = held.get(id(bind))
    try:
        if connection is None or connection.closed or connection.invalidated:
            connection = held[id(bind)] = bind.connect().execution_options(isolation_level="AUTOCOMMIT")
        return int(connection.exec_driver_sql(_READ_GENERATION).scalar() or 0)
    except sa.exc.DBAPIError:
        # A dropped connection (a server restart): forget it and read through the session this time.
        held.pop(id(bind), None)
        if connection is not None:
            connection.invalidate()
        return generation()


class CookielessPages:
    """WSGI middleware in front of the application: answers cookieless GETs of cached forum pages
    (see above), stores the pages the application renders for such visitors, and passes every other
    request on unchanged."""

    def __init__(self, app: Any, wsgi_app: Callable[..., Any]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not _cookieless(environ):
            return self.wsgi_app(environ, start_response)
        if _cookieless_stores.get(id(self.app)):  # something is cached: this may be a hit
            with self.app.app_context():
                max_age = float(self.app.config.get("FORUM_PAGE_CACHE_SECONDS", 60))
                entry = cookieless_store(self.app).get(_raw_key(environ, _cookieless_generation()), max_age)
                if entry is not None:
                    body, headers, on_hit, kwargs = entry
                    if on_hit is not None:
                        on_hit(**kwargs)
                        db.session.commit()
            if entry is not None:
                start_response("200 OK", list(headers))
                return [body]
        answered: list[Any] = []
        kept: list[Any] = []
        environ[_KEEP] = kept

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        if kept and answered and answered[0].startswith("200 "):
            key, body, on_hit, kwargs = kept[0]
            headers = [(name, value) for name, value in answered[1] if name.lower() not in _DROPPED_HEADERS]
            headers += [("Content-Length", str(len(body))), ("X-Page-Cache", "hit")]
            cookieless_store(self.app).put(key, (body, headers, on_hit, kwargs), size=len(body))
        return result
