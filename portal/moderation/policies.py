"""Permission predicates of moderation; pure functions of the actor (and the object)."""

from __future__ import annotations

from typing import Any

STAFF_ROLES = ("moderator", "admin")


def _signed_in(actor: Any) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False))


def is_moderator(actor: Any) -> bool:
    """Moderators and admins run the queue, sanctions, dossiers and the audit log."""
    return _signed_in(actor) and actor.role in STAFF_ROLES


def can_manage_words(actor: Any) -> bool:
    return _signed_in(actor) and actor.role == "admin"


def can_flag(actor: Any) -> bool:
    return _signed_in(actor)


def exempt_from_limits(actor: Any) -> bool:
    """Staff post without allowances or holds."""
    return _signed_in(actor) and actor.role in ("moderator", "admin", "agent")
