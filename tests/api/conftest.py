"""Fixtures of the integration API tests: keys, a request-scoped client and a real webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portal.api import services, webhooks
from portal.extensions import db
from tests.factories import AdminFactory
from tests.portal.web import make_client, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def make_key():
    """Creates a committed key with the given scopes and returns its plaintext."""

    def make(*scopes: str, name: str = "Shop") -> str:
        created = services.create_api_key(actor=None, name=name, scopes=scopes or ("members:read",))
        db.session.commit()
        return created.plaintext

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def admin(db_session):
    return AdminFactory(display_name="Head Admin", email="head@example.com")


@pytest.fixture(autouse=True)
def _fresh_webhook_cache():
    webhooks.invalidate_subscriptions()
    yield
    # The test's rollback removed every subscription: leave the cache knowing that, so the
    # next package's tests do not pay a fan-out query for their first event.
    webhooks.pattern_cache.store(set())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signature_ok(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Bashgah-Signature", ""))


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1: records every POST and answers from a script of statuses."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    redirect_to: str | None = None

    def fail_first(self, times: int, status: int = 500) -> None:
        self.statuses = [status] * times


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                stop.wait(state.delay)
            if state.redirect_to:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answer {status}".encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
