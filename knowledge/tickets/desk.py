"""The agents' side of the help desk: replies, notes, status, priority, assignment, merging, canned replies,
and the desk's settings (teams, SLA policies, holidays). Every change is on the ticket's timeline;
admins' actions are also audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from knowledge.kb import queries as kb_queries
from knowledge.tickets import live, policies, queries, sla
from knowledge.tickets.models import (
    KINDS,
    PRIORITIES,
    STATUSES,
    CannedReply,
    SlaPolicy,
    SupportHoliday,
    SupportTeam,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)
from knowledge.tickets.services import (
    CLOSED_MESSAGE,
    TicketClosed,
    Upload,
    check_body,
    customer_email,
    customer_name,
    next_round_robin_agent,
    rating_link,
    read_uploads,
    record,
    store_attachments,
    tell_customer,
)
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit
from portal.mail import external_url
from portal.notifications.services import notify


def require_access(actor: Any, ticket: Ticket) -> None:
    """Agents outside a private team get the same answer as for a ticket that does not exist."""
    if not policies.is_desk_staff(actor):
        raise NotAllowed()
    team_ids = queries.team_ids_of(actor.id) if actor.role != "admin" else set()
    if not policies.can_open_desk_ticket(actor, ticket, team_ids, queries.private_team_ids()):
        raise NotFound()


def _audit(actor: Any, source: tuple[str, int], action: str, before: dict, after: dict, reason: str = "") -> None:
    if policies.is_admin(actor):
        emit(
            "audit.logged",
            member_id=actor.id,
            source=source,
            attributes={"action": f"tickets.{action}", "before": before, "after": after, "reason": reason},
        )


def _not_merged(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        raise Conflict(_l("This ticket was merged into another one."))


def _kb_links(article_ids: Iterable[int]) -> str:
    links = kb_queries.article_links([int(i) for i in article_ids])
    if not links:
        return ""
    lines = [f"- [{link.title}]({external_url('kb.article', article_id=link.id)})" for link in links]
    return "\n\n" + "\n".join(lines)


def reply(
    *,
    actor: Any,
    ticket: Ticket,
    body: str,
    uploads: Iterable[Upload] = (),
    kb_article_ids: Iterable[int] = (),
    then_status: str | None = None,
) -> TicketMessage:
    """A public reply to the customer (with optional links to KB articles), then a status if given."""
    require_access(actor, ticket)
    _not_merged(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed(CLOSED_MESSAGE % {"code": ticket.tracking_code})
    body = check_body(body) + _kb_links(kb_article_ids)
    prepared = read_uploads(uploads)
    now = utcnow()
    message = TicketMessage(ticket_id=ticket.id, author_id=actor.id, from_customer=False, body=body)
    db.session.add(message)
    db.session.flush()
    store_attachments(ticket, message, prepared)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        if ticket.first_response_due_at and now > ticket.first_response_due_at:
            ticket.first_response_breached = True
        record(ticket, actor.id, "first_response")
    ticket.last_activity_at = now
    record(ticket, actor.id, "replied", message_id=message.id)
    # The reply's own notice first, so that a resolution's notice (with the rating link) comes last.
    tell_customer(ticket, "ticket.agent_replied", "reply", _l("New reply to your ticket"), reply=message)
    if then_status and then_status != ticket.status:
        change_status(actor=actor, ticket=ticket, status=then_status, quiet=then_status != "resolved")
    elif ticket.status == TicketStatus.NEW:
        change_status(actor=actor, ticket=ticket, status=TicketStatus.OPEN.value, quiet=True)
    else:
        sla.refresh_next_due(ticket)
    live.push_after_commit(ticket, "agent_replied")
    return message


def add_note(*, actor: Any, ticket: Ticket, body: str, uploads: Iterable[Upload] = ()) -> TicketMessage:
    """An internal note: for agents only, never shown or sent to the customer."""
    require_access(actor, ticket)
    body = check_body(body)
    prepared = read_uploads(uploads)
    message = TicketMessage(ticket_id=ticket.id, author_id=actor.id, from_customer=False, is_internal=True, body=body)
    db.session.add(message)
    db.session.flush()
    store_attachments(ticket, message, prepared)
    record(ticket, actor.id, "note_added", message_id=message.id)
    live.push_after_commit(ticket, "note_added")
    return message


def change_status(*, actor: Any, ticket: Ticket, status: str, quiet: bool = False) -> None:
    """Moves a ticket between statuses, keeping the SLA clock right (paused while waiting on the customer)."""
    require_access(actor, ticket)
    _not_merged(ticket)
    if status not in STATUSES:
        raise ValidationFailed(_l("Unknown status."), fields={"status": "unknown"})
    old = ticket.status
    if old == status:
        return
    now = utcnow()
    if old == TicketStatus.PENDING:
        sla.resume(ticket, now)
    ticket.status = status
    if status == TicketStatus.PENDING:
        sla.pause(ticket, now)
    elif status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
        if ticket.resolution_due_at and now > ticket.resolution_due_at:
            ticket.resolution_breached = True
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    sla.refresh_next_due(ticket)
    ticket.last_activity_at = now
    record(ticket, actor.id, "status_changed", old=old, new=status)
    _audit(actor, ("ticket", ticket.id), "status_changed", {"status": old}, {"status": status})
    if status == TicketStatus.RESOLVED:
        emit(
            "ticket.resolved",
            member_id=ticket.member_id,
            source=("ticket", ticket.id),
            attributes={"agent_id": ticket.assignee_id, "kind": ticket.kind, "priority": ticket.priority},
        )
        tell_customer(
            ticket, "ticket.resolved", "resolved", _l("Your ticket was resolved"), rate_link=rating_link(ticket)
        )
    elif not quiet:
        tell_customer(ticket, "ticket.status_changed", "status", _l("Your ticket's status changed"))
    live.push_after_commit(ticket, "status_changed")


def change_priority(*, actor: Any, ticket: Ticket, priority: str) -> None:
    require_access(actor, ticket)
    if priority not in PRIORITIES:
        raise ValidationFailed(_l("Unknown priority."), fields={"priority": "unknown"})
    old = ticket.priority
    if old == priority:
        return
    ticket.priority = priority
    sla.recompute(ticket)
    record(ticket, actor.id, "priority_changed", old=old, new=priority)
    _audit(actor, ("ticket", ticket.id), "priority_changed", {"priority": old}, {"priority": priority})
    live.push_after_commit(ticket, "priority_changed")


def assign(*, actor: Any, ticket: Ticket, assignee_id: int | None, team_id: int | None) -> None:
    """Gives the ticket to an agent and/or a team; a round-robin team without an agent named picks one."""
    require_access(actor, ticket)
    team = None
    if team_id is not None:
        team = db.session.get(SupportTeam, team_id)
        if team is None:
            raise ValidationFailed(_l("Unknown team."), fields={"team_id": "unknown"})
    if assignee_id is not None:
        assignee = db.session.get(Member, assignee_id)
        if assignee is None or not policies.is_desk_staff(assignee) or assignee.is_disabled:
            raise ValidationFailed(_l("Tickets can only be assigned to agents."), fields={"assignee_id": "not_agent"})
    elif team is not None and team.round_robin and team_id != ticket.team_id:
        assignee_id = next_round_robin_agent(team)
    before = {"assignee_id": ticket.assignee_id, "team_id": ticket.team_id}
    ticket.team_id = team_id
    ticket.assignee_id = assignee_id
    after = {"assignee_id": assignee_id, "team_id": team_id}
    if before == after:
        return
    record(ticket, actor.id, "assigned", **after)
    _audit(actor, ("ticket", ticket.id), "assigned", before, after)
    if assignee_id and assignee_id != actor.id and assignee_id != before["assignee_id"]:
        notify(assignee_id, "ticket.assigned", {"code": ticket.tracking_code}, url=f"/desk/t/{ticket.tracking_code}")
    live.push_after_commit(ticket, "assigned")


def merge(*, actor: Any, ticket: Ticket, into: Ticket) -> None:
    """Folds a duplicate into another ticket of the same customer: its messages move, it closes."""
    require_access(actor, ticket)
    require_access(actor, into)
    if ticket.id == into.id:
        raise ValidationFailed(_l("A ticket cannot be merged into itself."))
    if into.merged_into_id is not None or ticket.merged_into_id is not None:
        raise Conflict(_l("One of these tickets was already merged."))
    if customer_email(ticket) != customer_email(into):
        raise Conflict(_l("Only tickets of the same customer can be merged."))
    db.session.execute(sa.update(TicketMessage).where(TicketMessage.ticket_id == ticket.id).values(ticket_id=into.id))
    db.session.execute(
        sa.update(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id).values(ticket_id=into.id)
    )
    old_status = ticket.status
    ticket.merged_into_id = into.id
    ticket.status = TicketStatus.CLOSED.value
    ticket.closed_at = utcnow()
    sla.refresh_next_due(ticket)
    into.last_activity_at = utcnow()
    record(ticket, actor.id, "merged_into", code=into.tracking_code)
    record(into, actor.id, "merged_from", code=ticket.tracking_code)
    _audit(actor, ("ticket", ticket.id), "merged", {"status": old_status}, {"merged_into": into.tracking_code})
    live.push_after_commit(into, "merged")


# --- canned replies ---------------------------------------------------------------------------------


def create_canned(*, actor: Any, title: str, body: str) -> CannedReply:
    if not policies.is_desk_staff(actor):
        raise NotAllowed()
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_l("Please enter a title."), fields={"title": "required"})
    if db.session.scalar(sa.select(CannedReply.id).where(CannedReply.title == title)):
        raise Conflict(_l("A canned reply with this title already exists."), fields={"title": "taken"})
    canned = CannedReply(title=title, body=check_body(body), created_by_id=actor.id)
    db.session.add(canned)
    db.session.flush()
    return canned


def fill_canned(canned: CannedReply, ticket: Ticket) -> str:
    """The canned text with ``{name}`` and ``{tracking_code}`` filled in (no other braces are read)."""
    return canned.body.replace("{name}", customer_name(ticket)).replace("{tracking_code}", ticket.tracking_code)


# --- the desk's settings (admins) ----------------------------------------------------------------------


def save_team(
    *,
    actor: Any,
    name: str,
    is_private: bool,
    round_robin: bool,
    kinds: Iterable[str],
    member_ids: Iterable[int],
    team: SupportTeam | None = None,
) -> SupportTeam:
    if not policies.can_manage_desk(actor):
        raise NotAllowed()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Please enter a name."), fields={"name": "required"})
    clash = db.session.scalar(sa.select(SupportTeam.id).where(SupportTeam.name == name))
    if clash and (team is None or clash != team.id):
        raise Conflict(_l("A team with this name already exists."), fields={"name": "taken"})
    kinds = [k for k in kinds if k in KINDS]
    ids = sorted({int(i) for i in member_ids})
    members = list(db.session.scalars(sa.select(Member).where(Member.id.in_(ids)))) if ids else []
    if any(not policies.is_desk_staff(m) for m in members):
        raise ValidationFailed(_l("Only agents and admins can be in a team."), fields={"member_ids": "not_agent"})
    before: dict[str, Any] = {}
    if team is None:
        team = SupportTeam(name=name)
        db.session.add(team)
    else:
        db.session.refresh(team, ["members"])  # the collection is lazy="raise_on_sql"; load it to replace it
        before = {"name": team.name, "is_private": team.is_private, "round_robin": team.round_robin}
    team.name = name
    team.is_private = bool(is_private)
    team.round_robin = bool(round_robin)
    team.kinds = ",".join(kinds)
    team.members = members
    db.session.flush()
    after = {"name": name, "is_private": team.is_private, "round_robin": team.round_robin, "members": ids}
    _audit(actor, ("support_team", team.id), "team_saved", before, after)
    return team


def set_sla_policy(*, actor: Any, priority: str, first_response_minutes: int, resolution_minutes: int) -> SlaPolicy:
    """Targets for new tickets of a priority (tickets already open keep theirs until their priority changes)."""
    if not policies.can_manage_desk(actor):
        raise NotAllowed()
    if priority not in PRIORITIES:
        raise ValidationFailed(_l("Unknown priority."), fields={"priority": "unknown"})
    if not (0 < first_response_minutes <= resolution_minutes):
        raise ValidationFailed(
            _l("The first response must be due before (or when) the resolution is."), fields={"minutes": "order"}
        )
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.priority == priority))
    before = sla.targets(priority)
    if policy is None:
        policy = SlaPolicy(priority=priority)
        db.session.add(policy)
    policy.first_response_minutes = first_response_minutes
    policy.resolution_minutes = resolution_minutes
    db.session.flush()
    _audit(
        actor,
        ("sla_policy", policy.id),
        "sla_policy_set",
        {"first_response": before[0], "resolution": before[1]},
        {"first_response": first_response_minutes, "resolution": resolution_minutes},
    )
    return policy


def add_holiday(*, actor: Any, day: date, name: str) -> SupportHoliday:
    if not policies.can_manage_desk(actor):
        raise NotAllowed()
    if db.session.scalar(sa.select(SupportHoliday.id).where(SupportHoliday.day == day)):
        raise Conflict(_l("That day is already a holiday."), fields={"day": "taken"})
    holiday = SupportHoliday(day=day, name=(name or "").strip()[:120])
    db.session.add(holiday)
    db.session.flush()
    _audit(actor, ("support_holiday", holiday.id), "holiday_added", {}, {"day": day.isoformat(), "name": holiday.name})
    return holiday
