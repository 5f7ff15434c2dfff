"""Permission predicates for accounts; pure functions of the actor and the object."""

from __future__ import annotations

from typing import Any

from portal.accounts.models import Member, Role

MIN_PASSWORD_LENGTH = 8


def is_admin(actor: Any) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False) and actor.role == Role.ADMIN)


def can_assign_roles(actor: Any) -> bool:
    return is_admin(actor)


def can_manage_organisations(actor: Any) -> bool:
    return is_admin(actor)


def can_edit_profile(actor: Any, member: Member) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False) and (actor.id == member.id or is_admin(actor)))


def can_see_email(actor: Any, member: Member) -> bool:
    return bool(
        actor and getattr(actor, "is_authenticated", False) and (actor.id == member.id or actor.role != Role.MEMBER)
    )
