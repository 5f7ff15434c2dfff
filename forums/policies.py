"""Who may see, post, edit, delete and moderate in the forums: pure predicates of the member and the object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from forums.models import Category, Post, Topic
from portal.db import utcnow

STAFF_MODERATORS = ("moderator", "admin")
ROLE_LABELS = {
    "member": _l("members"),
    "moderator": _l("moderators"),
    "agent": _l("support agents"),
    "admin": _l("admins"),
}


def is_member(actor: Any) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False))


def is_moderator(actor: Any) -> bool:
    return is_member(actor) and actor.role in STAFF_MODERATORS


def is_admin(actor: Any) -> bool:
    return is_member(actor) and actor.role == "admin"


@dataclass(frozen=True)
class Access:
    """Whether a member may enter a category, and if not, why (shown on the locked category)."""

    allowed: bool
    reason: Any = None


def category_access(actor: Any, category: Category, *, tier: str | None, tiers: list[tuple[str, str]]) -> Access:
    """``tier`` is the member's tier code and ``tiers`` the (code, name) list, lowest first."""
    if not category.is_restricted or is_moderator(actor):
        return Access(True)
    if category.allowed_roles:
        role = actor.role if is_member(actor) else None
        if role not in category.allowed_roles:
            names = ", ".join(str(ROLE_LABELS.get(r, r)) for r in category.allowed_roles)
            if not is_member(actor):
                return Access(False, _l("Log in to see this forum; it is open to %(roles)s.", roles=names))
            return Access(False, _l("This forum is open to %(roles)s only.", roles=names))
    if category.min_tier:
        codes = [code for code, _name in tiers]
        names = dict(tiers)
        needed = names.get(category.min_tier, category.min_tier)
        if not is_member(actor):
            return Access(False, _l("Log in to see this forum; it is open from the %(tier)s tier up.", tier=needed))
        if tier is None or category.min_tier not in codes or tier not in codes:
            return Access(False, _l("This forum is open from the %(tier)s tier up.", tier=needed))
        if codes.index(tier) < codes.index(category.min_tier):
            return Access(False, _l("This forum is open from the %(tier)s tier up.", tier=needed))
    return Access(True)


def can_see_topic(actor: Any, topic: Topic) -> bool:
    return topic.is_visible or is_moderator(actor)


def can_start_topic(actor: Any) -> bool:
    return is_member(actor) and not getattr(actor, "is_disabled", False)


def can_reply(actor: Any, topic: Topic) -> bool:
    if not can_start_topic(actor) or not topic.is_visible:
        return False
    if topic.is_locked or topic.is_closed:
        return is_moderator(actor)
    return True


def can_edit(actor: Any, post: Post, topic: Topic) -> bool:
    if is_moderator(actor):
        return True
    return (
        is_member(actor) and post.author_id == actor.id and post.is_visible and not topic.is_locked and topic.is_visible
    )


def can_delete(actor: Any, post: Post, *, window: timedelta, now: datetime | None = None) -> bool:
    """Moderators always; the author only while the post is young (the configured window)."""
    if is_moderator(actor):
        return True
    if not (is_member(actor) and post.author_id == actor.id and post.is_visible):
        return False
    return (now or utcnow()) - post.created_at <= window


def can_see_revisions(actor: Any, post: Post) -> bool:
    return is_moderator(actor) or (is_member(actor) and post.author_id == actor.id)


def can_like(actor: Any, post: Post) -> bool:
    return is_member(actor) and post.author_id != actor.id and post.is_visible
