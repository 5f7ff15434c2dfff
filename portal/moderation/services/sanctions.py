"""Sanctions: warnings (acknowledged by the member), suspensions, bans and category silences; lifting early."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.accounts import services as account_services
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.i18n import format_local
from portal.moderation import policies
from portal.moderation.models import Sanction, SanctionKind
from portal.moderation.notices import request_notification
from portal.moderation.services import audit

KIND_LABELS = {
    SanctionKind.WARNING: _l("Warning"),
    SanctionKind.SUSPENSION: _l("Suspension from posting"),
    SanctionKind.SILENCE: _l("Silence in one category"),
    SanctionKind.BAN: _l("Ban (no login)"),
}
MAX_DAYS = 36500  # "permanent" is a hundred years


class PostingBlocked(NotAllowed):
    """A suspension or a silence forbids this post; the message gives the reason and the end."""

    code = "posting_blocked"


def _in_force(member_id: int, kind: str) -> sa.Select:
    now = utcnow()
    return sa.select(Sanction).where(
        Sanction.member_id == member_id,
        Sanction.kind == kind,
        Sanction.lifted_at.is_(None),
        Sanction.starts_at <= now,
        sa.or_(Sanction.ends_at.is_(None), Sanction.ends_at > now),
    )


def issue_sanction(
    *,
    actor: Member,
    member: Member,
    kind: str,
    reason: str,
    days: int | None = None,
    category_id: int | None = None,
) -> Sanction:
    """Warns, suspends, bans or silences a member; the member is told why and until when."""
    if not policies.is_moderator(actor):
        raise NotAllowed()
    if member.id == actor.id:
        raise ValidationFailed(_l("You cannot sanction yourself."))
    if member.is_staff and actor.role != "admin":
        raise NotAllowed(_l("Only an admin can sanction a member of staff."))
    if kind not in {k.value for k in SanctionKind}:
        raise ValidationFailed(_l("Choose a kind of sanction."), fields={"kind": "unknown"})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Please give a reason; the member will see it."), fields={"reason": "required"})
    ends_at = None
    if kind != SanctionKind.WARNING:
        if not days or not 1 <= days <= MAX_DAYS:
            raise ValidationFailed(_l("Give a duration of 1 to 36500 days."), fields={"days": "range"})
        ends_at = utcnow() + timedelta(days=days)
    if kind == SanctionKind.SILENCE and not category_id:
        raise ValidationFailed(_l("Choose the category to silence the member in."), fields={"category_id": "required"})
    sanction = Sanction(
        member_id=member.id,
        kind=kind,
        reason=reason,
        category_id=category_id if kind == SanctionKind.SILENCE else None,
        ends_at=ends_at,
        created_by_id=actor.id,
    )
    db.session.add(sanction)
    db.session.flush()
    if kind == SanctionKind.WARNING:
        account_services.set_warning_pending(member, True)
    elif kind == SanctionKind.BAN:
        until = max(ends_at, member.banned_until) if member.banned_until and member.is_banned else ends_at
        account_services.set_login_block(member, until=until, reason=reason)
    audit.record(
        actor_id=actor.id,
        action=f"moderation.{kind}",
        object_kind="member",
        object_id=member.id,
        after={"sanction_id": sanction.id, "ends_at": ends_at, "category_id": sanction.category_id},
        reason=reason,
    )
    request_notification(
        member.id,
        "moderation.sanctioned",
        {"sanction": kind, "reason": reason, "until": ends_at.isoformat() if ends_at else None},
        url=f"/moderation/warnings/{sanction.id}" if kind == SanctionKind.WARNING else None,
    )
    return sanction


def lift_sanction(*, actor: Member, sanction_id: int, reason: str) -> Sanction:
    """Ends a sanction early; a lifted ban lets the member log in again (unless another ban holds)."""
    if not policies.is_moderator(actor):
        raise NotAllowed()
    sanction = db.session.get(Sanction, sanction_id)
    if sanction is None:
        raise NotFound()
    if sanction.lifted_at is not None or (sanction.ends_at is not None and sanction.ends_at <= utcnow()):
        raise Conflict(_l("This sanction has already ended."))
    member = db.session.get(Member, sanction.member_id)
    sanction.lifted_at = utcnow()
    sanction.lifted_by_id = actor.id
    sanction.lift_reason = (reason or "").strip() or None
    db.session.flush()
    if sanction.kind == SanctionKind.BAN:
        other = db.session.scalar(
            _in_force(member.id, SanctionKind.BAN).order_by(Sanction.ends_at.desc()).limit(1)  # type: ignore[union-attr]
        )
        account_services.set_login_block(
            member, until=other.ends_at if other else None, reason=other.reason if other else None
        )
    elif sanction.kind == SanctionKind.WARNING:
        _refresh_warning_flag(member)
    audit.record(
        actor_id=actor.id,
        action="moderation.lift_sanction",
        object_kind="member",
        object_id=member.id,
        before={"sanction_id": sanction.id, "kind": sanction.kind, "ends_at": sanction.ends_at},
        after={"lifted_at": sanction.lifted_at},
        reason=reason,
    )
    request_notification(member.id, "moderation.sanction_lifted", {"sanction": sanction.kind})
    return sanction


def pending_warning(member_id: int) -> Sanction | None:
    return db.session.scalar(
        sa.select(Sanction)
        .where(
            Sanction.member_id == member_id,
            Sanction.kind == SanctionKind.WARNING,
            Sanction.acknowledged_at.is_(None),
            Sanction.lifted_at.is_(None),
        )
        .order_by(Sanction.id)
        .limit(1)
    )


def _refresh_warning_flag(member: Member) -> None:
    account_services.set_warning_pending(member, pending_warning(member.id) is not None)


def acknowledge_warning(*, member: Member, sanction_id: int) -> Sanction:
    """The member confirms they read a warning; only their own."""
    sanction = db.session.get(Sanction, sanction_id)
    if sanction is None or sanction.member_id != member.id or sanction.kind != SanctionKind.WARNING:
        raise NotFound()
    if sanction.acknowledged_at is None:
        sanction.acknowledged_at = utcnow()
        db.session.flush()
    _refresh_warning_flag(member)
    return sanction


def check_can_post(member_id: int, category_id: int | None = None) -> None:
    """Raises :class:`PostingBlocked` while a suspension, or a silence in ``category_id``, is in force."""
    suspension = db.session.scalar(_in_force(member_id, SanctionKind.SUSPENSION).limit(1))
    if suspension is not None:
        raise PostingBlocked(
            _l(
                "You are suspended from posting until %(until)s. Reason: %(reason)s",
                until=format_local(suspension.ends_at),
                reason=suspension.reason,
            )
        )
    if category_id is not None:
        silence = db.session.scalar(
            _in_force(member_id, SanctionKind.SILENCE).where(Sanction.category_id == int(category_id)).limit(1)
        )
        if silence is not None:
            raise PostingBlocked(
                _l(
                    "You are silenced in this category until %(until)s. Reason: %(reason)s",
                    until=format_local(silence.ends_at),
                    reason=silence.reason,
                )
            )
