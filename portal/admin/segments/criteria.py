"""Segment criteria: what an admin may ask for, its validation, and the SQL conditions it stands for.

Stored criteria are a dict holding only the keys in use (all combined with AND):

* ``tiers`` — tier codes, the member's current tier is one of them;
* ``spendable_min`` / ``spendable_max`` / ``qualifying_min`` / ``qualifying_max`` — points bounds,
  inclusive (a member without points has 0);
* ``active_within_days`` — seen in the last N days; ``inactive_for_days`` — not seen for N days
  (or never);
* ``purchases_days`` with ``purchases_min_count`` and/or ``purchases_min_amount`` — purchases
  recorded (and not refunded) in the last N days;
* ``cities`` — the member's city is one of them (case and spacing do not matter);
* ``organisation_ids`` — the member belongs to one of these organisations;
* ``referred`` — True: signed up through a referral, False: did not; ``referrer_id`` — referred
  by this member;
* ``roles`` — the member's role is one of them.

Disabled accounts are never in a segment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.accounts.models import ROLE_VALUES, Member, Organisation
from portal.admin.segments import registry
from portal.db import db
from portal.errors import ValidationFailed
from portal.i18n import to_ascii_digits

MAX_POINTS = 10**12
MAX_DAYS = 3650
MAX_LIST = 200
POINT_KEYS = ("spendable_min", "spendable_max", "qualifying_min", "qualifying_max")
PURCHASE_KEYS = ("purchases_days", "purchases_min_count", "purchases_min_amount")
ENGINE_KEYS = ("tiers", *POINT_KEYS, *PURCHASE_KEYS)
LIST_SPLIT = re.compile(r"[,،\n;]+")


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set)):
        return [v for v in value if v not in (None, "")]
    return [value]


def _as_int(value: Any, field: str, errors: dict[str, Any], *, low: int, high: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[field] = _l("Enter a whole number.")
        return None
    try:
        number = int(to_ascii_digits(value.strip()) if isinstance(value, str) else value)
    except (TypeError, ValueError):
        errors[field] = _l("Enter a whole number.")
        return None
    if number < low or number > high:
        errors[field] = _l("Enter a number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return number


def _bool(value: Any) -> bool | None:
    if value in (None, "", "any"):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    raise ValueError(value)


def normalise(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Checks criteria typed by a person or sent by code and returns the stored form.

    Raises :class:`ValidationFailed` with one translated message per bad field in ``fields``.
    """
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    engine = registry.engine()

    tiers = sorted({str(t).strip() for t in _as_list(raw.get("tiers")) if str(t).strip()})
    if tiers:
        known = {code for code, _name in registry.tier_choices()}
        if engine is None:
            errors["tiers"] = _l("Tier and points criteria are not available.")
        elif set(tiers) - known:
            errors["tiers"] = _l("Choose tiers from the list.")
        else:
            out["tiers"] = tiers

    for key in POINT_KEYS:
        number = _as_int(raw.get(key), key, errors, low=0, high=MAX_POINTS)
        if number is not None:
            if engine is None:
                errors[key] = _l("Tier and points criteria are not available.")
            else:
                out[key] = number
    for kind in ("spendable", "qualifying"):
        low, high = out.get(f"{kind}_min"), out.get(f"{kind}_max")
        if low is not None and high is not None and low > high:
            errors[f"{kind}_max"] = _l("The maximum must not be below the minimum.")

    for key in ("active_within_days", "inactive_for_days"):
        number = _as_int(raw.get(key), key, errors, low=1, high=MAX_DAYS)
        if number is not None:
            out[key] = number
    within, inactive = out.get("active_within_days"), out.get("inactive_for_days")
    if within is not None and inactive is not None and within <= inactive:
        errors["inactive_for_days"] = _l(
            "Nobody can be active in the last %(within)s days and inactive for %(inactive)s days.",
            within=within,
            inactive=inactive,
        )

    days = _as_int(raw.get("purchases_days"), "purchases_days", errors, low=1, high=MAX_DAYS)
    min_count = _as_int(raw.get("purchases_min_count"), "purchases_min_count", errors, low=1, high=MAX_POINTS)
    min_amount = _as_int(raw.get("purchases_min_amount"), "purchases_min_amount", errors, low=1, high=MAX_POINTS)
    if days is not None or min_count is not None or min_amount is not None:
        if engine is None:
            errors["purchases_days"] = _l("Purchase criteria are not available.")
        elif days is None:
            errors["purchases_days"] = _l("Say over how many days purchases are counted.")
        elif min_count is None and min_amount is None:
            errors["purchases_min_count"] = _l("Give a number of purchases or an amount.")
        else:
            out["purchases_days"] = days
            if min_count is not None:
                out["purchases_min_count"] = min_count
            if min_amount is not None:
                out["purchases_min_amount"] = min_amount

    cities: list[str] = []
    for item in _as_list(raw.get("cities")):
        for part in LIST_SPLIT.split(str(item)):
            city = " ".join(part.split())
            if city and city.lower() not in {c.lower() for c in cities}:
                cities.append(city)
    if len(cities) > MAX_LIST or any(len(c) > 100 for c in cities):
        errors["cities"] = _l("Too many or too long city names.")
    elif cities:
        out["cities"] = cities

    organisation_ids: list[int] = []
    for value in _as_list(raw.get("organisation_ids")):
        number = _as_int(value, "organisation_ids", errors, low=1, high=2**31 - 1)
        if number is not None and number not in organisation_ids:
            organisation_ids.append(number)
    if organisation_ids and "organisation_ids" not in errors:
        found = set(db.session.scalars(sa.select(Organisation.id).where(Organisation.id.in_(organisation_ids))))
        if len(organisation_ids) > MAX_LIST or found != set(organisation_ids):
            errors["organisation_ids"] = _l("Choose organisations from the list.")
        else:
            out["organisation_ids"] = sorted(organisation_ids)

    try:
        referred = _bool(raw.get("referred"))
    except ValueError:
        errors["referred"] = _l("Choose whether the members were referred.")
        referred = None
    if referred is not None:
        out["referred"] = referred
    referrer = raw.get("referrer_id", raw.get("referrer"))
    if isinstance(referrer, str):
        referrer = referrer.strip()
    if referrer not in (None, ""):
        referrer_id: int | None = None
        if isinstance(referrer, str) and "@" in referrer:
            referrer_id = db.session.scalar(sa.select(Member.id).where(Member.email == referrer.lower()))
        else:
            referrer_id = _as_int(referrer, "referrer", errors, low=1, high=2**31 - 1)
            if referrer_id is not None and db.session.get(Member, referrer_id) is None:
                referrer_id = None
        if referrer_id is None:
            errors.setdefault("referrer", _l("No member has that email address or number."))
        elif referred is False:
            errors["referrer"] = _l("Members referred by someone cannot also be members nobody referred.")
        else:
            out["referrer_id"] = referrer_id

    roles = sorted({str(r).strip() for r in _as_list(raw.get("roles"))})
    if set(roles) - set(ROLE_VALUES):
        errors["roles"] = _l("Choose roles from the list.")
    elif roles:
        out["roles"] = roles

    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    return out


def conditions(criteria: Mapping[str, Any], now: datetime) -> list[sa.ColumnElement[bool]]:
    """The SQL conditions over ``Member`` that stored criteria stand for (AND them together)."""
    where: list[sa.ColumnElement[bool]] = [Member.is_disabled.is_(False)]
    if "roles" in criteria:
        where.append(Member.role.in_(criteria["roles"]))
    if "cities" in criteria:
        where.append(sa.func.lower(sa.func.trim(Member.city)).in_([c.lower() for c in criteria["cities"]]))
    if "organisation_ids" in criteria:
        where.append(Member.organisation_id.in_(criteria["organisation_ids"]))
    if criteria.get("referred") is True:
        where.append(Member.referred_by_id.is_not(None))
    elif criteria.get("referred") is False:
        where.append(Member.referred_by_id.is_(None))
    if "referrer_id" in criteria:
        where.append(Member.referred_by_id == criteria["referrer_id"])
    if "active_within_days" in criteria:
        where.append(Member.last_seen_at >= now - timedelta(days=criteria["active_within_days"]))
    if "inactive_for_days" in criteria:
        cutoff = now - timedelta(days=criteria["inactive_for_days"])
        where.append(sa.or_(Member.last_seen_at.is_(None), Member.last_seen_at < cutoff))
    engine_criteria = {key: criteria.get(key) for key in ENGINE_KEYS}
    if any(value is not None for value in engine_criteria.values()):
        if registry.engine() is None:
            where.append(sa.false())  # never wider than asked: without the engine, nobody matches
        else:
            where.extend(registry.engine_conditions(Member.id, now=now, **engine_criteria))
    return where
