"""Help desk tables: teams, tickets, their messages, attachments and timeline, SLA policies, canned replies."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Member
from portal.db import TimestampMixin, UTCDateTime, db, utcnow


class TicketKind(enum.StrEnum):
    SUPPORT = "support"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


class TicketStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


KINDS = [k.value for k in TicketKind]
STATUSES = [s.value for s in TicketStatus]
PRIORITIES = [p.value for p in Priority]
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
ACTIVE_STATUSES = (TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.PENDING.value)

team_members = sa.Table(
    "support_team_members",
    db.metadata,
    sa.Column("team_id", sa.ForeignKey("support_teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class SupportTeam(TimestampMixin, db.Model):
    """A group of agents; a private team's tickets are seen only by its members (and admins)."""

    __tablename__ = "support_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    is_private: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    round_robin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Comma-separated ticket kinds this team receives when a ticket is opened.
    kinds: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    last_assigned_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)

    members: Mapped[list[Member]] = relationship(secondary=team_members, lazy="raise_on_sql", order_by=Member.id)

    def handles(self, kind: str) -> bool:
        return kind in {k.strip() for k in self.kinds.split(",") if k.strip()}


class Ticket(TimestampMixin, db.Model):
    """A customer's request; owned by a member or by a guest's email address."""

    __tablename__ = "tickets"
    __table_args__ = (
        sa.Index("ix_tickets_inbox", "status", "sla_due_at", "id"),
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=TicketStatus.NEW.value, index=True)
    priority: Mapped[str] = mapped_column(sa.String(10), default=Priority.NORMAL.value, index=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    guest_email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    guest_name: Mapped[str | None] = mapped_column(sa.String(80))
    language: Mapped[str] = mapped_column(sa.String(5), default="fa")
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("support_teams.id", ondelete="SET NULL"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    # SLA: due times are absolute; while the ticket waits on the customer they are pushed on resume.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Business seconds spent waiting on the customer; due times are the targets plus this.
    sla_paused_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    sla_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_breached: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    resolution_breached: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    rating: Mapped[int | None] = mapped_column()
    rating_comment: Mapped[str | None] = mapped_column(sa.Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An integration's idempotency key, scoped to its caller ("key:<api key id>:<key>"), so a
    # retried POST /api/v1/tickets answers the first ticket instead of opening another.
    api_idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), index=True, unique=True)

    member: Mapped[Member | None] = relationship(foreign_keys=[member_id], lazy="raise_on_sql")
    assignee: Mapped[Member | None] = relationship(foreign_keys=[assignee_id], lazy="raise_on_sql")
    team: Mapped[SupportTeam | None] = relationship(lazy="raise_on_sql")
    merged_into: Mapped[Ticket | None] = relationship(remote_side=[id], lazy="raise_on_sql")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_breached(self) -> bool:
        return self.first_response_breached or self.resolution_breached


class TicketMessage(db.Model):
    """One entry of the thread: the customer's words, an agent's reply, or an internal note."""

    __tablename__ = "ticket_messages"
    __table_args__ = (sa.Index("ix_ticket_messages_thread", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    from_customer: Mapped[bool] = mapped_column(default=False)
    is_internal: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[Member | None] = relationship(lazy="raise_on_sql")
    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="message", lazy="raise_on_sql", order_by="TicketAttachment.id"
    )


class TicketAttachment(db.Model):
    """A file sent with a message: a re-encoded image or an allow-listed document, stored by key."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(sa.String(300))
    is_image: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    message: Mapped[TicketMessage] = relationship(back_populates="attachments", lazy="raise_on_sql")


class TicketEvent(db.Model):
    """The ticket's timeline: who changed what, and when (agents' actions and the system's)."""

    __tablename__ = "ticket_events"
    __table_args__ = (sa.Index("ix_ticket_events_timeline", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[Member | None] = relationship(lazy="raise_on_sql")


class SlaPolicy(db.Model):
    """Targets for one priority, in business minutes."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(sa.String(10), unique=True)
    first_response_minutes: Mapped[int] = mapped_column()
    resolution_minutes: Mapped[int] = mapped_column()


class SupportHoliday(db.Model):
    """A day the desk is closed; the SLA clock does not run on it."""

    __tablename__ = "support_holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")


class CannedReply(TimestampMixin, db.Model):
    """A reply agents reuse; ``{name}`` and ``{tracking_code}`` are filled in per ticket."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(120), unique=True)
    body: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)


class SuggestionClick(db.Model):
    """A KB article opened from the new-ticket suggestions; a deflection unless a ticket follows."""

    __tablename__ = "kb_suggestion_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    @property
    def deflected(self) -> bool:
        return self.ticket_id is None
