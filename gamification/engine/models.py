"""Tables of the points engine: rules, the ledger, balances, period totals, tiers, badges, referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import TimestampMixin, UTCDateTime, db, utcnow

ENTRY_KINDS = ("earn", "spend", "expire", "reverse", "adjust")
FEEDS = ("both", "spendable", "qualifying")
BADGE_KINDS = ("event_count", "points_reached", "tier_reached", "streak")
REFERRAL_STATES = ("waiting", "held", "paid", "rejected")


class Rule(TimestampMixin, db.Model):
    """A point rule: which event pays how much, to whom, how often. Edited by admins as data."""

    __tablename__ = "point_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    event_type: Mapped[str] = mapped_column(sa.String(60), index=True)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Either a fixed number of points, or points per ``amount_unit`` of the event's amount (floored).
    points: Mapped[int] = mapped_column(default=0, server_default="0")
    amount_unit: Mapped[int | None] = mapped_column(sa.BigInteger)
    feeds: Mapped[str] = mapped_column(sa.String(12), default="both", server_default="both")
    # Member conditions.
    cond_city: Mapped[str | None] = mapped_column(sa.String(100))
    cond_job_title: Mapped[str | None] = mapped_column(sa.String(100))
    cond_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    cond_tier: Mapped[str | None] = mapped_column(sa.String(30))
    cond_min_completion: Mapped[int | None] = mapped_column()
    # Event conditions.
    cond_min_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    cond_category_id: Mapped[int | None] = mapped_column()
    cond_attribute: Mapped[str | None] = mapped_column(sa.String(60))
    cond_attribute_value: Mapped[str | None] = mapped_column(sa.String(200))
    # Caps: the most points this rule pays one member per period (None: no cap).
    cap_day: Mapped[int | None] = mapped_column()
    cap_week: Mapped[int | None] = mapped_column()
    cap_month: Mapped[int | None] = mapped_column()
    cap_lifetime: Mapped[int | None] = mapped_column()
    # Community actions share one daily cap per member; purchases do not.
    community: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_days: Mapped[int | None] = mapped_column()
    pending_days: Mapped[int | None] = mapped_column()
    apply_multiplier: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    @property
    def caps(self) -> dict[str, int]:
        found = {"day": self.cap_day, "week": self.cap_week, "month": self.cap_month, "all": self.cap_lifetime}
        return {period: cap for period, cap in found.items() if cap is not None}


def _filled_only(name: str, *columns: str, filled: str | None = None) -> sa.Index:
    """An index of the rows whose ``filled`` column (the first one by default) is not NULL."""
    where = sa.text(f"{filled or columns[0]} IS NOT NULL")
    return sa.Index(name, *columns, postgresql_where=where, sqlite_where=where)


class PointEntry(db.Model):
    """One change of a member's points. Rows are never deleted; only status, ``remaining`` and the
    idempotency key of a reversed award change (so a restored source can pay again)."""

    __tablename__ = "point_entries"
    # The indexes on columns that most entries leave empty are partial (``IS NOT NULL``): an earning
    # entry then skips them, and every query that uses one compares the column (``<=``, ``=``), which
    # implies the predicate on both databases, whatever the parameter's value.
    __table_args__ = (
        sa.Index("ix_point_entries_member_id_id", "member_id", "id"),
        sa.Index("ix_point_entries_source", "source_kind", "source_id"),
        _filled_only("ix_point_entries_expiry", "expires_at", "remaining"),
        # available_at is set only on pending entries (purchases in their return window).
        _filled_only("ix_point_entries_pending", "status", "available_at", filled="available_at"),
        _filled_only("ix_point_entries_reverses_id", "reverses_id"),
        # Serves the foreign key's ON DELETE SET NULL (``actor_id = :id``); only adjustments have an actor.
        _filled_only("ix_point_entries_actor_id", "actor_id"),
        _filled_only("ix_point_entries_qualifying_until", "qualifying_until"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default="available")
    amount: Mapped[int] = mapped_column()
    qualifying: Mapped[int] = mapped_column(default=0)
    balance_after: Mapped[int] = mapped_column()
    remaining: Mapped[int] = mapped_column(default=0)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("point_rules.id", ondelete="SET NULL"), index=True)
    rule_code: Mapped[str | None] = mapped_column(sa.String(60))
    event_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    event_type: Mapped[str | None] = mapped_column(sa.String(60))
    source_kind: Mapped[str | None] = mapped_column(sa.String(40))
    source_id: Mapped[str | None] = mapped_column(sa.String(100))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    is_reversed: Mapped[bool] = mapped_column(default=False)
    category_id: Mapped[int | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expiry_warned: Mapped[bool] = mapped_column(default=False)
    qualifying_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    qualifying_aged: Mapped[bool] = mapped_column(default=False)


class Balance(db.Model):
    """A member's balances and tier in one row: what every page and the API read."""

    __tablename__ = "point_balances"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    spendable: Mapped[int] = mapped_column(default=0, server_default="0")
    pending: Mapped[int] = mapped_column(default=0, server_default="0")
    qualifying: Mapped[int] = mapped_column(default=0, server_default="0")
    earned: Mapped[int] = mapped_column(default=0, server_default="0")
    tier_code: Mapped[str | None] = mapped_column(sa.String(30), index=True)
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tier_grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    streak_days: Mapped[int] = mapped_column(default=0, server_default="0")
    last_active_day: Mapped[str | None] = mapped_column(sa.String(10))
    # The shared daily cap of community actions: what community rules paid on ``community_day``
    # (the club's local day). Kept here, in the row every batch locks and writes anyway, rather
    # than as one more cap counter per member and day.
    community_day: Mapped[str | None] = mapped_column(sa.String(10))
    community_points: Mapped[int] = mapped_column(default=0, server_default="0")


class PeriodTotal(db.Model):
    """A member's points in one scope (overall, or a forum category): all time, in the month and in
    the week. What leaderboards read, never a sum over the ledger.

    One row holds the three periods: a change to a member's totals is one row version (a primary-key
    probe and the three leaderboard indexes) instead of three rows with two index entries each.
    ``month_key`` and ``week_key`` name the period the row's points belong to, as numbers
    (``140509`` for the Jalali month 1405-09, ``20261121`` for the week starting on 2026-11-21);
    points for a newer period replace the older period's, which no current leaderboard shows."""

    __tablename__ = "point_totals"
    # Without SQLite's hidden rowid, each upsert touches one b-tree less.
    __table_args__ = (
        sa.Index("ix_point_totals_all", "scope", "points", "member_id"),
        sa.Index("ix_point_totals_month", "scope", "month_key", "month_points", "member_id"),
        sa.Index("ix_point_totals_week", "scope", "week_key", "week_points", "member_id"),
        {"sqlite_with_rowid": False},
    )

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    # 0: overall; otherwise the forum category's id.
    scope: Mapped[int] = mapped_column(primary_key=True)
    points: Mapped[int] = mapped_column(default=0)
    month_key: Mapped[int] = mapped_column(default=0)
    month_points: Mapped[int] = mapped_column(default=0)
    week_key: Mapped[int] = mapped_column(default=0)
    week_points: Mapped[int] = mapped_column(default=0)


class PendingTotals(db.Model):
    """Period-total changes a committed batch made that are not yet in ``point_totals``: written in
    the batch's own transaction, added by a job right after its commit (see ``engine.totals``)."""

    __tablename__ = "point_totals_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # [[period, period key, scope, [member ids], [points]], ...]: one entry per board.
    deltas: Mapped[str] = mapped_column(sa.Text)


class CapCounter(db.Model):
    """Points a rule paid a member in one cap period (the shared daily community cap is counted
    in the balance row, ``Balance.community_points``)."""

    __tablename__ = "point_cap_counters"
    __table_args__ = ({"sqlite_with_rowid": False},)

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    rule_id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    period_key: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)


class StoredEvent(db.Model):
    """Every event the engine saw: the idempotency record of external events and the simulator's input."""

    __tablename__ = "engine_events"
    __table_args__ = (
        sa.Index("ix_engine_events_member_type", "member_id", "type"),
        sa.Index("ix_engine_events_occurred_at", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(60))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    source_kind: Mapped[str | None] = mapped_column(sa.String(40))
    source_id: Mapped[str | None] = mapped_column(sa.String(100))
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    attributes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Tier(TimestampMixin, db.Model):
    """A tier (Silver, Gold, Platinum…): a threshold on qualifying points and its benefits."""

    __tablename__ = "tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(60))
    name_en: Mapped[str] = mapped_column(sa.String(60))
    threshold: Mapped[int] = mapped_column(index=True)
    multiplier_percent: Mapped[int] = mapped_column(default=100, server_default="100")
    early_access: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    color: Mapped[str] = mapped_column(sa.String(7), default="#888888", server_default="#888888")
    benefits_fa: Mapped[str | None] = mapped_column(sa.Text)
    benefits_en: Mapped[str | None] = mapped_column(sa.Text)

    def name(self, language: str) -> str:
        return self.name_fa if language == "fa" else self.name_en


class Badge(TimestampMixin, db.Model):
    """A badge as data: what earns it (a count of an event, points, a tier, a streak)."""

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    description_fa: Mapped[str | None] = mapped_column(sa.String(300))
    description_en: Mapped[str | None] = mapped_column(sa.String(300))
    icon: Mapped[str] = mapped_column(sa.String(8), default="🏅")
    kind: Mapped[str] = mapped_column(sa.String(20))
    event_type: Mapped[str | None] = mapped_column(sa.String(60))
    threshold: Mapped[int] = mapped_column(default=1)
    tier_code: Mapped[str | None] = mapped_column(sa.String(30))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    def name(self, language: str) -> str:
        return self.name_fa if language == "fa" else self.name_en


class MemberBadge(db.Model):
    """A badge a member earned; awarded once."""

    __tablename__ = "member_badges"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    badge_id: Mapped[int] = mapped_column(sa.ForeignKey("badges.id", ondelete="CASCADE"), primary_key=True, index=True)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Referral(db.Model):
    """A referee brought by a referrer, until the referrer is paid (or held for review)."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    referee_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="waiting", index=True)
    hold_reason: Mapped[str | None] = mapped_column(sa.String(100))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# What an admin edits on a rule: the rule form's fields, the service's columns, the audit's snapshot.
RULE_FIELDS = [
    "code",
    "name_fa",
    "name_en",
    "event_type",
    "is_active",
    "points",
    "amount_unit",
    "feeds",
    "cond_city",
    "cond_job_title",
    "cond_organisation_id",
    "cond_tier",
    "cond_min_completion",
    "cond_min_amount",
    "cond_category_id",
    "cond_attribute",
    "cond_attribute_value",
    "cap_day",
    "cap_week",
    "cap_month",
    "cap_lifetime",
    "community",
    "starts_at",
    "ends_at",
    "expires_days",
    "pending_days",
    "apply_multiplier",
]
