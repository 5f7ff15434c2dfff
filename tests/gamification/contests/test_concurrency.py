"""Double submissions that really race, on PostgreSQL: threads with their own connections and commits.

A double click or a retried request sends the same entry, vote or quiz submission twice at
once; each must be counted once, and the refused copy must say why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from gamification.contests import services as contests
from gamification.contests.models import Contest, Entry, Vote
from gamification.engine.models import StoredEvent
from gamification.quizzes import services as quizzes
from gamification.quizzes.models import Attempt, QuestionBank, Quiz
from portal.accounts.models import Member
from portal.db import utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.moderation.models import AuditEntry
from tests.concurrency import at_once
from tests.gamification.contests.factories import jpeg, windows

pytestmark = pytest.mark.postgres


class Committed:
    """Rows that really commit (outside the test's rolled-back transaction), removed afterwards."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.rows: list[tuple[type, int]] = []

    def add(self, obj: Any) -> Any:
        db.session.add(obj)
        db.session.commit()
        self.rows.append((type(obj), obj.id))
        return obj

    def member(self) -> Member:
        n = len(self.rows)
        stamp = utcnow().strftime("%H%M%S%f")
        return self.add(
            Member(
                email=f"race-{stamp}-{n}@example.com",
                display_name=f"Race {n}",
                password_hash="x",
                referral_code=f"R{stamp[-9:]}{n}"[:16],
                email_verified_at=utcnow(),
            )
        )

    def in_threads(self, count: int, work: Callable[[int], Any]) -> list[Any]:
        """Runs ``work(i)`` in ``count`` threads started together, each with its own session,
        committing at the end; returns the results or the exceptions raised."""
        return at_once(count, work, app=self.app)


@pytest.fixture
def committed(app: Flask) -> Iterator[Committed]:
    test_session = db.session
    db.session = db._make_scoped_session({})
    helper = Committed(app)
    audited_before = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.id), 0)))
    try:
        yield helper
    finally:
        db.session.remove()
        db.session = test_session
        with db.engine.begin() as conn:
            # Setting up a quiz is audited; those rows would outlive the test.
            conn.execute(sa.delete(AuditEntry.__table__).where(AuditEntry.__table__.c.id > audited_before))
            # Quizzes and contests first (their rows point at members), members last.
            for model in (Quiz, QuestionBank, Contest, Member):
                ids = [row_id for kind, row_id in helper.rows if kind is model]
                if ids:
                    conn.execute(sa.delete(model.__table__).where(model.__table__.c.id.in_(ids)))


def _events(kind: str, member_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(StoredEvent)
        .where(StoredEvent.type == kind, StoredEvent.member_id == member_id)
    )


def test_the_same_entry_sent_eight_times_at_once_is_stored_once(committed):
    member = committed.member()
    contest = committed.add(
        Contest(
            title_fa="م", title_en="Race", theme_fa="ت", theme_en="T", entries_per_member=1, **windows("submissions")
        )
    )
    photo, member_id, contest_id = jpeg(), member.id, contest.id

    def enter(_i: int) -> int:
        return contests.enter_contest(
            actor=db.session.get(Member, member_id), contest=db.session.get(Contest, contest_id), stream=photo
        ).id

    results = committed.in_threads(8, enter)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 7, results
    assert all(isinstance(r, Conflict) and "already sent your entry" in str(r.message) for r in refused)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry).where(Entry.contest_id == contest.id)) == 1
    assert _events("contest.entered", member.id) == 1


def test_the_same_vote_sent_eight_times_at_once_counts_once(committed):
    author, voter = committed.member(), committed.member()
    contest = committed.add(Contest(title_fa="م", title_en="Race", theme_fa="ت", theme_en="T", **windows("voting")))
    entry = Entry(contest_id=contest.id, member_id=author.id, image={"display": "x.jpg"}, status="visible")
    db.session.add(entry)
    db.session.commit()

    voter_id, entry_id = voter.id, entry.id  # read here: the threads have sessions of their own

    def vote(_i: int) -> int:
        return contests.cast_vote(actor=db.session.get(Member, voter_id), entry=db.session.get(Entry, entry_id)).id

    results = committed.in_threads(8, vote)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    db.session.expire_all()
    assert db.session.scalars(sa.select(Vote.entry_id).where(Vote.voter_id == voter.id)).all() == [entry.id]
    assert _events("contest.voted", voter.id) == 1


def test_a_quiz_attempt_submitted_four_times_at_once_is_scored_and_paid_once(committed):
    member = committed.member()
    bank = quizzes.create_bank(actor=None, name="Race bank", language="en")
    db.session.commit()
    committed.rows.append((QuestionBank, bank.id))
    quizzes.add_question(actor=None, bank=bank, kind="single", text="Two and two?", options=[("4", True), ("5", False)])
    now = utcnow()
    quiz = quizzes.create_quiz(
        actor=None,
        data=quizzes.QuizData(
            title="Race quiz", bank_id=bank.id, selection="draw", draw_count=1, time_limit_seconds=300,
            attempts_allowed=1, pass_percent=50, opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=1), pass_points=30, points_per_correct=0, layout="all",
        ),
    )  # fmt: skip
    db.session.commit()
    committed.rows.append((Quiz, quiz.id))
    attempt = quizzes.start_attempt(actor=member, quiz=quiz)
    db.session.commit()
    question = attempt.question_ids[0]
    right = db.session.execute(
        sa.text("SELECT id FROM quiz_options WHERE question_id = :q AND is_correct"), {"q": question}
    ).scalar()
    quizzes.answer_question(actor=member, attempt=attempt, question_id=question, option_ids=[right])
    db.session.commit()

    member_id, attempt_id = member.id, attempt.id  # read here: the threads have sessions of their own

    def submit(_i: int) -> None:
        quizzes.submit_attempt(actor=db.session.get(Member, member_id), attempt=db.session.get(Attempt, attempt_id))

    results = committed.in_threads(4, submit)
    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    assert _events("quiz.completed", member.id) == 1
    assert _events("quiz.passed", member.id) == 1
    assert db.session.get(Attempt, attempt.id).score_percent == 100
