"""Tiers over time, badges, referrals, profile completion, adjustments, jobs and the verify command."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from gamification.engine import demo, ledger, progress, tasks
from gamification.engine.models import Badge, Balance, MemberBadge, PeriodTotal, PointEntry, Referral, Rule, Tier
from gamification.engine.queries import member_standing, tier_choices, tier_code_of
from gamification.engine.referrals import review_referral
from gamification.engine.services import adjust_points, record_event, record_events
from portal.accounts.services import register_member, update_profile, verify_email
from portal.accounts.tokens import make_token
from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.events import emit
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import AdminFactory, MemberFactory
from tests.gamification.engine.factories import BadgeFactory, RuleFactory, TierFactory
from tests.portal.web import recorded_events


def _kinds(member) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.kind).where(Notification.member_id == member.id).order_by(Notification.id)
        )
    )


@pytest.fixture
def tiers():
    return [
        TierFactory(code="silver", threshold=10),
        TierFactory(code="gold", threshold=50, multiplier_percent=120),
    ]


def test_tier_queries_answer_for_other_packages(tiers):
    member = MemberFactory()
    assert tier_code_of(member.id) is None
    assert [code for code, _ in tier_choices()] == ["silver", "gold"]


def test_moving_up_emits_tier_changed_and_tells_the_member(tiers):
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=12)
    with recorded_events("tier.changed") as seen:
        emit("post.created", member_id=member.id, source=("post", 1))
    assert [(e.attributes["old"], e.attributes["new"]) for e in seen] == [(None, "silver")]
    assert "points.tier_changed" in _kinds(member)
    standing = member_standing(member.id)
    assert (standing.next_tier, standing.points_to_next_tier) == ("gold", 50 - 12)
    assert 0 < standing.progress_percent < 100


def test_falling_below_warns_then_keeps_the_tier_through_the_grace_period(tiers, app):
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=60)
    emit("post.created", member_id=member.id, source=("post", 1))
    assert tier_code_of(member.id) == "gold"
    later = utcnow() + timedelta(days=366)
    ledger.age_qualifying(later)
    assert progress.review_tiers(later)["warned"] == 1
    assert tier_code_of(member.id) == "gold", "kept during the grace period"
    assert "points.tier_at_risk" in _kinds(member)
    assert progress.review_tiers(later + timedelta(days=5))["down"] == 0
    with recorded_events("tier.changed") as seen:
        moves = progress.review_tiers(later + timedelta(days=app.config["TIER_GRACE_DAYS"] + 1))
    assert moves["down"] == 1
    assert tier_code_of(member.id) is None
    assert seen[0].attributes == {"old": "gold", "new": None}
    assert ledger.verify_balances() == []


def test_earning_again_during_grace_keeps_the_tier(tiers):
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=60)
    emit("post.created", member_id=member.id, source=("post", 1))
    later = utcnow() + timedelta(days=366)
    ledger.age_qualifying(later)
    progress.review_tiers(later)
    emit("post.created", member_id=member.id, source=("post", 2))
    assert progress.review_tiers(later + timedelta(days=30))["kept"] == 1
    assert tier_code_of(member.id) == "gold"
    assert db.session.get(Balance, member.id).tier_grace_until is None


def test_badges_are_awarded_once_with_an_event_and_a_notification(tiers):
    member = MemberFactory()
    other = MemberFactory()
    RuleFactory(event_type="post.created", points=30)
    BadgeFactory(code="first", kind="event_count", event_type="post.created", threshold=1)
    BadgeFactory(code="three", kind="event_count", event_type="post.created", threshold=3)
    BadgeFactory(code="fifty", kind="points_reached", event_type=None, threshold=50)
    BadgeFactory(code="golden", kind="tier_reached", event_type=None, tier_code="gold")
    BadgeFactory(code="streak", kind="streak", event_type=None, threshold=1)
    with recorded_events("badge.earned") as seen:
        emit("post.created", member_id=member.id, source=("post", 1))
        emit("post.created", member_id=member.id, source=("post", 2))
        emit("post.created", member_id=member.id, source=("post", 2))
        emit("like.received", member_id=member.id, source=("like", 1), attributes={"actor_id": other.id})
    assert sorted(e.attributes["badge"] for e in seen) == ["fifty", "first", "golden", "streak"]
    owned = db.session.scalar(sa.select(sa.func.count()).select_from(MemberBadge))
    assert owned == 4
    assert _kinds(member).count("points.badge_earned") == 4
    assert {b.code for b in member_standing(member.id).badges} == {"fifty", "first", "golden", "streak"}


def test_a_referrer_is_paid_once_when_the_referee_verifies_and_posts(app):
    app.config["REFERRAL_ACTIVATION"] = ["verified", "first_post"]
    referrer = MemberFactory(signup_ip="10.0.0.1")
    RuleFactory(event_type="referral.joined", points=100, code="referral", cap_month=150)
    referee = register_member(
        email="friend@example.com",
        password="a-long-password",
        display_name="Friend",
        referral_code=referrer.referral_code,
        ip="10.0.0.2",
    )
    assert db.session.scalar(sa.select(Referral.status).where(Referral.referee_id == referee.id)) == "waiting"
    emit("post.created", member_id=referee.id, source=("post", 1))
    assert db.session.get(Balance, referrer.id) is None or db.session.get(Balance, referrer.id).spendable == 0
    verify_email(make_token("verify", {"id": referee.id, "email": referee.email}))
    assert db.session.get(Balance, referrer.id).spendable == 100
    emit("post.created", member_id=referee.id, source=("post", 2))
    assert db.session.get(Balance, referrer.id).spendable == 100
    second = register_member(
        email="friend2@example.com",
        password="a-long-password",
        display_name="Friend 2",
        referral_code=referrer.referral_code,
        ip="10.0.0.3",
        verified=True,
    )
    emit("topic.created", member_id=second.id, source=("topic", 1))
    assert db.session.get(Balance, referrer.id).spendable == 150, "capped per month"


def test_a_sign_up_from_the_referrers_address_is_held_until_an_admin_approves(app):
    app.config["REFERRAL_ACTIVATION"] = ["verified"]
    admin = AdminFactory()
    referrer = MemberFactory(signup_ip="10.0.0.9", last_seen_at=utcnow())
    RuleFactory(event_type="referral.joined", points=100)
    referee = register_member(
        email="sock@example.com",
        password="a-long-password",
        display_name="Sock",
        referral_code=referrer.referral_code,
        ip="10.0.0.9",
        verified=True,
    )
    referral = db.session.scalar(sa.select(Referral).where(Referral.referee_id == referee.id))
    assert (referral.status, referral.hold_reason) == ("held", "same_ip")
    assert db.session.get(Balance, referrer.id) is None
    with pytest.raises(NotAllowed):
        review_referral(actor=referrer, referral_id=referral.id, approve=True)
    with recorded_events("audit.logged") as audit:
        review_referral(actor=admin, referral_id=referral.id, approve=True)
    assert audit[0].attributes["action"] == "engine.approve_referral"
    assert db.session.get(Balance, referrer.id).spendable == 100
    with pytest.raises(Conflict):
        review_referral(actor=admin, referral_id=referral.id, approve=False)


def test_profile_completion_pays_once_at_the_configured_level(app):
    app.config["PROFILE_COMPLETION_LEVEL"] = 50
    member = MemberFactory()
    RuleFactory(event_type="profile.completed", points=40)
    fields = {"display_name": "M", "bio": "hello", "phone": None, "organisation_id": None, "language": "en"}
    update_profile(member, actor=member, city="Tehran", job_title="Chef", **fields)
    assert db.session.get(Balance, member.id).spendable == 40
    update_profile(member, actor=member, city=None, job_title=None, **fields)
    update_profile(member, actor=member, city="Tehran", job_title="Chef", **fields)
    assert db.session.get(Balance, member.id).spendable == 40


def test_manual_adjustments_need_a_reason_are_audited_and_never_overdraw():
    admin = AdminFactory()
    member = MemberFactory()
    with pytest.raises(ValidationFailed):
        adjust_points(actor=admin, member_id=member.id, points=10, reason=" ")
    with pytest.raises(NotAllowed):
        adjust_points(actor=member, member_id=member.id, points=10, reason="gift")
    with recorded_events("audit.logged") as audit:
        assert adjust_points(actor=admin, member_id=member.id, points=25, reason="goodwill") == 25
    assert audit[0].attributes["after"] == {"points": 25}
    with pytest.raises(Conflict):
        adjust_points(actor=admin, member_id=member.id, points=-26, reason="correction")
    assert adjust_points(actor=admin, member_id=member.id, points=-5, reason="correction") == 20
    entry = db.session.scalar(sa.select(PointEntry).order_by(PointEntry.id.desc()).limit(1))
    assert (entry.kind, entry.reason, entry.actor_id) == ("adjust", "correction", admin.id)


def test_members_are_warned_a_week_before_points_expire_once():
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10, expires_days=5)
    emit("post.created", member_id=member.id, source=("post", 1))
    assert tasks.warn_expiring_points() == 1
    assert tasks.warn_expiring_points() == 0
    assert _kinds(member).count("points.expiring") == 1


def test_a_random_workload_leaves_no_difference_between_balances_and_ledger(app):
    rng = random.Random(5)
    admin = AdminFactory()
    members = [MemberFactory() for _ in range(6)]
    RuleFactory(event_type="post.created", points=7, expires_days=3)
    RuleFactory(event_type="like.received", points=2, feeds="spendable")
    RuleFactory(event_type="quiz.passed", points=5, feeds="qualifying")
    RuleFactory(event_type="newsletter.unsubscribed", points=-4, feeds="spendable", community=False)
    RuleFactory(event_type="purchase.recorded", points=1, amount_unit=1000, community=False)
    TierFactory(code="t1", threshold=20, multiplier_percent=150)
    for step in range(300):
        member = rng.choice(members)
        action = rng.randrange(9)
        n = rng.randrange(15)
        if action == 0:
            emit("post.created", member_id=member.id, source=("post", n))
        elif action == 1:
            emit("post.removed", member_id=member.id, source=("post", n))
        elif action == 2:
            emit("like.received", member_id=member.id, source=("like", step), attributes={"actor_id": admin.id})
        elif action == 3:
            emit("quiz.passed", member_id=member.id, source=("quiz", n))
        elif action == 4:
            record_event(
                member_id=member.id,
                event_type="purchase.recorded",
                amount=rng.randrange(1, 90_000),
                attributes={"reference": f"o{n}"},
            )
        elif action == 5:
            record_event(member_id=member.id, event_type="purchase.refunded", attributes={"reference": f"o{n}"})
        elif action == 6:
            balance = db.session.get(Balance, member.id)
            if balance and balance.spendable > 3:
                ledger.spend(member.id, rng.randrange(1, balance.spendable), reason="reward", source=None, key=None)
        elif action == 7:
            emit("newsletter.unsubscribed", member_id=member.id, source=("newsletter", step))
        else:
            moment = utcnow() + timedelta(days=rng.randrange(1, 20))
            rng.choice([ledger.release_pending, ledger.expire_points, ledger.age_qualifying])(moment)
    assert ledger.verify_balances() == []


def test_a_random_workload_of_batches_leaves_no_difference_between_balances_and_ledger(app):
    """The batch path (many members, replayed keys, refunds and removals in one batch) keeps every
    balance, period total and cap equal to what the ledger says."""
    rng = random.Random(11)
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = 60
    members = [MemberFactory() for _ in range(8)]
    RuleFactory(event_type="post.created", points=7, expires_days=3, cap_day=30)
    RuleFactory(event_type="like.received", points=2, feeds="spendable")
    RuleFactory(event_type="quiz.passed", points=5, feeds="qualifying", cap_lifetime=40)
    RuleFactory(event_type="newsletter.unsubscribed", points=-4, feeds="spendable", community=False)
    RuleFactory(event_type="purchase.recorded", points=1, amount_unit=1000, community=False)
    TierFactory(code="t1", threshold=20, multiplier_percent=150)
    kinds = ["post.created", "post.removed", "like.received", "quiz.passed", "newsletter.unsubscribed"]
    for step in range(40):
        items = []
        for _ in range(rng.randrange(1, 60)):
            member = rng.choice(members)
            choice = rng.randrange(8)
            item = {"member_id": member.id, "attributes": {"reference": f"x{rng.randrange(40)}"}}
            if choice < 5:
                item["event_type"] = kinds[choice]
            elif choice == 5:
                item.update(event_type="purchase.recorded", amount=rng.randrange(1, 90_000))
                item["attributes"] = {"reference": f"o{rng.randrange(30)}"}
            elif choice == 6:
                item.update(event_type="purchase.refunded", attributes={"reference": f"o{rng.randrange(30)}"})
            else:
                item.update(event_type="survey.answered", idempotency_key=f"k{rng.randrange(50)}")
            items.append(item)
        results = record_events(items)
        assert not [r for r in results if isinstance(r, Exception)]
        if step % 5 == 4:
            moment = utcnow() + timedelta(days=rng.randrange(1, 20))
            rng.choice([ledger.release_pending, ledger.expire_points, ledger.age_qualifying])(moment)
        if step % 7 == 6:
            member = rng.choice(members)
            balance = db.session.get(Balance, member.id)
            db.session.refresh(balance)
            if balance.spendable > 3:
                ledger.spend(member.id, rng.randrange(1, balance.spendable), reason="reward", source=None, key=None)
    assert ledger.verify_balances() == []
    # Period totals and cap counters agree with the ledger too.
    totals = dict(
        db.session.execute(sa.select(PeriodTotal.member_id, PeriodTotal.points).where(PeriodTotal.scope == 0)).all()
    )
    score = sa.func.coalesce(sa.func.nullif(PointEntry.amount, 0), PointEntry.qualifying)
    earned = dict(
        db.session.execute(
            sa.select(PointEntry.member_id, sa.func.sum(score))
            .where(PointEntry.kind == "earn", PointEntry.is_reversed.is_(False))
            .group_by(PointEntry.member_id)
        ).all()
    )
    assert {m: p for m, p in totals.items() if p} == {m: p for m, p in earned.items() if p}
    posts = db.session.execute(
        sa.select(PointEntry.member_id, sa.func.sum(PointEntry.amount))
        .where(PointEntry.kind == "earn", PointEntry.event_type == "post.created", PointEntry.is_reversed.is_(False))
        .group_by(PointEntry.member_id)
    ).all()
    assert all(total <= 30 for _, total in posts)  # what still pays stays within the daily cap


def test_the_verify_command_reports_differences_and_can_fix_them(app):
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=10)
    emit("post.created", member_id=member.id, source=("post", 1))
    db.session.commit()  # the command runs in its own session
    runner = app.test_cli_runner()
    assert "0 difference(s)" in runner.invoke(args=["portal", "points", "verify"]).output
    db.session.execute(sa.update(Balance).where(Balance.member_id == member.id).values(spendable=99))
    db.session.commit()
    result = runner.invoke(args=["portal", "points", "verify"])
    assert result.exit_code == 1
    assert "spendable stored 99, ledger 10" in result.output
    assert runner.invoke(args=["portal", "points", "verify", "--fix"]).exit_code == 0
    assert ledger.verify_balances() == []


def test_the_demo_seeds_rules_for_every_event_fifteen_badges_and_is_idempotent():
    demo.seed_rules_tiers_badges()
    assert demo.seed_rules_tiers_badges() == (0, 0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Badge)) >= 15
    assert [t.code for t in db.session.scalars(sa.select(Tier).order_by(Tier.threshold))] == [
        "silver",
        "gold",
        "platinum",
    ]
    covered = set(db.session.scalars(sa.select(Rule.event_type)))
    for event_type in [
        "post.created",
        "like.received",
        "purchase.recorded",
        "newsletter.unsubscribed",
        "referral.joined",
    ]:
        assert event_type in covered


def test_a_badge_another_writer_awarded_meanwhile_is_neither_announced_nor_notified_again(monkeypatch):
    """The job after a batch reads, then writes; a badge another writer awarded in between is
    left alone: the unique member-badge pair decides, and only what this job inserted is told."""
    member = MemberFactory()
    badge = BadgeFactory(code="voice", kind="event_count", event_type="survey.answered", threshold=1)
    record_events([{"member_id": member.id, "event_type": "survey.answered"}], settle_later=True)
    assert db.session.scalars(sa.select(MemberBadge)).all() == []  # left to the job

    def the_other_writer_wins(session):
        session.add(MemberBadge(member_id=member.id, badge_id=badge.id, earned_at=utcnow()))
        session.flush()

    monkeypatch.setattr(progress, "begin_writing", the_other_writer_wins)
    with recorded_events("badge.earned") as seen:
        awarded = progress.award_badges(
            {member.id}, {"survey.answered"}, tiers=[], now=utcnow(), acted={(member.id, "survey.answered")},
            write_lock=True,
        )  # fmt: skip
    assert awarded == []
    assert seen == []
    assert "points.badge_earned" not in _kinds(member)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberBadge)) == 1
