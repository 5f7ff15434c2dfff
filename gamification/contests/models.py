"""Photo contests, their entries and the votes cast on them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Member
from portal.db import TimestampMixin, UTCDateTime, db, utcnow


class VotingMode(enum.StrEnum):
    SINGLE = "single"  # one vote per member per contest
    STARS = "stars"  # 1–5 stars per entry


class Phase(enum.StrEnum):
    UPCOMING = "upcoming"
    SUBMISSIONS = "submissions"
    REVIEW = "review"  # submissions closed, voting not yet open
    VOTING = "voting"
    CLOSED = "closed"


class EntryStatus(enum.StrEnum):
    PENDING = "pending"  # held for pre-moderation (or by a moderator)
    VISIBLE = "visible"
    HIDDEN = "hidden"  # rejected or hidden by a moderator
    DELETED = "deleted"


class Contest(TimestampMixin, db.Model):
    """A themed photo contest; its phase follows from its two windows."""

    __tablename__ = "contests"
    __table_args__ = (
        sa.CheckConstraint("voting_mode IN ('single', 'stars')", name="voting_mode_known"),
        sa.CheckConstraint("entries_per_member >= 1", name="entries_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_fa: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    theme_fa: Mapped[str] = mapped_column(sa.String(300))
    theme_en: Mapped[str] = mapped_column(sa.String(300))
    rules: Mapped[str] = mapped_column(sa.Text, default="")
    # Prize per rank, first place first: [{"points": 100, "reward": "..."}, ...]
    prizes: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    participation_points: Mapped[int] = mapped_column(default=0)
    submissions_open_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submissions_close_at: Mapped[datetime] = mapped_column(UTCDateTime())
    voting_open_at: Mapped[datetime] = mapped_column(UTCDateTime())
    voting_close_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    entries_per_member: Mapped[int] = mapped_column(default=1)
    voting_mode: Mapped[str] = mapped_column(sa.String(10), default=VotingMode.SINGLE.value)
    min_tier_to_enter: Mapped[str | None] = mapped_column(sa.String(40))
    min_tier_to_vote: Mapped[str | None] = mapped_column(sa.String(40))
    # A member segment (see ``policies.register_audience``) that alone may enter / vote; None: anyone.
    enter_segment_id: Mapped[int | None] = mapped_column()
    vote_segment_id: Mapped[int | None] = mapped_column()
    premoderate: Mapped[bool] = mapped_column(default=False)
    hide_counts: Mapped[bool] = mapped_column(default=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)

    def title(self, language: str) -> str:
        return self.title_fa if language == "fa" else self.title_en

    def theme(self, language: str) -> str:
        return self.theme_fa if language == "fa" else self.theme_en

    def phase(self, now: datetime | None = None) -> Phase:
        now = now or utcnow()
        if self.closed_at is not None or now >= self.voting_close_at:
            return Phase.CLOSED
        if now < self.submissions_open_at:
            return Phase.UPCOMING
        if now < self.submissions_close_at:
            return Phase.SUBMISSIONS
        if now < self.voting_open_at:
            return Phase.REVIEW
        return Phase.VOTING

    @property
    def is_final(self) -> bool:
        return self.closed_at is not None

    def prize_for(self, rank: int) -> dict[str, Any] | None:
        prizes = self.prizes or []
        return prizes[rank - 1] if 0 < rank <= len(prizes) else None


class Entry(db.Model):
    """One photo in a contest; stored re-encoded by ``portal.media``, never the original bytes."""

    __tablename__ = "contest_entries"
    __table_args__ = (sa.Index("ix_contest_entries_contest_status", "contest_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    caption: Mapped[str] = mapped_column(sa.String(300), default="")
    image: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(10), default=EntryStatus.VISIBLE.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Written once when the contest closes; the results are final.
    final_rank: Mapped[int | None] = mapped_column(index=True)
    final_score: Mapped[int | None]
    final_votes: Mapped[int | None]

    contest: Mapped[Contest] = relationship(lazy="raise_on_sql")
    member: Mapped[Member] = relationship(lazy="raise_on_sql")

    def image_key(self, variant: str = "display") -> str:
        return self.image.get(variant) or self.image.get("display", "")

    @property
    def is_visible(self) -> bool:
        return self.status == EntryStatus.VISIBLE


class Vote(TimestampMixin, db.Model):
    """A member's vote (stars = 1) or rating (1–5 stars); kept after closing, never shown publicly.

    ``ballot`` makes the rule a unique key: 0 in single-vote contests (one row per voter and
    contest, moved when the vote changes), the entry id in star contests (one row per entry).
    """

    __tablename__ = "contest_votes"
    __table_args__ = (
        sa.UniqueConstraint("contest_id", "voter_id", "ballot", name="uq_contest_votes_ballot"),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("contest_entries.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    ballot: Mapped[int] = mapped_column(default=0)
    stars: Mapped[int] = mapped_column(default=1)
