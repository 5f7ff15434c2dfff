"""Tiers and badges: moving members up at once, down after a grace period, and awarding badges once."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app

from gamification.engine import totals
from gamification.engine.models import Badge, Balance, MemberBadge, StoredEvent, Tier
from gamification.engine.rules import tier_for
from portal import bulk, jobs
from portal.bulk import insert_returning, one_of, time_writer
from portal.db import begin_writing, db, utcnow
from portal.events import Routes, after_commit, emit
from portal.notifications.services import notify, notify_many

POINTS_URL = "/points"


def load_tiers() -> list[Tier]:
    """The tier ladder, lowest threshold first."""
    return list(db.session.scalars(sa.select(Tier).order_by(Tier.threshold)))


def _rank(tiers: list[Tier], code: str | None) -> int:
    for index, tier in enumerate(tiers):
        if tier.code == code:
            return index + 1
    return 0


def change_tier(member_id: int, old: str | None, new: Tier | None, *, now: datetime) -> None:
    """Moves a member to another tier (or none), emits ``tier.changed`` and tells the member."""
    new_code = new.code if new else None
    db.session.execute(
        sa.update(Balance.__table__)
        .where(Balance.member_id == member_id)
        .values(tier_code=new_code, tier_since=now, tier_grace_until=None)
    )
    emit("tier.changed", member_id=member_id, source=("member", member_id), attributes={"old": old, "new": new_code})
    notify(member_id, "points.tier_changed", {"old": old, "new": new_code}, url=POINTS_URL)


def after_batch(
    *,
    running: dict[int, tuple[int, str | None]],
    tiers: list[Tier],
    live: list[tuple[int, Any]],
    now: datetime,
    settle_later: bool = False,
) -> None:
    """Upgrades members whose qualifying points crossed a threshold; awards the badges now earned.

    ``running`` maps each member to (qualifying points, tier code) as the batch left them; the balance
    rows are still locked, so no query is needed to know the current tier. ``settle_later``: the
    badges, and the batch's pending period totals, are left to :func:`settle_after_batch`, queued
    for when the transaction commits, so that a batch of outside events holds its members' balance
    rows only as long as paying takes (badges are awarded once whoever checks first: the unique
    member-badge pair decides)."""
    if tiers and running:
        ranks = {tier.code: index for index, tier in enumerate(tiers, 1)}
        for member_id, (qualifying, tier_code) in sorted(running.items()):
            target = tier_for(tiers, qualifying)
            if target is not None and ranks[target.code] > ranks.get(tier_code or "", 0):
                change_tier(member_id, tier_code, target, now=now)
    acted = {(it.member_id, it.type) for _, it in live}
    event_types = {it.type for _, it in live}
    if settle_later:
        after_commit(settle_after_batch, sorted(running), sorted(event_types), sorted(acted), now.isoformat())
        return
    award_badges(set(running), event_types, tiers=tiers, now=now, acted=acted)


@jobs.job
def settle_after_batch(
    member_ids: list[int], event_types: list[str], acted: list[list[Any]], at: str
) -> list[tuple[int, str]]:
    """What a committed batch left for after its commit (see :func:`after_batch`), in one
    transaction: the badges it earned, then the pending period totals (``totals.settle_pending``).
    Returns the badges awarded."""
    tiers = load_tiers()
    awarded = award_badges(
        set(member_ids),
        set(event_types),
        tiers=tiers,
        now=datetime.fromisoformat(at),
        acted={(int(m), str(t)) for m, t in acted},
        write_lock=True,
    )
    # On SQLite, badges written means the write lock is held already: the totals are added under it.
    totals.settle_pending(writing=bool(awarded))
    db.session.commit()
    return awarded


class _BadgeRule(NamedTuple):
    id: int
    code: str
    kind: str
    event_type: str | None
    threshold: int
    tier_code: str | None
    name_fa: str
    name_en: str
    icon: str


def award_badges(
    member_ids: set[int],
    event_types: set[str],
    *,
    tiers: list[Tier],
    now: datetime,
    acted: set[tuple[int, str]] | None = None,
    write_lock: bool = False,
) -> list[tuple[int, str]]:
    """Checks the active badges for these members; each badge is awarded once. Returns what was awarded.

    ``write_lock`` (a job with a transaction of its own): the reads above run first, then the
    transaction is committed and the writes take SQLite's write lock (``begin_writing``), so they
    wait their turn instead of failing when another writer committed since the reads.

    ``acted`` (member, event type) pairs limit the event counts to the members who just did that
    kind of thing (see below)."""
    if not member_ids:
        return []
    rows = db.session.execute(
        sa.select(
            Badge.id,
            Badge.code,
            Badge.kind,
            Badge.event_type,
            Badge.threshold,
            Badge.tier_code,
            Badge.name_fa,
            Badge.name_en,
            Badge.icon,
        )
        .where(Badge.is_active.is_(True))
        .order_by(Badge.id)
    ).all()
    relevant = [_BadgeRule(*row) for row in rows if row.kind != "event_count" or row.event_type in event_types]
    if not relevant:
        return []
    # Plain tuples: a batch's members may own thousands of badges, and rows hash slowly.
    read = bulk.tuples
    owned = {
        (member_id, badge_id)
        for member_id, badge_id in read(
            sa.select(MemberBadge.member_id, MemberBadge.badge_id).where(one_of(MemberBadge.member_id, member_ids))
        )
    }
    earned_points: dict[int, int] = {}
    streaks: dict[int, int] = {}
    tier_ranks: dict[int, int] = {}
    ranks = {tier.code: index + 1 for index, tier in enumerate(tiers)}
    for member_id, earned, tier_code, streak in read(
        sa.select(Balance.member_id, Balance.earned, Balance.tier_code, Balance.streak_days).where(
            one_of(Balance.member_id, member_ids)
        )
    ):
        earned_points[member_id] = earned
        streaks[member_id] = streak
        tier_ranks[member_id] = ranks.get(tier_code or "", 0)
    # For each (member, kind of event) to count, the lowest threshold of its badges the member
    # still misses: a count badge can only be newly earned by its event, so with ``acted`` only the
    # members who just did that thing are counted, and a long-standing member's history is not
    # counted again for every batch.
    by_type: dict[str, list[_BadgeRule]] = defaultdict(list)
    for badge in relevant:
        if badge.kind == "event_count" and badge.event_type:
            by_type[badge.event_type].append(badge)
    lowest: dict[tuple[int, str], int] = {}
    pairs = acted if acted is not None else {(m, t) for m in member_ids for t in by_type}
    for member_id, event_type in pairs:
        thresholds = [b.threshold for b in by_type.get(event_type, ()) if (member_id, b.id) not in owned]
        if thresholds:
            lowest[(member_id, event_type)] = min(thresholds)
    counts: dict[tuple[int, str | None], int] = {}
    if lowest:
        # First every stored event of each pair, an index count; only the pairs that reach their
        # lowest missing threshold that way are counted exactly, a replayed event (the same
        # source again) once. Most pairs stop at the first count.
        pairs_at = ["member_id", "type"]
        rough = bulk.counts_at(StoredEvent.__tablename__, pairs_at, sorted(lowest))
        close = sorted(pair for pair, n in rough.items() if n >= lowest[pair])  # type: ignore[index]
        if close:
            exact = "DISTINCT COALESCE(t.source_id, t.id)"
            counts = bulk.counts_at(StoredEvent.__tablename__, pairs_at, close, counted=exact)  # type: ignore[assignment]
    # Badge by badge, the members who now qualify; then what they do not own yet.
    awarded: list[tuple[int, _BadgeRule]] = []
    for badge in relevant:
        if badge.kind == "event_count":
            qualified = [m for (m, t), n in counts.items() if t == badge.event_type and n >= badge.threshold]
        elif badge.kind == "points_reached":
            qualified = [m for m, earned in earned_points.items() if earned >= badge.threshold]
        elif badge.kind == "streak":
            qualified = [m for m, streak in streaks.items() if streak >= badge.threshold]
        elif badge.kind == "tier_reached" and ranks.get(badge.tier_code or "", 0) > 0:
            wanted = ranks[badge.tier_code or ""]
            qualified = [m for m, rank in tier_ranks.items() if rank >= wanted]
        else:
            qualified = []
        awarded.extend((m, badge) for m in qualified if m in member_ids and (m, badge.id) not in owned)
    awarded.sort(key=lambda pair: (pair[0], pair[1].id))
    if awarded:
        if write_lock:
            begin_writing(db.session)
        earned_at = time_writer()(now)
        # Only the pairs this statement inserted: another writer may have awarded one meanwhile.
        inserted = set(
            insert_returning(
                "member_badges",
                ["member_id", "badge_id", "earned_at"],
                [(m, b.id, earned_at) for m, b in awarded],
                suffix="ON CONFLICT DO NOTHING",
                returning="member_id, badge_id",
            )
        )
        awarded = [(m, b) for m, b in awarded if (m, b.id) in inserted]
        routes: Routes = {}
        for member_id, badge in awarded:
            emit(
                "badge.earned",
                member_id=member_id,
                source=("badge", badge.id),
                attributes={"badge": badge.code},
                routes=routes,
            )
        notify_many(
            [
                (m, "points.badge_earned", {"fa": b.name_fa, "en": b.name_en, "icon": b.icon}, POINTS_URL)
                for m, b in awarded
            ]
        )
    return [(m, b.code) for m, b in awarded]


def review_tiers(now: datetime | None = None) -> dict[str, int]:
    """The nightly pass: up at once, a warning and a grace period before any move down."""
    now = now or utcnow()
    tiers = load_tiers()
    grace = timedelta(days=int(current_app.config["TIER_GRACE_DAYS"]))
    moves = {"up": 0, "warned": 0, "down": 0, "kept": 0}
    rows = db.session.execute(
        sa.select(Balance.member_id, Balance.qualifying, Balance.tier_code, Balance.tier_grace_until).where(
            sa.or_(Balance.tier_code.is_not(None), Balance.qualifying > 0)
        )
    ).all()
    for member_id, qualifying, tier_code, grace_until in rows:
        target = tier_for(tiers, qualifying)
        have, want = _rank(tiers, tier_code), _rank(tiers, target.code if target else None)
        if want > have:
            change_tier(member_id, tier_code, target, now=now)
            moves["up"] += 1
        elif want < have:
            if grace_until is None:
                db.session.execute(
                    sa.update(Balance.__table__)
                    .where(Balance.member_id == member_id)
                    .values(tier_grace_until=now + grace)
                )
                notify(
                    member_id,
                    "points.tier_at_risk",
                    {"tier": tier_code, "until": (now + grace).isoformat()},
                    url=POINTS_URL,
                )
                moves["warned"] += 1
            elif grace_until <= now:
                change_tier(member_id, tier_code, target, now=now)
                moves["down"] += 1
        elif grace_until is not None:
            db.session.execute(
                sa.update(Balance.__table__).where(Balance.member_id == member_id).values(tier_grace_until=None)
            )
            moves["kept"] += 1
    if moves["up"] or moves["down"]:
        award_badges({m for m, *_ in rows}, set(), tiers=tiers, now=now)
    return moves
