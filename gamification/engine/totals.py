"""Per-period totals, the rows leaderboards read: added at once, or settled right after the commit.

A batch of the API adds to some four thousand total rows (all time, the month and the week,
overall and per category, for each member it pays). On PostgreSQL each is a new row version in
the primary key and in the top-N index: the biggest statement of a batch. Written while the batch
holds its members' balance rows, every overlapping batch waited for it too.

With ``later``, the batch stores its changes as one ``point_totals_pending`` row in its own
transaction, so a crash loses nothing and a rollback leaves nothing, and the job it queues for
its commit (``progress.settle_after_batch``, which also awards its badges, in one transaction)
adds them. A settlement claims every pending row no other one holds, so under load one settles
several batches in one statement. :func:`settle_pending_totals`, run every minute, settles what a
lost job left behind.

Every change is an addition (``points = points + n``, the row created when missing), so it does
not matter in which order batches, their settlements and reversals land; each statement takes its
rows in key order, so two settlements wait for each other in turn, never in a circle.
"""

from __future__ import annotations

import json
from collections import defaultdict

import sqlalchemy as sa

from gamification.engine.models import PendingTotals, PointBoard
from portal import bulk, jobs
from portal.db import begin_writing, db, utcnow

# (period, period key, scope, member id) -> points
Changes = dict[tuple[str, str, str, int], int]

# (period, period key, scope)
Board = tuple[str, str, str]


def add(changes: Changes, *, later: bool = False) -> None:
    """Adds ``changes`` to the totals in this transaction, or (``later``) stores them for a
    settlement after the commit, which the caller queues (:func:`settle_pending`)."""
    if not changes:
        return
    if later:
        db.session.execute(sa.insert(PendingTotals.__table__).values(created_at=utcnow(), deltas=_encode(changes)))
        return
    _apply(changes)


def _apply(changes: Changes) -> None:
    boards = board_ids({(period, key, scope) for period, key, scope, _ in changes})
    rows = sorted(
        (member_id, boards[(period, key, scope)], n) for (period, key, scope, member_id), n in changes.items()
    )
    # In key order: fewer page visits, and two writers never take each other's rows crosswise.
    bulk.add_rows("point_totals", ["member_id", "board_id"], "points", rows)


def board_ids(wanted: set[Board]) -> dict[Board, int]:
    """The ids of the ``wanted`` boards, creating those that do not exist yet.

    A batch names a few dozen boards; new ones appear each week and month. Boards are created in
    key order, so two transactions creating the same ones wait for each other in turn; one that
    waited finds the other's rows when it reads again."""
    table = PointBoard.__table__
    columns = (table.c.period, table.c.period_key, table.c.scope)

    def read(boards: set[Board]) -> dict[Board, int]:
        stmt = sa.select(table.c.id, *columns).where(sa.tuple_(*columns).in_(sorted(boards)))
        return {(period, key, scope): board_id for board_id, period, key, scope in bulk.tuples(stmt)}

    found = read(wanted)
    missing = wanted - found.keys()
    if missing:
        bulk.insert_rows(
            "point_boards", ["period", "period_key", "scope"], sorted(missing), suffix="ON CONFLICT DO NOTHING"
        )
        found |= read(missing)
    return found


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
