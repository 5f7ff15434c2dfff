"""How one rule judges one event: pure functions shared by the ledger pipeline and the simulator."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gamification.engine.models import Rule, Tier


@dataclass(frozen=True)
class MemberFacts:
    """What member conditions look at, read once per batch."""

    id: int
    city: str | None = None
    job_title: str | None = None
    organisation_id: int | None = None
    completion: int | None = None  # percent; None when no rule asked for it


def is_live(rule: Rule, at: datetime) -> bool:
    if not rule.is_active:
        return False
    if rule.starts_at is not None and at < rule.starts_at:
        return False
    return not (rule.ends_at is not None and at >= rule.ends_at)


def _same(a: Any, b: Any) -> bool:
    return str(a).strip().casefold() == str(b).strip().casefold()


def matches(
    rule: Rule, *, member: MemberFacts, tier_code: str | None, amount: int | None, attributes: dict[str, Any]
) -> bool:
    """True when the member and the event meet every condition of the rule."""
    if rule.cond_city and not (member.city and _same(member.city, rule.cond_city)):
        return False
    if rule.cond_job_title and not (member.job_title and _same(member.job_title, rule.cond_job_title)):
        return False
    if rule.cond_organisation_id is not None and member.organisation_id != rule.cond_organisation_id:
        return False
    if rule.cond_tier and tier_code != rule.cond_tier:
        return False
    if rule.cond_min_completion is not None and (member.completion or 0) < rule.cond_min_completion:
        return False
    if rule.cond_min_amount is not None and (amount is None or amount < rule.cond_min_amount):
        return False
    if rule.cond_category_id is not None and not _same(attributes.get("category_id", ""), rule.cond_category_id):
        return False
    if rule.cond_attribute:
        if rule.cond_attribute not in attributes:
            return False
        if rule.cond_attribute_value not in (None, "") and not _same(
            attributes[rule.cond_attribute], rule.cond_attribute_value
        ):
            return False
    return True


def base_points(rule: Rule, amount: int | None) -> int:
    """Fixed points, or ``points`` per whole ``amount_unit`` of the amount (rounded down)."""
    if rule.amount_unit:
        if amount is None or amount <= 0:
            return 0
        return (amount // rule.amount_unit) * rule.points
    return rule.points


def with_multiplier(rule: Rule, points: int, multiplier_percent: int) -> int:
    """A tier's multiplier raises what a rule pays; it never deepens a penalty."""
    if points <= 0 or not rule.apply_multiplier or multiplier_percent == 100:
        return points
    return points * multiplier_percent // 100


def award_key(
    rule_id: int, event_type: str, source: tuple[str, str] | None, external_key: str | None, event_id: str
) -> str:
    """The ledger's idempotency key: one award per rule and source (or external key)."""
    if external_key:
        raw = f"r{rule_id}:x:{external_key}"
    elif source is not None:
        raw = f"r{rule_id}:{event_type}:{source[0]}:{source[1]}"
    else:
        raw = f"r{rule_id}:e:{event_id}"
    if len(raw) > 180:
        raw = f"r{rule_id}:h:{hashlib.sha256(raw.encode()).hexdigest()}"
    return raw


def split_feeds(rule: Rule, points: int) -> tuple[int, int]:
    """(spendable, qualifying) parts of an award; penalties never count as qualifying."""
    spendable = points if rule.feeds in ("both", "spendable") else 0
    qualifying = points if rule.feeds in ("both", "qualifying") and points > 0 else 0
    return spendable, qualifying


def tier_for(tiers: list[Tier], qualifying: int) -> Tier | None:
    best = None
    for tier in tiers:
        if qualifying >= tier.threshold:
            best = tier
    return best
