"""Trust levels 0–4: activity counters, daily allowances (stricter on the first day), promotion, manual levels."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import jobs
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import NotAllowed, RateLimited, ValidationFailed
from portal.i18n import format_local
from portal.moderation import policies
from portal.moderation.models import DailyUsage, TrustRecord
from portal.moderation.services import audit
from portal.moderation.settings import setting

ACTION_NAMES = {
    "topics": _l("new topics"),
    "replies": _l("replies"),
    "likes": _l("likes"),
    "flags": _l("flags"),
    "invites": _l("invitations"),
}
COUNTERS = ("days_visited", "posts_read", "approved_posts", "likes_received")
MAX_LEVEL = 4


def record_for(member_id: int) -> TrustRecord:
    """The member's trust row, created at level 0 the first time it is needed."""
    record = db.session.get(TrustRecord, member_id)
    if record is not None:
        return record
    try:
        with db.session.begin_nested():
            record = TrustRecord(member_id=member_id)
            db.session.add(record)
    except IntegrityError:  # created by a concurrent request
        record = db.session.get(TrustRecord, member_id)
    return record  # type: ignore[return-value]


def lock_record(member_id: int) -> None:
    """Takes the member's trust row lock (PostgreSQL) before any other moderation write.

    Every content event of a member then updates its rows in one order (trust row, daily
    usage, then the engine's balance), so concurrent events of one member queue up
    instead of deadlocking. SQLite serialises writers anyway and ignores FOR UPDATE.
    """
    record_for(member_id)
    db.session.execute(sa.select(TrustRecord.member_id).where(TrustRecord.member_id == member_id).with_for_update())


def level_of(member_id: int) -> int:
    return db.session.scalar(sa.select(TrustRecord.level).where(TrustRecord.member_id == member_id)) or 0


def _bump(member_id: int, counter: str, by: int = 1) -> None:
    record_for(member_id)
    column = getattr(TrustRecord, counter)
    db.session.execute(
        sa.update(TrustRecord)
        .where(TrustRecord.member_id == member_id)
        .values({counter: column + by, "updated_at": utcnow()})
    )


def add_approved_post(member_id: int) -> None:
    _bump(member_id, "approved_posts")


def add_posts_read(member_id: int, count: int = 1) -> None:
    _bump(member_id, "posts_read", max(0, int(count)))


def add_like_received(member_id: int) -> None:
    _bump(member_id, "likes_received")


def record_visit(member_id: int, today: date | None = None) -> None:
    """Counts a day visited, once per (UTC) day."""
    today = today or utcnow().date()
    record_for(member_id)
    db.session.execute(
        sa.update(TrustRecord)
        .where(
            TrustRecord.member_id == member_id,
            sa.or_(TrustRecord.last_visit_on.is_(None), TrustRecord.last_visit_on < today),
        )
        .values(days_visited=TrustRecord.days_visited + 1, last_visit_on=today)
    )


# --- allowances ----------------------------------------------------------------------------------


def _next_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC)


def _is_first_day(member: Member, now: datetime) -> bool:
    return member.created_at is not None and now - member.created_at < timedelta(days=1)


def allowance(member: Member, action: str, now: datetime | None = None) -> int | None:
    """Today's allowance of ``action`` for the member (None: unlimited)."""
    now = now or utcnow()
    level = level_of(member.id)
    limits = setting("MODERATION_ALLOWANCES")
    limit = limits.get(level, limits.get(str(level), {})).get(action)
    if level == 0 and _is_first_day(member, now):
        first_day = setting("MODERATION_FIRST_DAY_ALLOWANCES").get(action)
        if first_day is not None and (limit is None or first_day < limit):
            limit = first_day
    return limit


def used_today(member_id: int, action: str, now: datetime | None = None) -> int:
    day = (now or utcnow()).date()
    return (
        db.session.scalar(
            sa.select(DailyUsage.count).where(
                DailyUsage.member_id == member_id, DailyUsage.day == day, DailyUsage.action == action
            )
        )
        or 0
    )


def _increment(member_id: int, action: str, day: date) -> None:
    where = (DailyUsage.member_id == member_id, DailyUsage.day == day, DailyUsage.action == action)
    result = db.session.execute(sa.update(DailyUsage).where(*where).values(count=DailyUsage.count + 1))
    if result.rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.add(DailyUsage(member_id=member_id, day=day, action=action, count=1))
    except IntegrityError:  # a concurrent request inserted the row first
        db.session.execute(sa.update(DailyUsage).where(*where).values(count=DailyUsage.count + 1))


def use_allowance(member: Member, action: str, now: datetime | None = None) -> None:
    """Counts one ``action`` against today's allowance, or raises :class:`RateLimited` saying when to retry."""
    if policies.exempt_from_limits(member):
        return
    now = now or utcnow()
    limit = allowance(member, action, now)
    if limit is not None and used_today(member.id, action, now) >= limit:
        retry_at = _next_midnight(now)
        if level_of(member.id) == 0 and _is_first_day(member, now):
            normal = setting("MODERATION_ALLOWANCES").get(0, {}).get(action)
            if normal is None or normal > used_today(member.id, action, now):
                retry_at = min(retry_at, member.created_at + timedelta(days=1))
        name = ACTION_NAMES.get(action, action)
        if limit == 0:
            message = _l(
                "Your trust level does not allow %(action)s yet. Take part a little more and try again later.",
                action=name,
            )
        else:
            message = _l(
                "You have reached today's limit of %(limit)s %(action)s. You can do it again from %(when)s.",
                limit=limit,
                action=name,
                when=format_local(retry_at),
            )
        raise RateLimited(message, retry_at=retry_at)
    _increment(member.id, action, now.date())


# --- levels -----------------------------------------------------------------------------------------


def earned_level(record: TrustRecord) -> int:
    """The highest automatic level the record's activity meets (0–3)."""
    requirements: dict[Any, dict[str, int]] = setting("MODERATION_TRUST_REQUIREMENTS")
    level = 0
    for candidate in (1, 2, 3):
        needs = requirements.get(candidate) or requirements.get(str(candidate)) or {}
        if all(getattr(record, name) >= needs.get(name, 0) for name in COUNTERS):
            level = candidate
        else:
            break
    return level


def recompute_levels() -> int:
    """Raises every unlocked member whose activity earned a higher level; returns how many rose."""
    risen = 0
    stmt = sa.select(TrustRecord).where(TrustRecord.locked.is_(False), TrustRecord.level < 3)
    for record in db.session.scalars(stmt.execution_options(yield_per=500)):
        new_level = earned_level(record)
        if new_level > record.level:
            audit.record(
                actor_id=None,
                action="moderation.trust_raised",
                object_kind="member",
                object_id=record.member_id,
                before={"level": record.level},
                after={"level": new_level},
            )
            record.level = new_level
            risen += 1
    return risen


def prune_usage(keep_days: int = 7) -> int:
    """Drops daily counters older than a week; only today's are ever read."""
    cutoff = utcnow().date() - timedelta(days=keep_days)
    result = db.session.execute(sa.delete(DailyUsage).where(DailyUsage.day < cutoff))
    return result.rowcount or 0


@jobs.job
def recompute_trust_levels() -> int:
    """Periodic job (daily): promotes members by their activity, prunes old counters, then commits."""
    risen = recompute_levels()
    prune_usage()
    db.session.commit()
    return risen


def set_level(*, actor: Member, member: Member, level: int, reason: str) -> TrustRecord:
    """A moderator sets a level; it is then locked against automatic changes."""
    if not policies.is_moderator(actor):
        raise NotAllowed()
    if not 0 <= level <= MAX_LEVEL:
        raise ValidationFailed(_l("A trust level is between 0 and 4."), fields={"level": "range"})
    record = record_for(member.id)
    before = {"level": record.level, "locked": record.locked}
    record.level = level
    record.locked = True
    audit.record(
        actor_id=actor.id,
        action="moderation.set_trust_level",
        object_kind="member",
        object_id=member.id,
        before=before,
        after={"level": level, "locked": True},
        reason=reason,
    )
    return record
