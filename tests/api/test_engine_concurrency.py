"""Concurrent event calls through the HTTP endpoint against real PostgreSQL: one idempotency key pays once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from gamification.engine.models import Balance, PointEntry, Rule, StoredEvent
from portal.accounts.models import Member
from portal.api import services
from portal.extensions import db
from tests.concurrency import at_once, committing_app, forget_api_keys
from tests.factories import MemberFactory

pytestmark = pytest.mark.postgres

KEY_NAME = "Event racer"


@pytest.fixture
def live_app(tmp_path, database_url) -> Iterator[Flask]:
    def cleanup() -> None:
        # Entries, balances, totals and stored events go with their member (ON DELETE CASCADE).
        db.session.execute(sa.delete(Member).where(Member.external_id.like("evt-race-%")))
        db.session.execute(sa.delete(Rule).where(Rule.code == "race-survey"))
        forget_api_keys(KEY_NAME)

    settings = {"API_RATE_LIMIT": "10000 per minute", "POINTS_DAILY_COMMUNITY_CAP": 0}
    with committing_app(tmp_path, database_url, cleanup=cleanup, **settings) as app:
        yield app


def _race(app: Flask, key: str, payloads: list[dict]) -> list[tuple[int, dict]]:
    def call(i: int) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {key}"}
        response = app.test_client().post("/api/v1/events", json=payloads[i], headers=headers)
        return response.status_code, response.get_json()

    return at_once(len(payloads), call)


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
