"""Real time against live servers: the python-socketio client, the login session cookie, member rooms, Redis."""

from __future__ import annotations

import queue
import re
import threading
import uuid
from typing import Any

import pytest
import socketio

from tests.conftest import REDIS_URL
from tests.live import LiveServer, cookie_header, join, link_in_mail, web_session

pytestmark = pytest.mark.slow


class Listener:
    """A Socket.IO client that files every event it receives, to be awaited by name."""

    def __init__(self, server: LiveServer, cookie: str | None = None) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda name, data=None: self.events.put((name, data)))
        headers = {"Cookie": cookie} if cookie else {}
        self.client.connect(server.url, headers=headers, transports=["websocket"], wait_timeout=10)

    def next(self, name: str, timeout: float = 30) -> Any:
        """The payload of the next ``name`` event; other events before it are skipped."""
        while True:
            try:
                got, data = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {name!r} event within {timeout} s") from None
            if got == name:
                return data

    def received(self, wait: float = 1.0) -> list[tuple[str, Any]]:
        """Everything that arrives within ``wait`` seconds."""
        found = []
        try:
            while True:
                found.append(self.events.get(timeout=wait))
        except queue.Empty:
            return found

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def listeners():
    opened: list[Listener] = []

    def open_(server: LiveServer, cookie: str | None = None) -> Listener:
        listener = Listener(server, cookie)
        opened.append(listener)
        return listener

    yield open_
    # A websocket close waits up to a few seconds for the server's side; close them all at once.
    closing = [threading.Thread(target=listener.close) for listener in opened]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join(timeout=15)


def _new_member(server: LiveServer):
    """Signs up over HTTP; returns the logged-in HTTP session and the member's email."""
    session = web_session()
    address = f"live-{uuid.uuid4().hex[:10]}@example.com"
    join(server, session, email=address)
    return session, address


def _verify(server: LiveServer, address: str, served_by: LiveServer | None = None) -> None:
    """Opens the confirmation link (anonymously, as from a mail app); the welcome notification follows."""
    link = link_in_mail(server.wait_for_mail(address)[-1])
    target = served_by or server
    path = link.split("/", 3)[3]
    response = web_session().get(f"{target.url}/{path}", timeout=30)
    assert response.status_code == 200, response.status_code


def test_a_member_socket_gets_the_bell_count_on_connect_and_a_live_notification_after_commit(live_server, listeners):
    session, address = _new_member(live_server)
    member_socket = listeners(live_server, cookie_header(session))
    assert member_socket.next("unread") == {"unread": 0}  # authenticated by the login cookie: its own room

    _verify(live_server, address)

    pushed = member_socket.next("notification")
    assert pushed["unread"] == 1
    assert pushed["url"] == "/account/profile"
    assert pushed["text"]  # rendered in the member's language by the server
    # The page agrees with the push: the bell now shows one unread notification.
    html = session.get(live_server.url + "/", timeout=10).text
    assert re.search(r'id="bell-count"[^>]*data-count="1"', html)


def test_an_anonymous_socket_connects_but_receives_nothing_private(live_server, listeners):
    session, address = _new_member(live_server)
    anonymous = listeners(live_server)
    assert anonymous.client.connected
    member_socket = listeners(live_server, cookie_header(session))
    member_socket.next("unread")

    _verify(live_server, address)

    member_socket.next("notification")
    assert anonymous.received(wait=1.0) == []


def test_another_members_socket_does_not_get_the_notification(live_server, listeners):
    session, address = _new_member(live_server)
    other_session, _ = _new_member(live_server)
    other = listeners(live_server, cookie_header(other_session))
    assert other.next("unread") == {"unread": 0}
    mine = listeners(live_server, cookie_header(session))
    mine.next("unread")

    _verify(live_server, address)

    mine.next("notification")
    assert other.received(wait=1.0) == []


def test_a_forged_session_cookie_is_treated_as_anonymous(live_server, listeners):
    forged = listeners(live_server, "session=eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    assert forged.received(wait=1.0) == []


@pytest.mark.redis
def test_a_notification_caused_on_one_process_reaches_a_socket_on_another_through_redis(live_server_factory, listeners):
    server_a = live_server_factory(redis_url=REDIS_URL)
    server_b = live_server_factory(redis_url=REDIS_URL, database_url=server_a.database_url)
    assert server_a.port != server_b.port

    session, address = _new_member(server_a)
    socket_on_a = listeners(server_a, cookie_header(session))
    assert socket_on_a.next("unread") == {"unread": 0}

    # Process B serves the confirmation; its after-commit push travels through Redis to process A.
    _verify(server_a, address, served_by=server_b)

    pushed = socket_on_a.next("notification")
    assert pushed["unread"] == 1
    assert "GET /verify/" in server_b.log_tail()
    assert "GET /verify/" not in server_a.log_tail()
