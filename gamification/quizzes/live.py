"""Live quiz events: an admin runs a quiz for everyone online, one question at a time.

Questions go out over Socket.IO (room ``live_quiz:<id>``) only after the change that
opened them has committed; a question's payload carries option ids and texts, never
which is right. Answers come back over HTTP, are checked against the server's clock
(``seconds_per_question`` from the moment the question opened) and are final once
given. The scoreboard (right answers, then total response time) is pushed when the
host reveals each answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from gamification.quizzes import policies, services
from gamification.quizzes.models import LiveAnswer, LiveSession, LiveStatus, Question, QuestionKind, Quiz
from portal import events, jobs, realtime
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed


def room(session_id: int) -> str:
    return f"live_quiz:{session_id}"


def start_live(*, actor: Member, quiz: Quiz, seconds_per_question: int = 20) -> LiveSession:
    """Opens a live session in the waiting state, with its questions and option order drawn now."""
    if not policies.can_manage(actor):
        raise NotAllowed()
    if not 5 <= seconds_per_question <= 300:
        raise ValidationFailed(_l("Give between 5 and 300 seconds per question."), fields={"seconds": "range"})
    questions = services.draw_questions(quiz)  # the same fair draw as an attempt gets
    if not questions:
        raise Conflict(_l("This quiz has no questions yet."))
    order = {}
    for question in questions:
        ids = [option.id for option in question.options]
        services.shuffler.shuffle(ids)
        order[str(question.id)] = ids
    session = LiveSession(
        quiz_id=quiz.id, host_id=actor.id, question_ids=[q.id for q in questions], option_order=order,
        seconds_per_question=seconds_per_question,
    )  # fmt: skip
    db.session.add(session)
    db.session.flush()
    return session


def _host(actor: Member, session: LiveSession) -> None:
    if not policies.can_manage(actor):
        raise NotAllowed()
    if session.status == LiveStatus.FINISHED:
        raise Conflict(_l("This live quiz has finished."))


def next_question(*, actor: Member, session: LiveSession, now: datetime | None = None) -> LiveSession:
    """Opens the next question (or finishes after the last) and pushes it once committed."""
    _host(actor, session)
    session.current_index += 1
    if session.current_index >= len(session.question_ids):
        session.status = LiveStatus.FINISHED
        session.finished_at = now or utcnow()
    else:
        session.status = LiveStatus.QUESTION
        session.question_started_at = now or utcnow()
    events.after_commit(push_state, session.id)
    return session


def reveal(*, actor: Member, session: LiveSession) -> LiveSession:
    """Closes the current question, shows its answer and the scoreboard."""
    _host(actor, session)
    if session.status != LiveStatus.QUESTION:
        raise Conflict(_l("There is no open question to reveal."))
    session.status = LiveStatus.REVEAL
    events.after_commit(push_state, session.id)
    return session


def answer(
    *, actor: Member, session: LiveSession, question_id: int, option_ids: Sequence[int], now: datetime | None = None
) -> LiveAnswer:
    """Records a player's one answer to the open question, in time; a second answer is refused."""
    now = now or utcnow()
    if not policies.can_take(actor):
        raise NotAllowed(_l("Confirm your email address to take quizzes."))
    if session.status != LiveStatus.QUESTION or session.current_question_id != question_id:
        raise Conflict(_l("That question is no longer open."))
    deadline = session.question_started_at + timedelta(seconds=session.seconds_per_question) + services.GRACE
    if now > deadline:
        raise Conflict(_l("Time is up: answers sent after the deadline do not count."))
    allowed = session.option_order.get(str(question_id), [])
    chosen = list(dict.fromkeys(int(i) for i in option_ids))
    if not chosen or any(i not in allowed for i in chosen):
        raise ValidationFailed(_l("That answer is not one of this question's options."), fields={"answer": "foreign"})
    question = db.session.scalar(
        sa.select(Question).options(selectinload(Question.options)).where(Question.id == question_id)
    )
    if question.kind != QuestionKind.MULTIPLE and len(chosen) != 1:
        raise ValidationFailed(_l("Choose exactly one answer."), fields={"answer": "one"})
    record = LiveAnswer(
        session_id=session.id, question_id=question_id, member_id=actor.id, option_ids=chosen,
        is_correct=set(chosen) == question.correct_ids(), answered_at=now,
        response_ms=int((now - session.question_started_at).total_seconds() * 1000),
    )  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except sa.exc.IntegrityError:
        raise Conflict(_l("You have already answered this question; the first answer counts.")) from None
    events.after_commit(push_answer_count, session.id)
    return record


def scoreboard(session_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Players by right answers, then by total response time of those answers."""
    right = sa.func.sum(sa.case((LiveAnswer.is_correct, 1), else_=0))
    time = sa.func.sum(sa.case((LiveAnswer.is_correct, LiveAnswer.response_ms), else_=0))
    rows = db.session.execute(
        sa.select(LiveAnswer.member_id, Member.display_name, right.label("right"), time.label("ms"))
        .join(Member, Member.id == LiveAnswer.member_id)
        .where(LiveAnswer.session_id == session_id)
        .group_by(LiveAnswer.member_id, Member.display_name)
        .order_by(right.desc(), time, LiveAnswer.member_id)
        .limit(limit)
    )
    return [
        {"rank": rank, "member_id": member_id, "name": name, "right": int(r or 0), "ms": int(ms or 0)}
        for rank, (member_id, name, r, ms) in enumerate(rows, start=1)
    ]


def state(session: LiveSession, now: datetime | None = None) -> dict[str, Any]:
    """What a browser needs to show the session now; answers only once revealed."""
    now = now or utcnow()
    data: dict[str, Any] = {
        "session": session.id,
        "status": session.status,
        "index": session.current_index,
        "count": len(session.question_ids),
    }
    question_id = session.current_question_id
    if session.status in (LiveStatus.QUESTION, LiveStatus.REVEAL) and question_id is not None:
        question = db.session.scalar(
            sa.select(Question).options(selectinload(Question.options)).where(Question.id == question_id)
        )
        texts = {option.id: option.text for option in question.options}
        data["question"] = {
            "id": question.id,
            "text": question.text,
            "multiple": question.kind == QuestionKind.MULTIPLE,
            "options": [{"id": i, "text": texts[i]} for i in session.option_order[str(question.id)] if i in texts],
        }
        if session.status == LiveStatus.QUESTION:
            deadline = session.question_started_at + timedelta(seconds=session.seconds_per_question)
            data["seconds_left"] = max(int((deadline - now).total_seconds()), 0)
        else:
            data["right_ids"] = sorted(question.correct_ids())
    if session.status in (LiveStatus.REVEAL, LiveStatus.FINISHED):
        data["scoreboard"] = scoreboard(session.id)
    return data


def answer_count(session: LiveSession) -> int:
    question_id = session.current_question_id
    if question_id is None:
        return 0
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LiveAnswer)
            .where(LiveAnswer.session_id == session.id, LiveAnswer.question_id == question_id)
        )
        or 0
    )


@jobs.job
def push_state(session_id: int) -> None:
    """Sends the session's state to everyone in its room (after the change committed)."""
    session = db.session.get(LiveSession, session_id)
    if session is not None:
        realtime.emit_to_room(room(session.id), "live_quiz.state", state(session))


@jobs.job
def push_answer_count(session_id: int) -> None:
    session = db.session.get(LiveSession, session_id)
    if session is not None:
        realtime.emit_to_room(room(session.id), "live_quiz.answers", {"count": answer_count(session)})


def active_session(quiz_id: int) -> LiveSession | None:
    return db.session.scalar(
        sa.select(LiveSession)
        .where(LiveSession.quiz_id == quiz_id, LiveSession.status != LiveStatus.FINISHED)
        .order_by(LiveSession.id.desc())
        .limit(1)
    )
