"""The engine's writers: the domain-event subscriber, external events (single and batch), adjustments."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError

from gamification.engine import catalog, kinds, ledger, pipeline, referrals  # noqa: F401 - kinds registers notification kinds
from gamification.engine.models import FEEDS, RULE_FIELDS, Badge, Balance, Rule, Tier
from gamification.engine.pipeline import Incoming
from portal import bulk
from portal.accounts.models import Member
from portal.bulk import one_of
from portal.db import begin_writing, db, utcnow
from portal.errors import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed
from portal.events import EXTERNAL_SOURCE_PREFIX, Event, Routes, bus, emit, new_event_id

MAX_BATCH = 1000
MAX_KEY_LENGTH = 150
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_TEXT = 500

# Events this process already paid for before publishing them on the bus (external events).
_handled: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("engine_handled", default=frozenset())


@dataclass(frozen=True)
class RecordedEvent:
    """What recording one event did: the awards, and the member's points and tier after it."""

    event_id: str
    awarded: list[tuple[str, int]]
    created: bool
    points: int
    tier: str | None


# --- the subscriber -------------------------------------------------------------------------------


def on_event(event: Event) -> None:
    """Subscribed to every domain event ("*"), in the emitting transaction: pays per matching rules."""
    if event.type in catalog.OWN_TYPES or event.member_id is None or event.id in _handled.get():
        return
    referrals.on_event(event)
    if event.type == "profile.updated":
        _completion_reached(event)
        return
    if not is_known_type(event.type):
        return
    attributes = dict(event.attributes)
    amount = attributes.get("amount")
    source = (str(event.source[0]), str(event.source[1])) if event.source else None
    pipeline.process(
        [
            Incoming(
                event_id=event.id,
                type=event.type,
                member_id=event.member_id,
                amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
                source=source,
                attributes=attributes,
                occurred_at=event.occurred_at,
            )
        ]
    )


def _completion_reached(event: Event) -> None:
    """Profile completion pays once at the configured level (accounts itself emits at 100%)."""
    level = int(current_app.config["PROFILE_COMPLETION_LEVEL"])
    after, before = event.attributes.get("completion") or 0, event.attributes.get("previous") or 0
    if level < 100 and after >= level > before:
        emit(
            "profile.completed",
            member_id=event.member_id,
            source=("profile", event.member_id),
            attributes={"completion": after},
        )


def is_known_type(event_type: str) -> bool:
    if event_type in catalog.EVENT_TYPES:
        return True
    if event_type.endswith((".removed", ".restored")):
        prefix = event_type.rsplit(".", 1)[0] + "."
        return any(known.startswith(prefix) for known in catalog.EVENT_TYPES)
    return False


# --- external events ------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(item: Any, event_id: str) -> Incoming:
    """Checks one external event; raises a ValidationFailed naming the field."""
    if not isinstance(item, dict):
        raise ValidationFailed(_l("Each event must be an object."), fields={"event": "invalid"})
    member_id = item.get("member_id")
    if not _is_int(member_id) or member_id <= 0:
        raise ValidationFailed(
            _l("The member must be given by a positive whole number."), fields={"member_id": "invalid"}
        )
    event_type = item.get("event_type")
    if not isinstance(event_type, str) or not is_known_type(event_type):
        raise ValidationFailed(_l("This event type is not known."), fields={"event_type": "unknown"})
    amount = item.get("amount")
    if amount is not None:
        if not _is_int(amount):
            raise ValidationFailed(_l("The amount must be a whole number."), fields={"amount": "invalid"})
        if amount < 0:
            raise ValidationFailed(_l("The amount cannot be negative."), fields={"amount": "negative"})
        if amount > catalog.MAX_AMOUNT:
            raise ValidationFailed(_l("The amount is too large."), fields={"amount": "too_large"})
    elif event_type == "purchase.recorded":
        raise ValidationFailed(_l("A purchase needs an amount."), fields={"amount": "required"})
    key = item.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH):
        raise ValidationFailed(
            _l("The idempotency key must be text of at most %(n)s characters.", n=MAX_KEY_LENGTH),
            fields={"idempotency_key": "invalid"},
        )
    occurred_at = item.get("occurred_at")
    if occurred_at is not None:
        if not isinstance(occurred_at, datetime) or occurred_at.tzinfo is None:
            raise ValidationFailed(_l("The time must include its UTC offset."), fields={"occurred_at": "invalid"})
        if occurred_at > utcnow() + timedelta(days=1):
            raise ValidationFailed(_l("The time is in the future."), fields={"occurred_at": "future"})
        occurred_at = occurred_at.astimezone(UTC)
    attributes = item.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict) or len(attributes) > MAX_ATTRIBUTES:
        raise ValidationFailed(
            _l("The attributes must be an object of simple values."), fields={"attributes": "invalid"}
        )
    for name, value in attributes.items():
        if not isinstance(name, str) or not (value is None or isinstance(value, (str, int, float, bool))):
            raise ValidationFailed(
                _l("The attributes must be an object of simple values."), fields={f"attributes.{name}": "invalid"}
            )
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_TEXT:
            raise ValidationFailed(_l("An attribute is too long."), fields={f"attributes.{name}": "too_long"})
    actor = attributes.get("actor_id")
    if actor is not None and not _is_int(actor):
        raise ValidationFailed(_l("The actor must be a member id."), fields={"attributes.actor_id": "invalid"})
    reference = attributes.get("reference", attributes.get("order_id"))
    if reference is not None and not isinstance(reference, (str, int)):
        raise ValidationFailed(_l("The reference must be text."), fields={"attributes.reference": "invalid"})
    if (event_type in catalog.REVERSING_TYPES or event_type.endswith(".removed")) and reference in (None, ""):
        raise ValidationFailed(
            _l("Say which purchase or item this refers to."), fields={"attributes.reference": "required"}
        )
    # The outside system's own reference, kept apart from the portal's ids (its post 12 is not ours).
    prefix = EXTERNAL_SOURCE_PREFIX + event_type.split(".", 1)[0]
    source = (prefix, str(reference) if reference not in (None, "") else event_id)
    return Incoming(
        event_id=event_id,
        type=event_type,
        member_id=member_id,
        amount=amount,
        source=source,
        attributes=dict(attributes),
        occurred_at=occurred_at,
        idempotency_key=key.strip() if isinstance(key, str) else None,
    )


def record_event(
    *,
    member_id: int,
    event_type: str,
    amount: int | None = None,
    idempotency_key: str | None = None,
    occurred_at: datetime | None = None,
    attributes: dict[str, Any] | None = None,
) -> RecordedEvent:
    """Records one external event and pays for it; the same idempotency key pays once."""
    result = record_events(
        [
            {
                "member_id": member_id,
                "event_type": event_type,
                "amount": amount,
                "idempotency_key": idempotency_key,
                "occurred_at": occurred_at,
                "attributes": attributes,
            }
        ]
    )[0]
    if isinstance(result, DomainError):
        raise result
    return result


def record_events(
    items: list[dict[str, Any]], *, members_known: bool = False, settle_later: bool = False, write_lock: bool = False
) -> list[RecordedEvent | DomainError]:
    """The batch path: each item is validated and processed as by :func:`record_event`; a bad item
    becomes its DomainError in the result list and does not spoil the others.

    ``members_known``: the caller has just looked the members up (the API
    resolves its member references), so they are not looked up a second time. ``settle_later``:
    badges and period totals are settled by a job after the caller commits (see :func:`pipeline.process`).
    ``write_lock``: the batch takes SQLite's write lock (``begin_writing``) once its items are
    validated, just before it writes, so another worker validates its batch meanwhile."""
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        raise ValidationFailed(_l("Send at most %(n)s events at once.", n=MAX_BATCH), fields={"events": "too_many"})
    results: list[RecordedEvent | DomainError | None] = [None] * len(items)
    valid: list[tuple[int, Incoming]] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, _validate(item, new_event_id())))
        except DomainError as exc:
            results[index] = exc
    if valid and not members_known:
        known = set(
            db.session.scalars(sa.select(Member.id).where(one_of(Member.id, {it.member_id for _, it in valid})))
        )
        unknown = [(i, it) for i, it in valid if it.member_id not in known]
        for i, _ in unknown:
            results[i] = NotFound(_l("There is no member with this id."), fields={"member_id": "unknown"})
        valid = [(i, it) for i, it in valid if it.member_id in known]
    if valid:
        if write_lock:
            begin_writing(db.session)
        token = _handled.set(_handled.get() | {it.event_id for _, it in valid})
        try:
            outcomes = _process_guarded([it for _, it in valid], settle_later=settle_later)
        finally:
            _handled.reset(token)
        standing = {
            member_id: (points, tier)
            for member_id, points, tier in bulk.tuples(
                sa.select(Balance.member_id, Balance.spendable, Balance.tier_code).where(
                    one_of(Balance.member_id, {it.member_id for _, it in valid})
                )
            )
        }
        for (index, item), outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                results[index] = outcome
                continue
            if isinstance(outcome.refused, DomainError):
                results[index] = outcome.refused
                continue
            points, tier = standing.get(item.member_id, (0, None))
            results[index] = RecordedEvent(
                event_id=outcome.event_id,
                awarded=outcome.awarded,
                created=outcome.created,
                points=points,
                tier=tier,
            )
    return results  # type: ignore[return-value]


def _others_listen(event_type: str, known: dict[str, bool]) -> bool:
    if event_type not in known:
        known[event_type] = any(handler is not on_event for handler in bus.listeners(event_type, external=True))
    return known[event_type]


def _admit(fresh: list[Incoming]) -> dict[str, Exception]:
    """External events enter the same bus as domain events, for every other subscriber, before
    anything is paid: moderation's gates may refuse one (a used-up allowance, a suspension), which
    then pays nothing and comes back as that item's error."""
    refused: dict[str, Exception] = {}
    listening: dict[str, bool] = {}
    # In member order (each member's events keep theirs): gates lock per-member rows (moderation's
    # trust row), and concurrent batches that take them in one order cannot deadlock.
    ordered = sorted((it for it in fresh if _others_listen(it.type, listening)), key=lambda it: it.member_id)
    _publish_all(ordered, refused, {})
    return refused


def _publish_all(items: list[Incoming], refused: dict[str, Exception], routes: Routes) -> None:
    """Publishes the events in one savepoint. When a subscriber refuses one, the savepoint is rolled
    back (with the after-commit work queued inside it), the events before it are published again in
    their own savepoint, and the rest go on after it: one savepoint per refusal, not per event."""
    start = 0
    while start < len(items):
        queued = _queued_work()
        failed = start
        try:
            with db.session.begin_nested():
                for failed in range(start, len(items)):
                    _publish(items[failed], routes)
            return
        except DomainError as exc:
            _drop_work_since(queued)
            refused[items[failed].event_id] = exc
            if failed > start:
                _publish_all(items[start:failed], refused, routes)
            start = failed + 1


def _publish(item: Incoming, routes: Routes) -> None:
    bus.publish(
        Event(
            type=item.type,
            member_id=item.member_id,
            source=item.source,
            attributes=item.attributes,
            occurred_at=item.occurred_at or utcnow(),
            id=item.event_id,
        ),
        routes=routes,
    )


def _queued_work() -> dict[Any, int | None]:
    """What the session holds for after the commit (lists of jobs and events), to undo a savepoint's share."""
    return {key: len(value) if isinstance(value, list) else None for key, value in db.session.info.items()}


def _drop_work_since(queued: dict[Any, int | None]) -> None:
    info = db.session.info
    for key in [key for key in info if key not in queued]:
        del info[key]
    for key, length in queued.items():
        if length is not None and isinstance(info.get(key), list):
            del info[key][length:]


def _process_guarded(items: list[Incoming], *, settle_later: bool = False) -> list[pipeline.Outcome | DomainError]:
    """The whole batch in one savepoint; if the database refuses it (a race on a key), item by item.
    A rolled-back attempt takes the after-commit work it queued with it."""
    queued = _queued_work()
    try:
        with db.session.begin_nested():
            return list(pipeline.process(items, admit=_admit, settle_later=settle_later))
    except (IntegrityError, OperationalError):
        _drop_work_since(queued)
    outcomes: list[pipeline.Outcome | DomainError] = []
    for item in items:
        queued = _queued_work()
        try:
            with db.session.begin_nested():
                outcomes.append(pipeline.process([item], admit=_admit, settle_later=settle_later)[0])
        except (IntegrityError, OperationalError):
            _drop_work_since(queued)
            outcomes.append(
                Conflict(_l("This event collided with another one; send it again."), fields={"event": "retry"})
            )
    return outcomes


# --- admin actions ----------------------------------------------------------------------------------


def adjust_points(*, actor: Member, member_id: int, points: int, reason: str) -> int:
    """A manual adjustment with a required reason, audited; returns the balance after it."""
    if not actor.has_role("admin"):
        raise NotAllowed()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why the points change."), fields={"reason": "required"})
    if not _is_int(points) or points == 0 or abs(points) > catalog.MAX_POINTS:
        raise ValidationFailed(_l("Enter a whole number of points other than zero."), fields={"points": "invalid"})
    if db.session.get(Member, member_id) is None:
        raise NotFound(_l("There is no member with this id."), fields={"member_id": "unknown"})
    balance = ledger.lock_balance(member_id)
    if points < 0 and balance.spendable + points < 0:
        raise Conflict(_l("The member has only %(n)s points.", n=balance.spendable), fields={"points": "too_many"})
    entry_id, after = ledger.adjust(member_id, points, reason=reason, actor_id=actor.id)
    emit(
        "points.adjusted",
        member_id=member_id,
        source=("point_entry", entry_id),
        attributes={"points": points, "balance": after, "reason": reason},
    )
    emit(
        "audit.logged",
        member_id=actor.id,
        source=("member", member_id),
        attributes={
            "action": "engine.adjust_points",
            "before": {"points": balance.spendable},
            "after": {"points": after},
            "reason": reason,
        },
    )
    return after


# --- rules, tiers and badges (admin) -----------------------------------------------------------------


def local_midnight(day: date | None) -> datetime | None:
    """A date typed in the club's time zone, as the UTC moment it starts."""
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(current_app.config["TIMEZONE"])).astimezone(UTC)


def draft_rule(data: dict[str, Any]) -> Rule:
    """An unsaved rule from form data (for the preview and the simulator); never added to the session."""
    values = {key: data.get(key) for key in RULE_FIELDS}
    for key in ("starts_at", "ends_at"):
        if isinstance(values[key], date) and not isinstance(values[key], datetime):
            values[key] = local_midnight(values[key])
    for key in ("cond_city", "cond_job_title", "cond_tier", "cond_attribute", "cond_attribute_value"):
        values[key] = (values[key] or "").strip() or None
    values["cond_organisation_id"] = values["cond_organisation_id"] or None
    values["feeds"] = values["feeds"] if values["feeds"] in FEEDS else "both"
    values["points"] = values["points"] or 0
    return Rule(**values)


def save_rule(*, actor: Member, rule: Rule | None, data: dict[str, Any]) -> Rule:
    """Creates or changes a rule; points already given are never touched (the ledger keeps them)."""
    if not actor.has_role("admin"):
        raise NotAllowed()
    draft = draft_rule(data)
    if draft.event_type not in catalog.EVENT_TYPES:
        raise ValidationFailed(_l("This event type is not known."), fields={"event_type": "unknown"})
    if not draft.points:
        raise ValidationFailed(_l("A rule must give or take some points."), fields={"points": "required"})
    if draft.starts_at and draft.ends_at and draft.ends_at <= draft.starts_at:
        raise ValidationFailed(_l("The end must come after the start."), fields={"ends_at": "before_start"})
    taken = db.session.scalar(sa.select(Rule.id).where(Rule.code == draft.code))
    if taken is not None and (rule is None or taken != rule.id):
        raise Conflict(_l("Another rule already uses this code."), fields={"code": "taken"})
    before = {key: _plain(getattr(rule, key)) for key in RULE_FIELDS} if rule else {}
    if rule is None:
        rule = draft
        db.session.add(rule)
    else:
        for key in RULE_FIELDS:
            setattr(rule, key, getattr(draft, key))
    db.session.flush()
    emit(
        "audit.logged",
        member_id=actor.id,
        source=("point_rule", rule.id),
        attributes={
            "action": "engine.save_rule",
            "before": before,
            "after": {key: _plain(getattr(rule, key)) for key in RULE_FIELDS},
            "reason": "",
        },
    )
    return rule


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def update_tier(*, actor: Member, tier: Tier, data: dict[str, Any]) -> Tier:
    if not actor.has_role("admin"):
        raise NotAllowed()
    fields = ["name_fa", "name_en", "threshold", "multiplier_percent", "early_access", "benefits_fa", "benefits_en"]
    clash = db.session.scalar(sa.select(Tier.id).where(Tier.threshold == data["threshold"], Tier.id != tier.id))
    if clash is not None:
        raise Conflict(_l("Another tier already starts at this many points."), fields={"threshold": "taken"})
    before = {key: getattr(tier, key) for key in fields}
    for key in fields:
        setattr(tier, key, data.get(key))
    db.session.flush()
    emit(
        "audit.logged",
        member_id=actor.id,
        source=("tier", tier.id),
        attributes={
            "action": "engine.update_tier",
            "before": before,
            "after": {k: getattr(tier, k) for k in fields},
            "reason": "",
        },
    )
    return tier


def set_badge_active(*, actor: Member, badge: Badge, active: bool) -> None:
    if not actor.has_role("admin"):
        raise NotAllowed()
    before = badge.is_active
    badge.is_active = active
    emit(
        "audit.logged",
        member_id=actor.id,
        source=("badge", badge.id),
        attributes={
            "action": "engine.set_badge_active",
            "before": {"active": before},
            "after": {"active": active},
            "reason": "",
        },
    )
