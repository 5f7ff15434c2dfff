"""The writers of quizzes: banks and questions, quizzes, and the attempt lifecycle (start, answer, submit).

The clock is the server's: an attempt's deadline is fixed when it starts, an answer
arriving after it is refused, and a late submission is scored with what arrived in
time. Points are the engine's business: ``quiz.completed`` and ``quiz.passed`` carry
the intended amounts as attributes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from gamification.quizzes import (
    kinds,  # noqa: F401 - registers the notification kinds
    policies,
)
from gamification.quizzes.models import (
    Attempt,
    AttemptAnswer,
    Layout,
    Option,
    Question,
    QuestionBank,
    QuestionKind,
    Quiz,
    Selection,
)
from portal import media
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit
from portal.notifications.services import notify

QUESTION_IMAGE = media.ImageSpec("quizzes", {"display": (1200, 1200), "thumb": (320, 320)})
# Network latency allowance: an answer sent in the last instant still counts.
GRACE = timedelta(seconds=2)
MAX_OPTIONS = 6
LANGUAGES = ("fa", "en")
TRUE_FALSE_LABELS = {"fa": ("درست", "نادرست"), "en": ("True", "False")}
shuffler = random.SystemRandom()  # the order must not be guessable from anything the member sees


def _audit(actor: Member | None, kind: str, object_id: int, action: str, **attributes: Any) -> None:
    emit(
        "audit.logged",
        member_id=actor.id if actor else None,
        source=(kind, object_id),
        attributes={"action": action, **attributes},
    )


def _require_admin(actor: Member | None) -> None:
    if actor is not None and not policies.can_manage(actor):
        raise NotAllowed()


# --- banks and questions ----------------------------------------------------------------------


def create_bank(*, actor: Member | None, name: str, language: str) -> QuestionBank:
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Please give the question bank a name."), fields={"name": "required"})
    if language not in LANGUAGES:
        raise ValidationFailed(_l("Choose a language."), fields={"language": "unknown"})
    bank = QuestionBank(name=name[:200], language=language, created_by_id=actor.id if actor else None)
    db.session.add(bank)
    db.session.flush()
    _audit(actor, "quiz_bank", bank.id, "quizzes.create_bank", before={}, after={"name": bank.name})
    return bank


def add_question(
    *,
    actor: Member | None,
    bank: QuestionBank,
    kind: str,
    text: str,
    options: Sequence[tuple[str, bool]] = (),
    true_is_correct: bool = True,
    explanation: str = "",
    image: IO[bytes] | bytes | None = None,
) -> Question:
    """Adds a question; options are (text, is_correct) pairs (true/false questions make their own)."""
    _require_admin(actor)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_l("Please write the question."), fields={"text": "required"})
    if kind == QuestionKind.TRUE_FALSE:
        yes, no = TRUE_FALSE_LABELS[bank.language]
        pairs = [(yes, true_is_correct), (no, not true_is_correct)]
    elif kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        pairs = [((t or "").strip()[:500], bool(c)) for t, c in options if (t or "").strip()]
        if not 2 <= len(pairs) <= MAX_OPTIONS:
            raise ValidationFailed(_l("Give between 2 and %(n)s options.", n=MAX_OPTIONS), fields={"options": "count"})
        correct = sum(1 for _t, c in pairs if c)
        if kind == QuestionKind.SINGLE and correct != 1:
            raise ValidationFailed(
                _l("A single-choice question needs exactly one correct option."), fields={"options": "correct"}
            )
        if kind == QuestionKind.MULTIPLE and correct < 1:
            raise ValidationFailed(_l("Mark at least one option as correct."), fields={"options": "correct"})
    else:
        raise ValidationFailed(_l("Choose a question type."), fields={"kind": "unknown"})
    stored = media.store_image(image, QUESTION_IMAGE) if image else None
    question = Question(
        bank_id=bank.id, kind=kind, text=text, explanation=(explanation or "").strip(),
        image=stored.variants if stored else None,
    )  # fmt: skip
    db.session.add(question)
    db.session.flush()
    # Rows are inserted in a random order, so that option ids never reveal the order the admin
    # typed them in (admins tend to type the right answer first); ``position`` keeps that order.
    numbered = list(enumerate(pairs))
    shuffler.shuffle(numbered)
    for position, (option_text, is_correct) in numbered:
        db.session.add(Option(question_id=question.id, text=option_text, is_correct=is_correct, position=position))
    db.session.flush()
    _audit(actor, "quiz_question", question.id, "quizzes.add_question", before={}, after={"text": text[:200]})
    return question


def archive_question(*, actor: Member, question: Question) -> None:
    """Takes a question out of future quizzes; attempts that used it keep it."""
    _require_admin(actor)
    question.is_archived = True
    _audit(actor, "quiz_question", question.id, "quizzes.archive_question", before={}, after={"archived": True})


# --- quizzes ----------------------------------------------------------------------------------


@dataclass
class QuizData:
    title: str
    bank_id: int
    opens_at: datetime
    closes_at: datetime
    description: str = ""
    selection: str = Selection.DRAW.value
    draw_count: int = 10
    fixed_question_ids: list[int] = field(default_factory=list)
    time_limit_seconds: int = 600
    attempts_allowed: int = 1
    pass_percent: int = 60
    pass_points: int = 0
    points_per_correct: int = 0
    layout: str = Layout.ONE.value

    def snapshot(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def _validate_quiz(data: QuizData) -> QuestionBank:
    if not (data.title or "").strip():
        raise ValidationFailed(_l("Please give the quiz a title."), fields={"title": "required"})
    bank = db.session.get(QuestionBank, data.bank_id)
    if bank is None:
        raise ValidationFailed(_l("Choose a question bank."), fields={"bank_id": "unknown"})
    if not data.opens_at < data.closes_at:
        raise ValidationFailed(_l("The quiz must close after it opens."), fields={"closes_at": "before_open"})
    if not 10 <= data.time_limit_seconds <= 6 * 3600:
        raise ValidationFailed(
            _l("The time limit must be between 10 seconds and 6 hours."), fields={"time_limit_seconds": "range"}
        )
    if not 1 <= data.attempts_allowed <= 100:
        raise ValidationFailed(_l("Allow between 1 and 100 attempts."), fields={"attempts_allowed": "range"})
    if not 0 <= data.pass_percent <= 100:
        raise ValidationFailed(_l("The pass mark is a percentage from 0 to 100."), fields={"pass_percent": "range"})
    if data.pass_points < 0 or data.points_per_correct < 0:
        raise ValidationFailed(_l("Points cannot be negative."), fields={"pass_points": "negative"})
    if data.layout not in {layout.value for layout in Layout}:
        raise ValidationFailed(_l("Choose how questions are shown."), fields={"layout": "unknown"})
    available = set(
        db.session.scalars(sa.select(Question.id).where(Question.bank_id == bank.id, Question.is_archived.is_(False)))
    )
    if data.selection == Selection.DRAW:
        if not 1 <= data.draw_count <= len(available):
            raise ValidationFailed(
                _l("The bank has %(n)s questions; draw between 1 and that many.", n=len(available)),
                fields={"draw_count": "range"},
            )
    elif data.selection == Selection.FIXED:
        if not data.fixed_question_ids or not set(data.fixed_question_ids) <= available:
            raise ValidationFailed(
                _l("Choose at least one question, all from the quiz's bank."), fields={"fixed_question_ids": "invalid"}
            )
    else:
        raise ValidationFailed(_l("Choose how questions are picked."), fields={"selection": "unknown"})
    return bank


def _apply(quiz: Quiz, data: QuizData, bank: QuestionBank) -> None:
    quiz.title = data.title.strip()[:200]
    quiz.description = data.description or ""
    quiz.language = bank.language
    quiz.bank_id = bank.id
    quiz.selection = data.selection
    quiz.draw_count = data.draw_count
    quiz.fixed_question_ids = list(dict.fromkeys(data.fixed_question_ids)) if data.selection == Selection.FIXED else []
    quiz.time_limit_seconds = data.time_limit_seconds
    quiz.attempts_allowed = data.attempts_allowed
    quiz.pass_percent = data.pass_percent
    quiz.opens_at = data.opens_at
    quiz.closes_at = data.closes_at
    quiz.pass_points = data.pass_points
    quiz.points_per_correct = data.points_per_correct
    quiz.layout = data.layout


def create_quiz(*, actor: Member | None, data: QuizData) -> Quiz:
    _require_admin(actor)
    bank = _validate_quiz(data)
    quiz = Quiz(created_by_id=actor.id if actor else None)
    _apply(quiz, data, bank)
    db.session.add(quiz)
    db.session.flush()
    _audit(actor, "quiz", quiz.id, "quizzes.create", before={}, after=data.snapshot())
    return quiz


def update_quiz(*, actor: Member, quiz: Quiz, data: QuizData) -> Quiz:
    """Edits a quiz; attempts already started keep the questions and deadline they were given."""
    _require_admin(actor)
    bank = _validate_quiz(data)
    before = {"title": quiz.title, "pass_percent": quiz.pass_percent, "time_limit_seconds": quiz.time_limit_seconds}
    _apply(quiz, data, bank)
    _audit(actor, "quiz", quiz.id, "quizzes.update", before=before, after=data.snapshot())
    return quiz


# --- attempts ---------------------------------------------------------------------------------


def attempts_used(quiz_id: int, member_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Attempt)
            .where(Attempt.quiz_id == quiz_id, Attempt.member_id == member_id)
        )
        or 0
    )


def open_attempt(quiz_id: int, member_id: int) -> Attempt | None:
    """The member's unsubmitted attempt at this quiz, if any (expired or not)."""
    return db.session.scalar(
        sa.select(Attempt).where(
            Attempt.quiz_id == quiz_id, Attempt.member_id == member_id, Attempt.submitted_at.is_(None)
        )
    )


def draw_questions(quiz: Quiz) -> list[Question]:
    if quiz.selection == Selection.FIXED:
        ids = list(quiz.fixed_question_ids)
    else:
        pool = list(
            db.session.scalars(
                sa.select(Question.id).where(Question.bank_id == quiz.bank_id, Question.is_archived.is_(False))
            )
        )
        ids = shuffler.sample(pool, min(quiz.draw_count, len(pool)))
    questions = list(
        db.session.scalars(sa.select(Question).options(selectinload(Question.options)).where(Question.id.in_(ids)))
    )
    shuffler.shuffle(questions)
    return questions


def start_attempt(*, actor: Member, quiz: Quiz, now: datetime | None = None) -> Attempt:
    """Resumes the member's running attempt, or starts a new one if the quiz is open and attempts remain."""
    now = now or utcnow()
    if not policies.can_take(actor):
        raise NotAllowed(_l("Confirm your email address to take quizzes."))
    running = open_attempt(quiz.id, actor.id)
    if running is not None:
        if now <= running.deadline_at + GRACE:
            return running
        _finish(running, now)  # time ran out while the member was away: score what arrived
    if not quiz.is_open(now):
        raise Conflict(_l("This quiz has not opened yet.") if now < quiz.opens_at else _l("This quiz has closed."))
    used = attempts_used(quiz.id, actor.id)
    if used >= quiz.attempts_allowed:
        raise Conflict(_l("You have used all your attempts at this quiz."))
    questions = draw_questions(quiz)
    if not questions:
        raise Conflict(_l("This quiz has no questions yet."))
    order: dict[str, list[int]] = {}
    for question in questions:
        option_ids = [option.id for option in question.options]
        shuffler.shuffle(option_ids)
        order[str(question.id)] = option_ids
    deadline = min(now + timedelta(seconds=quiz.time_limit_seconds), quiz.closes_at)
    attempt = Attempt(
        quiz_id=quiz.id, member_id=actor.id, number=used + 1, started_at=now, deadline_at=deadline,
        question_ids=[q.id for q in questions], option_order=order, total=len(questions),
    )  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except sa.exc.IntegrityError:
        # The same member started twice at once (two tabs, a double click): use the one that won.
        existing = open_attempt(quiz.id, actor.id)
        if existing is None:
            raise Conflict(_l("You have used all your attempts at this quiz.")) from None
        return existing
    return attempt


def _check_owner(actor: Member, attempt: Attempt) -> None:
    if not policies.owns(actor, attempt):
        raise NotFound()


def answer_question(
    *, actor: Member, attempt: Attempt, question_id: int, option_ids: Sequence[int], now: datetime | None = None
) -> AttemptAnswer:
    """Stores (or replaces) the answer to one question of a running attempt.

    Refused: a question that is not in this attempt, options of another question, an
    attempt already submitted, and anything arriving after the deadline.
    """
    now = now or utcnow()
    _check_owner(actor, attempt)
    if attempt.is_submitted:
        raise Conflict(_l("This attempt has already been submitted; the answer was not saved."))
    if now > attempt.deadline_at + GRACE:
        raise Conflict(_l("Time is up: answers sent after the deadline do not count."))
    if question_id not in attempt.question_ids:
        raise ValidationFailed(_l("That question is not part of this attempt."), fields={"question_id": "foreign"})
    allowed = attempt.option_order.get(str(question_id), [])
    chosen = list(dict.fromkeys(int(i) for i in option_ids))
    if not chosen:
        raise ValidationFailed(_l("Choose an answer first."), fields={"answer": "required"})
    if any(option_id not in allowed for option_id in chosen):
        raise ValidationFailed(_l("That answer is not one of this question's options."), fields={"answer": "foreign"})
    kind = db.session.scalar(sa.select(Question.kind).where(Question.id == question_id))
    if kind != QuestionKind.MULTIPLE and len(chosen) != 1:
        raise ValidationFailed(_l("Choose exactly one answer."), fields={"answer": "one"})
    answer = db.session.scalar(
        sa.select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.question_id == question_id)
    )
    if answer is None:
        try:
            with db.session.begin_nested():
                answer = AttemptAnswer(
                    attempt_id=attempt.id, question_id=question_id, option_ids=chosen, answered_at=now
                )
                db.session.add(answer)
            return answer
        except sa.exc.IntegrityError:
            answer = db.session.scalar(
                sa.select(AttemptAnswer).where(
                    AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.question_id == question_id
                )
            )
    answer.option_ids = chosen
    answer.answered_at = now
    return answer


def submit_attempt(*, actor: Member, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Scores the attempt once; a second submission (double click, second tab) changes nothing.

    A submission after the deadline is still scored, with the answers that arrived in time.
    """
    _check_owner(actor, attempt)
    return _finish(attempt, now or utcnow())


def _finish(attempt: Attempt, now: datetime) -> Attempt:
    claimed = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attempt)
    if claimed.rowcount != 1:
        return attempt  # already scored by an earlier submission
    _score(attempt, now)
    return attempt


def _score(attempt: Attempt, now: datetime) -> None:
    quiz = db.session.get(Quiz, attempt.quiz_id)
    questions = {
        q.id: q
        for q in db.session.scalars(
            sa.select(Question).options(selectinload(Question.options)).where(Question.id.in_(attempt.question_ids))
        )
    }
    answers = db.session.scalars(sa.select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).all()
    in_time = attempt.deadline_at + GRACE
    correct = 0
    for answer in answers:
        question = questions.get(answer.question_id)
        answer.is_correct = bool(
            question is not None and answer.answered_at <= in_time and set(answer.option_ids) == question.correct_ids()
        )
        correct += answer.is_correct
    total = attempt.total or 1
    attempt.correct_count = correct
    attempt.score_percent = round(100 * correct / total)
    attempt.passed = attempt.score_percent >= quiz.pass_percent
    finished = min(now, attempt.deadline_at)
    attempt.duration_seconds = max(int((finished - attempt.started_at).total_seconds()), 0)
    earlier = sa.select(Attempt.id).where(
        Attempt.quiz_id == quiz.id, Attempt.member_id == attempt.member_id, Attempt.id != attempt.id
    )
    first_completed = db.session.scalar(earlier.where(Attempt.correct_count.is_not(None)).limit(1)) is None
    first_pass = attempt.passed and db.session.scalar(earlier.where(Attempt.passed.is_(True)).limit(1)) is None
    # Per-correct points are offered for the first completed attempt only, passing points for the
    # first pass only, so that retrying a quiz is practice, not a points machine.
    correct_points = quiz.points_per_correct * correct if first_completed else 0
    pass_points = quiz.pass_points if first_pass else 0
    attempt.points = correct_points + pass_points
    facts = {
        "quiz_id": quiz.id, "attempt_id": attempt.id, "score": attempt.score_percent,
        "correct": correct, "total": attempt.total, "passed": attempt.passed,
    }  # fmt: skip
    emit(
        "quiz.completed",
        member_id=attempt.member_id,
        source=("quiz_attempt", attempt.id),
        attributes={
            **facts,
            "points": correct_points,
            "amount": correct_points,
            "duration_seconds": attempt.duration_seconds,
        },
    )
    if first_pass:
        emit(
            "quiz.passed",
            member_id=attempt.member_id,
            source=("quiz_pass", f"{quiz.id}:{attempt.member_id}"),
            attributes={**facts, "points": pass_points, "amount": pass_points},
        )
        notify(
            attempt.member_id,
            "quiz.passed",
            {"title": quiz.title, "score": attempt.score_percent},
            url=f"/quizzes/attempts/{attempt.id}/result",
        )


def finish_expired_attempts(now: datetime | None = None) -> int:
    """Scores every attempt whose time ran out without a submission (the member left)."""
    now = now or utcnow()
    expired = db.session.scalars(
        sa.select(Attempt).where(Attempt.submitted_at.is_(None), Attempt.deadline_at < now - GRACE).order_by(Attempt.id)
    ).all()
    for attempt in expired:
        _finish(attempt, now)
    return len(expired)
