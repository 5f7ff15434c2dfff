"""Background work of quizzes: scoring attempts whose time ran out unsubmitted (run it every few minutes)."""

from __future__ import annotations

from gamification.quizzes import services
from portal import jobs
from portal.db import db


@jobs.job
def finish_expired_attempts() -> int:
    """Scores attempts abandoned past their deadline, so they reach results and leaderboards."""
    finished = services.finish_expired_attempts()
    db.session.commit()
    return finished
