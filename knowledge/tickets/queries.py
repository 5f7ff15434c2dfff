"""Read-only selects of the help desk: tickets by code, threads, timelines, the inbox and its counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from knowledge.tickets.models import (
    ACTIVE_STATUSES,
    CannedReply,
    SuggestionClick,
    SupportTeam,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketMessage,
    team_members,
)
from portal.accounts.models import Member
from portal.db import db

INBOX_LIMIT = 100


def ticket_by_code(code: str | None) -> Ticket | None:
    if not code:
        return None
    return db.session.scalar(
        sa.select(Ticket)
        .options(joinedload(Ticket.member), joinedload(Ticket.assignee), joinedload(Ticket.team))
        .where(Ticket.tracking_code == code)
    )


def code_of(ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    return db.session.scalar(sa.select(Ticket.tracking_code).where(Ticket.id == ticket_id))


def thread(ticket_id: int, *, include_internal: bool) -> list[TicketMessage]:
    """The messages of a ticket, oldest first; internal notes only when asked (agents)."""
    stmt = (
        sa.select(TicketMessage)
        .options(joinedload(TicketMessage.author), selectinload(TicketMessage.attachments))
        .where(TicketMessage.ticket_id == ticket_id)
        .order_by(TicketMessage.id)
    )
    if not include_internal:
        stmt = stmt.where(TicketMessage.is_internal.is_(False))
    return list(db.session.scalars(stmt))


def timeline(ticket_id: int) -> list[TicketEvent]:
    return list(
        db.session.scalars(
            sa.select(TicketEvent)
            .options(joinedload(TicketEvent.actor))
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.id)
        )
    )


def attachment(attachment_id: int) -> tuple[TicketAttachment, Ticket, bool] | None:
    """An attachment, its ticket and whether it belongs to an internal note."""
    row = db.session.execute(
        sa.select(TicketAttachment, Ticket, TicketMessage.is_internal)
        .join(Ticket, Ticket.id == TicketAttachment.ticket_id)
        .join(TicketMessage, TicketMessage.id == TicketAttachment.message_id)
        .where(TicketAttachment.id == attachment_id)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def member_tickets(member_id: int, limit: int = 100) -> list[Ticket]:
    return list(
        db.session.scalars(
            sa.select(Ticket)
            .where(Ticket.member_id == member_id)
            .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
    )


def team_ids_of(member_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(team_members.c.team_id).where(team_members.c.member_id == member_id)))


def private_team_ids() -> set[int]:
    return set(db.session.scalars(sa.select(SupportTeam.id).where(SupportTeam.is_private.is_(True))))


def team_member_ids(team_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(team_members.c.member_id)
            .where(team_members.c.team_id == team_id)
            .order_by(team_members.c.member_id)
        )
    )


def teams() -> list[SupportTeam]:
    return list(
        db.session.scalars(sa.select(SupportTeam).options(selectinload(SupportTeam.members)).order_by(SupportTeam.name))
    )


def agents() -> list[Member]:
    return list(
        db.session.scalars(
            sa.select(Member)
            .where(Member.role.in_(("agent", "admin")), Member.is_disabled.is_(False))
            .order_by(Member.display_name)
        )
    )


def canned_replies() -> list[CannedReply]:
    return list(db.session.scalars(sa.select(CannedReply).order_by(CannedReply.title)))


def deflection_count(since: datetime | None = None) -> int:
    """Suggested articles opened without a ticket following in the same session."""
    stmt = sa.select(sa.func.count()).select_from(SuggestionClick).where(SuggestionClick.ticket_id.is_(None))
    if since is not None:
        stmt = stmt.where(SuggestionClick.created_at >= since)
    return db.session.scalar(stmt) or 0


# --- the agent's inbox ---------------------------------------------------------------------------


@dataclass
class InboxFilters:
    """What the inbox is narrowed to; empty values mean "any". ``status`` "active" means not finished."""

    status: str = "active"
    kind: str = ""
    priority: str = ""
    assignee: str = ""  # "", "me", "none" or a member id
    team: str = ""  # "", "none" or a team id
    sla: str = ""  # "", breached, at_risk, ok, paused
    q: str = ""


@dataclass
class Inbox:
    tickets: list[Ticket]
    status_counts: dict[str, int] = field(default_factory=dict)
    sla_counts: dict[str, int] = field(default_factory=dict)
    total: int = 0


def visibility(actor: Member) -> sa.ColumnElement[bool]:
    """Tickets an actor may open at the desk: admins all; agents all but other private teams'."""
    if actor.role == "admin":
        return sa.true()
    own_teams = sa.select(team_members.c.team_id).where(team_members.c.member_id == actor.id)
    private = sa.select(SupportTeam.id).where(SupportTeam.is_private.is_(True))
    return sa.or_(Ticket.team_id.is_(None), Ticket.team_id.not_in(private), Ticket.team_id.in_(own_teams))


def _sla_condition(state: str, now: datetime, warning: timedelta) -> sa.ColumnElement[bool]:
    active = Ticket.status.in_(ACTIVE_STATUSES)
    breached = sa.or_(
        Ticket.first_response_breached.is_(True),
        Ticket.resolution_breached.is_(True),
        Ticket.sla_due_at <= now,
    )
    if state == "breached":
        return sa.and_(active, breached)
    if state == "paused":
        return sa.and_(active, Ticket.sla_paused_at.is_not(None), sa.not_(breached))
    if state == "at_risk":
        return sa.and_(active, sa.not_(breached), Ticket.sla_due_at <= now + warning)
    if state == "ok":
        return sa.and_(active, sa.not_(breached), Ticket.sla_paused_at.is_(None), Ticket.sla_due_at > now + warning)
    return sa.true()


def inbox(actor: Member, filters: InboxFilters, now: datetime, warning: timedelta) -> Inbox:
    """The tickets the actor may see, filtered, most urgent first, with counts per status and SLA state."""
    visible = visibility(actor)
    conditions: list[sa.ColumnElement[bool]] = [visible, Ticket.merged_into_id.is_(None)]
    if filters.status == "active":
        conditions.append(Ticket.status.in_(ACTIVE_STATUSES))
    elif filters.status:
        conditions.append(Ticket.status == filters.status)
    if filters.kind:
        conditions.append(Ticket.kind == filters.kind)
    if filters.priority:
        conditions.append(Ticket.priority == filters.priority)
    if filters.assignee == "me":
        conditions.append(Ticket.assignee_id == actor.id)
    elif filters.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        conditions.append(Ticket.assignee_id == int(filters.assignee))
    if filters.team == "none":
        conditions.append(Ticket.team_id.is_(None))
    elif filters.team.isdigit():
        conditions.append(Ticket.team_id == int(filters.team))
    if filters.sla:
        conditions.append(_sla_condition(filters.sla, now, warning))
    if filters.q.strip():
        pattern = f"%{filters.q.strip().lower()}%"
        conditions.append(
            sa.or_(sa.func.lower(Ticket.subject).like(pattern), Ticket.tracking_code == filters.q.strip().upper())
        )
    rank = sa.case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Ticket.priority, else_=4)
    finished = sa.case((Ticket.status.in_(ACTIVE_STATUSES), 0), else_=1)
    no_due = sa.case((Ticket.sla_due_at.is_(None), 1), else_=0)
    tickets = list(
        db.session.scalars(
            sa.select(Ticket)
            .options(joinedload(Ticket.assignee), joinedload(Ticket.team), joinedload(Ticket.member))
            .where(*conditions)
            .order_by(finished, no_due, Ticket.sla_due_at, rank, Ticket.id)
            .limit(INBOX_LIMIT)
        )
    )
    status_counts = dict(
        db.session.execute(
            sa.select(Ticket.status, sa.func.count())
            .where(visible, Ticket.merged_into_id.is_(None))
            .group_by(Ticket.status)
        ).all()
    )
    sla_counts = {
        state: db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Ticket)
            .where(visible, Ticket.merged_into_id.is_(None), _sla_condition(state, now, warning))
        )
        or 0
        for state in ("breached", "at_risk")
    }
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(*conditions)) or 0
    return Inbox(tickets, status_counts, sla_counts, total)


def tickets_for_sla_check(now: datetime, warning: timedelta) -> list[Ticket]:
    """Active, running tickets whose next deadline is within the warning window or past."""
    return list(
        db.session.scalars(
            sa.select(Ticket)
            .where(
                Ticket.status.in_(ACTIVE_STATUSES),
                Ticket.sla_paused_at.is_(None),
                Ticket.sla_due_at.is_not(None),
                Ticket.sla_due_at <= now + warning,
            )
            .order_by(Ticket.sla_due_at)
        )
    )


def resolved_before(cutoff: datetime) -> list[Ticket]:
    return list(db.session.scalars(sa.select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff)))


def public_view(ticket: Ticket) -> dict:
    """What the customer may know of a ticket (status and the public thread), as JSON-ready data.

    The integration API's ``GET /api/v1/tickets/{tracking_code}`` returns this; internal notes
    and agents' names never appear in it.
    """
    return {
        "tracking_code": ticket.tracking_code,
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.last_activity_at.isoformat(),
        "merged_into": code_of(ticket.merged_into_id),
        "rating": ticket.rating,
        "messages": [
            {
                "from": "customer" if message.from_customer else "support",
                "body": message.body,
                "created_at": message.created_at.isoformat(),
                "attachments": [{"filename": a.filename, "content_type": a.content_type} for a in message.attachments],
            }
            for message in thread(ticket.id, include_internal=False)
        ],
    }
