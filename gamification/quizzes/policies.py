"""Who may build and take quizzes, and whose attempt is whose; pure predicates."""

from __future__ import annotations

from typing import Any

from gamification.quizzes.models import Attempt
from portal.accounts.models import Role


def _member(actor: Any) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False) and not getattr(actor, "is_disabled", False))


def can_manage(actor: Any) -> bool:
    return _member(actor) and actor.role == Role.ADMIN


def can_take(actor: Any) -> bool:
    return _member(actor) and actor.is_verified


def owns(actor: Any, attempt: Attempt) -> bool:
    return _member(actor) and attempt.member_id == actor.id
