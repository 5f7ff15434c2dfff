"""Who may do what at the help desk; pure predicates of the actor and the ticket."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from knowledge.tickets.models import Ticket, TicketStatus

STAFF_ROLES = ("agent", "admin")


def _authenticated(actor: Any) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False))


def is_desk_staff(actor: Any) -> bool:
    return _authenticated(actor) and actor.role in STAFF_ROLES


def is_admin(actor: Any) -> bool:
    return _authenticated(actor) and actor.role == "admin"


def can_open_desk_ticket(
    actor: Any, ticket: Ticket, team_ids: Collection[int], private_team_ids: Collection[int]
) -> bool:
    """Agents see every ticket except those of a private team they are not in; admins see all."""
    if is_admin(actor):
        return True
    if not is_desk_staff(actor):
        return False
    return ticket.team_id is None or ticket.team_id not in private_team_ids or ticket.team_id in team_ids


def is_owner(actor: Any, ticket: Ticket) -> bool:
    return _authenticated(actor) and ticket.member_id is not None and ticket.member_id == actor.id


def can_customer_reply(ticket: Ticket) -> bool:
    return ticket.status != TicketStatus.CLOSED and ticket.merged_into_id is None


def can_rate(ticket: Ticket) -> bool:
    return ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and ticket.rating is None


def can_manage_desk(actor: Any) -> bool:
    """Teams, SLA policies and holidays are admin matters."""
    return is_admin(actor)
