"""Quiz rules in the services: questions, drawing, the server's clock, scoring once, events and the leaderboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from gamification.quizzes import queries, services
from gamification.quizzes.models import AttemptAnswer, Question
from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from tests.factories import AdminFactory, MemberFactory
from tests.gamification.quizzes.factories import make_bank, make_quiz, options_of, right_option, wrong_option
from tests.portal.web import recorded_events


def _by_id(questions):
    return {q.id: q for q in questions}


def _answer_all(member, attempt, questions, right: int, now=None):
    """Answers the attempt's first ``right`` questions correctly and the rest wrongly."""
    lookup = _by_id(questions)
    for index, question_id in enumerate(attempt.question_ids):
        option = right_option(lookup[question_id]) if index < right else wrong_option(lookup[question_id])
        services.answer_question(actor=member, attempt=attempt, question_id=question_id, option_ids=[option], now=now)


# --- questions ---------------------------------------------------------------------------------


def test_true_false_questions_get_their_options_in_the_banks_language():
    bank, _ = make_bank(0, language="fa")
    question = services.add_question(
        actor=None, bank=bank, kind="truefalse", text="زمین گرد است؟", true_is_correct=True
    )
    assert sorted((o.text, o.is_correct) for o in options_of(question.id)) == [("درست", True), ("نادرست", False)]


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("single", [("a", True), ("b", True)], "exactly one correct"),
        ("single", [("a", True)], "between 2 and 6"),
        ("multiple", [("a", False), ("b", False)], "at least one"),
        ("essay", [("a", True), ("b", False)], "question type"),
    ],
)
def test_invalid_questions_are_refused(kind, options, message):
    bank, _ = make_bank(0)
    with pytest.raises(ValidationFailed, match=message):
        services.add_question(actor=None, bank=bank, kind=kind, text="Q?", options=options)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0


def test_options_keep_the_typed_order_in_their_position():
    bank, _ = make_bank(0)
    question = services.add_question(
        actor=None, bank=bank, kind="multiple", text="Q?", options=[("a", True), ("b", False), ("c", True)]
    )
    assert [o.text for o in options_of(question.id)] == ["a", "b", "c"]


def test_a_member_cannot_build_banks():
    with pytest.raises(NotAllowed):
        services.create_bank(actor=MemberFactory(), name="Mine", language="en")


def test_quiz_drawing_more_questions_than_the_bank_has_is_refused():
    bank, _ = make_bank(3)
    now = utcnow()
    data = services.QuizData(title="Q", bank_id=bank.id, opens_at=now, closes_at=now + timedelta(days=1), draw_count=5)
    with pytest.raises(ValidationFailed) as caught:
        services.create_quiz(actor=AdminFactory(), data=data)
    assert "draw_count" in caught.value.fields


# --- starting and resuming -------------------------------------------------------------------


def test_an_attempt_draws_n_questions_and_stores_a_shuffled_option_order_per_question():
    quiz, questions = make_quiz(6, draw=4)
    member = MemberFactory()
    attempt = services.start_attempt(actor=member, quiz=quiz)
    assert len(attempt.question_ids) == 4
    assert len(set(attempt.question_ids)) == 4
    assert set(attempt.question_ids) <= {q.id for q in questions}
    lookup = _by_id(questions)
    for question_id in attempt.question_ids:
        assert sorted(attempt.option_order[str(question_id)]) == sorted(o.id for o in lookup[question_id].options)
    assert attempt.deadline_at == attempt.started_at + timedelta(seconds=300)
    shown = queries.attempt_questions(attempt)
    assert [s.question.id for s in shown] == attempt.question_ids
    assert [o.id for o in shown[0].options] == attempt.option_order[str(attempt.question_ids[0])]


def test_orders_differ_between_attempts():
    quiz, _ = make_quiz(8, attempts_allowed=50)
    member = MemberFactory()
    orders = set()
    for _ in range(6):
        attempt = services.start_attempt(actor=member, quiz=quiz)
        orders.add((tuple(attempt.question_ids), tuple(attempt.option_order[str(attempt.question_ids[0])])))
        services.submit_attempt(actor=member, attempt=attempt)
    assert len(orders) > 1


def test_leaving_and_returning_resumes_the_same_attempt():
    quiz, _ = make_quiz()
    member = MemberFactory()
    first = services.start_attempt(actor=member, quiz=quiz)
    assert services.start_attempt(actor=member, quiz=quiz) is first
    assert services.attempts_used(quiz.id, member.id) == 1


def test_the_attempts_limit_holds():
    quiz, _ = make_quiz(attempts_allowed=1)
    member = MemberFactory()
    services.submit_attempt(actor=member, attempt=services.start_attempt(actor=member, quiz=quiz))
    with pytest.raises(Conflict, match="used all your attempts"):
        services.start_attempt(actor=member, quiz=quiz)


@pytest.mark.parametrize(("shift", "message"), [(timedelta(days=2), "not opened yet"), (-timedelta(days=3), "closed")])
def test_a_quiz_outside_its_window_cannot_be_started(shift, message):
    now = utcnow()
    quiz, _ = make_quiz(opens_at=now + shift - timedelta(hours=1), closes_at=now + shift)
    if shift > timedelta(0):
        quiz.opens_at, quiz.closes_at = now + shift, now + shift + timedelta(days=1)
    with pytest.raises(Conflict, match=message):
        services.start_attempt(actor=MemberFactory(), quiz=quiz)


def test_the_deadline_never_passes_the_quiz_closing_time():
    now = utcnow()
    quiz, _ = make_quiz(closes_at=now + timedelta(seconds=60))
    attempt = services.start_attempt(actor=MemberFactory(), quiz=quiz, now=now)
    assert attempt.deadline_at == quiz.closes_at


# --- answering on the server's clock ----------------------------------------------------------


def test_an_answer_after_the_deadline_does_not_count():
    quiz, questions = make_quiz()
    member = MemberFactory()
    attempt = services.start_attempt(actor=member, quiz=quiz)
    question = _by_id(questions)[attempt.question_ids[0]]
    late = attempt.deadline_at + timedelta(seconds=3)
    with pytest.raises(Conflict, match="Time is up"):
        services.answer_question(
            actor=member, attempt=attempt, question_id=question.id, option_ids=[right_option(question)], now=late
        )
    assert queries.answers_of(attempt.id) == {}


def test_a_late_submission_is_scored_with_what_arrived_in_time():
    quiz, questions = make_quiz(4)
    member = MemberFactory()
    start = utcnow()
    attempt = services.start_attempt(actor=member, quiz=quiz, now=start)
    _answer_all(member, attempt, questions, right=2, now=start + timedelta(seconds=30))
    services.submit_attempt(actor=member, attempt=attempt, now=start + timedelta(hours=2))
    assert (attempt.correct_count, attempt.score_percent, attempt.passed) == (2, 50, True)
    assert attempt.duration_seconds == 300  # capped at the time limit


def test_answers_to_questions_not_in_the_attempt_are_refused():
    quiz, questions = make_quiz(6, draw=2)
    member = MemberFactory()
    attempt = services.start_attempt(actor=member, quiz=quiz)
    outside = next(q for q in questions if q.id not in attempt.question_ids)
    with pytest.raises(ValidationFailed, match="not part of this attempt"):
        services.answer_question(
            actor=member, attempt=attempt, question_id=outside.id, option_ids=[right_option(outside)]
        )
    inside = _by_id(questions)[attempt.question_ids[0]]
    with pytest.raises(ValidationFailed, match="not one of this question's options"):
        services.answer_question(
            actor=member, attempt=attempt, question_id=inside.id, option_ids=[right_option(outside)]
        )
    with pytest.raises(ValidationFailed, match="exactly one"):
        services.answer_question(
            actor=member, attempt=attempt, question_id=inside.id, option_ids=[o.id for o in inside.options][:2]
        )
    assert queries.answers_of(attempt.id) == {}


def test_someone_elses_attempt_is_not_found():
    quiz, _questions = make_quiz()
    attempt = services.start_attempt(actor=MemberFactory(), quiz=quiz)
    with pytest.raises(NotFound):
        services.answer_question(
            actor=MemberFactory(), attempt=attempt, question_id=attempt.question_ids[0], option_ids=[1]
        )


def test_changing_an_answer_keeps_one_row():
    quiz, questions = make_quiz()
    member = MemberFactory()
    attempt = services.start_attempt(actor=member, quiz=quiz)
    question = _by_id(questions)[attempt.question_ids[0]]
    for option in (wrong_option(question), right_option(question)):
        services.answer_question(actor=member, attempt=attempt, question_id=question.id, option_ids=[option])
    rows = db.session.scalars(sa.select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).all()
    assert [r.option_ids for r in rows] == [[right_option(question)]]


# --- scoring, events, leaderboard --------------------------------------------------------------


def test_submitting_twice_counts_once():
    quiz, questions = make_quiz(4)
    member = MemberFactory()
    attempt = services.start_attempt(actor=member, quiz=quiz)
    _answer_all(member, attempt, questions, right=4)
    with recorded_events("quiz.*") as seen:
        services.submit_attempt(actor=member, attempt=attempt)
        services.submit_attempt(actor=member, attempt=attempt)
    assert [e.type for e in seen] == ["quiz.completed", "quiz.passed"]
    completed, passed = seen
    assert completed.source == ("quiz_attempt", attempt.id)
    assert completed.member_id == member.id
    expected = {"quiz_id": quiz.id, "score": 100, "correct": 4, "total": 4, "points": 20, "passed": True}
    assert expected.items() <= completed.attributes.items()
    assert passed.source == ("quiz_pass", f"{quiz.id}:{member.id}")
    assert passed.attributes["points"] == 40
    assert passed.attributes["correct"] == 4
    assert attempt.points == 60
    with pytest.raises(Conflict, match="already been submitted"):
        services.answer_question(actor=member, attempt=attempt, question_id=attempt.question_ids[0], option_ids=[1])


def test_a_failed_attempt_emits_completed_but_not_passed():
    quiz, questions = make_quiz(4, pass_percent=75)
    member = MemberFactory()
    attempt = services.start_attempt(actor=member, quiz=quiz)
    _answer_all(member, attempt, questions, right=2)
    with recorded_events("quiz.*") as seen:
        services.submit_attempt(actor=member, attempt=attempt)
    assert [e.type for e in seen] == ["quiz.completed"]
    assert attempt.passed is False
    assert attempt.points == 10


def test_retrying_pays_passing_and_per_answer_points_only_the_first_time():
    quiz, questions = make_quiz(2, attempts_allowed=3)
    member = MemberFactory()
    for _ in range(2):
        attempt = services.start_attempt(actor=member, quiz=quiz)
        _answer_all(member, attempt, questions, right=2)
        with recorded_events("quiz.*") as seen:
            services.submit_attempt(actor=member, attempt=attempt)
    assert [e.type for e in seen] == ["quiz.completed"]
    assert seen[0].attributes["points"] == 0
    assert attempt.points == 0


def test_an_abandoned_attempt_is_scored_by_the_job_and_on_return():
    quiz, questions = make_quiz(2, attempts_allowed=2)
    member = MemberFactory()
    start = utcnow() - timedelta(minutes=10)
    attempt = services.start_attempt(actor=member, quiz=quiz, now=start)
    _answer_all(member, attempt, questions, right=1, now=start + timedelta(seconds=5))
    assert services.finish_expired_attempts() == 1
    assert attempt.is_submitted
    assert attempt.correct_count == 1
    assert services.finish_expired_attempts() == 0
    # Returning after the deadline starts a fresh attempt, not the old one.
    fresh_attempt = services.start_attempt(actor=member, quiz=quiz)
    assert fresh_attempt.id != attempt.id
    assert fresh_attempt.number == 2


def test_leaderboard_ranks_best_score_then_fastest_time_one_row_per_member():
    quiz, questions = make_quiz(2, attempts_allowed=5)
    start = utcnow() - timedelta(minutes=3)
    fast, slow, weak = (
        MemberFactory(display_name="Fast"),
        MemberFactory(display_name="Slow"),
        MemberFactory(display_name="Weak"),
    )
    for member, right, seconds in [(fast, 2, 40), (slow, 2, 90), (weak, 1, 10), (fast, 1, 5)]:
        attempt = services.start_attempt(actor=member, quiz=quiz, now=start)
        _answer_all(member, attempt, questions, right=right, now=start)
        services.submit_attempt(actor=member, attempt=attempt, now=start + timedelta(seconds=seconds))
    board = queries.leaderboard(quiz.id)
    assert [(r.display_name, r.score_percent, r.duration_seconds) for r in board] == [
        ("Fast", 100, 40),
        ("Slow", 100, 90),
        ("Weak", 50, 10),
    ]
