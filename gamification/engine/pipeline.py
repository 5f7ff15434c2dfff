"""The ledger pipeline: turns a batch of events into ledger entries, balances and totals.

One code path serves a single domain event (a batch of one, inside the emitting service's
transaction) and the API's batch of 1,000: rules, tiers and members are read once per batch,
entries are inserted with one executemany, and balances, period totals and cap counters are
updated once per member with ``x = x + :n``. The member's balance row is locked first (``FOR
UPDATE`` on PostgreSQL; SQLite serialises writers), so the check for already-paid keys and the
``balance_after`` computed here cannot race; the unique idempotency key is the last line of defence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from gamification.engine import catalog, ledger, progress
from gamification.engine import totals as period_totals
from gamification.engine.ledger import lock_balances
from gamification.engine.models import (
    CapCounter,
    PointEntry,
    Rule,
    StoredEvent,
)
from gamification.engine.rules import (
    MemberFacts,
    RuleView,
    award_key,
    base_points,
    is_live,
    matches,
    split_feeds,
    with_multiplier,
)
from portal import bulk
from portal.accounts.models import Member
from portal.accounts.services import profile_completion
from portal.bulk import one_of
from portal.db import db, utcnow

EVENT_COLUMNS = [
    "id",
    "type",
    "member_id",
    "source_kind",
    "source_id",
    "amount",
    "attributes",
    "idempotency_key",
    "occurred_at",
    "recorded_at",
]
ENTRY_COLUMNS = [
    "member_id",
    "kind",
    "status",
    "amount",
    "qualifying",
    "balance_after",
    "remaining",
    "rule_id",
    "rule_code",
    "event_id",
    "event_type",
    "source_kind",
    "source_id",
    "idempotency_key",
    "category_id",
    "created_at",
    "available_at",
    "expires_at",
    "qualifying_until",
    "expiry_warned",
    "qualifying_aged",
    "is_reversed",
]


@dataclass
class Incoming:
    """One event on its way into the ledger (already validated)."""

    event_id: str
    type: str
    member_id: int
    amount: int | None = None
    source: tuple[str, str] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    idempotency_key: str | None = None


@dataclass
class Outcome:
    event_id: str
    member_id: int
    awarded: list[tuple[str, int]] = field(default_factory=list)
    created: bool = True
    refused: Exception | None = None  # what a gate (another subscriber) refused the event with


# Called with the newly stored events before anything is paid; returns the refused ones' errors.
Admit = Callable[[list[Incoming]], dict[str, Exception]]


def load_rules(event_types: set[str]) -> dict[str, list[RuleView]]:
    found: dict[str, list[RuleView]] = defaultdict(list)
    if not event_types:
        return found
    for rule in db.session.scalars(
        sa.select(Rule).where(Rule.event_type.in_(event_types), Rule.is_active.is_(True)).order_by(Rule.id)
    ):
        found[rule.event_type].append(RuleView.of(rule))
    return found


def _member_facts(member_ids: set[int], need_completion: bool) -> dict[int, MemberFacts]:
    if need_completion:
        members = db.session.scalars(sa.select(Member).where(one_of(Member.id, member_ids)))
        return {
            m.id: MemberFacts(m.id, m.city, m.job_title, m.organisation_id, profile_completion(m).percent)
            for m in members
        }
    rows = bulk.tuples(
        sa.select(Member.id, Member.city, Member.job_title, Member.organisation_id).where(one_of(Member.id, member_ids))
    )
    return {row[0]: MemberFacts(*row) for row in rows}


def claim_events(items: list[Incoming], now: datetime) -> set[str]:
    """Stores the events; returns the ids of those whose idempotency key was already taken."""
    if not items:
        return set()
    when = bulk.time_writer()
    recorded = when(now)
    rows = [
        (
            it.event_id,
            it.type,
            it.member_id,
            it.source[0] if it.source else None,
            it.source[1] if it.source else None,
            it.amount,
            json.dumps(it.attributes),
            it.idempotency_key,
            when(it.occurred_at) if it.occurred_at else recorded,
            recorded,
        )
        for it in items
    ]
    if not any(it.idempotency_key for it in items):
        bulk.insert_rows("engine_events", EVENT_COLUMNS, rows)
        return set()
    inserted = set(
        bulk.insert_returning("engine_events", EVENT_COLUMNS, rows, suffix="ON CONFLICT DO NOTHING", returning="id")
    )
    return {it.event_id for it in items if it.event_id not in inserted}


@dataclass
class _Running:
    """A member's balances as this batch changes them, starting from the locked row."""

    spendable: int
    pending: int
    qualifying: int
    earned: int
    tier_code: str | None
    streak: int
    last_day: str | None
    community_day: str | None
    community_points: int
    d_spendable: int = 0
    d_pending: int = 0
    d_qualifying: int = 0
    d_earned: int = 0
    touched: bool = False


def process(
    items: list[Incoming], *, now: datetime | None = None, admit: Admit | None = None, settle_later: bool = False
) -> list[Outcome]:
    """Pays, or takes back, what each event is worth; returns one outcome per item, in order.

    ``settle_later``: the badges and the period totals (:mod:`engine.totals`) are settled by a job
    once the transaction commits (:func:`progress.settle_after_batch`), not while the batch holds
    its members' balance rows.

    ``admit`` sees the events that are new (not a replayed idempotency key) before anything is
    paid: the other subscribers' gates run there, and a refused event is forgotten (its stored
    row deleted) and pays nothing."""
    now = now or utcnow()
    outcomes = [Outcome(it.event_id, it.member_id) for it in items]
    if not items:
        return outcomes
    duplicates = claim_events(items, now)
    live = [(i, it) for i, it in enumerate(items) if it.event_id not in duplicates]
    for i, it in enumerate(items):
        if it.event_id in duplicates:
            outcomes[i].created = False
    if admit is not None and live:
        refused = admit([it for _, it in live])
        if refused:
            db.session.execute(sa.delete(StoredEvent).where(one_of(StoredEvent.id, refused)))
            for i, it in live:
                if it.event_id in refused:
                    outcomes[i].refused = refused[it.event_id]
                    outcomes[i].created = False
            live = [(i, it) for i, it in live if it.event_id not in refused]
    if live:
        _process_live(live, outcomes, now, settle_later)
    if duplicates:
        _fill_duplicates(items, outcomes, duplicates)
    return outcomes


def _fill_duplicates(items: list[Incoming], outcomes: list[Outcome], duplicates: set[str]) -> None:
    """A replayed idempotency key answers with what the first event was awarded."""
    keys = {it.idempotency_key for it in items if it.event_id in duplicates}
    first = dict(
        db.session.execute(
            sa.select(StoredEvent.idempotency_key, StoredEvent.id).where(one_of(StoredEvent.idempotency_key, keys))
        ).all()
    )
    awards: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for event_id, code, amount, qualifying in db.session.execute(
        sa.select(PointEntry.event_id, PointEntry.rule_code, PointEntry.amount, PointEntry.qualifying)
        .where(PointEntry.event_id.in_(set(first.values())), PointEntry.kind == "earn")
        .order_by(PointEntry.id)
    ):
        awards[event_id].append((code, amount or qualifying))
    for i, it in enumerate(items):
        if it.event_id in duplicates:
            original = first.get(it.idempotency_key)
            outcomes[i].event_id = original or it.event_id
            outcomes[i].awarded = list(awards.get(original, []))


def _process_live(
    live: list[tuple[int, Incoming]], outcomes: list[Outcome], now: datetime, settle_later: bool = False
) -> None:
    config = current_app.config
    keys_now = catalog.period_keys(now)
    today = keys_now["day"]
    yesterday = catalog.period_keys(now - timedelta(days=1))["day"]
    earning = [(i, it) for i, it in live if not ledger.is_reversing(it.type)]
    reversing = [(i, it) for i, it in live if ledger.is_reversing(it.type)]

    rules = load_rules({catalog.rule_type_for(it.type) for _, it in earning})
    tiers = progress.load_tiers()
    multipliers = {t.code: t.multiplier_percent for t in tiers}
    member_ids = {it.member_id for _, it in live}
    need_completion = any(r.cond_min_completion is not None for rs in rules.values() for r in rs)
    facts = _member_facts(member_ids, need_completion) if rules else {}
    locked = lock_balances(member_ids)
    running = {
        m: _Running(
            row.spendable,
            row.pending,
            row.qualifying,
            row.earned,
            row.tier_code,
            row.streak_days,
            row.last_active_day,
            row.community_day,
            row.community_points,
        )
        for m, row in locked.items()
    }

    # Candidate awards: every live rule whose conditions the event meets, with its key.
    candidates: list[tuple[int, Incoming, RuleView, str]] = []
    for i, it in earning:
        actor = it.attributes.get("actor_id")
        if actor is not None and str(actor) == str(it.member_id):
            continue  # one's own content never pays
        rule_type = catalog.rule_type_for(it.type)
        found = rules.get(rule_type)
        if not found:
            continue
        at = it.occurred_at or now
        member = facts.get(it.member_id) or MemberFacts(it.member_id)
        for rule in found:
            if not is_live(rule, at):
                continue
            if not matches(
                rule,
                member=member,
                tier_code=running[it.member_id].tier_code,
                amount=it.amount,
                attributes=it.attributes,
            ):
                continue
            key = award_key(rule.id, rule_type, it.source, it.idempotency_key, it.event_id)
            candidates.append((i, it, rule, key))

    # An award keyed by its event's idempotency key cannot have been paid before: this transaction
    # has just claimed that key in engine_events (a replay is a duplicate and never gets here), and
    # only a refused event, which paid nothing, is ever deleted there. The other keys (a source's)
    # are looked up; the unique index on the ledger's key stays the last line of defence.
    paid_keys: set[str] = set()
    looked_up = [c[3] for c in candidates if not c[1].idempotency_key]
    if looked_up:
        paid_keys.update(
            db.session.scalars(
                sa.select(PointEntry.idempotency_key).where(one_of(PointEntry.idempotency_key, looked_up))
            )
        )
    counters = _load_counters(candidates, keys_now)
    daily_cap = int(config["POINTS_DAILY_COMMUNITY_CAP"] or 0)
    window = timedelta(days=int(config["TIER_WINDOW_DAYS"]))

    entries: list[tuple[Any, ...]] = []
    when = bulk.time_writer()
    now_db, window_end = when(now), when(now + window)
    totals: period_totals.Changes = defaultdict(int)
    counter_adds: dict[tuple[int, int, str, str], int] = defaultdict(int)
    consumers: dict[int, int] = defaultdict(int)  # member -> points to take from the oldest remaining
    total_keys = [(period, keys_now[period]) for period in ("all", "month", "week")]

    for i, it, rule, key in candidates:
        if key in paid_keys:
            continue
        run = running[it.member_id]
        points = with_multiplier(rule, base_points(rule, it.amount), multipliers.get(run.tier_code or "", 100))
        if points > 0:
            for period, cap in rule.caps.items():
                used = counters.get((it.member_id, rule.id, period, keys_now[period]), 0)
                points = min(points, cap - used)
            if rule.community and daily_cap:
                points = min(points, daily_cap - (run.community_points if run.community_day == today else 0))
        points = min(points, catalog.MAX_POINTS)
        if points == 0 or (points < 0 and rule.points >= 0):
            continue
        paid_keys.add(key)
        if points > 0:
            for period in rule.caps:
                ck = (it.member_id, rule.id, period, keys_now[period])
                counters[ck] = counters.get(ck, 0) + points
                counter_adds[ck] += points
            if rule.community and daily_cap:
                if run.community_day != today:
                    run.community_day, run.community_points = today, 0
                run.community_points += points
                run.touched = True
        spendable, qualifying = split_feeds(rule, points)
        pending_days = rule.pending_days
        if pending_days is None and rule.event_type == "purchase.recorded":
            pending_days = int(config["POINTS_RETURN_WINDOW_DAYS"])
        pending = bool(pending_days) and points > 0
        if pending:
            run.d_pending += spendable
            run.pending += spendable
        else:
            run.spendable += spendable
            run.d_spendable += spendable
            if qualifying:
                run.qualifying += qualifying
                run.d_qualifying += qualifying
            elif points < 0 and rule.feeds == "qualifying":
                take = min(-points, max(run.qualifying, 0))
                run.qualifying -= take
                run.d_qualifying -= take
            if spendable < 0:
                consumers[it.member_id] += -spendable
        run.earned += max(points, 0)
        run.d_earned += max(points, 0)
        category = it.attributes.get("category_id")
        category_id = (
            int(category) if isinstance(category, int) or (isinstance(category, str) and category.isdigit()) else None
        )
        entries.append(
            (
                it.member_id,
                "earn",
                "pending" if pending else "available",
                spendable,
                qualifying,
                run.spendable,
                max(spendable, 0),
                rule.id,
                rule.code,
                it.event_id,
                it.type,
                it.source[0] if it.source else None,
                it.source[1] if it.source else None,
                key,
                category_id,
                now_db,
                when(now + timedelta(days=pending_days)) if pending else None,
                when(now + timedelta(days=rule.expires_days)) if rule.expires_days and points > 0 else None,
                window_end if qualifying > 0 else None,
                False,
                False,
                False,
            )
        )
        score = spendable or qualifying
        for period, key in total_keys:
            totals[(period, key, "", it.member_id)] += score
        if category_id is not None:
            scope = f"c{category_id}"
            for period, key in total_keys:
                totals[(period, key, scope, it.member_id)] += score
        outcomes[i].awarded.append((rule.code, points))

    # Activity streaks: one step per member per local day.
    for _, it in live:
        run = running[it.member_id]
        if run.last_day != today:
            run.streak = run.streak + 1 if run.last_day == yesterday else 1
            run.last_day = today
            run.touched = True

    bulk.insert_rows("point_entries", ENTRY_COLUMNS, entries)
    for member_id, amount in consumers.items():
        ledger.consume_fifo(member_id, amount)
    _write_balances(running)
    bulk.add_rows(
        "point_cap_counters",
        ["member_id", "rule_id", "period", "period_key"],
        "points",
        sorted((m, r, p, k, n) for (m, r, p, k), n in counter_adds.items()),
    )
    for i, it in reversing:
        outcomes[i].awarded.extend(ledger.reverse_source(it, now=now, totals_into=totals))
    period_totals.add(totals, later=settle_later)

    progress.after_batch(
        running={m: (r.qualifying, r.tier_code) for m, r in running.items()},
        tiers=tiers,
        live=live,
        now=now,
        settle_later=settle_later,
    )
    ledger.announce(live, outcomes)


def _load_counters(candidates: list[Any], keys_now: dict[str, str]) -> dict[tuple[int, int, str, str], int]:
    """The cap counters this batch may touch: the periods each member's capped rules it has
    candidates for are capped in. Only those are read: a rule capped per day needs no week, month
    or lifetime row. (The shared daily community cap is counted in the locked balance row.)"""
    wanted_set: set[tuple[int, int, str, str]] = set()
    for _, it, rule, _ in candidates:
        for period in rule.caps:
            wanted_set.add((it.member_id, rule.id, period, keys_now[period]))
    if not wanted_set:
        return {}
    wanted = sorted(wanted_set)
    keys = ["member_id", "rule_id", "period", "period_key"]
    found = bulk.rows_at(CapCounter.__tablename__, keys, wanted, [*keys, "points"])
    return {(m, r, p, k): n for m, r, p, k, n in found}


def _write_balances(running: dict[int, _Running]) -> None:
    # The row is locked, so the set columns take this batch's values as they stand.
    bulk.update_from_rows(
        "point_balances",
        "member_id",
        [
            "spendable",
            "pending",
            "qualifying",
            "earned",
            "streak_days",
            "last_active_day",
            "community_day",
            "community_points",
        ],
        [
            (
                m,
                r.d_spendable,
                r.d_pending,
                r.d_qualifying,
                r.d_earned,
                r.streak,
                r.last_day,
                r.community_day,
                r.community_points,
            )
            for m, r in running.items()
            if r.d_spendable or r.d_pending or r.d_qualifying or r.d_earned or r.touched
        ],
        added={"spendable", "pending", "qualifying", "earned"},
    )
