"""Domain events in, points out: rules, conditions, caps, idempotency, reversal and own content."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from gamification.engine import catalog, ledger, tasks
from gamification.engine.models import Balance, CapCounter, PeriodTotal, PointEntry
from gamification.engine.queries import leaderboard, member_standing, rank_of, tier_code_of
from gamification.engine.services import record_events
from portal.db import utcnow
from portal.events import emit
from portal.extensions import db
from tests.factories import MemberFactory, OrganisationFactory
from tests.gamification.engine.factories import RuleFactory, TierFactory


def _balance(member) -> Balance:
    db.session.expire_all()
    return db.session.get(Balance, member.id)


def _entries(member) -> list[PointEntry]:
    return list(
        db.session.scalars(sa.select(PointEntry).where(PointEntry.member_id == member.id).order_by(PointEntry.id))
    )


def _no_differences() -> None:
    assert ledger.verify_balances() == []


def test_a_domain_event_pays_the_matching_rule_into_both_balances():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10, code="post")
    emit("post.created", member_id=member.id, source=("post", 1))
    balance = _balance(member)
    assert (balance.spendable, balance.qualifying, balance.pending) == (10, 10, 0)
    (entry,) = _entries(member)
    assert (entry.kind, entry.amount, entry.balance_after, entry.rule_code, entry.remaining) == (
        "earn",
        10,
        10,
        "post",
        10,
    )
    assert (entry.source_kind, entry.source_id) == ("post", "1")
    _no_differences()


def test_the_same_source_never_pays_twice():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10)
    for _ in range(3):
        emit("post.created", member_id=member.id, source=("post", 7))
    emit("post.created", member_id=member.id, source=("post", 8))
    assert _balance(member).spendable == 20
    _no_differences()


def test_events_without_a_rule_or_of_unknown_types_pay_nothing():
    member = MemberFactory()
    emit("post.created", member_id=member.id, source=("post", 1))
    emit("something.else", member_id=member.id, source=("x", 1))
    assert _entries(member) == []


def test_acting_on_ones_own_content_never_pays():
    member = MemberFactory()
    other = MemberFactory()
    RuleFactory(event_type="like.received", points=2)
    emit("like.received", member_id=member.id, source=("like", 1), attributes={"actor_id": member.id})
    assert _entries(member) == []
    emit("like.received", member_id=member.id, source=("like", 2), attributes={"actor_id": other.id})
    assert _balance(member).spendable == 2


def test_removal_reverses_what_the_source_earned_and_a_restore_pays_again():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10)
    emit("post.created", member_id=member.id, source=("post", 1))
    emit("post.removed", member_id=member.id, source=("post", 1))
    balance = _balance(member)
    assert (balance.spendable, balance.qualifying) == (0, 0)
    kinds = [(e.kind, e.amount) for e in _entries(member)]
    assert kinds == [("earn", 10), ("reverse", -10)]
    emit("post.removed", member_id=member.id, source=("post", 1))
    assert len(_entries(member)) == 2, "a second removal takes nothing more"
    emit("post.restored", member_id=member.id, source=("post", 1))
    assert _balance(member).spendable == 10
    _no_differences()


def test_reversal_never_takes_the_balance_below_zero():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10)
    emit("post.created", member_id=member.id, source=("post", 1))
    ledger.spend(member.id, 8, reason="reward", source=None, key=None)
    emit("post.removed", member_id=member.id, source=("post", 1))
    balance = _balance(member)
    assert balance.spendable == 0
    assert _entries(member)[-1].amount == -2
    _no_differences()


def test_a_negative_rule_may_take_the_balance_below_zero():
    member = MemberFactory()
    RuleFactory(event_type="newsletter.unsubscribed", points=-20, feeds="spendable", code="unsub")
    emit("newsletter.unsubscribed", member_id=member.id, source=("newsletter", member.id))
    assert _balance(member).spendable == -20
    _no_differences()


def test_points_per_amount_unit_are_rounded_down_and_need_an_amount():
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", points=1, amount_unit=10_000)
    emit("survey.answered", member_id=member.id, source=("s", 1), attributes={"amount": 259_999})
    emit("survey.answered", member_id=member.id, source=("s", 2))
    assert _balance(member).spendable == 25


def test_member_and_event_conditions_decide_whether_a_rule_pays():
    organisation = OrganisationFactory()
    tehran = MemberFactory(city="Tehran", job_title="Engineer", organisation_id=organisation.id)
    shiraz = MemberFactory(city="Shiraz")
    RuleFactory(event_type="post.created", points=5, cond_city="tehran")
    RuleFactory(event_type="post.created", points=7, cond_organisation_id=organisation.id, cond_job_title="engineer")
    RuleFactory(event_type="post.created", points=100, cond_category_id=9)
    RuleFactory(event_type="post.created", points=1000, cond_attribute="solved", cond_attribute_value="yes")
    RuleFactory(event_type="post.created", points=3, cond_min_completion=50)
    emit("post.created", member_id=tehran.id, source=("post", 1), attributes={"category_id": 9, "solved": "no"})
    emit("post.created", member_id=shiraz.id, source=("post", 2), attributes={"category_id": 3})
    assert _balance(tehran).spendable == 5 + 7 + 100 + 3  # city, job and organisation: 50% complete
    assert _balance(shiraz) is None or _balance(shiraz).spendable == 0


def test_caps_limit_what_a_rule_pays_per_period_and_the_global_daily_cap(app):
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10, cap_day=25)
    RuleFactory(event_type="like.received", points=4, cap_lifetime=6)
    for n in range(5):
        emit("post.created", member_id=member.id, source=("post", n))
        emit("like.received", member_id=member.id, source=("like", n))
    assert _balance(member).spendable == 25 + 6
    other = MemberFactory()
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = 15
    RuleFactory(event_type="purchase.recorded", points=50, community=False, pending_days=0)
    for n in range(5):
        emit("post.created", member_id=other.id, source=("post", 100 + n))
    emit("purchase.recorded", member_id=other.id, source=("purchase", 1), attributes={"amount": 1})
    assert _balance(other).spendable == 15 + 50
    _no_differences()


def test_the_daily_prune_drops_the_cap_counters_of_ended_periods_and_caps_still_hold(app):
    member = MemberFactory()
    rule = RuleFactory(event_type="post.created", points=10, cap_day=25, cap_month=1000, cap_lifetime=5000)
    long_ago = utcnow() - timedelta(days=70)
    old_keys = catalog.period_keys(long_ago)
    db.session.add_all(  # what a post seventy days ago left
        CapCounter(member_id=member.id, rule_id=rule.id, period=period, period_key=old_keys[period], points=10)
        for period in ("day", "month")
    )
    for n in range(2, 6):
        emit("post.created", member_id=member.id, source=("post", n))
    counters = sa.select(CapCounter.period, CapCounter.period_key).where(
        CapCounter.member_id == member.id, CapCounter.rule_id == rule.id
    )
    keys = catalog.period_keys(utcnow())
    assert set(db.session.execute(counters).all()) == {
        ("day", old_keys["day"]),
        ("month", old_keys["month"]),
        ("all", "all"),
        ("day", keys["day"]),
        ("month", keys["month"]),
    }
    assert tasks.prune_cap_counters() == 2
    assert set(db.session.execute(counters).all()) == {("day", keys["day"]), ("month", keys["month"]), ("all", "all")}
    # Today's cap counted on: 25 paid today already, so another post pays nothing.
    emit("post.created", member_id=member.id, source=("post", 6))
    assert _balance(member).spendable == 25
    _no_differences()


def test_inactive_and_out_of_date_rules_do_not_pay():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10, is_active=False)
    RuleFactory(event_type="post.created", points=20, starts_at=utcnow() + timedelta(days=1))
    RuleFactory(event_type="post.created", points=40, ends_at=utcnow() - timedelta(days=1))
    emit("post.created", member_id=member.id, source=("post", 1))
    assert _entries(member) == []


def test_feeds_decide_which_balance_grows():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10, feeds="spendable")
    RuleFactory(event_type="post.created", points=3, feeds="qualifying")
    emit("post.created", member_id=member.id, source=("post", 1))
    balance = _balance(member)
    assert (balance.spendable, balance.qualifying) == (10, 3)
    _no_differences()


def test_a_rule_change_never_alters_points_already_given():
    member = MemberFactory()
    rule = RuleFactory(event_type="post.created", points=10)
    emit("post.created", member_id=member.id, source=("post", 1))
    rule.points = 50
    db.session.flush()
    emit("post.created", member_id=member.id, source=("post", 2))
    assert [e.amount for e in _entries(member)] == [10, 50]
    assert _balance(member).spendable == 60


def test_tiers_rise_at_once_and_multiply_later_points():
    member = MemberFactory()
    TierFactory(code="silver", threshold=10, multiplier_percent=100)
    TierFactory(code="gold", threshold=30, multiplier_percent=150)
    RuleFactory(event_type="post.created", points=20)
    emit("post.created", member_id=member.id, source=("post", 1))
    assert tier_code_of(member.id) == "silver"
    emit("post.created", member_id=member.id, source=("post", 2))
    assert tier_code_of(member.id) == "gold"
    emit("post.created", member_id=member.id, source=("post", 3))
    assert _entries(member)[-1].amount == 30
    standing = member_standing(member.id)
    assert (standing.points, standing.tier, standing.next_tier) == (70, "gold", None)


def test_expiry_is_set_from_the_rule_and_consumes_the_oldest_points_first():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10, expires_days=30)
    emit("post.created", member_id=member.id, source=("post", 1))
    emit("post.created", member_id=member.id, source=("post", 2))
    ledger.spend(member.id, 15, reason="reward", source=None, key=None)
    first, second = _entries(member)[:2]
    assert (first.remaining, second.remaining) == (0, 5)
    assert first.expires_at is not None
    expired = ledger.expire_points(utcnow() + timedelta(days=31))
    assert expired == 5
    assert _balance(member).spendable == 0
    _no_differences()


def test_leaderboards_read_the_period_totals_and_rank_members():
    a, b, c = MemberFactory(display_name="A"), MemberFactory(display_name="B"), MemberFactory(display_name="C")
    RuleFactory(event_type="post.created", points=10)
    for n, member in enumerate([a, b, b, c, c, c]):
        emit(
            "post.created", member_id=member.id, source=("post", n), attributes={"category_id": 4 if member is c else 5}
        )
    top = leaderboard("month", limit=10)
    assert [(row[1], row[2]) for row in top] == [("C", 30), ("B", 20), ("A", 10)]
    assert rank_of(a.id, "week") == (3, 10)
    assert [row[1] for row in leaderboard("all", category_id=5)] == ["B", "A"]
    totals = db.session.scalar(sa.select(sa.func.count()).select_from(PeriodTotal))
    assert totals == 3 + 3  # each member overall and in its category, the three periods in one row


def test_expiry_never_deepens_a_balance_a_negative_rule_took_below_zero():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10, expires_days=1)
    RuleFactory(event_type="newsletter.unsubscribed", points=-15, feeds="spendable", community=False)
    emit("post.created", member_id=member.id, source=("post", 1))
    emit("newsletter.unsubscribed", member_id=member.id, source=("newsletter", 1))
    assert _balance(member).spendable == -5  # the negative rule may
    assert ledger.expire_points(utcnow() + timedelta(days=2)) == 0  # expiry may not
    emit("post.removed", member_id=member.id, source=("post", 1))  # nor may a reversal
    assert _balance(member).spendable == -5
    assert min(e.balance_after for e in _entries(member)) == -5
    _no_differences()


def test_a_rule_change_between_batches_never_alters_points_already_given():
    member = MemberFactory()
    rule = RuleFactory(event_type="survey.answered", points=10, cap_day=100)
    items = [{"member_id": member.id, "event_type": "survey.answered", "idempotency_key": f"a{n}"} for n in range(3)]
    record_events(items)
    rule.points, rule.cap_day = 4, 32
    db.session.flush()
    record_events([{**item, "idempotency_key": f"b{n}"} for n, item in enumerate(items)])
    record_events(items)  # replays pay nothing, at the old or the new amount
    assert [e.amount for e in _entries(member)] == [10, 10, 10, 2]  # the new day cap counts what was paid
    assert _balance(member).spendable == 32
    _no_differences()


def test_a_reversal_gives_back_the_cap_room_its_award_used_so_a_restore_pays_in_full(app):
    """Hidden content's points no longer count toward the caps: restoring it the same day pays it
    back in full, and the global daily community cap is freed the same way."""
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = 15
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=5, cap_day=10, code="reply")
    RuleFactory(event_type="like.received", points=5, code="like")
    emit("post.created", member_id=member.id, source=("post", 1))
    emit("post.created", member_id=member.id, source=("post", 2))
    emit("post.created", member_id=member.id, source=("post", 3))  # over the rule's daily cap
    assert _balance(member).spendable == 10
    emit("post.removed", member_id=member.id, source=("post", 1))
    assert _balance(member).spendable == 5
    emit("post.restored", member_id=member.id, source=("post", 1))
    assert _balance(member).spendable == 10
    emit("like.received", member_id=member.id, source=("like", 1))
    assert _balance(member).spendable == 15  # the global cap is reached
    emit("like.removed", member_id=member.id, source=("like", 1))
    emit("like.received", member_id=member.id, source=("like", 2))
    assert _balance(member).spendable == 15
    _no_differences()


def test_the_shared_daily_cap_is_counted_in_the_balance_row_and_starts_afresh_each_day(app):
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = 12
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", points=5)
    RuleFactory(event_type="purchase.recorded", points=7, community=False, pending_days=0)
    items = [{"member_id": member.id, "event_type": "survey.answered"} for _ in range(4)]
    items.append({"member_id": member.id, "event_type": "purchase.recorded", "amount": 1})
    record_events(items)
    today = catalog.period_keys(utcnow())["day"]
    balance = _balance(member)
    assert (balance.spendable, balance.community_day, balance.community_points) == (12 + 7, today, 12)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CapCounter)) == 0
    # The row still counts yesterday: today's first community points pay in full.
    yesterday = catalog.period_keys(utcnow() - timedelta(days=1))["day"]
    db.session.execute(
        sa.update(Balance).where(Balance.member_id == member.id).values(community_day=yesterday, community_points=12)
    )
    record_events([{"member_id": member.id, "event_type": "survey.answered"}])
    balance = _balance(member)
    assert (balance.spendable, balance.community_day, balance.community_points) == (24, today, 5)
    _no_differences()
