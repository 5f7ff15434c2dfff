"""The engine's periodic jobs; each is one unit of work and commits once."""

from __future__ import annotations

from typing import Any

from flask import current_app

from gamification.engine import ledger, progress
from portal import jobs
from portal.db import db, utcnow
from portal.notifications.services import notify


@jobs.job
def release_pending_points() -> int:
    """Hourly: purchase points past their return window become spendable."""
    released = ledger.release_pending()
    db.session.commit()
    return released


@jobs.job
def expire_points() -> int:
    """Daily: points past their expiry date leave the balance, oldest first."""
    expired = ledger.expire_points()
    db.session.commit()
    return expired


@jobs.job
def warn_expiring_points() -> int:
    """Daily: one notification per member whose points expire within the warning period."""
    now = utcnow()
    days = int(current_app.config["POINTS_EXPIRY_WARNING_DAYS"])
    warned = 0
    for member_id, entries in ledger.expiring_soon(now, days).items():
        points = sum(entry.remaining for entry in entries)
        first = min(entry.expires_at for entry in entries if entry.expires_at)
        notify(member_id, "points.expiring", {"points": points, "date": first.isoformat()}, url="/points")
        for entry in entries:
            entry.expiry_warned = True
        warned += 1
    db.session.commit()
    return warned


@jobs.job
def prune_cap_counters() -> int:
    """Daily: the cap counters of periods that have ended are deleted (never read again)."""
    pruned = ledger.prune_cap_counters(utcnow())
    db.session.commit()
    return pruned


@jobs.job
def nightly_tiers() -> dict[str, Any]:
    """Nightly: qualifying points older than the window stop counting, then tiers move (down after grace)."""
    aged = ledger.age_qualifying()
    moves = progress.review_tiers()
    db.session.commit()
    return {"aged": aged, **moves}
