"""Concurrent event calls through the HTTP endpoint against real PostgreSQL: one idempotency key pays once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from gamification.engine.models import Balance, PointEntry, Rule, StoredEvent
from portal.accounts.models import Member
from portal.api import services
from portal.api.models import ApiKey
from portal.app import create_app
from portal.events import bus
from portal.extensions import db
from portal.moderation.models import AuditEntry
from tests.conftest import test_settings as make_settings
from tests.factories import MemberFactory

pytestmark = pytest.mark.postgres

KEY_NAME = "Event racer"


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
    other = create_app(
        make_settings(tmp_path, database_url, API_RATE_LIMIT="10000 per minute", POINTS_DAILY_COMMUNITY_CAP=0)
    )
    try:
        yield other
    finally:
        with other.app_context():
            # Entries, balances, totals and stored events go with their member (ON DELETE CASCADE).
            db.session.execute(sa.delete(Member).where(Member.external_id.like("evt-race-%")))
            db.session.execute(sa.delete(Rule).where(Rule.code == "race-survey"))
            racer_keys = sa.select(ApiKey.id).where(ApiKey.name == KEY_NAME)
            # The audit log refuses ORM deletes; this test's own committed entries go by plain SQL.
            db.session.execute(
                sa.delete(AuditEntry.__table__).where(
                    AuditEntry.__table__.c.object_kind == "api_key",
                    AuditEntry.__table__.c.object_id.in_(sa.select(sa.cast(racer_keys.subquery().c.id, sa.String))),
                )
            )
            db.session.execute(sa.delete(ApiKey).where(ApiKey.name == KEY_NAME))
            db.session.commit()
            db.session.remove()
            db.engines[None].dispose()
        db.session = bound_session
        bus.clear()
        bus._subscribers.update(saved_bus[0])
        bus._effects.update(saved_bus[1])
        bus.effects_by_name.update(saved_bus[2])


def _race(app: Flask, key: str, payloads: list[dict]) -> list[tuple[int, dict]]:
    answers: list[tuple[int, dict]] = []
    barrier = threading.Barrier(len(payloads))

    def call(payload: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/events", json=payload, headers={"Authorization": f"Bearer {key}"})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=call, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def test_twenty_concurrent_requests_with_one_idempotency_key_pay_once(live_app):
    with live_app.app_context():
        key = services.create_api_key(actor=None, name=KEY_NAME, scopes=["events:write"]).plaintext
        member = MemberFactory(email="evt-race-1@example.com", external_id="evt-race-1", referral_code="EVTRACE01")
        db.session.add(
            Rule(code="race-survey", name_fa="نظرسنجی", name_en="Survey", event_type="survey.answered", points=15)
        )
        db.session.commit()
        member_id = member.id
    payload = {"member": "ext:evt-race-1", "type": "survey.answered", "idempotency_key": "race-key-1"}
    answers = _race(live_app, key, [payload] * 20)
    statuses = [status for status, _ in answers]
    assert len(statuses) == 20
    assert 500 not in statuses
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    paid = [body for status, body in answers if status in (200, 201)]
    assert {body["event_id"] for body in paid} == {paid[0]["event_id"]}
    assert all(body["awarded"] == [{"rule": "race-survey", "points": 15}] for body in paid)
    with live_app.app_context():
        assert db.session.scalar(sa.select(Balance.spendable).where(Balance.member_id == member_id)) == 15
        entries = db.session.scalars(sa.select(PointEntry.amount).where(PointEntry.member_id == member_id)).all()
        assert entries == [15]
        stored = db.session.scalar(sa.select(sa.func.count()).where(StoredEvent.member_id == member_id))
        assert stored == 1
        db.session.remove()
