"""The customer's side of the help desk: opening a ticket, replying, rating, and finding a guest's ticket."""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from knowledge.tickets import live, notices, policies, sla  # noqa: F401 - notices registers its kinds
from knowledge.tickets.codes import generate_code, normalise_code
from knowledge.tickets.models import (
    KINDS,
    SuggestionClick,
    SupportTeam,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketMessage,
    TicketStatus,
    team_members,
)
from knowledge.tickets.tokens import make_link_token
from portal import media
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, ValidationFailed
from portal.events import emit
from portal.mail import external_url, send_mail
from portal.notifications.services import notify

Upload = tuple[str, IO[bytes] | bytes]  # (the sender's file name, its bytes or stream)

MAX_ATTACHMENTS = 5
MAX_BODY = 20_000
# Private: under media's ``private/`` folder, so ``/media/`` never serves them; only the
# ticket's access-checked attachment route does.
TICKET_IMAGES = media.ImageSpec("tickets", {"display": (1600, 1600), "thumb": (320, 320)}, private=True)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
CLOSED_MESSAGE = _l(
    "This ticket is closed and cannot be replied to. Please open a new ticket; you may mention %(code)s."
)


class TicketClosed(Conflict):
    code = "ticket_closed"


# --- small helpers ---------------------------------------------------------------------------------


def record(ticket: Ticket, actor_id: int | None, action: str, **data: Any) -> None:
    """One line on the ticket's timeline."""
    db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=actor_id, action=action, data=data))


def new_tracking_code() -> str:
    while True:
        code = generate_code()
        if not db.session.scalar(sa.select(Ticket.id).where(Ticket.tracking_code == code)):
            return code


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def check_body(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_l("Please write a message."), fields={"body": "required"})
    if len(body) > MAX_BODY:
        raise ValidationFailed(_l("The message is too long."), fields={"body": "too_long"})
    return body


def _safe_filename(name: str | None, fallback: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f\"<>]", "", base)
    return base[:200] or fallback


def read_uploads(uploads: Iterable[Upload]) -> list[tuple[str, bytes]]:
    """Reads and checks every upload before anything is stored, so that a bad file stores none."""
    prepared: list[tuple[str, bytes]] = []
    for name, stream in uploads:
        data = media.read_upload(stream)
        if not media.looks_like_image(data) and media.sniff_file_type(data) is None:
            raise media.InvalidFile(
                _l(
                    "“%(name)s” is not a file type we accept (images, PDF, plain text or ZIP), whatever its name says.",
                    name=_safe_filename(name, "?"),
                ),
                fields={"attachments": "type"},
            )
        prepared.append((name, data))
    if len(prepared) > MAX_ATTACHMENTS:
        raise ValidationFailed(_l("Attach at most %(n)s files.", n=MAX_ATTACHMENTS), fields={"attachments": "too_many"})
    return prepared


def store_attachments(ticket: Ticket, message: TicketMessage, prepared: Sequence[tuple[str, bytes]]) -> None:
    for index, (name, data) in enumerate(prepared, start=1):
        if media.looks_like_image(data):
            image = media.store_image(data, TICKET_IMAGES)
            key = image.variants["display"]
            content_type = "image/png" if key.endswith(".png") else "image/jpeg"
            size = (media.uploads_root() / key).stat().st_size
            is_image = True
        else:
            stored = media.store_file(data, "tickets", private=True)
            key, content_type, size, is_image = stored.key, stored.file_type.content_type, stored.size, False
        db.session.add(
            TicketAttachment(
                ticket_id=ticket.id,
                message_id=message.id,
                filename=_safe_filename(name, f"attachment-{index}"),
                content_type=content_type,
                size=size,
                storage_key=key,
                is_image=is_image,
            )
        )


def customer_email(ticket: Ticket) -> str | None:
    if ticket.guest_email:
        return ticket.guest_email
    if ticket.member_id:
        return db.session.scalar(sa.select(Member.email).where(Member.id == ticket.member_id))
    return None


def customer_name(ticket: Ticket) -> str:
    if ticket.member_id:
        name = db.session.scalar(sa.select(Member.display_name).where(Member.id == ticket.member_id))
        if name:
            return name
    return ticket.guest_name or (ticket.guest_email or "").split("@")[0]


def customer_link(ticket: Ticket) -> str:
    """Where the customer follows the ticket: their account page, or a signed link for guests."""
    if ticket.member_id:
        return external_url("tickets.show", code=ticket.tracking_code)
    token = make_link_token("access", ticket.id, ticket.guest_email or "")
    return external_url("tickets.follow_link", code=ticket.tracking_code, token=token)


def rating_link(ticket: Ticket) -> str:
    if ticket.member_id:
        return external_url("tickets.rate", code=ticket.tracking_code)
    token = make_link_token("rate", ticket.id, ticket.guest_email or "")
    return external_url("tickets.rate_link", code=ticket.tracking_code, token=token)


def mail_customer(ticket: Ticket, template: str, subject: Any, **context: Any) -> None:
    """A mail in the ticket's language, leaving after commit; it never carries internal notes."""
    to = customer_email(ticket)
    if not to:
        return
    with force_locale(ticket.language or current_app.config["DEFAULT_LANGUAGE"]):
        text = render_template(
            f"knowledge/tickets/email/{template}.txt",
            ticket=ticket,
            name=customer_name(ticket),
            link=customer_link(ticket),
            **context,
        )
        send_mail(to, f"{current_app.config['SITE_NAME']} [{ticket.tracking_code}]: {subject}", text)


def tell_customer(ticket: Ticket, kind: str, template: str, subject: Any, **context: Any) -> None:
    """Members get an in-app notification; guests, who have no account, get mail."""
    if ticket.member_id:
        url = f"/support/t/{ticket.tracking_code}"
        if kind == "ticket.resolved":
            url += "/rate"
        notify(ticket.member_id, kind, {"code": ticket.tracking_code, "status": ticket.status}, url=url)
    else:
        mail_customer(ticket, template, subject, **context)


# --- routing to teams -------------------------------------------------------------------------------


def next_round_robin_agent(team: SupportTeam) -> int | None:
    """The team's next agent after the last one given a ticket (by id, wrapping round)."""
    candidates = list(
        db.session.scalars(
            sa.select(Member.id)
            .join(team_members, team_members.c.member_id == Member.id)
            .where(
                team_members.c.team_id == team.id,
                Member.role.in_(policies.STAFF_ROLES),
                Member.is_disabled.is_(False),
            )
            .order_by(Member.id)
        )
    )
    if not candidates:
        return None
    after = [member_id for member_id in candidates if member_id > (team.last_assigned_id or 0)]
    chosen = after[0] if after else candidates[0]
    team.last_assigned_id = chosen
    return chosen


def route_new_ticket(ticket: Ticket) -> None:
    """The first team that receives the ticket's kind gets it; a round-robin team picks an agent too."""
    for team in db.session.scalars(sa.select(SupportTeam).order_by(SupportTeam.id).with_for_update()):
        if team.handles(ticket.kind):
            ticket.team_id = team.id
            if team.round_robin:
                ticket.assignee_id = next_round_robin_agent(team)
                if ticket.assignee_id:
                    record(ticket, None, "assigned", assignee_id=ticket.assignee_id, team_id=team.id, auto=True)
                    notify(
                        ticket.assignee_id,
                        "ticket.assigned",
                        {"code": ticket.tracking_code},
                        url=f"/desk/t/{ticket.tracking_code}",
                    )
            return


# --- the customer's actions -------------------------------------------------------------------------


def open_ticket(
    *,
    actor: Any,
    kind: str,
    subject: str,
    body: str,
    email: str | None = None,
    name: str | None = None,
    language: str | None = None,
    uploads: Iterable[Upload] = (),
    suggestion_tokens: Iterable[str] = (),
    idempotency_key: str | None = None,
) -> Ticket:
    """Opens a ticket for a member (``actor``) or a guest (``email``); mails its tracking code.

    Suggested KB articles opened in the same session (``suggestion_tokens``) stop counting
    as deflections, since a ticket followed them. ``idempotency_key`` (already scoped to its
    caller) is unique: a second ticket with it fails to flush (``IntegrityError``).
    """
    member = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if kind not in KINDS:
        raise ValidationFailed(_l("Choose what kind of ticket this is."), fields={"kind": "unknown"})
    subject = (subject or "").strip()
    if len(subject) < 3 or len(subject) > 200:
        raise ValidationFailed(_l("Write a subject of 3 to 200 characters."), fields={"subject": "length"})
    body = check_body(body)
    guest_email = None
    if member is None:
        guest_email = normalise_email(email)
        if not _EMAIL.match(guest_email) or len(guest_email) > 254:
            raise ValidationFailed(
                _l("Enter your email address, so that you can follow the ticket."), fields={"email": "invalid"}
            )
    prepared = read_uploads(uploads)
    languages = current_app.config["LANGUAGES"]
    now = utcnow()
    ticket = Ticket(
        tracking_code=new_tracking_code(),
        kind=kind,
        subject=subject,
        status=TicketStatus.NEW.value,
        priority="high" if kind == "complaint" else "normal",
        member_id=member.id if member else None,
        guest_email=guest_email,
        guest_name=((name or "").strip()[:80] or None) if member is None else None,
        language=language if language in languages else (getattr(member, "language", None) or languages[0]),
        created_at=now,
        last_activity_at=now,
        api_idempotency_key=idempotency_key,
    )
    db.session.add(ticket)
    db.session.flush()
    message = TicketMessage(ticket_id=ticket.id, author_id=ticket.member_id, from_customer=True, body=body)
    db.session.add(message)
    db.session.flush()
    store_attachments(ticket, message, prepared)
    sla.recompute(ticket)
    record(ticket, ticket.member_id, "created", kind=kind)
    route_new_ticket(ticket)
    tokens = [t for t in suggestion_tokens if t]
    if tokens:
        db.session.execute(
            sa.update(SuggestionClick)
            .where(SuggestionClick.token.in_(tokens), SuggestionClick.ticket_id.is_(None))
            .values(ticket_id=ticket.id)
        )
    emit(
        "ticket.created",
        member_id=ticket.member_id,
        source=("ticket", ticket.id),
        attributes={
            "tracking_code": ticket.tracking_code,
            "kind": kind,
            "priority": ticket.priority,
            "guest": member is None,
        },
    )
    mail_customer(ticket, "created", _l("We received your ticket"))
    live.push_after_commit(ticket, "created")
    return ticket


def within_reopen_window(ticket: Ticket) -> bool:
    days = current_app.config["SUPPORT_REOPEN_DAYS"]
    return ticket.resolved_at is not None and utcnow() - ticket.resolved_at <= timedelta(days=days)


def add_customer_reply(*, ticket: Ticket, actor: Any, body: str, uploads: Iterable[Upload] = ()) -> TicketMessage:
    """The customer writes again: a ticket waiting on them runs again; a recently resolved one reopens."""
    if ticket.merged_into_id is not None:
        raise Conflict(_l("This ticket was merged into another one; please reply there."))
    if ticket.status == TicketStatus.CLOSED or (
        ticket.status == TicketStatus.RESOLVED and not within_reopen_window(ticket)
    ):
        raise TicketClosed(CLOSED_MESSAGE % {"code": ticket.tracking_code})
    body = check_body(body)
    prepared = read_uploads(uploads)
    now = utcnow()
    author_id = ticket.member_id if ticket.member_id else None
    message = TicketMessage(ticket_id=ticket.id, author_id=author_id, from_customer=True, body=body)
    db.session.add(message)
    db.session.flush()
    store_attachments(ticket, message, prepared)
    if ticket.status == TicketStatus.RESOLVED:
        ticket.status = TicketStatus.OPEN.value
        ticket.resolved_at = None
        record(ticket, author_id, "reopened")
        sla.recompute(ticket)
    elif ticket.status == TicketStatus.PENDING:
        ticket.status = TicketStatus.OPEN.value
        sla.resume(ticket, now)
    ticket.last_activity_at = now
    record(ticket, author_id, "customer_replied")
    if ticket.assignee_id:
        notify(
            ticket.assignee_id,
            "ticket.customer_replied",
            {"code": ticket.tracking_code},
            url=f"/desk/t/{ticket.tracking_code}",
        )
    live.push_after_commit(ticket, "customer_replied")
    return message


def rate_ticket(*, ticket: Ticket, rating: int, comment: str | None = None) -> None:
    """The customer's 1–5 rating, once; emits ``ticket.rated`` for the customer (who earns)."""
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise Conflict(_l("You can rate the support once the ticket is resolved."))
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed(_l("Choose a rating from 1 to 5."), fields={"rating": "range"})
    now = utcnow()
    result = db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.rating.is_(None))
        .values(rating=rating, rating_comment=(comment or "").strip()[:2000] or None, rated_at=now)
    )
    if result.rowcount != 1:
        raise Conflict(_l("This ticket has already been rated. Thank you!"))
    db.session.expire(ticket, ["rating", "rating_comment", "rated_at"])
    record(ticket, ticket.member_id, "rated", rating=rating)
    emit(
        "ticket.rated",
        member_id=ticket.member_id,
        source=("ticket_rating", ticket.id),
        attributes={"rating": rating, "agent_id": ticket.assignee_id, "kind": ticket.kind},
    )


def find_for_guest(code: str | None, email: str | None) -> Ticket | None:
    """The ticket with this code whose customer has this email; None for any mismatch (same answer)."""
    canonical = normalise_code(code)
    wanted = normalise_email(email)
    if canonical is None or not wanted:
        return None
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.tracking_code == canonical))
    if ticket is None:
        return None
    actual = customer_email(ticket) or ""
    return ticket if hmac.compare_digest(actual.encode(), wanted.encode()) else None


def record_suggestion_click(*, article_id: int, member_id: int | None, token: str) -> SuggestionClick:
    click = SuggestionClick(token=token, article_id=article_id, member_id=member_id)
    db.session.add(click)
    db.session.flush()
    return click
