"""Building quizzes for tests through the services (so options are stored as in production)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from gamification.quizzes import services
from gamification.quizzes.models import Option, Question, QuestionBank, Quiz
from portal.db import utcnow
from portal.extensions import db


def loaded(questions: list[Question]) -> list[Question]:
    """The questions re-read with their options (the relationship never loads lazily)."""
    ids = [q.id for q in questions]
    found = {
        q.id: q
        for q in db.session.scalars(
            sa.select(Question)
            .options(selectinload(Question.options))
            .where(Question.id.in_(ids))
            .execution_options(populate_existing=True)
        )
    }
    return [found[i] for i in ids]


def options_of(question_id: int) -> list[Option]:
    return list(
        db.session.scalars(sa.select(Option).where(Option.question_id == question_id).order_by(Option.position))
    )


def make_bank(n: int = 4, language: str = "en", name: str = "Bank") -> tuple[QuestionBank, list[Question]]:
    """A bank of ``n`` single-choice questions: option "right N" is correct, "wrong N a/b" are not."""
    bank = services.create_bank(actor=None, name=name, language=language)
    questions = [
        services.add_question(
            actor=None,
            bank=bank,
            kind="single",
            text=f"Question {i}?",
            options=[(f"right {i}", True), (f"wrong {i} a", False), (f"wrong {i} b", False)],
            explanation=f"Because reason {i}.",
        )
        for i in range(1, n + 1)
    ]
    return bank, loaded(questions)


def make_quiz(n: int = 4, *, draw: int | None = None, **overrides) -> tuple[Quiz, list[Question]]:
    bank, questions = make_bank(n)
    now = utcnow()
    values = {
        "title": "Club quiz",
        "bank_id": bank.id,
        "opens_at": now - timedelta(hours=1),
        "closes_at": now + timedelta(days=1),
        "selection": "draw",
        "draw_count": draw or n,
        "time_limit_seconds": 300,
        "attempts_allowed": 2,
        "pass_percent": 50,
        "pass_points": 40,
        "points_per_correct": 5,
        "layout": "one",
    }
    values.update(overrides)
    return services.create_quiz(actor=None, data=services.QuizData(**values)), questions


def right_option(question: Question) -> int:
    return next(o.id for o in question.options if o.is_correct)


def wrong_option(question: Question) -> int:
    return next(o.id for o in question.options if not o.is_correct)
