"""Concurrent batches through the HTTP endpoint, on SQLite and PostgreSQL alike: both are recorded.

On SQLite a transaction that reads before it writes cannot write after another connection has
committed; the batch endpoint takes the write lock first, so a second batch waits instead of
being refused item by item."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from gamification.engine.models import Badge, Balance, MemberBadge, PointEntry, Rule
from portal.accounts.models import Member
from portal.api import services
from portal.extensions import db
from portal.notifications.models import Notification
from tests.concurrency import at_once, committing_app, forget_api_keys
from tests.factories import MemberFactory

KEY_NAME = "Batch racer"


@pytest.fixture
def live_app(tmp_path, database_url) -> Iterator[Flask]:
    def cleanup() -> None:
        db.session.execute(sa.delete(Member).where(Member.external_id.like("batch-race-%")))
        db.session.execute(sa.delete(Rule).where(Rule.code == "batch-race-survey"))
        db.session.execute(sa.delete(Badge).where(Badge.code == "batch-race-voice"))
        forget_api_keys(KEY_NAME)

    settings = {"API_RATE_LIMIT": "10000 per minute", "POINTS_DAILY_COMMUNITY_CAP": 0}
    with committing_app(tmp_path, database_url, cleanup=cleanup, **settings) as app:
        yield app


def test_two_concurrent_batches_for_the_same_members_are_both_recorded_and_badge_them_once(live_app):
    with live_app.app_context():
        key = services.create_api_key(actor=None, name=KEY_NAME, scopes=["events:write"]).plaintext
        members = [
            MemberFactory(
                email=f"batch-race-{n}@example.com", external_id=f"batch-race-{n}", referral_code=f"BATCHRACE{n:02d}"
            )
            for n in range(5)
        ]
        db.session.add(
            Rule(code="batch-race-survey", name_fa="نظرسنجی", name_en="Survey", event_type="survey.answered", points=3)
        )
        # Both batches' badge jobs (after their commits) find the badge missing; one awards it.
        db.session.add(
            Badge(
                code="batch-race-voice",
                name_fa="صدا",
                name_en="Voice",
                kind="event_count",
                event_type="survey.answered",
                threshold=1,
            )
        )
        db.session.commit()
        member_ids = [m.id for m in members]

    def batch(i: int) -> tuple[int, dict]:
        events = [
            {
                "member": f"ext:batch-race-{n % 5}",
                "type": "survey.answered",
                "idempotency_key": f"batch-race-{i}-{n}",
                "attributes": {"reference": f"s-{i}-{n}"},
            }
            for n in range(40)
        ]
        headers = {"Authorization": f"Bearer {key}"}
        response = live_app.test_client().post("/api/v1/events/batch", json={"events": events}, headers=headers)
        return response.status_code, response.get_json()

    answers = at_once(2, batch)
    for status, body in answers:
        assert status == 200
        assert [r["status"] for r in body["results"]] == [201] * 40
    with live_app.app_context():
        entries = db.session.scalars(sa.select(PointEntry.amount).where(PointEntry.member_id.in_(member_ids))).all()
        assert len(entries) == 80
        balances = db.session.scalars(sa.select(Balance.spendable).where(Balance.member_id.in_(member_ids))).all()
        assert sum(balances) == sum(entries) == 240
        owned = db.session.scalars(
            sa.select(MemberBadge.member_id).join(Badge).where(Badge.code == "batch-race-voice")
        ).all()
        assert sorted(owned) == sorted(member_ids)
        told = db.session.scalars(
            sa.select(Notification.member_id).where(
                Notification.member_id.in_(member_ids), Notification.kind == "points.badge_earned"
            )
        ).all()
        assert sorted(told) == sorted(member_ids)
