"""A live server for browser and Socket.IO tests: the real app, in its own process, on a free port.

Tests reach it through two fixtures defined in ``tests/conftest.py``:

``live_server`` (one per test module)
    A server on a fresh, migrated SQLite database, started before the module's first test
    and stopped after its last, so tests in one module share its data (use unique emails)::

        def test_home_page_answers(live_server):
            assert requests.get(live_server.url + "/").status_code == 200

``live_server_factory`` (per test)
    Starts servers with options, and stops every one of them when the test ends::

        def test_across_processes(live_server_factory):
            a = live_server_factory(redis_url=REDIS_URL)
            b = live_server_factory(redis_url=REDIS_URL, database_url=a.database_url)

    Options: ``database_url`` (default: a new SQLite file; pass another server's
    ``database_url`` to share its data), ``redis_url`` (``PORTAL_REDIS_URL``: the Socket.IO
    message queue between processes), ``jobs_backend`` (``thread`` by default, as in
    production; ``eager`` makes after-commit work finish before the response), ``env``
    (any further ``PORTAL_*`` variables).

What a server is:

* ``python -m tests.live`` imports ``wsgi.app`` (the object gunicorn serves), runs the
  migrations to head, and serves it with Socket.IO in threading mode, as ``python wsgi.py``
  does; it binds 127.0.0.1 on a port chosen at run time.
* Its environment is built from scratch (no ``PORTAL_*`` leaks in from the caller): the
  development settings, a test secret key, the file mail and SMS backends writing under the
  server's own folder, generous rate limits (the limits have their own tests; browser tests
  would trip them), and a Socket.IO channel private to this test run.
* ``start()`` returns once ``/healthz`` answers 200 (the app is up and reaches its
  database); a server that exits or stays silent fails the test with the tail of its log.

Why SQLite even when the suite runs on PostgreSQL: the suite's PostgreSQL database is held
in a transaction by every test (the savepoint fixture) and its rows are invisible to
another process, so a live server cannot share it; a throw-away SQLite file per server
gives a clean, migrated database in well under a second. Pass ``database_url`` to use
another database deliberately.

Helpers for talking to it like a browser: :func:`web_session`, :func:`csrf_of`,
:func:`join`, :func:`log_in`, :func:`cookie_header`, :func:`link_in_mail`.
"""

from __future__ import annotations

import email
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from email.message import Message
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
# Socket.IO's Redis channel is shared by every Redis database number: keep this run's apart.
RUN_CHANNEL = f"bashgah-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
START_TIMEOUT = 120.0  # a busy machine (CI, two cores) can take long to import and migrate
GENEROUS_LIMIT = "10000 per minute"


def free_port() -> int:
    """A port nobody listens on right now, chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """One server process; see the module docstring."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str | None = None,
        redis_url: str = "",
        jobs_backend: str = "thread",
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{self.workdir / 'live.db'}"
        self.redis_url = redis_url
        self.jobs_backend = jobs_backend
        self.extra_env = dict(env or {})
        self.mail_dir = self.workdir / "mail"
        self.sms_dir = self.workdir / "sms"
        self.log_path = self.workdir / "server.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run_python(self, script: str, *args: str) -> str:
        """Runs a Python script (``python -c``) against this server's database and settings, as an
        operator's one-off script would; fails the test with its stderr; returns its stdout."""
        return self._run([sys.executable, "-c", script, *args])

    def flask(self, *args: str) -> str:
        """Runs the app's CLI (``flask --app wsgi ...``) on this server's database; returns its stdout."""
        return self._run([sys.executable, "-m", "flask", "--app", "wsgi", *args])

    def _run(self, command: list[str]) -> str:
        done = subprocess.run(command, cwd=ROOT, env=self.environment(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        return done.stdout

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(
            {
                "PORTAL_ENV": "development",
                "PORTAL_SECRET_KEY": "live-server-test-secret",
                "PORTAL_DATABASE_URL": self.database_url,
                "PORTAL_REDIS_URL": self.redis_url,
                "PORTAL_SOCKETIO_CHANNEL": RUN_CHANNEL,
                "PORTAL_BASE_URL": self.url,
                "PORTAL_JOBS_BACKEND": self.jobs_backend,
                "PORTAL_MAIL_BACKEND": "file",
                "PORTAL_MAIL_FILE_DIR": str(self.mail_dir),
                "PORTAL_SMS_BACKEND": "file",
                "PORTAL_SMS_FILE_DIR": str(self.sms_dir),
                "PORTAL_UPLOADS_ROOT": str(self.workdir / "uploads"),
                "PORTAL_SEARCH_INDEX_DIR": str(self.workdir / "search"),
                "PORTAL_LOGIN_RATE_LIMIT": GENEROUS_LIMIT,
                "PORTAL_SIGNUP_RATE_LIMIT": GENEROUS_LIMIT,
                "PORTAL_RESET_RATE_LIMIT": GENEROUS_LIMIT,
                "PORT": str(self.port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> LiveServer:
        self.port = free_port()
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.live"],
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the live server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the live server did not answer /healthz within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    # --- what the server sent -------------------------------------------------------------------------

    def mails(self) -> list[Message]:
        """Every message the file mail backend wrote, oldest first."""
        if not self.mail_dir.exists():
            return []
        return [email.message_from_bytes(path.read_bytes()) for path in sorted(self.mail_dir.glob("*.eml"))]

    def wait_for_mail(self, to: str | None = None, *, count: int = 1, timeout: float = 30) -> list[Message]:
        """Waits until ``count`` messages (to ``to``, if given) were written; mail leaves through a job."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.mails() if to is None or m["To"] == to]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mail(s) to {to or 'anyone'}, found {len(found)}")
            time.sleep(0.1)

    def __repr__(self) -> str:
        return f"<LiveServer {self.url} db={self.database_url}>"


# --- talking to it like a browser -------------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"')


def web_session() -> requests.Session:
    """A cookie-keeping HTTP client, as a browser would be."""
    return requests.Session()


def csrf_of(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token input in the page"
    return match.group(1)


def _post_form(server: LiveServer, session: requests.Session, path: str, data: dict[str, Any]) -> requests.Response:
    token = csrf_of(session.get(server.url + path, timeout=10).text)
    return session.post(server.url + path, data={"csrf_token": token, **data}, timeout=30)


def join(
    server: LiveServer,
    session: requests.Session,
    *,
    email: str,
    password: str = "live-test-password",
    display_name: str = "Live Tester",
) -> requests.Response:
    """Signs up through the form (which also logs the new member in on ``session``)."""
    response = _post_form(
        server,
        session,
        "/join",
        {
            "display_name": display_name,
            "email": email,
            "phone": "",
            "password": password,
            "confirm": password,
            "referral_code": "",
        },
    )
    assert response.status_code == 200, f"sign-up failed: {response.status_code}"
    assert "/join" not in response.url, "sign-up was refused"
    return response


def log_in(server: LiveServer, session: requests.Session, email: str, password: str) -> requests.Response:
    response = _post_form(server, session, "/login", {"email": email, "password": password})
    assert response.status_code == 200, f"login failed: {response.status_code}"
    assert "/login" not in response.url, "login was refused"
    return response


def cookie_header(session: requests.Session) -> str:
    """The ``Cookie`` header a browser with this session would send (for the Socket.IO client)."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def link_in_mail(message: Message) -> str:
    """The first link in a mail's plain-text part."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
            match = re.search(r"https?://\S+", text)
            assert match, f"no link in: {text!r}"
            return match.group(0)
    raise AssertionError("the mail has no plain-text part")


def _serve() -> None:
    """The server process: migrate, then serve ``wsgi.app`` with Socket.IO (threading mode)."""
    from flask_migrate import upgrade

    from portal.extensions import socketio
    from wsgi import app

    with app.app_context():
        upgrade()
    socketio.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        allow_unsafe_werkzeug=True,
        debug=False,
        use_reloader=False,
        log_output=True,
    )


if __name__ == "__main__":
    _serve()
