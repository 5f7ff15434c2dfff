"""The SLA clock of a ticket: targets per priority in business time, paused while waiting on the customer."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from knowledge.tickets.business_hours import BusinessCalendar
from knowledge.tickets.models import SlaPolicy, SupportHoliday, Ticket, TicketStatus
from portal.db import db

# Business minutes (first response, resolution) when no policy row overrides them; a day is 9 hours.
DEFAULT_TARGETS = {
    "urgent": (60, 4 * 60),
    "high": (4 * 60, 2 * 9 * 60),
    "normal": (9 * 60, 5 * 9 * 60),
    "low": (2 * 9 * 60, 10 * 9 * 60),
}
SLA_STATES = ("breached", "at_risk", "ok", "paused")


def calendar() -> BusinessCalendar:
    """The configured week and time zone, with the holidays stored by admins."""
    holidays = set(db.session.scalars(sa.select(SupportHoliday.day)))
    return BusinessCalendar.from_text(current_app.config["SUPPORT_WEEK"], current_app.config["TIMEZONE"], holidays)


def targets(priority: str) -> tuple[int, int]:
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.priority == priority))
    if policy is not None:
        return policy.first_response_minutes, policy.resolution_minutes
    return DEFAULT_TARGETS.get(priority, DEFAULT_TARGETS["normal"])


def recompute(ticket: Ticket, cal: BusinessCalendar | None = None) -> None:
    """Sets the due times from the creation time, the priority's targets and the time spent paused."""
    cal = cal or calendar()
    first, resolution = targets(ticket.priority)
    paused = timedelta(seconds=ticket.sla_paused_seconds or 0)
    ticket.first_response_due_at = cal.add(ticket.created_at, timedelta(minutes=first) + paused)
    ticket.resolution_due_at = cal.add(ticket.created_at, timedelta(minutes=resolution) + paused)
    refresh_next_due(ticket)


def refresh_next_due(ticket: Ticket) -> None:
    """``sla_due_at`` is the next deadline that matters (the inbox sorts on it); none while paused or done."""
    if not ticket.is_active or ticket.sla_paused_at is not None:
        ticket.sla_due_at = None
    elif ticket.first_response_at is None:
        ticket.sla_due_at = ticket.first_response_due_at
    else:
        ticket.sla_due_at = ticket.resolution_due_at


def pause(ticket: Ticket, now: datetime) -> None:
    if ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    refresh_next_due(ticket)


def resume(ticket: Ticket, now: datetime, cal: BusinessCalendar | None = None) -> None:
    """Ends a pause: the business time it lasted is added to both targets."""
    cal = cal or calendar()
    if ticket.sla_paused_at is not None:
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(
            cal.between(ticket.sla_paused_at, now).total_seconds()
        )
        ticket.sla_paused_at = None
    recompute(ticket, cal)


def state(ticket: Ticket, now: datetime) -> str | None:
    """breached, at_risk (within the warning window), ok or paused; None for finished tickets."""
    if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return "breached" if ticket.is_breached else None
    if ticket.is_breached or (ticket.sla_due_at is not None and ticket.sla_due_at <= now):
        return "breached"
    if ticket.sla_paused_at is not None:
        return "paused"
    warning = timedelta(minutes=current_app.config["SUPPORT_SLA_WARNING_MINUTES"])
    if ticket.sla_due_at is not None and ticket.sla_due_at - now <= warning:
        return "at_risk"
    return "ok"
