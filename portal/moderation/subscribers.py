"""Moderation's in-transaction subscribers: the audit log, the queue's inbox, and the gate on member content.

The gate runs inside the transaction of the action that emitted the event, so raising a
``DomainError`` (a suspension, a used-up allowance, a blocked word) rolls the whole action
back and the member is shown the message. Content events must therefore carry:

* ``member_id`` — the member who acted, and ``source`` — ``(kind, id)`` of the new item;
* ``attributes["text"]`` — the text written (for the word filter and the link count);
* ``attributes["category_id"]`` — where it was posted (for category silences), when there is one.

Posting events are ``topic.created`` and ``post.created``, and any other ``*.created`` event
that carries ``text``; ``like.given`` and ``invite.sent`` only use an allowance.

A held item pays nothing until it is approved. The gate runs before the points engine, so it
only decides: it opens the queue item and notes the hold on the session. :func:`hold_after_payment`,
subscribed after the engine (:data:`LATE_SUBSCRIPTIONS`), then holds the item through its
adapter, whose removal event reverses, in the same transaction, what the engine has just paid;
approval restores the item, and its creation event pays again. Content a moderator reinstates
(approve, restore) does not pass the gate a second time.
"""

from __future__ import annotations

import logging

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Member
from portal.db import db
from portal.errors import ValidationFailed
from portal.events import Event
from portal.moderation import policies, registry
from portal.moderation.services import audit, queue, sanctions, trust, words
from portal.moderation.settings import ALLOWANCE_EVENTS, POSTING_EVENTS, setting

log = logging.getLogger(__name__)

HOLDS_KEY = "moderation.pending_holds"


def is_posting_event(event: Event) -> bool:
    return event.type in POSTING_EVENTS or (event.type.endswith(".created") and "text" in event.attributes)


def on_member_content(event: Event) -> None:
    """Suspensions and silences, daily allowances, the word filter and holds, for every content event."""
    if event.member_id is None or event.source is None or event.is_external:
        return  # an outside system's report (its content lives there)
    posting = is_posting_event(event)
    allowance = ALLOWANCE_EVENTS.get(event.type)
    if (not posting and not allowance) or _reinstated(event):
        return  # not content, or content a moderator brought back (looked up last: it reads the request)
    member = db.session.get(Member, event.member_id)
    if member is None or policies.exempt_from_limits(member):
        return
    trust.lock_record(member.id)
    if posting:
        sanctions.check_can_post(member.id, event.attributes.get("category_id"))
    if allowance:
        trust.use_allowance(member, allowance)
    if posting:
        _filter_and_hold(event, member)


def _reinstated(event: Event) -> bool:
    """Content a moderator brings back (from the queue, or with the content package's own tools)
    is not new: no allowance, sanction check, filter or hold applies to its author again."""
    if queue.is_reinstating():
        return True
    if not has_request_context() or not current_user.is_authenticated:
        return False
    return current_user.id != event.member_id and policies.is_moderator(current_user)


def _filter_and_hold(event: Event, member: Member) -> None:
    text = str(event.attributes.get("text") or "")
    found = words.scan(text)
    if found.blocked:
        raise ValidationFailed(
            _l("Your text contains words that are not allowed here: %(words)s", words=", ".join(found.blocked)),
            fields={"text": "blocked_words"},
        )
    kind, object_id = event.source  # type: ignore[misc]
    adapter = registry.get(str(kind))
    obj = adapter.load(object_id) if adapter is not None else None
    if found.replaced is not None and obj is not None and registry.supports(adapter, "replace_text"):
        adapter.replace_text(obj, found.replaced)
    record = trust.record_for(member.id)
    hold_reason = None
    if found.held:
        hold_reason = "held_words"
    elif record.approved_posts < setting("MODERATION_HOLD_FIRST_POSTS"):
        hold_reason = "held_new"
    elif record.level < 2 and words.count_links(text) > setting("MODERATION_MAX_LINKS"):
        hold_reason = "held_links"
    if hold_reason is None:
        trust.add_approved_post(member.id)
        return
    if obj is None:
        log.warning("cannot hold %s %s: no registered adapter or object", kind, object_id)
        return
    db.session.info.setdefault(HOLDS_KEY, {})[event.id] = (str(kind), object_id)
    queue.open_item(
        kind=str(kind),
        object_id=int(object_id),
        reason=hold_reason,
        author_id=member.id,
        note=", ".join(found.held) or None,
    )


def hold_after_payment(event: Event) -> None:
    """Holds the item the gate decided to hold, once every earlier subscriber (the points engine)
    has seen its creation event: the adapter's removal event then reverses what was paid."""
    pending = db.session.info.get(HOLDS_KEY)
    if not pending or event.id not in pending:
        return
    kind, object_id = pending.pop(event.id)
    adapter = registry.get(kind)
    obj = adapter.load(object_id) if adapter is not None else None
    if obj is not None:
        adapter.hold(obj)


def on_like_received(event: Event) -> None:
    # Trust counts likes given by members inside the club (they name the liker); likes
    # reported by outside systems through the API pay points but say nothing of trust.
    if event.member_id is not None and event.attributes.get("liker_id") is not None:
        trust.add_like_received(event.member_id)


def on_posts_read(event: Event) -> None:
    """``topic.read`` with ``attributes["posts"]``: how many posts the member has just read."""
    if event.member_id is not None:
        trust.add_posts_read(event.member_id, int(event.attributes.get("posts") or 1))


SUBSCRIPTIONS = {
    "audit.logged": audit.on_audit_logged,
    "moderation.hold_requested": queue.on_hold_requested,
    "*": on_member_content,
    "like.received": on_like_received,
    "topic.read": on_posts_read,
}
# Subscribed after the points engine (see hold_after_payment).
LATE_SUBSCRIPTIONS = {"*": hold_after_payment}
