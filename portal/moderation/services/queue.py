"""The review queue: opening items (flags, holds, held sign-ups) and resolving them through the adapters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import events, jobs, realtime
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.i18n import format_local
from portal.moderation import policies, registry
from portal.moderation.models import Flag, QueueItem, QueueState
from portal.moderation.notices import ACTION_NAMES, request_notification
from portal.moderation.services import audit, trust

# Why an item is in the queue; packages may use their own reasons, shown as they are.
REASON_LABELS = {
    "flagged": _l("Flagged by members"),
    "held_new": _l("A new member's post"),
    "held_links": _l("Too many links"),
    "held_words": _l("Filtered words"),
    "signup": _l("Sign-up to confirm"),
    "held": _l("Held for review"),
}
ACTIONS = ("approve", "hide", "restore", "edit", "delete", "lock", "pin", "move", "merge")
RESULT_STATES = {
    "approve": QueueState.APPROVED,
    "hide": QueueState.HIDDEN,
    "restore": QueueState.RESTORED,
    "edit": QueueState.EDITED,
    "delete": QueueState.DELETED,
}
# Flaggers were right when the content was taken down or changed.
AGREEING_ACTIONS = {"hide", "delete", "edit"}
# Script, frames, event handlers and script URLs: an edit carrying them is refused, not silently cleaned.
_UNSAFE = re.compile(r"<\s*/?\s*(script|iframe|object|embed|style|svg|math)\b|\bon[a-z]+\s*=|javascript\s*:", re.I)


class AlreadyResolved(Conflict):
    """Another moderator resolved the item first; the message says who did what, and when."""

    code = "already_resolved"

    def __init__(self, item: QueueItem) -> None:
        who = db.session.scalar(sa.select(Member.display_name).where(Member.id == item.resolved_by_id))
        super().__init__(
            _l(
                "This item was already resolved by %(who)s (%(action)s, %(when)s). Nothing was changed.",
                who=who or _l("the system"),
                action=str(_STATE_NAMES.get(item.state, item.state)),
                when=format_local(item.resolved_at),
            )
        )
        self.item = item


_STATE_NAMES = {
    QueueState.APPROVED: _l("approved"),
    QueueState.HIDDEN: _l("hidden"),
    QueueState.RESTORED: _l("restored"),
    QueueState.EDITED: _l("edited"),
    QueueState.DELETED: _l("deleted"),
    QueueState.ACTED: _l("topic action"),
}


_reinstating: ContextVar[bool] = ContextVar("moderation_reinstating", default=False)


@contextmanager
def reinstating() -> Iterator[None]:
    """While a moderator brings content back: its creation event is not a new post (see the gate)."""
    token = _reinstating.set(True)
    try:
        yield
    finally:
        _reinstating.reset(token)


def is_reinstating() -> bool:
    return _reinstating.get()


def pending_count() -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(QueueItem).where(QueueItem.state == QueueState.PENDING)
        )
        or 0
    )


@jobs.job
def push_queue_count() -> None:
    """Tells every moderator's and admin's open pages the new queue count (runs after commit)."""
    count = pending_count()
    for role in policies.STAFF_ROLES:
        realtime.emit_to_room(realtime.role_room(role), "moderation.queue", {"count": count})


def _queue_changed() -> None:
    events.after_commit(push_queue_count)


def open_item(
    *, kind: str, object_id: int, reason: str, author_id: int | None = None, note: str | None = None
) -> QueueItem:
    """Puts an object in the queue, or returns the item already open for it (one open item per object)."""
    key = f"{kind}:{object_id}"
    item = db.session.scalar(sa.select(QueueItem).where(QueueItem.open_key == key))
    if item is not None:
        return item
    try:
        with db.session.begin_nested():
            item = QueueItem(
                kind=kind,
                object_id=int(object_id),
                reason=reason[:30],
                open_key=key,
                author_id=author_id,
                note=note,
                state=QueueState.PENDING.value,
            )
            db.session.add(item)
    except IntegrityError:  # opened by a concurrent request
        item = db.session.scalar(sa.select(QueueItem).where(QueueItem.open_key == key))
        if item is None:
            raise
        return item
    _queue_changed()
    return item


def check_safe_text(text: str) -> str:
    """Refuses text that tries to smuggle script in; the content packages sanitise what they render."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_l("The new text cannot be empty."), fields={"new_text": "required"})
    if _UNSAFE.search(text):
        raise ValidationFailed(
            _l("The edit contains HTML that is not allowed (scripts, frames or event handlers). Nothing was changed."),
            fields={"new_text": "unsafe"},
        )
    return text


def _claim(item: QueueItem, actor: Member, state: str, reason: str) -> None:
    """Marks the item resolved only if it is still pending: two moderators cannot both resolve it."""
    result = db.session.execute(
        sa.update(QueueItem)
        .where(QueueItem.id == item.id, QueueItem.state == QueueState.PENDING)
        .values(
            state=state,
            open_key=None,
            resolved_at=utcnow(),
            resolved_by_id=actor.id,
            resolution_reason=reason or None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(item)
    if not result.rowcount:
        raise AlreadyResolved(item)


def resolve_item(
    *,
    actor: Member,
    item_id: int,
    action: str,
    reason: str = "",
    new_text: str | None = None,
    target_id: int | None = None,
) -> QueueItem:
    """Approves, hides, restores, edits, deletes or applies a topic action to a queued item."""
    if not policies.is_moderator(actor):
        raise NotAllowed()
    if action not in ACTIONS:
        raise ValidationFailed(_l("Unknown action."), fields={"action": "unknown"})
    item = db.session.get(QueueItem, item_id)
    if item is None:
        raise NotFound()
    if not item.is_pending:
        raise AlreadyResolved(item)
    reason = (reason or "").strip()
    adapter = registry.get(item.kind)
    obj = adapter.load(item.object_id) if adapter is not None else None
    if obj is None and action != "approve":
        raise NotFound(_l("The content of this item no longer exists."))
    if action in registry.TOPIC_ACTIONS and not registry.supports(adapter, action):
        raise ValidationFailed(_l("This kind of content cannot be %(action)s.", action=ACTION_NAMES[action]))
    if action == "edit":
        if not registry.supports(adapter, "edit"):
            raise ValidationFailed(_l("This kind of content cannot be edited here."))
        new_text = check_safe_text(new_text or "")
        if not reason:
            raise ValidationFailed(_l("Please give the author a reason for the edit."), fields={"reason": "required"})
    if action in ("move", "merge") and not target_id:
        raise ValidationFailed(_l("Choose where to move or merge it."), fields={"target_id": "required"})
    title = adapter.title(obj) if obj is not None else f"{item.kind} {item.object_id}"
    before = {"state": item.state, "visible": adapter.is_visible(obj) if obj is not None else None}

    _claim(item, actor, RESULT_STATES.get(action, QueueState.ACTED).value, reason)

    if action == "approve":
        if obj is not None and not adapter.is_visible(obj):
            with reinstating():
                adapter.restore(obj, actor=actor, reason=reason)
        if item.reason.startswith("held") and item.author_id:
            trust.add_approved_post(item.author_id)
    elif action == "hide":
        adapter.hide(obj, actor=actor, reason=reason)
    elif action == "restore":
        with reinstating():
            adapter.restore(obj, actor=actor, reason=reason)
    elif action == "delete":
        adapter.delete(obj, actor=actor, reason=reason)
    elif action == "edit":
        adapter.edit(obj, actor=actor, new_text=new_text, reason=reason)
    elif action in ("lock", "pin"):
        getattr(adapter, action)(obj, actor=actor, reason=reason)
    else:
        getattr(adapter, action)(obj, actor=actor, target_id=int(target_id), reason=reason)  # type: ignore[arg-type]

    after = {"state": item.state, "visible": adapter.is_visible(obj) if obj is not None else None}
    if target_id:
        after["target_id"] = target_id
    audit.record(
        actor_id=actor.id,
        action=f"moderation.{action}",
        object_kind=item.kind,
        object_id=item.object_id,
        before=before,
        after=after,
        reason=reason,
    )
    # Packages that asked for the hold (the engine's held referral sign-ups) learn the decision here.
    events.emit(
        "moderation.resolved",
        member_id=item.author_id,
        source=(item.kind, item.object_id),
        attributes={"action": action, "reason": item.reason, "actor_id": actor.id, "note": reason},
    )
    _resolve_flags(item, action, title)
    if item.author_id and action not in ("approve", "restore"):
        request_notification(
            item.author_id,
            "moderation.content_actioned",
            {"action": action, "title": title, "reason": reason},
            url=adapter.url(obj) if obj is not None and action != "delete" else None,
        )
    _queue_changed()
    return item


def _resolve_flags(item: QueueItem, action: str, title: str) -> None:
    agreed = action in AGREEING_ACTIONS
    flagger_ids = list(
        db.session.scalars(sa.select(Flag.flagger_id).where(Flag.queue_item_id == item.id, Flag.resolved_at.is_(None)))
    )
    if not flagger_ids:
        return
    db.session.execute(
        sa.update(Flag)
        .where(Flag.queue_item_id == item.id, Flag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution="agreed" if agreed else "disagreed")
        .execution_options(synchronize_session=False)
    )
    for flagger_id in flagger_ids:
        request_notification(
            flagger_id, "moderation.flag_resolved", {"title": title, "action": action, "agreed": agreed}
        )


def on_hold_requested(event: events.Event) -> None:
    """Subscriber of ``moderation.hold_requested``: any package puts an item in the queue through an event.

    ``source`` names the object (its kind must be registered to act on it), ``member_id`` its
    author, ``attributes`` may carry ``reason`` (default ``"held"``) and ``note``.
    """
    if not event.source:
        return
    kind, object_id = event.source
    open_item(
        kind=str(kind),
        object_id=int(object_id),
        reason=str(event.attributes.get("reason") or "held"),
        author_id=event.member_id,
        note=event.attributes.get("note"),
    )
