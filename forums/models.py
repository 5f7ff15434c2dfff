"""Forum tables: categories, topics, posts (with revisions), likes, follows, read state, polls, digest preferences."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Member
from portal.db import UTCDateTime, db, utcnow


class PostStatus(enum.StrEnum):
    """Only visible posts count and show; held ones wait for a moderator, hidden/deleted are gone."""

    VISIBLE = "visible"
    HELD = "held"
    HIDDEN = "hidden"
    DELETED = "deleted"


STATUS_VALUES = [status.value for status in PostStatus]
_STATUS_CHECK = f"status IN ({', '.join(repr(s) for s in STATUS_VALUES)})"

# Colours are CSS classes (the CSP forbids inline styles), so only known names are stored.
CATEGORY_COLOURS = ["blue", "green", "orange", "purple", "red", "teal", "grey"]


class Category(db.Model):
    """A forum; ``parent_id`` gives one level of sub-categories. Empty role list and no tier mean open."""

    __tablename__ = "forum_categories"
    __table_args__ = (sa.Index("ix_forum_categories_parent_position", "parent_id", "position", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forum_categories.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    icon: Mapped[str] = mapped_column(sa.String(16), default="💬")
    colour: Mapped[str] = mapped_column(sa.String(16), default="blue")
    position: Mapped[int] = mapped_column(default=0)
    allowed_roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    min_tier: Mapped[str | None] = mapped_column(sa.String(40))
    topic_count: Mapped[int] = mapped_column(default=0, server_default="0")
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Denormalised pointers without a foreign key: categories, topics and posts point at each
    # other, and a cycle of constraints would only complicate deletes for no integrity gain.
    last_topic_id: Mapped[int | None] = mapped_column(index=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_restricted(self) -> bool:
        return bool(self.allowed_roles) or bool(self.min_tier)


class Topic(db.Model):
    """A discussion; its first post (position 1) is the opening message."""

    __tablename__ = "forum_topics"
    __table_args__ = (
        sa.CheckConstraint(_STATUS_CHECK, name="status_known"),
        sa.Index("ix_forum_topics_category_activity", "category_id", "status", "is_pinned", "last_post_at", "id"),
        sa.Index("ix_forum_topics_activity", "status", "last_post_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_categories.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(10), default=PostStatus.VISIBLE.value)
    is_pinned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_locked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_closed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    has_poll: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    reply_count: Mapped[int] = mapped_column(default=0, server_default="0")
    view_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The last position handed out; positions are dense per topic and never reused.
    post_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    first_post_id: Mapped[int | None] = mapped_column(index=True)  # pointers, see Category.last_topic_id
    last_post_id: Mapped[int | None] = mapped_column(index=True)
    last_poster_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    category: Mapped[Category] = relationship(lazy="raise_on_sql", foreign_keys=[category_id])
    author: Mapped[Member | None] = relationship(lazy="raise_on_sql", foreign_keys=[author_id])
    last_poster: Mapped[Member | None] = relationship(lazy="raise_on_sql", foreign_keys=[last_poster_id])

    @property
    def is_visible(self) -> bool:
        return self.status == PostStatus.VISIBLE

    @property
    def accepts_replies(self) -> bool:
        return self.is_visible and not self.is_locked and not self.is_closed


class Post(db.Model):
    """One message: the Markdown source and its rendered, sanitised HTML, stored together."""

    __tablename__ = "forum_posts"
    __table_args__ = (
        sa.CheckConstraint(_STATUS_CHECK, name="status_known"),
        sa.UniqueConstraint("topic_id", "position"),
        sa.Index("ix_forum_posts_author_created", "author_id", "created_at"),
        sa.Index("ix_forum_posts_topic_ordinal", "topic_id", "ordinal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_topics.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column()
    # The post's place among the topic's shown posts (the opening post is 1), dense and kept so as
    # posts are hidden and restored; None while hidden, held or deleted. Pages are ranges of it, so a
    # page is always full and stays one indexed range query, however long the topic.
    ordinal: Mapped[int | None] = mapped_column()
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(10), default=PostStatus.VISIBLE.value)
    quoted_post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="SET NULL"), index=True)
    like_count: Mapped[int] = mapped_column(default=0, server_default="0")
    edit_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    topic: Mapped[Topic] = relationship(lazy="raise_on_sql", foreign_keys=[topic_id])
    author: Mapped[Member | None] = relationship(lazy="raise_on_sql", foreign_keys=[author_id])

    @property
    def is_visible(self) -> bool:
        return self.status == PostStatus.VISIBLE


class PostRevision(db.Model):
    """The source a post had before one edit; newest last."""

    __tablename__ = "forum_post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    editor: Mapped[Member | None] = relationship(lazy="raise_on_sql")


class PostLike(db.Model):
    """One member likes one post once."""

    __tablename__ = "forum_post_likes"

    post_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    member: Mapped[Member] = relationship(lazy="raise_on_sql")


class TopicFollow(db.Model):
    __tablename__ = "forum_topic_follows"

    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_topics.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CategoryFollow(db.Model):
    __tablename__ = "forum_category_follows"

    category_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_categories.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicRead(db.Model):
    """How far a member has read a topic: one small row, upserted as they page through it."""

    __tablename__ = "forum_topic_reads"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        sa.ForeignKey("forum_topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Poll(db.Model):
    """A question attached to a topic; results are shown to those who voted (or after closing)."""

    __tablename__ = "forum_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_topics.id", ondelete="CASCADE"), unique=True)
    question: Mapped[str] = mapped_column(sa.String(300))
    multiple: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voter_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    options: Mapped[list[PollOption]] = relationship(
        lazy="raise_on_sql", order_by="PollOption.position", cascade="all, delete-orphan"
    )

    def is_open(self, now: datetime | None = None) -> bool:
        return self.closes_at is None or (now or utcnow()) < self.closes_at


class PollOption(db.Model):
    __tablename__ = "forum_poll_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_polls.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    vote_count: Mapped[int] = mapped_column(default=0, server_default="0")


class PollVote(db.Model):
    __tablename__ = "forum_poll_votes"
    __table_args__ = (sa.Index("ix_forum_poll_votes_poll_member", "poll_id", "member_id"),)

    option_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_poll_options.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_polls.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DigestFrequency(enum.StrEnum):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


class DigestPreference(db.Model):
    """Whether (and how often) a member gets forum notifications by email as a digest."""

    __tablename__ = "forum_digest_preferences"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    frequency: Mapped[str] = mapped_column(sa.String(10), default=DigestFrequency.OFF.value)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def model_values(obj: Any, *names: str) -> dict[str, Any]:
    """A small snapshot of attributes, for audit before/after records."""
    return {name: getattr(obj, name) for name in names}


class PageStamp(db.Model):
    """One row whose ``generation`` grows whenever something the public forum pages show changes
    (see forums/pagecache.py): the anonymous page cache keys its entries by it, so every process
    sees a change at the same moment, with one primary-key read per page."""

    __tablename__ = "forum_page_stamp"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


# The row exists from the start (tables made by create_all as well as by the migration).
sa.event.listen(
    PageStamp.__table__,
    "after_create",
    sa.DDL("INSERT INTO forum_page_stamp (id, generation) VALUES (1, 0)"),
)
