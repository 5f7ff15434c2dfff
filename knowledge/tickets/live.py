"""Live desk updates over Socket.IO, sent only after the change has committed."""

from __future__ import annotations

from knowledge.tickets import queries
from knowledge.tickets.models import Ticket
from portal import events, jobs, realtime
from portal.db import db


def rooms_for(ticket: Ticket) -> list[str]:
    """Who watches a ticket: its assignee and its team's agents; everyone at the desk when it has neither."""
    members: set[int] = set()
    if ticket.assignee_id:
        members.add(ticket.assignee_id)
    if ticket.team_id:
        members.update(queries.team_member_ids(ticket.team_id))
    if not members:
        return [realtime.role_room("agent"), realtime.role_room("admin")]
    return [realtime.member_room(member_id) for member_id in sorted(members)]


@jobs.job
def push_ticket_update(ticket_id: int, what: str) -> None:
    """Tells the watching agents' open pages that a ticket changed (no message text travels)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return
    payload = {
        "code": ticket.tracking_code,
        "status": ticket.status,
        "what": what,
        "url": f"/desk/t/{ticket.tracking_code}",
    }
    for room in rooms_for(ticket):
        realtime.emit_to_room(room, "ticket.updated", payload)


def push_after_commit(ticket: Ticket, what: str) -> None:
    events.after_commit(push_ticket_update, ticket.id, what)
