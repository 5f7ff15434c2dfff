"""Question banks, questions and their options, quizzes, attempts and the answers given in them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Member
from portal.db import TimestampMixin, UTCDateTime, db, utcnow


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "truefalse"


class Selection(enum.StrEnum):
    DRAW = "draw"  # N questions drawn at random from the bank for each attempt
    FIXED = "fixed"  # the same chosen questions every time (their order still shuffled)


class Layout(enum.StrEnum):
    ONE = "one"  # one question per page
    ALL = "all"  # every question on one page


class QuestionBank(TimestampMixin, db.Model):
    """A pool of questions in one language."""

    __tablename__ = "quiz_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(5), default="fa")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)


class Question(db.Model):
    """One question; its options say which are correct, and that never leaves the server before submission."""

    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_banks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), default=QuestionKind.SINGLE.value)
    text: Mapped[str] = mapped_column(sa.Text)
    image: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    options: Mapped[list[Option]] = relationship(
        back_populates="question", lazy="raise_on_sql", order_by="Option.position", cascade="all, delete-orphan"
    )

    def correct_ids(self) -> set[int]:
        return {option.id for option in self.options if option.is_correct}


class Option(db.Model):
    __tablename__ = "quiz_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.String(500))
    is_correct: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    question: Mapped[Question] = relationship(back_populates="options", lazy="raise_on_sql")


class Quiz(TimestampMixin, db.Model):
    """A timed quiz open in a window, drawing from a bank or using a fixed list of its questions."""

    __tablename__ = "quizzes"
    __table_args__ = (
        sa.CheckConstraint("pass_percent BETWEEN 0 AND 100", name="pass_percent_range"),
        sa.CheckConstraint("attempts_allowed >= 1", name="attempts_positive"),
        sa.CheckConstraint("time_limit_seconds >= 10", name="time_limit_sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    language: Mapped[str] = mapped_column(sa.String(5), default="fa")
    bank_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_banks.id", ondelete="RESTRICT"), index=True)
    selection: Mapped[str] = mapped_column(sa.String(10), default=Selection.DRAW.value)
    draw_count: Mapped[int] = mapped_column(default=10)
    fixed_question_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    time_limit_seconds: Mapped[int] = mapped_column(default=600)
    attempts_allowed: Mapped[int] = mapped_column(default=1)
    pass_percent: Mapped[int] = mapped_column(default=60)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    pass_points: Mapped[int] = mapped_column(default=0)
    points_per_correct: Mapped[int] = mapped_column(default=0)
    layout: Mapped[str] = mapped_column(sa.String(5), default=Layout.ONE.value)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)

    bank: Mapped[QuestionBank] = relationship(lazy="raise_on_sql")

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.opens_at <= now < self.closes_at


class Attempt(db.Model):
    """One member's go at a quiz: the questions and option order drawn for it, its deadline, its score."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "member_id", "number", name="uq_quiz_attempts_number"),
        sa.Index("ix_quiz_attempts_open", "submitted_at", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    question_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    option_order: Mapped[dict[str, list[int]]] = mapped_column(sa.JSON)
    correct_count: Mapped[int | None]
    total: Mapped[int] = mapped_column(default=0)
    score_percent: Mapped[int | None] = mapped_column(index=True)
    passed: Mapped[bool | None]
    duration_seconds: Mapped[int | None]
    points: Mapped[int] = mapped_column(default=0)

    quiz: Mapped[Quiz] = relationship(lazy="raise_on_sql")
    member: Mapped[Member] = relationship(lazy="raise_on_sql")

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class AttemptAnswer(db.Model):
    """The options chosen for one question of an attempt; only answers that arrived in time are stored."""

    __tablename__ = "quiz_answers"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "question_id", name="uq_quiz_answers_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempts.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True)
    option_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_correct: Mapped[bool | None]


class LiveStatus(enum.StrEnum):
    WAITING = "waiting"
    QUESTION = "question"
    REVEAL = "reveal"
    FINISHED = "finished"


class LiveSession(db.Model):
    """A quiz run live by an admin for everyone online: one question at a time, pushed over Socket.IO."""

    __tablename__ = "quiz_live_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=LiveStatus.WAITING.value)
    question_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    option_order: Mapped[dict[str, list[int]]] = mapped_column(sa.JSON)
    current_index: Mapped[int] = mapped_column(default=-1)
    question_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seconds_per_question: Mapped[int] = mapped_column(default=20)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def current_question_id(self) -> int | None:
        if 0 <= self.current_index < len(self.question_ids):
            return self.question_ids[self.current_index]
        return None


class LiveAnswer(db.Model):
    """A player's answer to one live question; the first answer is final."""

    __tablename__ = "quiz_live_answers"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "question_id", "member_id", name="uq_quiz_live_answers_player"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_live_sessions.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    option_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    is_correct: Mapped[bool] = mapped_column(default=False)
    response_ms: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
