"""Read-only questions other packages may ask the engine (ARCHITECTURE: features read tiers here)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from gamification.engine import catalog, progress, totals
from gamification.engine.models import (
    Badge,
    Balance,
    MemberBadge,
    PeriodTotal,
    PointEntry,
    Referral,
    Rule,
    StoredEvent,
    Tier,
)
from portal.accounts.models import Member
from portal.db import InvalidCursor, KeysetPage, db, decode_cursor, encode_cursor, utcnow
from portal.i18n import current_language

PERIODS = ("all", "month", "week")


def tier_code_of(member_id: int) -> str | None:
    """The code of the member's current tier (e.g. ``"gold"``), or None when they have none yet."""
    return db.session.scalar(sa.select(Balance.tier_code).where(Balance.member_id == member_id))


def balance_of(member_id: int) -> tuple[int, int, int, str | None]:
    """(spendable, pending, qualifying, tier code) in one indexed read of the member's balance row."""
    row = db.session.execute(
        sa.select(Balance.spendable, Balance.pending, Balance.qualifying, Balance.tier_code).where(
            Balance.member_id == member_id
        )
    ).first()
    return (row[0], row[1], row[2], row[3]) if row else (0, 0, 0, None)


def tier_choices() -> list[tuple[str, str]]:
    """The tiers as (code, name in the current language), lowest first, for restriction forms."""
    language = current_language()
    return [(t.code, t.name(language)) for t in progress.load_tiers()]


def event_types() -> list[str]:
    """Every event type rules can pay for (validation and the rule form)."""
    return list(catalog.EVENT_TYPES)


@dataclass(frozen=True)
class BadgeView:
    code: str
    name: str
    icon: str
    description: str | None
    earned_at: datetime


@dataclass(frozen=True)
class Standing:
    """A member's points, tier and progress, as the API and the "My points" page show them."""

    points: int
    pending_points: int
    qualifying_points: int
    tier: str | None
    next_tier: str | None
    points_to_next_tier: int | None
    badges: list[BadgeView]
    tier_name: str | None = None
    next_tier_name: str | None = None
    tier_threshold: int = 0
    next_tier_threshold: int | None = None
    tier_grace_until: datetime | None = None
    streak_days: int = 0

    @property
    def progress_percent(self) -> int:
        if self.next_tier_threshold is None:
            return 100
        span = self.next_tier_threshold - self.tier_threshold
        return max(0, min(100, (self.qualifying_points - self.tier_threshold) * 100 // span)) if span > 0 else 100


def badges_of(member_id: int) -> list[BadgeView]:
    language = current_language()
    rows = db.session.execute(
        sa.select(Badge, MemberBadge.earned_at)
        .join(MemberBadge, MemberBadge.badge_id == Badge.id)
        .where(MemberBadge.member_id == member_id)
        .order_by(MemberBadge.earned_at, Badge.id)
    ).all()
    return [
        BadgeView(
            b.code,
            b.name(language),
            b.icon,
            b.description_fa if language == "fa" else b.description_en,
            earned_at,
        )
        for b, earned_at in rows
    ]


def member_standing(member_id: int) -> Standing:
    """Balances (one indexed read), tier progress and badges of a member."""
    balance = db.session.execute(
        sa.select(
            Balance.spendable,
            Balance.pending,
            Balance.qualifying,
            Balance.tier_code,
            Balance.tier_grace_until,
            Balance.streak_days,
        ).where(Balance.member_id == member_id)
    ).first()
    spendable, pending, qualifying, tier_code, grace, streak = balance or (0, 0, 0, None, None, 0)
    tiers = progress.load_tiers()
    language = current_language()
    current = next((t for t in tiers if t.code == tier_code), None)
    above = [t for t in tiers if t.threshold > (current.threshold if current else -1)]
    nxt = above[0] if above else None
    return Standing(
        points=spendable,
        pending_points=pending,
        qualifying_points=qualifying,
        tier=tier_code,
        next_tier=nxt.code if nxt else None,
        points_to_next_tier=max(nxt.threshold - qualifying, 0) if nxt else None,
        badges=badges_of(member_id),
        tier_name=current.name(language) if current else None,
        next_tier_name=nxt.name(language) if nxt else None,
        tier_threshold=current.threshold if current else 0,
        next_tier_threshold=nxt.threshold if nxt else None,
        tier_grace_until=grace,
        streak_days=streak,
    )


def standing_fields(member_id: int) -> dict[str, Any]:
    """The standing as the integration API's member answer spells it (API.md)."""
    standing = member_standing(member_id)
    return {
        "points": standing.points,
        "qualifying_points": standing.qualifying_points,
        "tier": standing.tier,
        "next_tier": standing.next_tier,
        "points_to_next_tier": standing.points_to_next_tier,
        "badges": [
            {"code": badge.code, "name": badge.name, "awarded_at": badge.earned_at.isoformat()}
            for badge in standing.badges
        ],
    }


@dataclass(frozen=True)
class ProfilePoints:
    """What a profile shows of the engine: points, tier name and badges."""

    points: int
    tier_name: str | None
    badges: list[BadgeView]


def profile_points(member_id: int) -> ProfilePoints:
    """Points, tier and badges of a member in one query (profiles and posts show these)."""
    language = current_language()
    rows = db.session.execute(
        sa.select(
            Balance.spendable,
            Tier.name_fa,
            Tier.name_en,
            Badge.code,
            Badge.name_fa,
            Badge.name_en,
            Badge.icon,
            Badge.description_fa,
            Badge.description_en,
            MemberBadge.earned_at,
        )
        .select_from(Member)
        .outerjoin(Balance, Balance.member_id == Member.id)
        .outerjoin(Tier, Tier.code == Balance.tier_code)
        .outerjoin(MemberBadge, MemberBadge.member_id == Member.id)
        .outerjoin(Badge, Badge.id == MemberBadge.badge_id)
        .where(Member.id == member_id)
        .order_by(MemberBadge.earned_at, Badge.id)
    ).all()
    if not rows:
        return ProfilePoints(0, None, [])
    first = rows[0]
    fa = language == "fa"
    return ProfilePoints(
        first.spendable or 0,
        (first[1] if fa else first[2]) if first[1] else None,
        [
            BadgeView(row[3], row[4] if fa else row[5], row[6], row[7] if fa else row[8], row[9])
            for row in rows
            if row[3] is not None
        ],
    )


# Keys a cursor may carry: positive and within what every database's integer columns hold.
_CURSOR_MAX = 2**53 - 1


def _cursor_ints(cursor: str, size: int) -> list[int]:
    """The positive whole numbers a cursor carries; anything else was not made here (InvalidCursor)."""
    values = decode_cursor(cursor, size)
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= _CURSOR_MAX for v in values):
        raise InvalidCursor(cursor)
    return values


@dataclass(frozen=True)
class LedgerLine:
    id: int
    kind: str
    status: str
    amount: int
    qualifying: int
    balance_after: int
    reason: str | None
    rule_code: str | None
    rule_name: str | None
    event_type: str | None
    source: tuple[str, str] | None
    created_at: datetime
    expires_at: datetime | None
    available_at: datetime | None


def ledger_page(member_id: int, *, limit: int = 20, cursor: str | None = None) -> tuple[list[LedgerLine], str | None]:
    """The member's entries, newest first, keyset-paginated (raises portal.db.InvalidCursor)."""
    limit = max(1, min(int(limit), 100))
    language = current_language()
    name = Rule.name_fa if language == "fa" else Rule.name_en
    stmt = (
        sa.select(PointEntry, name)
        .outerjoin(Rule, Rule.id == PointEntry.rule_id)
        .where(PointEntry.member_id == member_id)
        .order_by(PointEntry.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        (last_id,) = _cursor_ints(cursor, 1)
        stmt = stmt.where(PointEntry.id < last_id)
    rows = db.session.execute(stmt).all()
    lines = [
        LedgerLine(
            e.id,
            e.kind,
            e.status,
            e.amount,
            e.qualifying,
            e.balance_after,
            e.reason,
            e.rule_code,
            rule_name,
            e.event_type,
            (e.source_kind, e.source_id) if e.source_kind else None,
            e.created_at,
            e.expires_at,
            e.available_at,
        )
        for e, rule_name in rows[:limit]
    ]
    next_cursor = encode_cursor([lines[-1].id]) if len(rows) > limit else None
    return lines, next_cursor


def expiring_points(member_id: int, *, days: int = 30) -> list[tuple[datetime, int]]:
    """(expiry date, points) of the member's points that expire within ``days``."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(PointEntry.expires_at, PointEntry.remaining)
        .where(
            PointEntry.member_id == member_id,
            PointEntry.remaining > 0,
            PointEntry.status == "available",
            PointEntry.expires_at > now,
            PointEntry.expires_at <= now + timedelta(days=days),
        )
        .order_by(PointEntry.expires_at)
    ).all()
    return [(at, remaining) for at, remaining in rows]


def _board(period: str, category_id: int | None) -> tuple[Any, list[sa.ColumnElement[bool]]]:
    """The points column of a leaderboard and the conditions that pick its rows: the scope, and
    for the month and the week the current period's key (a row of an older period is not on it)."""
    if period not in PERIODS:
        raise ValueError(period)
    conditions = [PeriodTotal.scope == (category_id or 0)]
    if period == "all":
        return PeriodTotal.points, conditions
    key = totals.key_number(catalog.period_keys(utcnow())[period])
    if period == "month":
        return PeriodTotal.month_points, [*conditions, PeriodTotal.month_key == key]
    return PeriodTotal.week_points, [*conditions, PeriodTotal.week_key == key]


def leaderboard(
    period: str = "all", *, limit: int = 10, category_id: int | None = None
) -> list[tuple[int, str, int, str | None]]:
    """The top members as (member_id, display_name, points, tier) from the per-period totals.

    The top N are read from the index alone (ties: the newer member first), then joined."""
    limit = max(1, min(int(limit), 100))
    points, conditions = _board(period, category_id)
    top = (
        sa.select(PeriodTotal.member_id, points.label("points"))
        .where(*conditions, points > 0)
        .order_by(points.desc(), PeriodTotal.member_id.desc())
        .limit(limit)
        .subquery()
    )
    stmt = (
        sa.select(top.c.member_id, Member.display_name, top.c.points, Balance.tier_code)
        .join(Member, Member.id == top.c.member_id)
        .outerjoin(Balance, Balance.member_id == top.c.member_id)
        .order_by(top.c.points.desc(), top.c.member_id.desc())
    )
    return [tuple(row) for row in db.session.execute(stmt)]  # type: ignore[misc]


def rank_of(member_id: int, period: str = "all", *, category_id: int | None = None) -> tuple[int, int] | None:
    """(rank, points) of the member on a leaderboard, or None when they have no points there."""
    column, conditions = _board(period, category_id)
    points = db.session.scalar(sa.select(column).where(*conditions, PeriodTotal.member_id == member_id))
    if not points or points <= 0:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count()).where(
            *conditions,
            sa.or_(column > points, sa.and_(column == points, PeriodTotal.member_id > member_id)),
        )
    )
    return (ahead or 0) + 1, points


def rules() -> list[Rule]:
    return list(db.session.scalars(sa.select(Rule).order_by(Rule.event_type, Rule.id)))


def tiers() -> list[Tier]:
    return progress.load_tiers()


def badges() -> list[Badge]:
    return list(db.session.scalars(sa.select(Badge).order_by(Badge.id)))


def held_referrals() -> list[tuple[Referral, str, str]]:
    referrer = sa.orm.aliased(Member)
    referee = sa.orm.aliased(Member)
    rows = db.session.execute(
        sa.select(Referral, referrer.display_name, referee.display_name)
        .join(referrer, referrer.id == Referral.referrer_id)
        .join(referee, referee.id == Referral.referee_id)
        .where(Referral.status == "held")
        .order_by(Referral.id)
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def referral_stats(member_id: int) -> dict[str, Any]:
    rows = db.session.execute(
        sa.select(Referral.status, sa.func.count()).where(Referral.referrer_id == member_id).group_by(Referral.status)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    member_id: int
    external_id: str | None
    name: str
    points: int
    tier: str | None


def leaderboard_page(
    period: str = "all", *, limit: int = 20, cursor: str | None = None, category_id: int | None = None
) -> KeysetPage[LeaderboardRow]:
    """The ranked members from the per-period totals, keyset-paginated on (points, member id).

    The cursor carries the last row's points, id and rank, so a page never counts the rows before
    it; raises portal.db.InvalidCursor."""
    limit = max(1, min(int(limit), 100))
    column, conditions = _board(period, category_id)
    conditions.append(column > 0)
    rank = 0
    if cursor:
        last_points, last_id, rank = _cursor_ints(cursor, 3)
        conditions.append(sa.or_(column < last_points, sa.and_(column == last_points, PeriodTotal.member_id < last_id)))
    top = (
        sa.select(PeriodTotal.member_id, column.label("points"))
        .where(*conditions)
        .order_by(column.desc(), PeriodTotal.member_id.desc())
        .limit(limit + 1)
        .subquery()
    )
    stmt = (
        sa.select(top.c.member_id, Member.external_id, Member.display_name, top.c.points, Balance.tier_code)
        .join(Member, Member.id == top.c.member_id)
        .outerjoin(Balance, Balance.member_id == top.c.member_id)
        .order_by(top.c.points.desc(), top.c.member_id.desc())
    )
    rows = db.session.execute(stmt).all()
    items = [
        LeaderboardRow(rank + position, member_id, external_id, name, points, tier)
        for position, (member_id, external_id, name, points, tier) in enumerate(rows[:limit], start=1)
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.points, last.member_id, last.rank])
    return KeysetPage(items, next_cursor)


PURCHASE_TYPE = "purchase.recorded"
REFUND_TYPE = "purchase.refunded"


@functools.cache
def _event_aliases() -> tuple[Any, Any]:
    """Two aliases of the stored events, made once (building an alias costs more than the query it serves)."""
    return aliased(StoredEvent, name="purchase"), aliased(StoredEvent, name="refund")


def segment_conditions(
    member_id: Any,
    *,
    now: datetime | None = None,
    tiers: list[str] | None = None,
    spendable_min: int | None = None,
    spendable_max: int | None = None,
    qualifying_min: int | None = None,
    qualifying_max: int | None = None,
    purchases_days: int | None = None,
    purchases_min_count: int | None = None,
    purchases_min_amount: int | None = None,
) -> list[sa.ColumnElement[bool]]:
    """SQL conditions over a member id column for member segments: tier, balances and recent purchases.

    Subqueries over the engine's tables, so the caller's one query answers (a member without a
    balance row has 0 points and no tier). Purchases are the stored ``purchase.recorded`` events of the last
    ``purchases_days`` days that no ``purchase.refunded`` event of the same reference took back.
    """
    where: list[sa.ColumnElement[bool]] = []
    if tiers:
        where.append(sa.exists().where(Balance.member_id == member_id, Balance.tier_code.in_(tiers)))
    bounds = (
        (Balance.spendable, spendable_min, spendable_max),
        (Balance.qualifying, qualifying_min, qualifying_max),
    )
    for column, low, high in bounds:
        # EXISTS / NOT EXISTS on the balance row: semi- and anti-joins for PostgreSQL, a primary-key read for
        # SQLite; a member without a row has 0 points, so "at least 0" holds for everyone.
        if low:
            where.append(sa.exists().where(Balance.member_id == member_id, column >= low))
        if high is not None:
            where.append(~sa.exists().where(Balance.member_id == member_id, column > high))
    if purchases_days is not None and (purchases_min_count is not None or purchases_min_amount is not None):
        since = (now or utcnow()) - timedelta(days=purchases_days)
        purchase, refund = _event_aliases()
        refunded = (
            sa.select(refund.id)
            .where(
                refund.member_id == purchase.member_id,
                refund.type == REFUND_TYPE,
                refund.source_kind == purchase.source_kind,
                refund.source_id == purchase.source_id,
            )
            .exists()
        )
        kept = (purchase.type == PURCHASE_TYPE, purchase.occurred_at >= since, ~refunded)
        if db.session.get_bind().dialect.name == "postgresql":
            # PostgreSQL plans IN (grouped subquery) as a semi-join: fast for a count over every member
            # and, with the member's id known, for contains() too.
            having: list[sa.ColumnElement[bool]] = []
            if purchases_min_count is not None:
                having.append(sa.func.count(purchase.id) >= purchases_min_count)
            if purchases_min_amount is not None:
                having.append(sa.func.coalesce(sa.func.sum(purchase.amount), 0) >= purchases_min_amount)
            buyers = sa.select(purchase.member_id).where(*kept).group_by(purchase.member_id).having(*having)
            where.append(member_id.in_(buyers))
        else:
            # SQLite would compute the grouped subquery whole even for one member: correlated reads through
            # the (member, type) index instead.
            mine = (purchase.member_id == member_id, *kept)
            if purchases_min_count is not None:
                count = sa.select(sa.func.count(purchase.id)).where(*mine).scalar_subquery()
                where.append(count >= purchases_min_count)
            if purchases_min_amount is not None:
                total = sa.select(sa.func.coalesce(sa.func.sum(purchase.amount), 0)).where(*mine).scalar_subquery()
                where.append(total >= purchases_min_amount)
    return where
