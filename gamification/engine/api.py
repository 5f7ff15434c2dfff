"""The engine's integration API (API.md): events (one and batches), a member's ledger, the leaderboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from gamification.engine import catalog, queries, services
from portal.api import toolkit as api
from portal.db import KeysetPage, db
from portal.errors import DomainError, ValidationFailed

MAX_BATCH = services.MAX_BATCH

# The service names fields as its keyword arguments; the API answers with the body's names.
_FIELD_NAMES = {"member_id": "member", "event_type": "type"}

EVENT = api.Object(
    "EventInput",
    {
        "member": api.MemberRef(description="The member's id, or `ext:<external_id>`."),
        "type": api.String(
            min_length=1,
            max_length=60,
            description="The event type, e.g. `purchase.recorded`; unknown types are refused (422).",
            example="purchase.recorded",
        ),
        "amount": api.Integer(
            minimum=0,
            maximum=catalog.MAX_AMOUNT,
            nullable=True,
            description="Money in the smallest unit (rials); required for purchases.",
        ),
        "idempotency_key": api.String(
            min_length=1,
            max_length=services.MAX_KEY_LENGTH,
            description="The same key again answers 200 with the first result and awards nothing.",
        ),
        "occurred_at": api.DateTime(
            nullable=True, description="When it happened (ISO 8601 with offset); from 2000 to tomorrow."
        ),
        "attributes": api.Attributes(
            max_properties=services.MAX_ATTRIBUTES,
            nullable=True,
            description="Simple values; `reference` (or `order_id`) names the purchase or item (text of at most "
            "100 characters, or a whole number), and is required for refunds and removals; `category_id` and "
            "`actor_id`, when given, are positive whole numbers.",
        ),
    },
    required=("member", "type"),
)
AWARD = api.Object("Award", {"rule": api.String(), "points": api.Integer()}, required=("rule", "points"))
EVENT_RESULT = api.Object(
    "EventResult",
    {
        "event_id": api.String(),
        "awarded": api.Array(items=AWARD),
        "points": api.Integer(description="The member's spendable points after the event."),
        "tier": api.String(nullable=True, description="The member's tier code after the event."),
    },
    required=("event_id", "awarded", "points", "tier"),
)


class _EventList(api.Array):
    """The batch's list: its length is checked with the body (over the limit, nothing is written);
    each event is checked on its own, so one bad event is refused in its result alone."""

    def _validate(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise api.Invalid("wrong_type", "must be a list")
        if len(value) < self.min_items:
            raise api.Invalid("too_short", f"must have at least {self.min_items} items")
        if self.max_items is not None and len(value) > self.max_items:
            raise api.Invalid("too_long", f"must have at most {self.max_items} items")
        return value


EVENT_BATCH = api.Object(
    "EventBatch",
    {"events": _EventList(items=EVENT, min_items=1, max_items=MAX_BATCH)},
    required=("events",),
)
EVENT_BATCH_RESULT = api.Object(
    "EventBatchResult",
    {"results": api.Array(items=api.batch_item_schema(EVENT_RESULT), description="One per event, in order.")},
    required=("results",),
)

SOURCE = api.Object("EntrySource", {"kind": api.String(), "id": api.String()}, required=("kind", "id"), nullable=True)
LEDGER_ENTRY = api.Object(
    "LedgerEntry",
    {
        "id": api.Integer(),
        "kind": api.String(enum=("earn", "spend", "expire", "reverse", "adjust")),
        "status": api.String(description="`available`, or `pending` during a purchase's return window."),
        "amount": api.Integer(description="Spendable points added (negative: taken)."),
        "qualifying": api.Integer(description="Qualifying points added (negative: taken)."),
        "balance_after": api.Integer(),
        "reason": api.String(nullable=True, description="Why: the rule's name or the adjustment's reason."),
        "rule": api.String(nullable=True, description="The rule's code."),
        "event_type": api.String(nullable=True),
        "source": SOURCE,
        "created_at": api.DateTime(),
        "expires_at": api.DateTime(nullable=True),
    },
    required=("id", "amount", "balance_after", "reason", "event_type", "source", "created_at", "expires_at"),
)
LEDGER_PAGE = api.page_schema("LedgerPage", LEDGER_ENTRY)

RANKED_MEMBER = api.Object(
    "RankedMember",
    {"id": api.Integer(), "external_id": api.String(nullable=True), "name": api.String()},
    required=("id", "external_id", "name"),
)
LEADERBOARD_ROW = api.Object(
    "LeaderboardRow",
    {
        "rank": api.Integer(minimum=1),
        "member": RANKED_MEMBER,
        "points": api.Integer(description="Points earned in the period."),
        "tier": api.String(nullable=True),
    },
    required=("rank", "member", "points", "tier"),
)
LEADERBOARD_PAGE = api.page_schema("LeaderboardPage", LEADERBOARD_ROW)
MEMBER_REF_PARAM = {
    "ref": {"type": "string", "maxLength": 110, "description": "The member's id, or `ext:<external_id>`."}
}


# --- events ------------------------------------------------------------------------------------------------


def _renamed(exc: DomainError) -> DomainError:
    """The service's error with the body's field names (``member``, ``type``)."""
    exc.fields = {_FIELD_NAMES.get(name, name): reason for name, reason in exc.fields.items()}
    return exc


def _event_result(recorded: services.RecordedEvent) -> dict[str, Any]:
    return {
        "event_id": recorded.event_id,
        "awarded": [{"rule": rule, "points": points} for rule, points in recorded.awarded],
        "points": recorded.points,
        "tier": recorded.tier,
    }


# Attributes the engine and the other subscribers read as ids: whole numbers a database column holds.
_ID_ATTRIBUTES = ("category_id", "actor_id")
_REFERENCE_ATTRIBUTES = ("reference", "order_id")
MAX_REFERENCE_LENGTH = 100
EARLIEST = datetime(2000, 1, 2)


def _is_db_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= api.MAX_DB_ID


def _check(data: dict[str, Any]) -> None:
    """What the body's shape cannot say: a known type, and attributes that name ids or the source."""
    if not services.is_known_type(data["type"]):
        raise ValidationFailed(_l("This event type is not known."), fields={"type": "unknown"})
    occurred_at = data.get("occurred_at")
    # Compared without the offset (a day's margin covers any): converting year 1 to UTC overflows.
    if occurred_at is not None and occurred_at.replace(tzinfo=None) < EARLIEST:
        raise ValidationFailed(_l("The time is too long ago."), fields={"occurred_at": "too_old"})
    attributes = data.get("attributes") or {}
    for name in _ID_ATTRIBUTES:
        if attributes.get(name) is not None and not _is_db_id(attributes[name]):
            raise ValidationFailed(
                _l("%(name)s must be a positive whole number.", name=name), fields={f"attributes.{name}": "invalid"}
            )
    for name in _REFERENCE_ATTRIBUTES:
        value = attributes.get(name)
        if value is None or _is_db_id(value):
            continue
        if not isinstance(value, str) or len(value) > MAX_REFERENCE_LENGTH:
            raise ValidationFailed(
                _l("The reference must be text of at most %(n)s characters.", n=MAX_REFERENCE_LENGTH),
                fields={f"attributes.{name}": "invalid"},
            )


def _service_item(data: dict[str, Any], member_id: int) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "event_type": data["type"],
        "amount": data.get("amount"),
        "idempotency_key": data.get("idempotency_key"),
        "occurred_at": data.get("occurred_at"),
        "attributes": data.get("attributes"),
    }


@api.endpoint(
    "POST",
    "/events",
    summary="Record one event",
    description="Pays the member by the rules for this event type. 201 with the awards; the same "
    "`idempotency_key` again answers 200 with the first result and awards nothing.",
    scopes=("events:write",),
    body=EVENT,
    responses={201: EVENT_RESULT, 200: EVENT_RESULT},
    errors=(404, 409),
    tags=("events",),
)
def record_event(data: dict[str, Any]) -> Any:
    member_id = api.resolve_member_id(data["member"])
    _check(data)
    try:
        recorded = services.record_event(**_service_item(data, member_id))
    except DomainError as exc:
        db.session.rollback()
        raise _renamed(exc) from exc
    db.session.commit()
    return api.created_or_existing(_event_result(recorded), created=recorded.created)


@api.endpoint(
    "POST",
    "/events/batch",
    summary="Record up to 1,000 events",
    description="Each event is processed as by `POST /events` and answered in `results` (same order) with "
    "its own status: 201 recorded, 200 an idempotent repeat, or its error (404 unknown member, 422 invalid). "
    "More than 1,000 events: 422 and nothing is recorded.",
    scopes=("events:write",),
    body=EVENT_BATCH,
    responses={200: EVENT_BATCH_RESULT},
    tags=("events",),
)
def record_events(data: dict[str, Any]) -> Any:
    raw_events: list[Any] = data["events"]
    outcomes: list[Any] = [None] * len(raw_events)
    checked: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(raw_events):
        cleaned, errors = EVENT.validate_fields(raw)
        if errors:
            outcomes[index] = ValidationFailed(_l("Some fields are not valid."), fields=errors)
            continue
        try:
            _check(cleaned)
        except ValidationFailed as exc:
            outcomes[index] = exc
        else:
            checked.append((index, cleaned))
    members = api.resolve_member_ids(item["member"] for _, item in checked)
    items: list[tuple[int, dict[str, Any]]] = []
    for index, item in checked:
        member_id = members.get(item["member"])
        if member_id is None:
            outcomes[index] = api.MemberNotFound(fields={"member": "unknown"})
        else:
            items.append((index, _service_item(item, member_id)))
    if items:
        # The members were resolved just above (members are disabled, never deleted, and a
        # foreign key stands behind this). Badges and period totals are settled by a job after the
        # commit, outside this batch's locks on its members. Concurrent batches on SQLite wait for
        # each other (``write_lock``) instead of colliding, once the items are checked, so another
        # worker's batch is parsed and checked while this one writes.
        recorded = services.record_events(
            [item for _, item in items], members_known=True, settle_later=True, write_lock=True
        )
        for (index, _), outcome in zip(items, recorded, strict=True):
            outcomes[index] = _renamed(outcome) if isinstance(outcome, DomainError) else outcome
    db.session.commit()
    return {"results": [api.batch_result(i, outcome, _event_result) for i, outcome in enumerate(outcomes)]}


# --- a member's ledger ---------------------------------------------------------------------------------------


def _ledger_entry(line: queries.LedgerLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "kind": line.kind,
        "status": line.status,
        "amount": line.amount,
        "qualifying": line.qualifying,
        "balance_after": line.balance_after,
        "reason": line.reason or line.rule_name or line.rule_code,
        "rule": line.rule_code,
        "event_type": line.event_type,
        "source": {"kind": line.source[0], "id": line.source[1]} if line.source else None,
        "created_at": line.created_at.isoformat(),
        "expires_at": line.expires_at.isoformat() if line.expires_at else None,
    }


@api.endpoint(
    "GET",
    "/members/<ref>/ledger",
    summary="A member's point entries, newest first",
    scopes=("members:read",),
    session=True,
    responses={200: LEDGER_PAGE},
    paginated=True,
    path_params=MEMBER_REF_PARAM,
    tags=("members",),
)
def member_ledger(ref: str) -> Any:
    limit, cursor = api.page_params()
    member = api.resolve_member(ref)
    api.caller().require_acting_for(member.id)

    def fetch() -> Any:
        lines, next_cursor = queries.ledger_page(member.id, limit=limit, cursor=cursor)
        return KeysetPage(lines, next_cursor)

    return api.page_response(fetch, _ledger_entry)


# --- the leaderboard -------------------------------------------------------------------------------------------


def _ranked(row: queries.LeaderboardRow) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "member": {"id": row.member_id, "external_id": row.external_id, "name": row.name},
        "points": row.points,
        "tier": row.tier,
    }


@api.endpoint(
    "GET",
    "/leaderboard",
    summary="The members ranked by points earned in a period",
    description="`period` is all time, this (Persian) month or this week (from Saturday); `category_id` ranks "
    "the points earned in one forum category.",
    scopes=("members:read",),
    session=True,
    responses={200: LEADERBOARD_PAGE},
    query=(
        api.QueryParam("period", {"type": "string", "enum": list(queries.PERIODS), "default": "all"}),
        api.QueryParam(
            "category_id",
            {"type": "integer", "minimum": 1, "maximum": api.MAX_DB_ID},
            "Only points earned in this forum category.",
        ),
    ),
    paginated=True,
    tags=("leaderboard",),
)
def leaderboard() -> Any:
    period = api.query_choice("period", queries.PERIODS, "all")
    category_id = api.query_int("category_id", default=None)
    limit, cursor = api.page_params()
    return api.page_response(
        lambda: queries.leaderboard_page(period, limit=limit, cursor=cursor, category_id=category_id), _ranked
    )
