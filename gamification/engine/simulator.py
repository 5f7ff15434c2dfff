"""The rule simulator: what a draft rule would have paid over the last N days of stored events.

It only reads: stored events, members and balances, and evaluates the draft with the same
functions as the pipeline. Caps are counted from zero over the simulated days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from gamification.engine import catalog, progress
from gamification.engine.models import Balance, StoredEvent
from gamification.engine.rules import MemberFacts, RuleView, base_points, is_live, matches, tier_for, with_multiplier
from portal.accounts.models import Member
from portal.accounts.services import profile_completion
from portal.db import db, utcnow

MAX_EVENTS = 50_000


@dataclass
class SimulationRow:
    member_id: int
    name: str
    points: int
    events: int


@dataclass
class Simulation:
    days: int
    events_seen: int
    rows: list[SimulationRow] = field(default_factory=list)
    tier_moves: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(row.points for row in self.rows)


def simulate(draft: Any, *, days: int) -> Simulation:
    """Runs ``draft`` (an unsaved Rule) over the stored events of the last ``days`` days."""
    rule = RuleView.of(draft)
    days = max(1, min(int(days), 365))
    since = utcnow() - timedelta(days=days)
    events = db.session.execute(
        sa.select(StoredEvent.member_id, StoredEvent.amount, StoredEvent.attributes, StoredEvent.occurred_at)
        .where(StoredEvent.type == rule.event_type, StoredEvent.occurred_at >= since)
        .order_by(StoredEvent.occurred_at)
        .limit(MAX_EVENTS + 1)
    ).all()
    result = Simulation(days=days, events_seen=min(len(events), MAX_EVENTS), truncated=len(events) > MAX_EVENTS)
    events = events[:MAX_EVENTS]
    member_ids = {e.member_id for e in events}
    if not member_ids:
        return result
    members = {m.id: m for m in db.session.scalars(sa.select(Member).where(Member.id.in_(member_ids)))}
    facts = {
        m.id: MemberFacts(
            m.id,
            m.city,
            m.job_title,
            m.organisation_id,
            profile_completion(m).percent if rule.cond_min_completion is not None else None,
        )
        for m in members.values()
    }
    balances = {
        row.member_id: row
        for row in db.session.execute(
            sa.select(Balance.member_id, Balance.qualifying, Balance.tier_code).where(Balance.member_id.in_(member_ids))
        )
    }
    tiers = progress.load_tiers()
    multipliers = {t.code: t.multiplier_percent for t in tiers}
    used: dict[tuple[int, str, str], int] = defaultdict(int)
    points: dict[int, int] = defaultdict(int)
    counted: dict[int, int] = defaultdict(int)
    for event in events:
        attributes = event.attributes or {}
        actor = attributes.get("actor_id")
        if actor is not None and str(actor) == str(event.member_id):
            continue
        balance = balances.get(event.member_id)
        tier_code = balance.tier_code if balance else None
        if not is_live(rule, event.occurred_at) or not matches(
            rule, member=facts[event.member_id], tier_code=tier_code, amount=event.amount, attributes=attributes
        ):
            continue
        value = with_multiplier(rule, base_points(rule, event.amount), multipliers.get(tier_code or "", 100))
        keys = catalog.period_keys(event.occurred_at)
        if value > 0:
            for period, cap in rule.caps.items():
                value = min(value, cap - used[(event.member_id, period, keys[period])])
        if value == 0 or (value < 0 and rule.points >= 0):
            continue
        for period in rule.caps:
            used[(event.member_id, period, keys[period])] += max(value, 0)
        points[event.member_id] += value
        counted[event.member_id] += 1
    result.rows = sorted(
        (SimulationRow(m, members[m].display_name, p, counted[m]) for m, p in points.items()),
        key=lambda row: (-row.points, row.member_id),
    )
    if rule.feeds in ("both", "qualifying"):
        for row in result.rows:
            balance = balances.get(row.member_id)
            current = balance.tier_code if balance else None
            qualifying = (balance.qualifying if balance else 0) + max(row.points, 0)
            target = tier_for(tiers, qualifying)
            target_code = target.code if target else None
            ranks = {t.code: i for i, t in enumerate(tiers, 1)}
            if ranks.get(target_code or "", 0) > ranks.get(current or "", 0):
                result.tier_moves.append((row.member_id, row.name, current, target_code))
    return result
