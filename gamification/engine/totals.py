"""Per-period totals, the rows leaderboards read: added at once, or settled right after the commit.

A member's totals in a scope (overall, or a forum category) are one row holding all time, the
month and the week (:class:`~gamification.engine.models.PeriodTotal`). A batch of the API changes
some fifteen hundred of them (each member it pays, overall and in the event's category); on
PostgreSQL each is a new row version with an entry in the primary key and in the three
leaderboard indexes: still the biggest statement of a batch. Written while the batch holds its
members' balance rows, every overlapping batch waited for it too.

With ``later``, the batch stores its changes as one ``point_totals_pending`` row in its own
transaction, so a crash loses nothing and a rollback leaves nothing, and the job it queues for
its commit (``progress.settle_after_batch``, which also awards its badges, in one transaction)
adds them. A settlement claims every pending row no other one holds, so under load one settles
several batches in one statement. :func:`settle_pending_totals`, run every minute, settles what a
lost job left behind.

Every change is an addition to the period it names (``points = points + n``, the row created when
missing); a change for a newer month or week than the row's starts that period's points afresh,
and one for an older period than the row's is dropped, since no current leaderboard shows it. So it
does not matter in which order batches, their settlements and reversals land; each statement takes
its rows in key order, so two settlements wait for each other in turn, never in a circle.
"""

from __future__ import annotations

import json
from collections import defaultdict

import sqlalchemy as sa

from gamification.engine.models import PendingTotals
from portal import bulk, jobs
from portal.db import begin_writing, db, utcnow

# (period, period key, scope, member id) -> points
Changes = dict[tuple[str, str, str, int], int]


def add(changes: Changes, *, later: bool = False) -> None:
    """Adds ``changes`` to the totals in this transaction, or (``later``) stores them for a
    settlement after the commit, which the caller queues (:func:`settle_pending`)."""
    if not changes:
        return
    if later:
        db.session.execute(sa.insert(PendingTotals.__table__).values(created_at=utcnow(), deltas=_encode(changes)))
        return
    _apply(changes)


def key_number(key: str) -> int:
    """A period key as a number that grows with time: ``1405-09`` (a Jalali month) is 140509,
    ``w2026-11-21`` (the week starting that day) is 20261121, ``all`` is 0."""
    digits = key.lstrip("w").replace("-", "")
    return int(digits) if digits.isdigit() else 0


def scope_number(scope: str) -> int:
    """``""`` (overall) is 0; ``c12`` (forum category 12) is 12."""
    return int(scope[1:]) if scope.startswith("c") else 0


# Per (member, scope): [all-time points, month key, month points, week key, week points]
_SLOTS = {"month": 1, "week": 3}


def rows_of(changes: Changes) -> list[tuple[int, ...]]:
    """The changes as ``point_totals`` rows, one per (member, scope), in key order. For each of
    the month and the week a row carries the newest period the changes name and their sum for it;
    changes for an older period are dropped (see the module's docstring)."""
    rows: dict[tuple[int, int], list[int]] = {}
    for (period, key, scope, member_id), n in changes.items():
        at = (member_id, scope_number(scope))
        row = rows.get(at)
        if row is None:
            row = rows[at] = [0, 0, 0, 0, 0]
        slot = _SLOTS.get(period)
        if slot is None:
            row[0] += n
            continue
        number = key_number(key)
        if number > row[slot]:
            row[slot], row[slot + 1] = number, n
        elif number == row[slot]:
            row[slot + 1] += n
    return sorted((member_id, scope, *row) for (member_id, scope), row in rows.items())


COLUMNS = ["member_id", "scope", "points", "month_key", "month_points", "week_key", "week_points"]


def _apply(changes: Changes) -> None:
    # In key order: fewer page visits, and two writers never take each other's rows crosswise.
    rows = rows_of(changes)
    if not rows:
        return
    newest = "GREATEST" if db.session.get_bind().dialect.name == "postgresql" else "MAX"
    sets = ["points = point_totals.points + excluded.points"]
    for period in ("month", "week"):
        key, points = f"{period}_key", f"{period}_points"
        sets.append(
            f"{points} = CASE WHEN excluded.{key} = point_totals.{key} "
            f"THEN point_totals.{points} + excluded.{points} "
            f"WHEN excluded.{key} > point_totals.{key} THEN excluded.{points} ELSE point_totals.{points} END"
        )
        sets.append(f"{key} = {newest}(point_totals.{key}, excluded.{key})")
    # SET reads the row as it was before the statement, so each CASE sees the old key.
    bulk.insert_rows(
        "point_totals", COLUMNS, rows, suffix=f"ON CONFLICT (member_id, scope) DO UPDATE SET {', '.join(sets)}"
    )


def _encode(changes: Changes) -> str:
    boards: dict[tuple[str, str, str], tuple[list[int], list[int]]] = {}
    for (period, key, scope, member_id), points in changes.items():
        members, amounts = boards.setdefault((period, key, scope), ([], []))
        members.append(member_id)
        amounts.append(points)
    return json.dumps([[*board, members, amounts] for board, (members, amounts) in boards.items()])


def _decode(payload: str, into: Changes) -> None:
    for period, key, scope, members, amounts in json.loads(payload):
        for member_id, points in zip(members, amounts, strict=True):
            into[(period, key, scope, member_id)] += points


BATCHES_PER_SETTLEMENT = 100


def settle_pending(limit: int = BATCHES_PER_SETTLEMENT, *, writing: bool = False) -> int:
    """Adds the pending changes no other settlement holds (up to ``limit`` batches'); returns how
    many pending rows it settled. The caller commits. ``writing``: on SQLite, the transaction holds
    the write lock already (``begin_writing``)."""
    table = PendingTotals.__table__
    if db.session.scalar(sa.select(table.c.id).limit(1)) is None:
        return 0  # nothing to settle: no write lock taken for it
    oldest = sa.select(table.c.id).order_by(table.c.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)  # a concurrent settlement takes the others
    elif not writing:
        begin_writing(db.session)  # SQLite: the claim and the additions under one write lock
    payloads = db.session.scalars(
        sa.delete(table).where(table.c.id.in_(oldest.scalar_subquery())).returning(table.c.deltas)
    ).all()
    changes: Changes = defaultdict(int)
    for payload in payloads:
        _decode(payload, changes)
    if changes:
        _apply(changes)
    return len(payloads)


def pending_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PendingTotals)) or 0


@jobs.job
def settle_pending_totals() -> int:
    """Every minute: the pending totals a lost job left (a batch's own job settles them at once)."""
    settled = 0
    while True:
        count = settle_pending()
        db.session.commit()
        settled += count
        if count < BATCHES_PER_SETTLEMENT:
            return settled
