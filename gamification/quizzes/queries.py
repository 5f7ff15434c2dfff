"""Read-only selects for quizzes: listings, an attempt's questions in its own order, leaderboards."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from gamification.quizzes.models import Attempt, AttemptAnswer, Option, Question, QuestionBank, Quiz
from portal.accounts.models import Member
from portal.db import db, utcnow


@dataclass
class ShownQuestion:
    """A question as one attempt shows it: its options in the attempt's stored order."""

    question: Question
    options: list[Option]
    number: int


@dataclass
class LeaderboardRow:
    rank: int
    member_id: int
    display_name: str
    score_percent: int
    duration_seconds: int


def list_quizzes() -> list[Quiz]:
    """Open quizzes first (closing soonest first), then upcoming, then closed."""
    now = utcnow()
    quizzes = list(db.session.scalars(sa.select(Quiz).order_by(Quiz.closes_at, Quiz.id)))
    return sorted(quizzes, key=lambda q: 0 if q.is_open(now) else 1 if now < q.opens_at else 2)


def attempt_questions(attempt: Attempt) -> list[ShownQuestion]:
    questions = {
        q.id: q
        for q in db.session.scalars(
            sa.select(Question).options(selectinload(Question.options)).where(Question.id.in_(attempt.question_ids))
        )
    }
    shown = []
    for number, question_id in enumerate(attempt.question_ids, start=1):
        question = questions.get(question_id)
        if question is None:
            continue
        by_id = {option.id: option for option in question.options}
        order = attempt.option_order.get(str(question_id), [])
        shown.append(ShownQuestion(question, [by_id[i] for i in order if i in by_id], number))
    return shown


def answers_of(attempt_id: int) -> dict[int, list[int]]:
    return dict(
        db.session.execute(
            sa.select(AttemptAnswer.question_id, AttemptAnswer.option_ids).where(AttemptAnswer.attempt_id == attempt_id)
        ).all()
    )


def member_attempts(quiz_id: int, member_id: int) -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt)
            .where(Attempt.quiz_id == quiz_id, Attempt.member_id == member_id)
            .order_by(Attempt.number)
        )
    )


def leaderboard(quiz_id: int, limit: int = 20) -> list[LeaderboardRow]:
    """Each member's best scored attempt: higher score first, then the faster time, then the earlier attempt."""
    best = (
        sa.select(
            Attempt.member_id,
            Attempt.score_percent,
            Attempt.duration_seconds,
            Attempt.id,
            sa.func.row_number()
            .over(
                partition_by=Attempt.member_id,
                order_by=(Attempt.score_percent.desc(), Attempt.duration_seconds, Attempt.id),
            )
            .label("n"),
        )
        .where(Attempt.quiz_id == quiz_id, Attempt.score_percent.is_not(None))
        .subquery()
    )
    rows = db.session.execute(
        sa.select(best.c.member_id, Member.display_name, best.c.score_percent, best.c.duration_seconds)
        .join(Member, Member.id == best.c.member_id)
        .where(best.c.n == 1)
        .order_by(best.c.score_percent.desc(), best.c.duration_seconds, best.c.id)
        .limit(limit)
    )
    return [
        LeaderboardRow(rank, member_id, name, score, duration)
        for rank, (member_id, name, score, duration) in enumerate(rows, start=1)
    ]


def list_banks() -> list[tuple[QuestionBank, int]]:
    counts = (
        sa.select(Question.bank_id, sa.func.count().label("n"))
        .where(Question.is_archived.is_(False))
        .group_by(Question.bank_id)
        .subquery()
    )
    return [
        (bank, n)
        for bank, n in db.session.execute(
            sa.select(QuestionBank, sa.func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.bank_id == QuestionBank.id)
            .order_by(QuestionBank.name)
        )
    ]


def bank_questions(bank_id: int) -> list[Question]:
    return list(
        db.session.scalars(
            sa.select(Question)
            .options(selectinload(Question.options))
            .where(Question.bank_id == bank_id, Question.is_archived.is_(False))
            .order_by(Question.id)
        )
    )


def question_choices() -> list[tuple[int, str]]:
    """Every live question, labelled with its bank, for the fixed-list picker."""
    rows = db.session.execute(
        sa.select(Question.id, QuestionBank.name, Question.text)
        .join(QuestionBank, QuestionBank.id == Question.bank_id)
        .where(Question.is_archived.is_(False))
        .order_by(QuestionBank.name, Question.id)
    )
    return [(qid, f"{bank} — {text[:80]}") for qid, bank, text in rows]
