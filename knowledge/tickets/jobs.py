"""Periodic help-desk work: SLA warnings and breaches, and closing resolved tickets after the reopen window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from knowledge.tickets import live, queries
from knowledge.tickets.models import TicketStatus
from knowledge.tickets.services import record
from portal import jobs
from portal.db import db, utcnow
from portal.notifications.services import notify


def sweep_sla() -> dict[str, int]:
    """Warns the assignee of tickets nearing their deadline (once) and marks missed deadlines.

    The caller commits. Returns how many tickets were warned and marked breached.
    """
    now = utcnow()
    warning = timedelta(minutes=current_app.config["SUPPORT_SLA_WARNING_MINUTES"])
    warned = breached = 0
    for ticket in queries.tickets_for_sla_check(now, warning):
        url = f"/desk/t/{ticket.tracking_code}"
        if ticket.sla_due_at <= now:
            missed_first = ticket.first_response_at is None
            if missed_first and not ticket.first_response_breached:
                ticket.first_response_breached = True
            elif not missed_first and not ticket.resolution_breached:
                ticket.resolution_breached = True
            else:
                continue
            record(ticket, None, "sla_breached", target="first_response" if missed_first else "resolution")
            if ticket.assignee_id:
                notify(ticket.assignee_id, "ticket.sla_breached", {"code": ticket.tracking_code}, url=url)
            live.push_after_commit(ticket, "sla_breached")
            breached += 1
        elif ticket.sla_warned_at is None or ticket.sla_warned_at < ticket.sla_due_at - warning:
            # One warning per deadline: a later deadline (after a pause or the first response) warns again.
            ticket.sla_warned_at = now
            record(ticket, None, "sla_warning")
            if ticket.assignee_id:
                notify(ticket.assignee_id, "ticket.sla_warning", {"code": ticket.tracking_code}, url=url)
            warned += 1
    return {"warned": warned, "breached": breached}


def close_resolved() -> int:
    """Resolved tickets whose reopen window has passed become closed; the caller commits."""
    now = utcnow()
    cutoff = now - timedelta(days=current_app.config["SUPPORT_REOPEN_DAYS"])
    closed = 0
    for ticket in queries.resolved_before(cutoff):
        ticket.status = TicketStatus.CLOSED.value
        ticket.closed_at = now
        record(ticket, None, "auto_closed")
        closed += 1
    return closed


@jobs.job
def check_sla() -> dict[str, Any]:
    """The periodic SLA sweep (every 5 minutes): warnings before breaches, breaches marked."""
    result = sweep_sla()
    db.session.commit()
    return result


@jobs.job
def close_resolved_tickets() -> int:
    """The periodic close (hourly): resolved tickets past the reopen window are closed."""
    closed = close_resolved()
    db.session.commit()
    return closed
