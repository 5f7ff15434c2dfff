"""Admin definitions of tiers and badges: creating tiers, creating and changing badges (audited)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from gamification.engine.catalog import EVENT_TYPES
from gamification.engine.models import BADGE_KINDS, Badge, Tier
from portal.accounts.models import Member
from portal.db import db
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.events import emit

TIER_FIELDS = [
    "code",
    "name_fa",
    "name_en",
    "threshold",
    "multiplier_percent",
    "early_access",
    "color",
    "benefits_fa",
    "benefits_en",
]
BADGE_FIELDS = [
    "code",
    "name_fa",
    "name_en",
    "description_fa",
    "description_en",
    "icon",
    "kind",
    "event_type",
    "threshold",
    "tier_code",
    "is_active",
]
MAX_STREAK_DAYS = 3650


def _text(value: Any) -> str | None:
    return (value or "").strip() or None


def _audit(
    actor: Member, kind: str, object_id: int, action: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    emit(
        "audit.logged",
        member_id=actor.id,
        source=(kind, object_id),
        attributes={"action": action, "before": before, "after": after, "reason": ""},
    )


def create_tier(*, actor: Member, data: dict[str, Any]) -> Tier:
    """A new tier; members reach it with their next points or the nightly tier run."""
    if not actor.has_role("admin"):
        raise NotAllowed()
    values = {key: data.get(key) for key in TIER_FIELDS}
    for key in ("code", "name_fa", "name_en", "benefits_fa", "benefits_en"):
        values[key] = _text(values[key])
    values["early_access"] = bool(values["early_access"])
    values["color"] = _text(values["color"]) or "#888888"
    if not values["code"] or not values["name_fa"] or not values["name_en"]:
        missing = next(key for key in ("code", "name_fa", "name_en") if not values[key])
        raise ValidationFailed(_l("This field is required."), fields={missing: "required"})
    threshold, multiplier = values["threshold"], values["multiplier_percent"]
    if not isinstance(threshold, int) or threshold < 1:
        raise ValidationFailed(_l("The threshold must be at least one point."), fields={"threshold": "invalid"})
    if not isinstance(multiplier, int) or not 100 <= multiplier <= 1000:
        raise ValidationFailed(
            _l("The multiplier must be from 100% to 1000%."), fields={"multiplier_percent": "invalid"}
        )
    if db.session.scalar(sa.select(Tier.id).where(Tier.code == values["code"])) is not None:
        raise Conflict(_l("Another tier already uses this code."), fields={"code": "taken"})
    if db.session.scalar(sa.select(Tier.id).where(Tier.threshold == threshold)) is not None:
        raise Conflict(_l("Another tier already starts at this many points."), fields={"threshold": "taken"})
    tier = Tier(**values)
    db.session.add(tier)
    db.session.flush()
    _audit(actor, "tier", tier.id, "engine.create_tier", {}, {key: getattr(tier, key) for key in TIER_FIELDS})
    return tier


def save_badge(*, actor: Member, badge: Badge | None, data: dict[str, Any]) -> Badge:
    """Creates a badge, or changes one (its code stays); what earns it must be complete for its kind.

    Members who already hold a changed badge keep it (badges are awarded once)."""
    if not actor.has_role("admin"):
        raise NotAllowed()
    values = {key: data.get(key) for key in BADGE_FIELDS}
    for key in ("code", "name_fa", "name_en", "description_fa", "description_en", "icon", "event_type", "tier_code"):
        values[key] = _text(values[key])
    values["is_active"] = bool(values["is_active"])
    if badge is not None:
        values["code"] = badge.code
    for key in ("code", "name_fa", "name_en", "icon"):
        if not values[key]:
            raise ValidationFailed(_l("This field is required."), fields={key: "required"})
    kind = values["kind"]
    if kind not in BADGE_KINDS:
        raise ValidationFailed(_l("Choose what earns the badge."), fields={"kind": "invalid"})
    threshold = values["threshold"]
    if kind == "tier_reached":
        tier_code = values["tier_code"]
        if not tier_code or db.session.scalar(sa.select(Tier.id).where(Tier.code == tier_code)) is None:
            raise ValidationFailed(_l("Choose the tier that earns the badge."), fields={"tier_code": "required"})
        values["threshold"], values["event_type"] = 1, None
    else:
        values["tier_code"] = None
        if kind == "event_count":
            if values["event_type"] not in EVENT_TYPES:
                raise ValidationFailed(_l("Choose the event to count."), fields={"event_type": "required"})
        else:
            values["event_type"] = None
        maximum = MAX_STREAK_DAYS if kind == "streak" else 10**9
        if not isinstance(threshold, int) or not 1 <= threshold <= maximum:
            messages = {
                "event_count": _l("Say how many times the event must happen (at least once)."),
                "points_reached": _l("Say how many points earn the badge (at least one)."),
                "streak": _l("Say how many active days in a row earn the badge (1 to %(n)s).", n=MAX_STREAK_DAYS),
            }
            raise ValidationFailed(messages[kind], fields={"threshold": "required"})
    taken = db.session.scalar(sa.select(Badge.id).where(Badge.code == values["code"]))
    if taken is not None and (badge is None or taken != badge.id):
        raise Conflict(_l("Another badge already uses this code."), fields={"code": "taken"})
    before = {key: getattr(badge, key) for key in BADGE_FIELDS} if badge is not None else {}
    if badge is None:
        badge = Badge(**values)
        db.session.add(badge)
    else:
        for key, value in values.items():
            setattr(badge, key, value)
    db.session.flush()
    action = "engine.create_badge" if not before else "engine.update_badge"
    _audit(actor, "badge", badge.id, action, before, {key: getattr(badge, key) for key in BADGE_FIELDS})
    return badge
