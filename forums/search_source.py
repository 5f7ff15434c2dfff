"""Forum topics and replies as search documents (registered with portal.search by the composition root)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from forums.models import Category, Post, PostStatus, Topic
from forums.paths import post_path, topic_path
from portal.accounts.models import Member
from portal.db import db
from portal.sanitize import plain_text
from portal.search import Document

VISIBLE = PostStatus.VISIBLE.value
BATCH = 1000


def _language(text: str) -> str:
    """A rough guess from the script: enough to filter Persian and English posts apart."""
    letters = [ch for ch in text[:400] if ch.isalpha()]
    if not letters:
        return ""
    persian = sum(1 for ch in letters if "\u0600" <= ch <= "\u06ff")
    return "fa" if persian * 2 >= len(letters) else "en"


def _select() -> sa.Select:
    return (
        sa.select(Post, Topic.title, Topic.category_id, Category.name, Member.display_name)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .outerjoin(Member, Member.id == Post.author_id)
        .where(Post.status == VISIBLE, Topic.status == VISIBLE)
    )


def _document(kind: str, row: Any) -> Document:
    post, title, category_id, category_name, author_name = row
    body = plain_text(post.body)
    is_topic = kind == TopicSource.kind
    return Document(
        kind=kind,
        id=str(post.topic_id if is_topic else post.id),
        title=title if is_topic else "",
        body=body,
        url=topic_path(post.topic_id) if is_topic else post_path(post.id),
        language=_language(f"{title} {body}"),
        category=str(category_id),
        author=str(post.author_id) if post.author_id else None,
        created_at=post.created_at,
        category_label=category_name,
        author_name=author_name or "",
        context="" if is_topic else title,
    )


def _iterate(kind: str, stmt: sa.Select) -> Iterator[Document]:
    last_id = 0
    while True:
        rows = db.session.execute(stmt.where(Post.id > last_id).order_by(Post.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            yield _document(kind, row)
        last_id = rows[-1][0].id
        db.session.expunge_all()


class TopicSource:
    """A topic: its title and opening post."""

    kind = "forum_topic"
    label = _l("Forum topics")

    def get_document(self, doc_id: str) -> Document | None:
        row = db.session.execute(_select().where(Post.topic_id == int(doc_id), Post.position == 1)).first()
        return _document(self.kind, row) if row else None

    def iter_documents(self) -> Iterable[Document]:
        return _iterate(self.kind, _select().where(Post.position == 1))

    def count(self) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(Topic).where(Topic.status == VISIBLE)) or 0

    def category_choices(self) -> list[tuple[str, str]]:
        return [
            (str(i), n)
            for i, n in db.session.execute(sa.select(Category.id, Category.name).order_by(Category.position))
        ]


class PostSource:
    """A reply (the opening post is part of its topic's document)."""

    kind = "forum_post"
    label = _l("Forum replies")

    def get_document(self, doc_id: str) -> Document | None:
        row = db.session.execute(_select().where(Post.id == int(doc_id), Post.position > 1)).first()
        return _document(self.kind, row) if row else None

    def iter_documents(self) -> Iterable[Document]:
        return _iterate(self.kind, _select().where(Post.position > 1))

    def count(self) -> int:
        return (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Post).where(Post.status == VISIBLE, Post.position > 1)
            )
            or 0
        )


SOURCES = [TopicSource(), PostSource()]
