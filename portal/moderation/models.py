"""Moderation's tables: audit log, flags, review queue, trust, daily usage, word rules, sanctions, notes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Member
from portal.db import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    """One moderator or admin action; rows are only ever inserted (see the guard below)."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_object", "object_kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    object_kind: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id], lazy="raise_on_sql")


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_changes(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed")


class FlagReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    ILLEGAL = "illegal"
    OTHER = "other"


class QueueState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    HIDDEN = "hidden"
    RESTORED = "restored"
    EDITED = "edited"
    DELETED = "deleted"
    ACTED = "acted"  # a topic action (lock, pin, move, merge) closed it


class QueueItem(db.Model):
    """Something waiting for a moderator: flagged content, a held post, a held sign-up."""

    __tablename__ = "queue_items"
    __table_args__ = (sa.Index("ix_queue_items_state_created", "state", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(30), index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default=QueueState.PENDING.value)
    # "kind:id" while pending, NULL once resolved: one open item per object, enforced by the database.
    open_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
    flag_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    resolution_reason: Mapped[str | None] = mapped_column(sa.Text)

    author: Mapped[Member | None] = relationship(foreign_keys=[author_id], lazy="raise_on_sql")
    resolved_by: Mapped[Member | None] = relationship(foreign_keys=[resolved_by_id], lazy="raise_on_sql")

    @property
    def is_pending(self) -> bool:
        return self.state == QueueState.PENDING


class Flag(db.Model):
    """A member's report that a piece of content breaks the rules; one per member per item."""

    __tablename__ = "flags"
    __table_args__ = (
        sa.UniqueConstraint("kind", "object_id", "flagger_id"),
        sa.Index("ix_flags_object", "kind", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int] = mapped_column()
    flagger_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str | None] = mapped_column(sa.String(500))
    queue_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("queue_items.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(sa.String(20))

    flagger: Mapped[Member] = relationship(foreign_keys=[flagger_id], lazy="raise_on_sql")


class TrustRecord(db.Model):
    """A member's trust level and the activity it is computed from."""

    __tablename__ = "trust_records"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(default=0, server_default="0")
    locked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # set by a moderator
    days_visited: Mapped[int] = mapped_column(default=0, server_default="0")
    last_visit_on: Mapped[date | None] = mapped_column(sa.Date)
    posts_read: Mapped[int] = mapped_column(default=0, server_default="0")
    approved_posts: Mapped[int] = mapped_column(default=0, server_default="0")
    likes_received: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DailyUsage(db.Model):
    """How many times a member did one limited action on one (UTC) day."""

    __tablename__ = "daily_usage"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    count: Mapped[int] = mapped_column(default=0, server_default="0")


class WordAction(enum.StrEnum):
    BLOCK = "block"
    HOLD = "hold"
    REPLACE = "replace"


class WordRule(db.Model):
    """A word or phrase the filter blocks, holds for review or replaces; matched on folded text."""

    __tablename__ = "word_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(100))
    folded: Mapped[str] = mapped_column(sa.String(100), unique=True)
    action: Mapped[str] = mapped_column(sa.String(10))
    replacement: Mapped[str | None] = mapped_column(sa.String(100))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SanctionKind(enum.StrEnum):
    WARNING = "warning"
    SUSPENSION = "suspension"
    BAN = "ban"
    SILENCE = "silence"


class Sanction(db.Model):
    """A warning, suspension, ban or category silence, with its reason, end and early lifting."""

    __tablename__ = "sanctions"
    __table_args__ = (sa.Index("ix_sanctions_member_kind", "member_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    reason: Mapped[str] = mapped_column(sa.Text)
    category_id: Mapped[int | None] = mapped_column()  # forums' category, for silences (no FK: another package)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    lift_reason: Mapped[str | None] = mapped_column(sa.Text)

    def is_in_force(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.lifted_at is None and self.starts_at <= now and (self.ends_at is None or self.ends_at > now)


class ModeratorNote(db.Model):
    """A private note moderators keep about a member."""

    __tablename__ = "moderator_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[Member | None] = relationship(foreign_keys=[author_id], lazy="raise_on_sql")
