"""How one rule judges one event: pure functions shared by the ledger pipeline and the simulator."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from gamification.engine.models import Rule, Tier


class MemberFacts(NamedTuple):
    """What member conditions look at, read once per batch."""

    id: int
    city: str | None = None
    job_title: str | None = None
    organisation_id: int | None = None
    completion: int | None = None  # percent; None when no rule asked for it


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule's settings copied out of the ORM once per batch (plain attribute reads are much cheaper)."""

    id: int
    code: str
    event_type: str
    is_active: bool
    points: int
    amount_unit: int | None
    feeds: str
    cond_city: str | None
    cond_job_title: str | None
    cond_organisation_id: int | None
    cond_tier: str | None
    cond_min_completion: int | None
    cond_min_amount: int | None
    cond_category_id: int | None
    cond_attribute: str | None
    cond_attribute_value: str | None
    caps: dict[str, int]
    community: bool
    starts_at: datetime | None
    ends_at: datetime | None
    expires_days: int | None
    pending_days: int | None
    apply_multiplier: bool

    @classmethod
    def of(cls, rule: Rule) -> RuleView:
        return cls(
            id=rule.id or 0,
            code=rule.code or "",
            event_type=rule.event_type,
            is_active=bool(rule.is_active if rule.is_active is not None else True),
            points=rule.points or 0,
            amount_unit=rule.amount_unit,
            feeds=rule.feeds or "both",
            cond_city=rule.cond_city,
            cond_job_title=rule.cond_job_title,
            cond_organisation_id=rule.cond_organisation_id,
            cond_tier=rule.cond_tier,
            cond_min_completion=rule.cond_min_completion,
            cond_min_amount=rule.cond_min_amount,
            cond_category_id=rule.cond_category_id,
            cond_attribute=rule.cond_attribute,
            cond_attribute_value=rule.cond_attribute_value,
            caps=rule.caps,
            community=bool(rule.community if rule.community is not None else True),
            starts_at=rule.starts_at,
            ends_at=rule.ends_at,
            expires_days=rule.expires_days,
            pending_days=rule.pending_days,
            apply_multiplier=bool(rule.apply_multiplier if rule.apply_multiplier is not None else True),
        )


def is_live(rule: Rule | RuleView, at: datetime) -> bool:
    if not rule.is_active:
        return False
    if rule.starts_at is not None and at < rule.starts_at:
        return False
    return not (rule.ends_at is not None and at >= rule.ends_at)


def _same(a: Any, b: Any) -> bool:
    return str(a).strip().casefold() == str(b).strip().casefold()


def matches(
    rule: Rule | RuleView, *, member: MemberFacts, tier_code: str | None, amount: int | None, attributes: dict[str, Any]
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


def base_points(rule: Rule | RuleView, amount: int | None) -> int:
    """Fixed points, or ``points`` per whole ``amount_unit`` of the amount (rounded down)."""
    if rule.amount_unit:
        if amount is None or amount <= 0:
            return 0
        return (amount // rule.amount_unit) * rule.points
    return rule.points


def with_multiplier(rule: Rule | RuleView, points: int, multiplier_percent: int) -> int:
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


def split_feeds(rule: Rule | RuleView, points: int) -> tuple[int, int]:
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
