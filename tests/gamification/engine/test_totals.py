"""Period totals settled after the commit: the batch path's pending changes, their job and its sweep."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask import Flask

from gamification.engine import catalog, totals
from gamification.engine.models import PendingTotals, PeriodTotal
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
    """{(period, scope): points} of the member's current periods (scope "" overall, "c4" a category)."""
    db.session.expire_all()
    keys = catalog.period_keys(utcnow())
    month, week = totals.key_number(keys["month"]), totals.key_number(keys["week"])
    found = {}
    for row in db.session.scalars(sa.select(PeriodTotal).where(PeriodTotal.member_id == member_id)):
        scope = f"c{row.scope}" if row.scope else ""
        found[("all", scope)] = row.points
        if row.month_key == month:
            found[("month", scope)] = row.month_points
        if row.week_key == week:
            found[("week", scope)] = row.week_points
    return found


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


def test_a_newer_month_or_week_starts_afresh_and_an_older_one_is_dropped():
    member = MemberFactory()
    october, november = ("month", "1405-08", "c3"), ("month", "1405-09", "c3")
    week = ("week", "w2026-11-21", "c3")
    totals.add({("all", "all", "c3", member.id): 5, (*october, member.id): 5, (*week, member.id): 5})
    # A later month replaces the row's month; the week and all time add up.
    totals.add({("all", "all", "c3", member.id): 7, (*november, member.id): 7, (*week, member.id): 7})
    # A change for the older month (a late reversal) leaves the newer month alone, as does one
    # batch naming both months: only the newer one's changes count.
    totals.add({("all", "all", "c3", member.id): -5, (*october, member.id): -5, (*week, member.id): -5})
    totals.add({(*october, member.id): 100, (*november, member.id): 1})
    row = db.session.get(PeriodTotal, (member.id, 3))
    db.session.refresh(row)
    assert (row.points, row.month_key, row.month_points, row.week_key, row.week_points) == (
        7,
        140509,
        8,
        20261121,
        7,
    )
    assert db.session.get(PeriodTotal, (member.id, 0)) is None


def test_period_keys_become_numbers_that_grow_with_time():
    assert totals.key_number("1405-09") == 140509
    assert totals.key_number("1405-10") > totals.key_number("1405-09") > totals.key_number("1404-12")
    assert totals.key_number("w2026-11-21") == 20261121
    assert totals.key_number("w2027-01-02") > totals.key_number("w2026-12-26")
    assert totals.key_number("all") == 0
    assert (totals.scope_number(""), totals.scope_number("c12")) == (0, 12)


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
            totals.add(
                {("all", "all", "", member_ids[n % 3]): 1, ("week", "w2026-11-21", "", member_ids[0]): 2}, later=True
            )
            _lose_the_queued_jobs()
            db.session.commit()
        settled = at_once(4, lambda i: totals.settle_pending(limit=4), app=app)
        assert not [r for r in settled if isinstance(r, Exception)], settled
        rest = totals.settle_pending_totals()
        assert sum(settled) + rest == 30
        found: dict[tuple[int, str], int] = defaultdict(int)
        for member_id, points, week_points in db.session.execute(
            sa.select(PeriodTotal.member_id, PeriodTotal.points, PeriodTotal.week_points).where(
                PeriodTotal.member_id.in_(member_ids)
            )
        ):
            found[(member_id, "all")] = points
            if week_points:
                found[(member_id, "week")] = week_points
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
