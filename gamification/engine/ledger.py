"""Ledger chores beyond earning: reversals, FIFO consumption, adjustments, release, expiry, ageing, verify."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from gamification.engine import catalog, totals
from gamification.engine.models import Balance, CapCounter, PointEntry, Rule
from portal import bulk
from portal.bulk import insert_rows, one_of
from portal.db import db, utcnow
from portal.events import Routes, emit


def is_reversing(event_type: str) -> bool:
    return event_type.endswith(".removed") or event_type in catalog.REVERSING_TYPES


class LockedBalance(NamedTuple):
    """A member's balance row as a batch reads it (the tier dates left out: the batch path never
    needs them, and they cost a conversion per row)."""

    member_id: int
    spendable: int
    pending: int
    qualifying: int
    earned: int
    tier_code: str | None
    streak_days: int
    last_active_day: str | None
    community_day: str | None
    community_points: int


def lock_balances(member_ids: set[int]) -> dict[int, LockedBalance]:
    """Reads (and on PostgreSQL locks) the members' balance rows, creating the missing ones."""
    ordered = sorted(member_ids)
    b = Balance.__table__.c
    columns = [getattr(b, name) for name in LockedBalance._fields]

    def read(ordered: list[int]) -> dict[int, LockedBalance]:
        stmt = sa.select(*columns).where(one_of(b.member_id, ordered)).order_by(b.member_id).with_for_update()
        return {row[0]: LockedBalance._make(row) for row in bulk.tuples(stmt)}

    found = read(ordered)
    missing = [m for m in ordered if m not in found]
    if missing:
        insert_rows(
            "point_balances",
            ["member_id", "spendable", "pending", "qualifying", "earned", "streak_days"],
            [(m, 0, 0, 0, 0, 0) for m in missing],
            suffix="ON CONFLICT DO NOTHING",
        )
        found.update(read(missing))  # the rows read first stay locked; only the new ones are read again
    return found


def lock_balance(member_id: int) -> LockedBalance:
    """The member's balance row, locked for this transaction (created when missing)."""
    return lock_balances({member_id})[member_id]


def _change_balance(
    member_id: int, *, spendable: int = 0, pending: int = 0, qualifying: int = 0, earned: int = 0
) -> int:
    """``UPDATE … SET x = x + :n`` and returns the spendable balance after it."""
    table = Balance.__table__
    return db.session.execute(
        sa.update(table)
        .where(table.c.member_id == member_id)
        .values(
            spendable=table.c.spendable + spendable,
            pending=table.c.pending + pending,
            qualifying=table.c.qualifying + qualifying,
            earned=table.c.earned + earned,
        )
        .returning(table.c.spendable)
    ).scalar_one()


def _entry(**values: Any) -> int:
    values.setdefault("created_at", utcnow())
    return db.session.execute(sa.insert(PointEntry.__table__).values(**values).returning(PointEntry.id)).scalar_one()


def _subtract_totals(entry: Any, score: int, into: totals.Changes | None) -> None:
    """Takes ``score`` off the totals of the periods the entry was earned in: into the batch's own
    changes (``into``), or at once."""
    if not score:
        return
    keys = catalog.period_keys(entry.created_at)
    scopes = [""] + ([f"c{entry.category_id}"] if entry.category_id is not None else [])
    changes: totals.Changes = into if into is not None else defaultdict(int)
    for period in ("all", "month", "week"):
        for scope in scopes:
            changes[(period, keys[period], scope, entry.member_id)] -= score
    if into is None:
        totals.add(changes)


def consume_fifo(member_id: int, amount: int, *, skip: int | None = None) -> None:
    """Takes ``amount`` from the oldest entries that still have points left (expiry reads ``remaining``)."""
    if amount <= 0:
        return
    rows = db.session.execute(
        sa.select(PointEntry.id, PointEntry.remaining)
        .where(
            PointEntry.member_id == member_id,
            PointEntry.status == "available",
            PointEntry.remaining > 0,
            PointEntry.id != (skip or 0),
        )
        .order_by(PointEntry.id)
        .with_for_update()
    ).all()
    updates = []
    for entry_id, remaining in rows:
        if amount <= 0:
            break
        take = min(remaining, amount)
        amount -= take
        updates.append({"i": entry_id, "r": remaining - take})
    if updates:
        table = PointEntry.__table__
        db.session.execute(
            sa.update(table).where(table.c.id == sa.bindparam("i")).values(remaining=sa.bindparam("r")), updates
        )


def reverse_entry(
    entry: PointEntry,
    *,
    reason: str,
    event_id: str | None,
    event_type: str,
    now: datetime,
    totals_into: totals.Changes | None = None,
) -> int:
    """Takes back one award (never below zero); returns the points taken back, as a positive number.

    ``totals_into``: the period totals change with the caller's other changes (a batch's), not at once."""
    balance = lock_balance(entry.member_id)
    score = entry.amount or entry.qualifying
    if entry.status == "pending":
        take, qtake = entry.amount, entry.qualifying
        entry.status = "cancelled"
        after = _change_balance(entry.member_id, pending=-take, earned=-score)
        status = "cancelled"
    else:
        take = min(entry.amount, max(balance.spendable, 0)) if entry.amount > 0 else 0
        qtake = min(entry.qualifying, max(balance.qualifying, 0)) if not entry.qualifying_aged else 0
        after = _change_balance(entry.member_id, spendable=-take, qualifying=-qtake, earned=-score)
        own = min(entry.remaining, take)
        entry.remaining -= own
        consume_fifo(entry.member_id, take - own, skip=entry.id)
        status = "available"
    entry.remaining = 0
    entry.is_reversed = True
    # The original keeps counting as qualifying, balanced by the reversal, so neither ages out alone.
    entry.qualifying_until = None
    if entry.idempotency_key:
        entry.idempotency_key = f"{entry.idempotency_key}#r{entry.id}"[:200]
    db.session.flush()
    _entry(
        member_id=entry.member_id,
        kind="reverse",
        status=status,
        amount=-take,
        qualifying=-qtake,
        balance_after=after,
        remaining=0,
        rule_id=entry.rule_id,
        rule_code=entry.rule_code,
        event_id=event_id,
        event_type=event_type,
        source_kind=entry.source_kind,
        source_id=entry.source_id,
        idempotency_key=f"rev:{entry.id}",
        reverses_id=entry.id,
        reason=reason[:300],
        category_id=entry.category_id,
        created_at=now,
    )
    _subtract_totals(entry, score, totals_into)
    _release_caps(entry, score)
    return take or qtake


def _release_caps(entry: Any, score: int) -> None:
    """Points taken back stop counting toward the caps of the periods they were earned in, so a
    restore pays in full and later content is not held back by content that no longer pays."""
    rule = db.session.get(Rule, entry.rule_id) if entry.rule_id and score > 0 else None
    if rule is None:
        return
    keys = catalog.period_keys(entry.created_at)
    table = CapCounter.__table__
    for period in rule.caps:
        db.session.execute(
            sa.update(table)
            .where(
                table.c.member_id == entry.member_id,
                table.c.rule_id == rule.id,
                table.c.period == period,
                table.c.period_key == keys[period],
            )
            .values(points=sa.case((table.c.points > score, table.c.points - score), else_=0))
        )
    if rule.community:
        # The shared daily cap, when the award was earned on the day the balance row counts.
        b = Balance.__table__.c
        db.session.execute(
            sa.update(Balance.__table__)
            .where(b.member_id == entry.member_id, b.community_day == keys["day"])
            .values(community_points=sa.case((b.community_points > score, b.community_points - score), else_=0))
        )


def prune_cap_counters(now: datetime) -> int:
    """Deletes the cap counters of days, weeks and months that have ended; returns how many.

    A batch reads only the counters of the current periods, and a reversal gives back room only
    in a counter that still exists, so ended periods are never read again. Left alone, the table
    would grow by a row per member, capped rule and day, and PostgreSQL's join of a batch's
    wanted counters with it would grow along. Lifetime counters stay."""
    keys = catalog.period_keys(now)
    table = CapCounter.__table__
    ended = sa.or_(
        *(sa.and_(table.c.period == period, table.c.period_key < keys[period]) for period in ("day", "week", "month"))
    )
    return db.session.execute(sa.delete(table).where(ended)).rowcount


def reverse_source(item: Any, *, now: datetime, totals_into: totals.Changes | None = None) -> list[tuple[str, int]]:
    """``*.removed`` and refunds: every award the source earned is taken back (``totals_into``:
    see :func:`reverse_entry`)."""
    if item.source is None:
        return []
    conditions = (
        PointEntry.source_kind == item.source[0],
        PointEntry.source_id == item.source[1],
        PointEntry.kind == "earn",
        PointEntry.is_reversed.is_(False),
        sa.or_(PointEntry.amount > 0, PointEntry.qualifying > 0),
    )
    # Balances first, then entries: the same lock order as expiry and release, so no deadlock.
    members = set(db.session.scalars(sa.select(PointEntry.member_id).where(*conditions)))
    if not members:
        return []
    lock_balances(members)
    originals = db.session.scalars(
        sa.select(PointEntry)
        .where(*conditions)
        .order_by(PointEntry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    taken = []
    for entry in originals:
        points = reverse_entry(
            entry, reason=item.type, event_id=item.event_id, event_type=item.type, now=now, totals_into=totals_into
        )
        taken.append((entry.rule_code or "", -points))
    return taken


def adjust(member_id: int, amount: int, *, reason: str, actor_id: int | None) -> tuple[int, int]:
    """A manual change of the spendable balance; returns (entry id, balance after)."""
    lock_balance(member_id)
    after = _change_balance(member_id, spendable=amount, earned=max(amount, 0))
    if amount < 0:
        consume_fifo(member_id, -amount)
    entry_id = _entry(
        member_id=member_id,
        kind="adjust",
        status="available",
        amount=amount,
        qualifying=0,
        balance_after=after,
        remaining=max(amount, 0),
        reason=reason[:300],
        actor_id=actor_id,
    )
    return entry_id, after


def spend(
    member_id: int, points: int, *, reason: str, source: tuple[str, str] | None, key: str | None
) -> tuple[int, int]:
    """Takes points for a reward; returns (entry id, balance after). The caller checked the balance."""
    lock_balance(member_id)
    after = _change_balance(member_id, spendable=-points)
    consume_fifo(member_id, points)
    entry_id = _entry(
        member_id=member_id,
        kind="spend",
        status="available",
        amount=-points,
        qualifying=0,
        balance_after=after,
        remaining=0,
        reason=reason[:300],
        source_kind=source[0] if source else None,
        source_id=str(source[1]) if source else None,
        idempotency_key=key,
    )
    return entry_id, after


def _reread(entries: list[PointEntry], *conditions: Any) -> list[PointEntry]:
    return list(
        db.session.scalars(
            sa.select(PointEntry)
            .where(PointEntry.id.in_([e.id for e in entries]), *conditions)
            .order_by(PointEntry.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def release_pending(now: datetime | None = None) -> int:
    """Pending purchase points whose return window has passed become spendable; returns how many."""
    now = now or utcnow()
    entries = db.session.scalars(
        sa.select(PointEntry)
        .where(PointEntry.status == "pending", PointEntry.available_at <= now)
        .order_by(PointEntry.member_id, PointEntry.id)
        .with_for_update()
    ).all()
    by_member: dict[int, list[PointEntry]] = defaultdict(list)
    for entry in entries:
        by_member[entry.member_id].append(entry)
    for member_id, group in by_member.items():
        lock_balance(member_id)
        group = _reread(group, PointEntry.status == "pending")
        for entry in group:
            entry.status = "available"
        db.session.flush()
        _change_balance(
            member_id,
            spendable=sum(e.amount for e in group),
            pending=-sum(e.amount for e in group),
            qualifying=sum(e.qualifying for e in group),
        )
    return len(entries)


def expire_points(now: datetime | None = None) -> int:
    """Points past their expiry leave the balance, oldest first; returns the points expired."""
    now = now or utcnow()
    entries = db.session.scalars(
        sa.select(PointEntry)
        .where(
            PointEntry.expires_at <= now,
            PointEntry.remaining > 0,
            PointEntry.status == "available",
            PointEntry.is_reversed.is_(False),
        )
        .order_by(PointEntry.member_id, PointEntry.id)
    ).all()
    total = 0
    by_member: dict[int, list[PointEntry]] = defaultdict(list)
    for entry in entries:
        by_member[entry.member_id].append(entry)
    for member_id, group in by_member.items():
        balance = lock_balance(member_id)
        # Re-read under the member's lock: a concurrent reversal may have emptied an entry meanwhile.
        group = _reread(group, PointEntry.remaining > 0, PointEntry.is_reversed.is_(False))
        available = max(balance.spendable, 0)
        expired = 0
        for entry in group:
            take = min(entry.remaining, available)
            available -= take
            entry.remaining = 0
            db.session.flush()
            if take <= 0:
                continue
            after = _change_balance(member_id, spendable=-take)
            _entry(
                member_id=member_id,
                kind="expire",
                status="available",
                amount=-take,
                qualifying=0,
                balance_after=after,
                remaining=0,
                rule_id=entry.rule_id,
                rule_code=entry.rule_code,
                source_kind=entry.source_kind,
                source_id=entry.source_id,
                idempotency_key=f"exp:{entry.id}",
                reverses_id=entry.id,
                reason="expired",
                created_at=now,
            )
            expired += take
        if expired:
            emit("points.expired", member_id=member_id, source=("member", member_id), attributes={"points": expired})
        total += expired
    return total


def expiring_soon(now: datetime, days: int) -> dict[int, list[PointEntry]]:
    """Entries that expire within ``days`` and whose member has not been warned yet, per member."""
    horizon = now + timedelta(days=days)
    entries = db.session.scalars(
        sa.select(PointEntry)
        .where(
            PointEntry.expires_at > now,
            PointEntry.expires_at <= horizon,
            PointEntry.remaining > 0,
            PointEntry.status == "available",
            PointEntry.expiry_warned.is_(False),
        )
        .order_by(PointEntry.member_id, PointEntry.expires_at)
    ).all()
    found: dict[int, list[PointEntry]] = defaultdict(list)
    for entry in entries:
        found[entry.member_id].append(entry)
    return found


def age_qualifying(now: datetime | None = None) -> int:
    """Qualifying points older than the tier window stop counting; returns how many entries aged."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(PointEntry.id, PointEntry.member_id, PointEntry.qualifying).where(
            PointEntry.qualifying_until <= now,
            PointEntry.qualifying_aged.is_(False),
            PointEntry.status == "available",
        )
    ).all()
    by_member: dict[int, int] = defaultdict(int)
    for _, member_id, qualifying in rows:
        by_member[member_id] += qualifying
    for member_id, qualifying in sorted(by_member.items()):
        lock_balance(member_id)
        _change_balance(member_id, qualifying=-qualifying)
    if rows:
        table = PointEntry.__table__
        db.session.execute(
            sa.update(table).where(table.c.id == sa.bindparam("i")).values(qualifying_aged=True),
            [{"i": r[0]} for r in rows],
        )
    return len(rows)


@dataclass(frozen=True)
class Difference:
    member_id: int
    column: str
    stored: int
    from_ledger: int


def verify_balances(*, fix: bool = False) -> list[Difference]:
    """Rebuilds every balance from the ledger and lists where the stored balances differ."""
    e = PointEntry
    rebuilt = {
        row.member_id: row
        for row in db.session.execute(
            sa.select(
                e.member_id,
                sa.func.coalesce(sa.func.sum(sa.case((e.status == "available", e.amount), else_=0)), 0).label(
                    "spendable"
                ),
                sa.func.coalesce(sa.func.sum(sa.case((e.status == "pending", e.amount), else_=0)), 0).label("pending"),
                sa.func.coalesce(
                    sa.func.sum(
                        sa.case((sa.and_(e.status == "available", e.qualifying_aged.is_(False)), e.qualifying), else_=0)
                    ),
                    0,
                ).label("qualifying"),
            ).group_by(e.member_id)
        )
    }
    differences = []
    for balance in db.session.execute(
        sa.select(Balance.member_id, Balance.spendable, Balance.pending, Balance.qualifying)
    ):
        row = rebuilt.pop(balance.member_id, None)
        for column in ("spendable", "pending", "qualifying"):
            expected = int(getattr(row, column)) if row is not None else 0
            if getattr(balance, column) != expected:
                differences.append(Difference(balance.member_id, column, getattr(balance, column), expected))
    for member_id, row in rebuilt.items():
        for column in ("spendable", "pending", "qualifying"):
            if int(getattr(row, column)):
                differences.append(Difference(member_id, column, 0, int(getattr(row, column))))
    if fix:
        for diff in differences:
            lock_balance(diff.member_id)
            db.session.execute(
                sa.update(Balance.__table__)
                .where(Balance.member_id == diff.member_id)
                .values({diff.column: diff.from_ledger})
            )
    return differences


def announce(live: list[tuple[int, Any]], outcomes: list[Any]) -> None:
    """``points.awarded`` for every event that changed points (webhooks and live pages listen)."""
    routes: Routes = {}
    for i, item in live:
        awarded = outcomes[i].awarded
        if awarded:
            emit(
                "points.awarded",
                member_id=item.member_id,
                source=("event", item.event_id),
                attributes={
                    "event_type": item.type,
                    "awards": [{"rule": code, "points": points} for code, points in awarded],
                    "points": sum(points for _, points in awarded),
                },
                routes=routes,
            )
