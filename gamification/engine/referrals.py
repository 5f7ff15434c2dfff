"""Referrals: the referrer is paid (through ``referral.joined``) once the referee activates."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from gamification.engine.models import Referral
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound
from portal.events import Event, emit

FIRST_POST_TYPES = {"post.created", "topic.created"}


def on_event(event: Event) -> None:
    """Follows the referee's sign-up, verification and first post."""
    if event.type == "member.registered":
        _registered(event)
    elif event.type == "member.verified" or event.type in FIRST_POST_TYPES:
        referral = db.session.scalar(
            sa.select(Referral).where(Referral.referee_id == event.member_id, Referral.paid_at.is_(None))
        )
        if referral is None:
            return
        if event.type == "member.verified" and referral.verified_at is None:
            referral.verified_at = utcnow()
        elif event.type in FIRST_POST_TYPES and referral.first_post_at is None:
            referral.first_post_at = utcnow()
        pay_if_active(referral)


def _registered(event: Event) -> None:
    referrer_id = event.attributes.get("referrer_id")
    if not referrer_id or referrer_id == event.member_id:
        return
    referee = db.session.get(Member, event.member_id)
    referrer = db.session.get(Member, referrer_id)
    if referee is None or referrer is None:
        return
    held = _same_ip_recently(referee, referrer)
    db.session.add(
        Referral(
            referrer_id=referrer.id,
            referee_id=referee.id,
            status="held" if held else "waiting",
            hold_reason="same_ip" if held else None,
            verified_at=referee.email_verified_at,
        )
    )
    db.session.flush()


def _same_ip_recently(referee: Member, referrer: Member) -> bool:
    """A sign-up from the address its referrer signed up from, within the configured hours."""
    if not referee.signup_ip or referee.signup_ip != referrer.signup_ip:
        return False
    window = timedelta(hours=int(current_app.config["REFERRAL_SAME_IP_HOURS"]))
    now = utcnow()
    recent = [at for at in (referrer.created_at, referrer.last_seen_at) if at is not None]
    return any(now - at <= window for at in recent)


def pay_if_active(referral: Referral) -> bool:
    """Pays the referrer once every configured activation step is done (and the referral is not held)."""
    if referral.status != "waiting":
        return False
    steps = set(current_app.config["REFERRAL_ACTIVATION"])
    if "verified" in steps and referral.verified_at is None:
        return False
    if "first_post" in steps and referral.first_post_at is None:
        return False
    referral.status = "paid"
    referral.paid_at = utcnow()
    db.session.flush()
    emit(
        "referral.joined",
        member_id=referral.referrer_id,
        source=("referral", referral.referee_id),
        attributes={"referee_id": referral.referee_id, "actor_id": referral.referee_id},
    )
    return True


def review_referral(*, actor: Member, referral_id: int, approve: bool) -> Referral:
    """An admin releases a held referral (it pays once the referee activates) or rejects it."""
    if not actor.has_role("admin"):
        raise NotAllowed()
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound()
    if referral.status != "held":
        raise Conflict(_l("This referral is not waiting for review."))
    before = referral.status
    referral.status = "waiting" if approve else "rejected"
    emit(
        "audit.logged",
        member_id=actor.id,
        source=("referral", referral.id),
        attributes={
            "action": "engine.approve_referral" if approve else "engine.reject_referral",
            "before": {"status": before},
            "after": {"status": referral.status},
            "reason": "",
        },
    )
    if approve:
        pay_if_active(referral)
    return referral
