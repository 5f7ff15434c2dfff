"""The ticket endpoints of the integration API: open a ticket, read its status and public thread.

Both answer API keys with ``tickets:write`` (a shop or CRM acting for its customers), a
logged-in browser session (for its own member; agents for the tickets they may see) and
anonymous callers: a guest opens a ticket with an email and reads it with the tracking code
plus that email. A wrong code, a malformed code and a wrong email get one and the same 404,
and anonymous and session callers are held to the tracking form's rate limit.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from knowledge.tickets import policies, queries, services
from knowledge.tickets.codes import normalise_code
from knowledge.tickets.models import KINDS, Ticket
from portal.api import toolkit as api
from portal.db import db
from portal.extensions import limiter

SCOPES = ("tickets:write",)
LANGUAGES = ("fa", "en")


class TicketNotFound(api.NotFound):
    code = "ticket_not_found"

    def default_message(self) -> Any:
        return _l("We found no ticket with that tracking code and email.")


TICKET_INPUT = api.Object(
    "TicketInput",
    {
        "kind": api.String(enum=tuple(KINDS), description="support, complaint or suggestion."),
        "subject": api.String(min_length=3, max_length=200),
        "body": api.String(min_length=1, max_length=services.MAX_BODY, description="The customer's message."),
        "email": api.String(
            max_length=254,
            description="The guest's email: required unless the ticket is a member's (`member`, or a session). "
            "The tracking code is mailed to it.",
        ),
        "name": api.String(max_length=80, nullable=True, description="The guest's name, for replies."),
        "language": api.String(enum=LANGUAGES, description="The language of the mails; the member's by default."),
        "member": api.MemberRef(
            description="Only with an API key: open the ticket for this member (id or `ext:<external_id>`)."
        ),
        "idempotency_key": api.String(
            min_length=1,
            max_length=100,
            description="With an API key or a session: the same key again answers 200 with the first ticket "
            "(whatever else the body says) and opens nothing.",
        ),
    },
    required=("kind", "subject", "body"),
)
ATTACHMENT = api.Object(
    "TicketAttachmentInfo", {"filename": api.String(), "content_type": api.String()}, required=("filename",)
)
MESSAGE = api.Object(
    "TicketMessage",
    {
        "from": api.String(enum=("customer", "support")),
        "body": api.String(),
        "created_at": api.DateTime(),
        "attachments": api.Array(items=ATTACHMENT),
    },
    required=("from", "body", "created_at", "attachments"),
)
TICKET = api.Object(
    "Ticket",
    {
        "tracking_code": api.String(example="BG-7KX4-9QT2"),
        "kind": api.String(enum=tuple(KINDS)),
        "status": api.String(description="new, open, pending_customer, resolved or closed."),
        "priority": api.String(),
        "subject": api.String(),
        "created_at": api.DateTime(),
        "updated_at": api.DateTime(),
        "merged_into": api.String(nullable=True, description="The tracking code this ticket was merged into."),
        "rating": api.Integer(nullable=True, description="The customer's 1–5 rating, once given."),
        "messages": api.Array(items=MESSAGE, description="The public thread, oldest first; never internal notes."),
    },
    required=("tracking_code", "kind", "status", "priority", "subject", "created_at", "updated_at", "messages"),
    open=True,
)
CODE_PARAM = {"tracking_code": {"type": "string", "maxLength": 40, "description": "e.g. `BG-7KX4-9QT2`."}}
EMAIL_PARAM = api.QueryParam(
    "email",
    {"type": "string", "maxLength": 254},
    description="The customer's email: what an anonymous caller proves the ticket is theirs with.",
)


def _track_limit() -> str:
    return current_app.config["TICKET_TRACK_RATE_LIMIT"]


def _key_caller() -> bool:
    return api.caller().key is not None


# Keys have their own budget (the toolkit's); people (anonymous or session) get the tracking form's.
_people_limited = limiter.limit(_track_limit, exempt_when=_key_caller)


@api.endpoint(
    "POST",
    "/tickets",
    summary="Open a support ticket",
    description="Opens a ticket and mails its tracking code to the customer. With an API key (`tickets:write`), "
    "for a member (`member`) or a guest (`email`); a logged-in session opens it for its member; without "
    "either, `email` is required. Anonymous callers are rate-limited. With an `idempotency_key` (keys and "
    "sessions), a repeat answers 200 with the first ticket.",
    scopes=SCOPES,
    session=True,
    public=True,
    body=TICKET_INPUT,
    responses={201: TICKET, 200: TICKET},
    errors=(401, 403, 404),
    tags=("tickets",),
)
@_people_limited
def open_ticket(data: dict[str, Any]) -> Any:
    who = api.caller()
    actor: Any = None
    if data.get("member") is not None:
        if who.key is None:
            raise api.NotAllowed(_l("Only an API key may open a ticket for a member."), fields={"member": "key_only"})
        actor = api.resolve_member(data["member"])
    elif who.member is not None:
        actor = who.member
    scoped = _scoped_idempotency_key(data.get("idempotency_key"))
    if scoped is not None:
        first = _ticket_with_key(scoped)
        if first is not None:
            return api.created_or_existing(queries.public_view(first), created=False)
    try:
        ticket = services.open_ticket(
            actor=actor,
            kind=data["kind"],
            subject=data["subject"],
            body=data["body"],
            email=data.get("email"),
            name=data.get("name"),
            language=data.get("language"),
            idempotency_key=scoped,
        )
        db.session.commit()
    except IntegrityError:
        # The same key from a concurrent request won the race: answer its ticket.
        db.session.rollback()
        first = _ticket_with_key(scoped) if scoped is not None else None
        if first is None:
            raise
        return api.created_or_existing(queries.public_view(first), created=False)
    return api.created_or_existing(queries.public_view(ticket), created=True)


def _scoped_idempotency_key(key: str | None) -> str | None:
    """The client's key, scoped to the caller, so that two callers' keys never meet."""
    if key is None:
        return None
    who = api.caller()
    if who.key is not None:
        return f"key:{who.key.id}:{key}"
    if who.member is not None:
        return f"member:{who.member.id}:{key}"
    # An anonymous key would let whoever guesses it read the ticket it opened.
    raise api.NotAllowed(
        _l("Only an API key or a logged-in member may send an idempotency key."), fields={"idempotency_key": "key_only"}
    )


def _ticket_with_key(scoped: str) -> Ticket | None:
    return db.session.scalar(sa.select(Ticket).where(Ticket.api_idempotency_key == scoped))


def _may_read(ticket: Ticket, email: str | None) -> bool:
    who = api.caller()
    if who.key is not None:
        return True
    if who.member is not None:
        member = current_user
        if policies.is_owner(member, ticket):
            return True
        if policies.is_desk_staff(member) and policies.can_open_desk_ticket(
            member, ticket, queries.team_ids_of(member.id), queries.private_team_ids()
        ):
            return True
    return services.find_for_guest(ticket.tracking_code, email) is not None


@api.endpoint(
    "GET",
    "/tickets/<tracking_code>",
    summary="A ticket's status and public thread",
    description="For an API key (`tickets:write`), the ticket's member or an agent who may see it (session), or "
    "anyone with the tracking code and the customer's `email`. An unknown or malformed code and a wrong email "
    "get the same 404 (`ticket_not_found`); anonymous callers are rate-limited.",
    scopes=SCOPES,
    session=True,
    public=True,
    responses={200: TICKET},
    query=(EMAIL_PARAM,),
    path_params=CODE_PARAM,
    errors=(401, 403, 404),
    tags=("tickets",),
)
@_people_limited
def get_ticket(tracking_code: str) -> Any:
    canonical = normalise_code(tracking_code)
    ticket = queries.ticket_by_code(canonical) if canonical else None
    email = request.args.get("email", "")[:254]
    if ticket is None or not _may_read(ticket, email):
        raise TicketNotFound()
    return queries.public_view(ticket)
