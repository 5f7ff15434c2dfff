"""How the engine's notifications read, in the reader's language (registered with notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from gamification.engine.models import Tier
from portal.db import db
from portal.i18n import current_language, format_local, localize_digits
from portal.notifications.kinds import register_kind


def _tier_name(code: str | None) -> str:
    if not code:
        return _("no tier")
    row = db.session.execute(sa.select(Tier.name_fa, Tier.name_en).where(Tier.code == code)).first()
    if row is None:
        return code
    return row.name_fa if current_language() == "fa" else row.name_en


def _tier_changed(params: dict[str, Any]) -> str:
    return _("Your tier is now %(tier)s.", tier=_tier_name(params["new"]))


def _tier_at_risk(params: dict[str, Any]) -> str:
    until = format_local(datetime.fromisoformat(params["until"]), "date")
    return _(
        "Your qualifying points are below what %(tier)s needs. Earn more by %(date)s to keep it.",
        tier=_tier_name(params["tier"]),
        date=until,
    )


def _badge_earned(params: dict[str, Any]) -> str:
    name = params["fa"] if current_language() == "fa" else params["en"]
    return _("You earned the badge %(icon)s %(name)s!", icon=params.get("icon", ""), name=name)


def _expiring(params: dict[str, Any]) -> str:
    return _(
        "%(points)s of your points expire on %(date)s. Use them before then.",
        points=localize_digits(params["points"]),
        date=format_local(datetime.fromisoformat(params["date"]), "date"),
    )


def _adjusted(params: dict[str, Any]) -> str:
    return _(
        "An administrator changed your points by %(points)s: %(reason)s",
        points=localize_digits(params["points"]),
        reason=params["reason"],
    )


register_kind("points.tier_changed", _tier_changed)
register_kind("points.tier_at_risk", _tier_at_risk)
register_kind("points.badge_earned", _badge_earned)
register_kind("points.expiring", _expiring)
register_kind("points.adjusted", _adjusted)
