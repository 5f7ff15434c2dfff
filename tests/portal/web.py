"""Request-test support for the portal tests: a per-request test client, CSRF-aware form posts, event capture."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.events import Event, bus
from portal.extensions import db
from tests.conftest import login

CSRF_INPUT = re.compile(r'name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"')


class RequestScopedClient(FlaskClient):
    """Runs every request in its own application context, as a real server does.

    The ``db_session`` fixture keeps one app context open for the whole test, and the
    plain test client reuses it; then ``g`` (Flask-Login's cached user, Flask-Babel's
    cached locale, Flask-WTF's raw CSRF token) would leak from one request into the
    next. A fresh context per request gives each request its own ``g`` and its own
    database session, still on the test's connection and so inside its transaction.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_client(app: Flask) -> RequestScopedClient:
    return RequestScopedClient(app, app.response_class, use_cookies=True)


def use_language(client: FlaskClient, language: str) -> None:
    with client.session_transaction() as session:
        session["lang"] = language


def sign_in(client: FlaskClient, member: Any) -> FlaskClient:
    """Signs ``member`` in without the form (the conftest helper), after committing test data."""
    db.session.commit()
    return login(client, member)


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token input in the page"
    return match.group(1)


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token of the client's session, read from a page's hidden input."""
    response = client.get(path)
    return csrf_from(response.get_data(as_text=True))


def post_form(client: FlaskClient, path: str, data: dict[str, Any], *, page: str | None = None, **kwargs: Any) -> Any:
    """GETs ``page`` (default ``path``) for its CSRF token, then POSTs ``data`` with it."""
    token = csrf_token(client, page or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    """The flashed messages waiting in the client's session (category, message)."""
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def fresh(obj: Any) -> Any:
    """Re-reads an ORM object after requests changed it on the test's connection."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@contextmanager
def recorded_events(pattern: str = "*") -> Iterator[list[Event]]:
    """Collects the domain events published while the block runs."""
    seen: list[Event] = []

    def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe(pattern, record)
    try:
        yield seen
    finally:
        bus._subscribers[pattern].remove(record)
