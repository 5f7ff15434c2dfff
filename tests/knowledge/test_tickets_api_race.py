"""Concurrent retries of one ticket against real PostgreSQL: one ticket, one 201, the others 200, no 500."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from knowledge.tickets.models import Ticket
from portal.api import services
from portal.api.models import ApiKey
from portal.app import create_app
from portal.events import bus
from portal.extensions import db
from portal.moderation.models import AuditEntry
from tests.conftest import test_settings as make_settings

pytestmark = pytest.mark.postgres
EMAIL = "ticket-race@example.com"


@pytest.fixture
def live_app(tmp_path, database_url) -> Iterator[Flask]:
    """An app whose requests commit for real, each on its own connection (the test transaction is bypassed)."""
    saved_bus = (
        {k: list(v) for k, v in bus._subscribers.items()},
        {k: list(v) for k, v in bus._effects.items()},
        dict(bus.effects_by_name),
    )
    bound_session = db.session
    db.session = db._make_scoped_session({})
    other = create_app(make_settings(tmp_path, database_url, API_RATE_LIMIT="10000 per minute"))
    try:
        yield other
    finally:
        with other.app_context():
            db.session.execute(sa.delete(Ticket).where(Ticket.guest_email == EMAIL))
            racer_keys = sa.select(ApiKey.id).where(ApiKey.name == "Ticket racer")
            db.session.execute(
                sa.delete(AuditEntry.__table__).where(
                    AuditEntry.__table__.c.object_kind == "api_key",
                    AuditEntry.__table__.c.object_id.in_(sa.select(sa.cast(racer_keys.subquery().c.id, sa.String))),
                )
            )
            db.session.execute(sa.delete(ApiKey).where(ApiKey.name == "Ticket racer"))
            db.session.commit()
            db.session.remove()
            db.engines[None].dispose()
        db.session = bound_session
        bus.clear()
        bus._subscribers.update(saved_bus[0])
        bus._effects.update(saved_bus[1])
        bus.effects_by_name.update(saved_bus[2])


def test_racing_retries_with_one_idempotency_key_open_one_ticket(live_app):
    with live_app.app_context():
        key = services.create_api_key(actor=None, name="Ticket racer", scopes=["tickets:write"]).plaintext
        db.session.commit()
    answers: list[tuple[int, str]] = []
    barrier = threading.Barrier(8)

    def call() -> None:
        client = live_app.test_client()
        barrier.wait()
        response = client.post(
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
        answers.append((response.status_code, (response.get_json() or {}).get("tracking_code", "")))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = [status for status, _ in answers]
    assert len(statuses) == 8
    assert statuses.count(201) == 1, statuses
    assert set(statuses) == {200, 201}
    assert len({code for _, code in answers}) == 1
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Ticket.guest_email == EMAIL)) == 1
        db.session.remove()
