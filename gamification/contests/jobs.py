"""Background work of contests: closing those whose voting has ended (run it every few minutes)."""

from __future__ import annotations

import logging

from gamification.contests import services
from portal import jobs
from portal.db import db

log = logging.getLogger(__name__)


@jobs.job
def close_due_contests() -> int:
    """Closes every contest whose voting has ended, one transaction each; returns how many closed."""
    closed = 0
    for contest_id in services.due_contest_ids():
        try:
            if services.close_contest(contest_id):
                closed += 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("closing contest %s failed; it will be retried on the next run", contest_id)
    return closed
