"""Concurrent retries of one ticket against real PostgreSQL: one ticket, one 201, the others 200, no 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from knowledge.tickets.models import Ticket
from portal.api import services
from portal.extensions import db
from tests.concurrency import at_once, committing_app, forget_api_keys

pytestmark = pytest.mark.postgres
EMAIL = "ticket-race@example.com"


@pytest.fixture
def live_app(tmp_path, database_url) -> Iterator[Flask]:
    def cleanup() -> None:
        db.session.execute(sa.delete(Ticket).where(Ticket.guest_email == EMAIL))
        forget_api_keys("Ticket racer")

    with committing_app(tmp_path, database_url, cleanup=cleanup, API_RATE_LIMIT="10000 per minute") as app:
        yield app


def test_racing_retries_with_one_idempotency_key_open_one_ticket(live_app):
    with live_app.app_context():
        key = services.create_api_key(actor=None, name="Ticket racer", scopes=["tickets:write"]).plaintext
        db.session.commit()

    def call(i: int) -> tuple[int, str]:
        response = live_app.test_client().post(
            "/api/v1/tickets",
            json={
                "kind": "support",
                "subject": "Racing retries",
                "body": "Sent eight times at once.",
                "email": EMAIL,
                "idempotency_key": "race-1",
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        return response.status_code, (response.get_json() or {}).get("tracking_code", "")

    answers = at_once(8, call)
    statuses = [status for status, _ in answers]
    assert len(statuses) == 8
    assert statuses.count(201) == 1, statuses
    assert set(statuses) == {200, 201}
    assert len({code for _, code in answers}) == 1
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Ticket.guest_email == EMAIL)) == 1
        db.session.remove()
