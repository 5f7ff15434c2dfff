"""Test fixtures: a migrated schema once per run, a savepoint per test, factories and a login helper.

The database is a real SQLite file by default, or the PostgreSQL database named by
``PORTAL_TEST_DATABASE_URL``. Every test runs inside a transaction that is rolled
back at its end; code under test may commit freely (commits release savepoints).
"""

from __future__ import annotations

import email
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

from forums import pagecache
from portal.app import create_app
from portal.extensions import db, limiter
from portal.moderation.settings import gates_lifted
from tests.live import LiveServer

ARTIFACTS = Path(__file__).parent / "artifacts"
POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="PORTAL_TEST_DATABASE_URL is not set (a PostgreSQL URL)")
    skip_redis = pytest.mark.skip(reason="PORTAL_TEST_REDIS_URL is not set (a Redis URL)")
    for item in items:
        if "postgres" in item.keywords and not POSTGRES_URL:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not REDIS_URL:
            item.add_marker(skip_redis)


def reset_postgres(url: str) -> None:
    """Empties the test database's public schema so migrations start from nothing."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def test_settings(tmp: Path, database_url: str, **extra: Any) -> dict[str, Any]:
    settings = {
        "ENV_NAME": "testing",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "UPLOADS_ROOT": str(tmp / "uploads"),
        "MAIL_FILE_DIR": str(tmp / "mail"),
        "SMS_FILE_DIR": str(tmp / "sms"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "REDIS_URL": "",
        "BASE_URL": "http://localhost",
    }
    settings.update(extra)
    return settings


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if POSTGRES_URL:
        reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("instance")
    application = create_app(test_settings(tmp, database_url))
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


class _BoundSession(FlaskSession):
    """A session that always uses the test's connection (and so its outer transaction)."""

    test_connection: sa.Connection | None = None

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self.test_connection


@pytest.fixture(autouse=True)
def db_session(app: Flask, tmp_path: Path) -> Iterator[Any]:
    """Each test in its own transaction, rolled back at the end; per-test mail and upload folders."""
    app.config["MAIL_FILE_DIR"] = str(tmp_path / "mail")
    app.config["UPLOADS_ROOT"] = str(tmp_path / "uploads")
    limiter.reset()
    connection = db.engine.connect()
    outer = connection.begin()
    session_class = type("BoundSession", (_BoundSession,), {"test_connection": connection})
    original = db.session
    db.session = db._make_scoped_session({"class_": session_class, "join_transaction_mode": "create_savepoint"})
    ctx = app.app_context()
    ctx.push()
    try:
        yield db.session
    finally:
        db.session.remove()
        ctx.pop()
        db.session = original
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outbox(app: Flask) -> Any:
    """Reads the mail the file backend wrote during this test, oldest first."""

    class Outbox:
        def messages(self) -> list[Message]:
            folder = Path(app.config["MAIL_FILE_DIR"])
            if not folder.exists():
                return []
            return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]

        def last(self) -> Message:
            found = self.messages()
            assert found, "no mail was sent"
            return found[-1]

        @staticmethod
        def text(message: Message) -> str:
            part = message.get_body(("plain",)) if hasattr(message, "get_body") else None
            if part is None:
                for piece in message.walk():
                    if piece.get_content_type() == "text/plain":
                        return piece.get_payload(decode=True).decode()
                return ""
            return part.get_content()

    return Outbox()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def login(client: FlaskClient, member: Any) -> FlaskClient:
    """Signs ``member`` in on ``client`` without going through the form.

    The session counts as already seen today, so that pinned query counts measure a page
    itself, not the once-a-day visit bookkeeping of the first request.
    """
    with client.session_transaction() as session:
        session["_user_id"] = str(member.id)
        session["_fresh"] = True
        session["visit_day"] = datetime.now(UTC).date().isoformat()
    return client


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def do(member: Any) -> FlaskClient:
        return login(client, member)

    return do


def clean_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app in its own process on a fresh database, shared by one test module (see tests/live.py)."""
    server = LiveServer(tmp_path_factory.mktemp("live")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts live servers with options (see tests/live.py); every one is stopped when the test ends."""
    started: list[LiveServer] = []

    def start(**options: Any) -> LiveServer:
        server = LiveServer(tmp_path / f"live-{len(started)}", **options)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture
def without_moderation_gates(app):
    """No holds and no daily allowances, for tests of what content packages do on their own."""
    with gates_lifted(app):
        yield


@pytest.fixture(autouse=True)
def _forum_page_cache_emptied() -> Iterator[None]:
    """The anonymous forum page cache keys by a generation that a test's rollback takes back, so each
    test starts with an empty cache."""
    pagecache.clear_all()
    yield
    pagecache.clear_all()
