"""Correctness under load on PostgreSQL: threads with their own connections and real commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from gamification.engine import ledger
from gamification.engine.models import Balance, CapCounter, PointEntry, Rule
from gamification.engine.services import record_event, record_events
from portal.accounts.models import Member
from portal.db import utcnow
from portal.events import emit
from portal.extensions import db
from tests.concurrency import at_once

pytestmark = pytest.mark.postgres


class Committed:
    """Writes that really commit (outside the test's rolled-back transaction), removed afterwards."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.member_ids: list[int] = []
        self.rule_ids: list[int] = []

    def member(self) -> int:
        n = len(self.member_ids)
        stamp = utcnow().strftime("%H%M%S%f")
        member = Member(
            email=f"load-{stamp}-{n}@example.com",
            display_name=f"Load {n}",
            password_hash="x",
            referral_code=f"L{stamp[-9:]}{n}"[:16],
        )
        db.session.add(member)
        db.session.commit()
        self.member_ids.append(member.id)
        return member.id

    def rule(self, **values: Any) -> int:
        n = len(self.rule_ids)
        rule = Rule(code=f"load-{utcnow().strftime('%H%M%S%f')}-{n}", name_fa="بار", name_en="Load", **values)
        db.session.add(rule)
        db.session.commit()
        self.rule_ids.append(rule.id)
        return rule.id

    def in_threads(self, count: int, work: Callable[[int], Any]) -> list[Any]:
        """Runs ``work(i)`` in ``count`` threads started together, each in its own app context and
        session (and so its own connection), committing at the end; returns results or exceptions."""
        return at_once(count, work, app=self.app)


@pytest.fixture
def committed(app: Flask, engine_settings: None) -> Iterator[Committed]:
    test_session = db.session
    db.session = db._make_scoped_session({})
    helper = Committed(app)
    try:
        yield helper
    finally:
        db.session.remove()
        db.session = test_session
        with db.engine.begin() as conn:
            if helper.member_ids:
                conn.execute(sa.delete(Member.__table__).where(Member.__table__.c.id.in_(helper.member_ids)))
            if helper.rule_ids:
                conn.execute(sa.delete(Rule.__table__).where(Rule.__table__.c.id.in_(helper.rule_ids)))


def _ledger_sum(member_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointEntry.amount), 0)).where(
            PointEntry.member_id == member_id, PointEntry.status == "available"
        )
    )


def test_twenty_concurrent_requests_with_one_idempotency_key_pay_once(committed):
    member_id = committed.member()
    committed.rule(event_type="survey.answered", points=15)

    results = committed.in_threads(
        20, lambda i: record_event(member_id=member_id, event_type="survey.answered", idempotency_key="same-key")
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r.created) == 1
    assert len({r.event_id for r in results}) == 1
    assert all(r.awarded == results[0].awarded and r.points == 15 for r in results)
    db.session.expire_all()
    assert db.session.get(Balance, member_id).spendable == 15
    assert _ledger_sum(member_id) == 15


def test_fifty_concurrent_events_for_one_member_leave_the_balance_equal_to_the_ledger_sum(committed):
    member_id = committed.member()
    committed.rule(event_type="post.created", points=3)
    committed.rule(event_type="like.received", points=1)

    def work(i: int) -> None:
        if i % 2:
            emit("post.created", member_id=member_id, source=("post", f"load-{i}"))
        else:
            record_event(member_id=member_id, event_type="like.received", attributes={"reference": f"l{i}"})

    results = committed.in_threads(50, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    balance = db.session.get(Balance, member_id)
    assert balance.spendable == 25 * 3 + 25 * 1
    assert balance.spendable == _ledger_sum(member_id)
    assert [d for d in ledger.verify_balances() if d.member_id == member_id] == []


def test_concurrent_removals_and_expiry_never_take_the_balance_below_zero(committed):
    member_id = committed.member()
    committed.rule(event_type="post.created", points=10, expires_days=1)
    for n in range(3):
        emit("post.created", member_id=member_id, source=("post", f"gone-{n}"))
    db.session.commit()

    def work(i: int) -> None:
        if i % 4 == 0:
            ledger.expire_points(utcnow() + timedelta(days=2))
        else:
            emit("post.removed", member_id=member_id, source=("post", f"gone-{i % 3}"))

    results = committed.in_threads(12, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    balance = db.session.get(Balance, member_id)
    assert balance.spendable == 0
    assert balance.spendable == _ledger_sum(member_id)
    amounts = db.session.scalars(
        sa.select(PointEntry.balance_after).where(PointEntry.member_id == member_id).order_by(PointEntry.id)
    ).all()
    assert min(amounts) >= 0


def test_concurrent_batches_for_one_member_under_a_daily_cap_pay_exactly_the_cap(committed):
    member_id, other_id = committed.member(), committed.member()
    committed.rule(event_type="survey.answered", points=7, cap_day=50)

    def work(i: int) -> list[Any]:
        # Each batch names both members, in opposite orders, so lock order matters.
        members = [member_id, other_id] if i % 2 else [other_id, member_id]
        return record_events(
            [
                {"member_id": m, "event_type": "survey.answered", "attributes": {"reference": f"s{i}-{n}-{m}"}}
                for n in range(3)
                for m in members
            ]
        )

    results = committed.in_threads(16, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert not [item for batch in results for item in batch if isinstance(item, Exception)]
    db.session.expire_all()
    for m in (member_id, other_id):
        assert db.session.get(Balance, m).spendable == 50
        assert _ledger_sum(m) == 50
        counter = db.session.scalar(
            sa.select(CapCounter.points).where(CapCounter.member_id == m, CapCounter.period == "day")
        )
        assert counter == 50
    assert [d for d in ledger.verify_balances() if d.member_id in (member_id, other_id)] == []


def test_concurrent_events_under_the_global_daily_cap_pay_exactly_the_cap(committed, app):
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = 40
    member_id = committed.member()
    committed.rule(event_type="survey.answered", points=6)
    committed.rule(event_type="like.received", points=5)

    def work(i: int) -> Any:
        if i % 3 == 0:
            emit("survey.answered", member_id=member_id, source=("survey", f"g{i}"))
            return None
        return record_event(
            member_id=member_id,
            event_type="like.received" if i % 2 else "survey.answered",
            attributes={"reference": f"g{i}"},
        )

    results = committed.in_threads(24, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    assert db.session.get(Balance, member_id).spendable == 40
    assert _ledger_sum(member_id) == 40
