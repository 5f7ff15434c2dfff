"""Period totals settled after the commit: the batch path's pending changes, their job and its sweep."""

from __future__ import annotations

from collections import defaultdict

import pytest
import sqlalchemy as sa
from flask import Flask

from gamification.engine import totals
from gamification.engine.models import PendingTotals, PeriodTotal, PointBoard
from gamification.engine.services import record_events
from portal import jobs
from portal.accounts.models import Member
from portal.db import utcnow
from portal.events import PENDING_KEY, emit
from portal.extensions import db
from tests.concurrency import at_once
from tests.factories import MemberFactory
from tests.gamification.engine.factories import RuleFactory


def _totals(member_id: int) -> dict[tuple[str, str], int]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(PointBoard.period, PointBoard.scope, PeriodTotal.points)
        .join(PointBoard, PointBoard.id == PeriodTotal.board_id)
        .where(PeriodTotal.member_id == member_id)
    )
    return {(period, scope): points for period, scope, points in rows}


def _pending() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PendingTotals))


def _lose_the_queued_jobs() -> None:
    """What a crash between the commit and the job leaves: the pending row, and no job."""
    db.session().info.pop(PENDING_KEY, None)


def test_a_batch_leaves_its_totals_pending_until_it_commits_then_its_job_adds_them():
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", points=10)
    record_events(
        [{"member_id": member.id, "event_type": "survey.answered", "attributes": {"category_id": 4}}],
        settle_later=True,
    )
    assert _totals(member.id) == {}
    assert _pending() == 1
    db.session.commit()
    assert _pending() == 0
    assert _totals(member.id) == {(period, scope): 10 for period in ("all", "month", "week") for scope in ("", "c4")}


def test_a_lost_job_leaves_the_changes_pending_and_the_periodic_run_adds_them_once():
    first, second = MemberFactory(), MemberFactory()
    RuleFactory(event_type="survey.answered", points=7)
    for member in (first, second, first):
        record_events([{"member_id": member.id, "event_type": "survey.answered"}], settle_later=True)
        _lose_the_queued_jobs()
        db.session.commit()
    assert _pending() == 3
    assert _totals(first.id) == {}

    assert totals.settle_pending_totals() == 3
    assert totals.settle_pending_totals() == 0
    assert _pending() == 0
    assert _totals(first.id) == {("all", ""): 14, ("month", ""): 14, ("week", ""): 14}
    assert _totals(second.id) == {("all", ""): 7, ("month", ""): 7, ("week", ""): 7}
    assert "gamification.engine.totals.settle_pending_totals" in {s.name for s in jobs.schedules()}


def test_a_rolled_back_batch_leaves_nothing_pending():
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", points=5)
    failed = db.session.begin_nested()
    record_events([{"member_id": member.id, "event_type": "survey.answered"}], settle_later=True)
    failed.rollback()  # the request failed after the batch
    assert _pending() == 0
    db.session.commit()
    assert _totals(member.id) == {}


def test_a_refund_takes_the_purchase_off_the_totals_whichever_lands_first():
    member = MemberFactory()
    RuleFactory(event_type="purchase.recorded", points=1, amount_unit=1000, pending_days=14)
    purchase = {"member_id": member.id, "event_type": "purchase.recorded", "amount": 30_000}
    refund = {"member_id": member.id, "event_type": "purchase.refunded"}

    # Later batches: the purchase's changes and the refund's land through their jobs.
    record_events([{**purchase, "attributes": {"reference": "o-1"}}], settle_later=True)
    db.session.commit()
    assert _totals(member.id)[("month", "")] == 30
    record_events([{**refund, "attributes": {"reference": "o-1"}}], settle_later=True)
    db.session.commit()
    assert set(_totals(member.id).values()) == {0}

    # The refund (at once, as a domain reversal would) before the purchase's pending changes.
    record_events([{**purchase, "attributes": {"reference": "o-2"}}], settle_later=True)
    _lose_the_queued_jobs()
    db.session.commit()
    record_events([{**refund, "attributes": {"reference": "o-2"}}])
    db.session.commit()
    assert set(_totals(member.id).values()) == {-30}
    totals.settle_pending_totals()
    assert set(_totals(member.id).values()) == {0}


def test_a_domain_event_adds_to_the_totals_in_its_own_transaction():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=3)
    emit("post.created", member_id=member.id, source=("post", 1))
    assert _pending() == 0
    assert _totals(member.id)[("all", "")] == 3


@pytest.mark.postgres
def test_a_board_is_created_once_and_the_totals_of_every_board_are_kept_apart():
    member = MemberFactory()
    week, month = ("week", "w2030-01-05", ""), ("month", "2030-01", "c3")
    first = totals.board_ids({week})
    both = totals.board_ids({week, month})
    assert both[week] == first[week]
    assert both[month] != both[week]
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(PointBoard).where(PointBoard.period_key.like("%2030%"))
        )
        == 2
    )
    totals.add({(*week, member.id): 5, (*month, member.id): 7})
    totals.add({(*week, member.id): 1})
    rows = db.session.execute(
        sa.select(PeriodTotal.board_id, PeriodTotal.points).where(PeriodTotal.member_id == member.id)
    ).all()
    assert sorted(map(tuple, rows)) == sorted([(both[week], 6), (both[month], 7)])


def test_concurrent_settlements_add_each_pending_change_once(app: Flask):
    test_session = db.session
    db.session = db._make_scoped_session({})
    member_ids: list[int] = []
    try:
        stamp = utcnow().strftime("%H%M%S%f")
        for n in range(3):
            member = Member(
                email=f"settle-{stamp}-{n}@example.com",
                display_name=f"Settle {n}",
                password_hash="x",
                referral_code=f"S{stamp[-9:]}{n}",
            )
            db.session.add(member)
            db.session.commit()
            member_ids.append(member.id)
        for n in range(30):
            totals.add({("all", "", "", member_ids[n % 3]): 1, ("week", "x", "", member_ids[0]): 2}, later=True)
            _lose_the_queued_jobs()
            db.session.commit()
        settled = at_once(4, lambda i: totals.settle_pending(limit=4), app=app)
        assert not [r for r in settled if isinstance(r, Exception)], settled
        rest = totals.settle_pending_totals()
        assert sum(settled) + rest == 30
        found: dict[tuple[int, str], int] = defaultdict(int)
        for member_id, period, points in db.session.execute(
            sa.select(PeriodTotal.member_id, PointBoard.period, PeriodTotal.points)
            .join(PointBoard, PointBoard.id == PeriodTotal.board_id)
            .where(PeriodTotal.member_id.in_(member_ids))
        ):
            found[(member_id, period)] = points
        assert found == {
            (member_ids[0], "all"): 10,
            (member_ids[1], "all"): 10,
            (member_ids[2], "all"): 10,
            (member_ids[0], "week"): 60,
        }
    finally:
        db.session.remove()
        db.session = test_session
        with db.engine.begin() as conn:
            conn.execute(sa.delete(PendingTotals.__table__))
            conn.execute(sa.delete(PeriodTotal.__table__).where(PeriodTotal.member_id.in_(member_ids)))
            conn.execute(sa.delete(Member.__table__).where(Member.__table__.c.id.in_(member_ids)))
