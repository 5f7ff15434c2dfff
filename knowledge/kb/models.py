"""Knowledge base tables: categories, articles (linked as translations), revisions and helpful votes."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Member
from portal.db import TimestampMixin, UTCDateTime, db, utcnow


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class KbCategory(TimestampMixin, db.Model):
    """A shelf of articles; named in both languages."""

    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0, server_default="0", index=True)

    def name(self, language: str) -> str:
        return self.name_fa if language == "fa" else self.name_en


class KbArticle(TimestampMixin, db.Model):
    """One article in one language; ``translation_of_id`` links a translation to its original."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        sa.Index("ix_kb_articles_listing", "status", "language", "published_at"),
        sa.UniqueConstraint("translation_of_id", "language", name="uq_kb_articles_translation_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_categories.id", ondelete="RESTRICT"), index=True)
    language: Mapped[str] = mapped_column(sa.String(5))
    translation_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("kb_articles.id", ondelete="SET NULL"), index=True
    )
    slug: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=ArticleStatus.DRAFT.value)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    view_count: Mapped[int] = mapped_column(default=0, server_default="0", index=True)
    helpful_yes: Mapped[int] = mapped_column(default=0, server_default="0")
    helpful_no: Mapped[int] = mapped_column(default=0, server_default="0")

    category: Mapped[KbCategory] = relationship(lazy="raise_on_sql")
    author: Mapped[Member | None] = relationship(lazy="raise_on_sql")

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    @property
    def root_id(self) -> int:
        """The id every translation of this article shares (the original's)."""
        return self.translation_of_id or self.id


class KbRevision(db.Model):
    """A saved state of an article's title and body, kept on every edit."""

    __tablename__ = "kb_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    editor: Mapped[Member | None] = relationship(lazy="raise_on_sql")


class KbVote(db.Model):
    """A "was this helpful?" answer: one per member, or per visitor session for guests."""

    __tablename__ = "kb_votes"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "member_id", name="uq_kb_votes_article_member"),
        sa.UniqueConstraint("article_id", "visitor_key", name="uq_kb_votes_article_visitor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    visitor_key: Mapped[str | None] = mapped_column(sa.String(64))
    helpful: Mapped[bool] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
