"""The knowledge base as a source for the shared search service: the documents to index.

The integrator registers :func:`documents` (a full rebuild) and :func:`document` (one article,
e.g. after ``kb.article_published``) with ``portal.search``; only published articles are yielded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from knowledge.kb.models import ArticleStatus, KbArticle
from knowledge.kb.queries import article_path
from portal.db import db
from portal.sanitize import plain_text

KIND = "kb_article"


def _as_document(article: KbArticle) -> dict[str, Any]:
    created: datetime = article.published_at or article.created_at
    return {
        "id": f"{KIND}:{article.id}",
        "kind": KIND,
        "title": article.title,
        "body": plain_text(article.body),
        "url": article_path(article.id),
        "language": article.language,
        "category": article.category.name(article.language),
        "created_at": created,
    }


def documents(batch: int = 200) -> Iterator[dict[str, Any]]:
    """Every published article as a search document, read in batches."""
    last_id = 0
    while True:
        articles = list(
            db.session.scalars(
                sa.select(KbArticle)
                .options(joinedload(KbArticle.category))
                .where(KbArticle.status == ArticleStatus.PUBLISHED.value, KbArticle.id > last_id)
                .order_by(KbArticle.id)
                .limit(batch)
            )
        )
        if not articles:
            return
        for article in articles:
            yield _as_document(article)
        last_id = articles[-1].id


def document(article_id: int) -> dict[str, Any] | None:
    """One article's document, or None when it is not (or no longer) published: remove it from the index."""
    article = db.session.scalar(
        sa.select(KbArticle).options(joinedload(KbArticle.category)).where(KbArticle.id == article_id)
    )
    if article is None or not article.is_published:
        return None
    return _as_document(article)
