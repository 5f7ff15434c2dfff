"""The demo seeder: an open Persian quiz and an open English quiz, loaded once, that can be taken."""

from __future__ import annotations

import sqlalchemy as sa

from gamification.quizzes import demo, services
from gamification.quizzes.models import Question, Quiz
from portal.extensions import db
from tests.factories import MemberFactory


def test_demo_seeds_an_open_quiz_in_each_language_once():
    demo.seed_quizzes()
    demo.seed_quizzes()
    quizzes = db.session.scalars(sa.select(Quiz).order_by(Quiz.id)).all()
    assert [q.language for q in quizzes] == ["fa", "en"]
    assert all(q.is_open() for q in quizzes)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 12
    attempt = services.start_attempt(actor=MemberFactory(), quiz=quizzes[0])
    assert len(attempt.question_ids) == 5
