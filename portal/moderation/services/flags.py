"""Flags: members report content; enough flags hide it at once, pending review."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Member
from portal.db import db
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.events import emit
from portal.moderation import policies, registry
from portal.moderation.models import Flag, FlagReason, QueueItem
from portal.moderation.services import audit, queue, trust
from portal.moderation.settings import setting

REASON_LABELS = {
    FlagReason.SPAM: _l("Spam"),
    FlagReason.ABUSE: _l("Abusive or hateful"),
    FlagReason.OFF_TOPIC: _l("Off-topic"),
    FlagReason.ILLEGAL: _l("Illegal"),
    FlagReason.OTHER: _l("Something else"),
}


def flag_content(*, actor: Member, kind: str, object_id: int, reason: str, text: str | None = None) -> Flag:
    """Records a member's flag; the item joins the queue, and is hidden once enough members flagged it."""
    if not policies.can_flag(actor):
        raise NotAllowed()
    if reason not in {r.value for r in FlagReason}:
        raise ValidationFailed(_l("Choose a reason for the flag."), fields={"reason": "unknown"})
    text = (text or "").strip()[:500] or None
    if reason == FlagReason.OTHER and not text:
        raise ValidationFailed(_l("Please say what is wrong with it."), fields={"text": "required"})
    adapter, obj = registry.load(kind, object_id)
    if not adapter.is_visible(obj):
        raise ValidationFailed(_l("This content is no longer visible, so it cannot be flagged."))
    author_id = adapter.author_id(obj)
    if author_id == actor.id:
        raise ValidationFailed(_l("You cannot flag your own content."))
    already = db.session.scalar(
        sa.select(Flag.id).where(Flag.kind == kind, Flag.object_id == object_id, Flag.flagger_id == actor.id)
    )
    if already:
        raise Conflict(_l("You have already flagged this."))
    trust.use_allowance(actor, "flags")
    item = queue.open_item(kind=kind, object_id=object_id, reason="flagged", author_id=author_id)
    try:
        with db.session.begin_nested():
            flag = Flag(
                kind=kind,
                object_id=object_id,
                flagger_id=actor.id,
                author_id=author_id,
                reason=reason,
                text=text,
                queue_item_id=item.id,
            )
            db.session.add(flag)
    except IntegrityError:  # the same member's concurrent flag
        raise Conflict(_l("You have already flagged this."))
    db.session.execute(
        sa.update(QueueItem)
        .where(QueueItem.id == item.id)
        .values(flag_count=QueueItem.flag_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(item, ["flag_count"])
    emit("content.flagged", member_id=actor.id, source=(kind, object_id), attributes={"reason": reason})
    if item.flag_count >= setting("MODERATION_FLAGS_TO_HIDE") and adapter.is_visible(obj):
        adapter.hide(obj, actor=None, reason="flagged by members")
        audit.record(
            actor_id=None,
            action="moderation.auto_hide",
            object_kind=kind,
            object_id=object_id,
            before={"visible": True},
            after={"visible": False, "flags": item.flag_count},
            reason="flagged by members",
        )
    return flag
