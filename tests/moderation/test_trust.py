"""Trust levels: allowances enforced through content events (stricter on day one), holds, promotion, manual levels."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from portal.db import utcnow
from portal.errors import NotAllowed, RateLimited
from portal.events import emit
from portal.extensions import db
from portal.moderation.models import AuditEntry, QueueItem, TrustRecord
from portal.moderation.services import trust
from tests.factories import AdminFactory, MemberFactory, ModeratorFactory
from tests.portal.web import csrf_token, sign_in


def _veteran(**counters):
    """A member who joined long ago, with a trust row."""
    member = MemberFactory(created_at=utcnow() - timedelta(days=30))
    record = trust.record_for(member.id)
    record.approved_posts = counters.pop("approved_posts", 10)
    for name, value in counters.items():
        setattr(record, name, value)
    db.session.flush()
    return member


def _record(member_id):
    db.session.expire_all()
    return db.session.get(TrustRecord, member_id)


def _like(member, n):
    emit("like.given", member_id=member.id, source=("like", n), attributes={"post_id": n})


def test_allowances_rise_with_the_level(app):
    member = _veteran()
    assert trust.allowance(member, "likes") == 20
    trust.record_for(member.id).level = 2
    db.session.flush()
    assert trust.allowance(member, "likes") == 100
    trust.record_for(member.id).level = 4
    db.session.flush()
    assert trust.allowance(member, "likes") is None


def test_an_over_limit_action_is_refused_with_when_it_can_happen_again(app):
    app.config["MODERATION_ALLOWANCES"] = {0: {"likes": 2}}
    try:
        member = _veteran()
        _like(member, 1)
        _like(member, 2)
        with pytest.raises(RateLimited) as refused:
            _like(member, 3)
        tomorrow = (utcnow() + timedelta(days=1)).date()
        assert refused.value.retry_at.date() == tomorrow
        assert refused.value.retry_at.hour == 0
        assert "today's limit of 2 likes" in str(refused.value.message)
        assert "You can do it again from" in str(refused.value.message)
        assert trust.used_today(member.id, "likes") == 2
    finally:
        del app.config["MODERATION_ALLOWANCES"]


def test_the_first_day_is_stricter_and_says_when_it_ends(content):
    newcomer = MemberFactory(created_at=utcnow() - timedelta(hours=20))
    content.publish(author=newcomer, kind="topic")
    with pytest.raises(RateLimited) as refused:
        content.publish(author=newcomer, kind="topic")
    # Level 0 allows 3 topics a day, but on the first day only 1: the member may post again when day one ends.
    assert refused.value.retry_at <= newcomer.created_at + timedelta(days=1)
    assert "today's limit of 1 new topics" in str(refused.value.message)


def test_a_zero_allowance_says_the_level_does_not_allow_it(app):
    member = _veteran()
    with pytest.raises(RateLimited, match="does not allow invitations"):
        emit("invite.sent", member_id=member.id, source=("invite", 1))


def test_staff_have_no_allowances():
    moderator = ModeratorFactory(created_at=utcnow())
    for n in range(30):
        _like(moderator, n)
    assert trust.used_today(moderator.id, "likes") == 0


def test_the_refusal_rolls_the_whole_action_back(web, app, content):
    app.config["MODERATION_ALLOWANCES"] = {0: {"replies": 0}}
    try:
        member = _veteran()
        with pytest.raises(RateLimited):
            content.publish(author=member)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueItem)) == 0
    finally:
        del app.config["MODERATION_ALLOWANCES"]


def test_a_new_members_first_posts_are_held_until_approved(content):
    newcomer = MemberFactory(created_at=utcnow() - timedelta(days=3))
    first = content.publish(author=newcomer)
    assert content.state(first) == "held"
    item = db.session.scalar(sa.select(QueueItem).where(QueueItem.object_id == first.id))
    assert (item.kind, item.reason, item.author_id) == ("post", "held_new", newcomer.id)
    trust.add_approved_post(newcomer.id)
    trust.add_approved_post(newcomer.id)
    later = content.publish(author=newcomer)
    assert content.state(later) == "visible"
    assert _record(newcomer.id).approved_posts == 3


def test_a_post_with_too_many_links_is_held(content):
    member = _veteran()
    body = "see https://a.example and https://b.example and www.c.example"
    post = content.publish(author=member, body=body)
    assert content.state(post) == "held"
    assert db.session.scalar(sa.select(QueueItem.reason)) == "held_links"
    trusted = _veteran(level=2)
    assert content.state(content.publish(author=trusted, body=body)) == "visible"


def test_holding_a_kind_without_an_adapter_does_nothing(db_session):
    newcomer = MemberFactory()
    emit("comment.created", member_id=newcomer.id, source=("comment", 5), attributes={"text": "hi"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueItem)) == 0


# --- activity and levels -----------------------------------------------------------------------------------


def test_likes_received_and_posts_read_are_counted_from_events():
    member = _veteran()
    emit("like.received", member_id=member.id, source=("like", 1), attributes={"liker_id": 99})
    emit("topic.read", member_id=member.id, source=("topic", 3), attributes={"posts": 7})
    emit("like.received", member_id=member.id, source=("external", "pos-1"))  # from an outside system
    record = _record(member.id)
    assert (record.likes_received, record.posts_read) == (1, 7)


def test_a_visit_counts_once_a_day(web):
    member = MemberFactory()
    sign_in(web, member)
    with web.session_transaction() as session:
        session.pop("visit_day")  # a session not yet seen today
    web.get("/")
    web.get("/")
    record = db.session.get(TrustRecord, member.id)
    assert (record.days_visited, record.last_visit_on) == (1, utcnow().date())
    trust.record_visit(member.id, utcnow().date() + timedelta(days=1))
    trust.record_visit(member.id, utcnow().date() + timedelta(days=1))
    assert _record(member.id).days_visited == 2


def test_levels_rise_with_activity_but_never_past_what_was_earned():
    rising = _veteran(days_visited=12, posts_read=150, approved_posts=6, likes_received=5)
    idle = _veteran(days_visited=1, posts_read=0, approved_posts=0)
    locked = _veteran(days_visited=100, posts_read=1000, approved_posts=100, likes_received=100)
    trust.record_for(locked.id).locked = True
    db.session.flush()
    assert trust.recompute_levels() == 1
    assert trust.level_of(rising.id) == 2
    assert trust.level_of(idle.id) == 0
    assert trust.level_of(locked.id) == 0
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "moderation.trust_raised"))
    assert (entry.object_id, entry.before, entry.after) == (str(rising.id), {"level": 0}, {"level": 2})


def test_the_cli_runs_the_promotion_job(app):
    _veteran(days_visited=3, posts_read=25, approved_posts=1)
    result = CliRunner().invoke(app.cli, ["portal", "moderation", "trust-recompute"], obj=None)
    assert result.exit_code == 0, result.output
    assert "1 member(s) moved up" in result.output


def test_moderators_set_a_level_which_then_stays(web):
    member = MemberFactory()
    moderator = ModeratorFactory()
    sign_in(web, moderator)
    response = web.post(
        f"/moderation/members/{member.id}/trust",
        data={"csrf_token": csrf_token(web), "level": "3", "reason": "Trusted"},
    )
    assert response.status_code == 303
    record = db.session.get(TrustRecord, member.id)
    assert (record.level, record.locked) == (3, True)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "moderation.set_trust_level"))
    assert (entry.actor_id, entry.after, entry.reason) == (moderator.id, {"level": 3, "locked": True}, "Trusted")


def test_members_cannot_set_levels(web):
    member = MemberFactory()
    with pytest.raises(NotAllowed):
        trust.set_level(actor=member, member=member, level=4, reason="")
    sign_in(web, member)
    assert (
        web.post(
            f"/moderation/members/{member.id}/trust", data={"csrf_token": csrf_token(web), "level": "4"}
        ).status_code
        == 403
    )
    assert trust.level_of(member.id) == 0
    assert AdminFactory  # admins are covered by the matrix test


def test_old_daily_counters_are_pruned():
    from portal.moderation.models import DailyUsage

    member = _veteran()
    db.session.add(DailyUsage(member_id=member.id, day=utcnow().date() - timedelta(days=30), action="likes", count=3))
    _like(member, 1)
    assert trust.prune_usage() == 1
    assert trust.used_today(member.id, "likes") == 1
