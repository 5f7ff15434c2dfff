"""``bench.engine_ingest --http`` drives the real batch endpoint: events sent through it are paid."""

from __future__ import annotations

import sqlalchemy as sa

from bench import engine_http
from gamification.engine.models import Balance, StoredEvent
from portal.extensions import db
from tests.factories import MemberFactory
from tests.gamification.engine.factories import RuleFactory


def test_the_http_driver_pays_events_through_the_batch_endpoint(app):
    members = [MemberFactory().id for _ in range(3)]
    RuleFactory(event_type="survey.answered", code="survey", points=5, community=False)
    key = engine_http.create_key()

    def make_batch(serial: int) -> list[dict]:
        return [
            {"member_id": m, "event_type": "survey.answered", "idempotency_key": f"b{serial}-{m}", "attributes": {}}
            for m in members
        ]

    with engine_http.sender(app, "client", key) as send:
        rate, cpu_rate, count = engine_http.ingest(send, make_batch, 2)
    assert count == 6
    assert rate > 0
    assert cpu_rate > 0
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredEvent)) == 6
    assert db.session.scalars(sa.select(Balance.spendable).where(Balance.member_id.in_(members))).all() == [10] * 3


def test_the_driver_passes_on_the_endpoints_refusal(app):
    key = engine_http.create_key()
    with engine_http.sender(app, "client", key) as send:
        status, body = send(b'{"events": []}')
    assert status == 422
    assert body["error"]["fields"] == {"events": "too_short"}
