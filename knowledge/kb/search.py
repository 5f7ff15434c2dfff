"""The knowledge base as a source of the shared search service (registered by the composition root).

Only published articles are documents, in both languages (each version is its own document,
with its language as a filter key). The services ask for ``search.index_later`` on publishing
and editing and ``search.remove_later`` on unpublishing; the index job asks :meth:`get_document`
again, so an article that is no longer published leaves the index.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from knowledge.kb.models import ArticleStatus, KbArticle, KbCategory
from knowledge.kb.queries import SEARCH_KIND, article_path, category_key
from portal.db import db
from portal.i18n import current_language
from portal.sanitize import plain_text
from portal.search import Document

KIND = SEARCH_KIND
BATCH = 200


def _as_document(article: KbArticle) -> Document:
    return Document(
        kind=KIND,
        id=str(article.id),
        title=article.title,
        body=plain_text(article.body),
        url=article_path(article.id),
        language=article.language,
        category=category_key(article.category_id),
        category_label=article.category.name(article.language),
        author=str(article.author_id) if article.author_id else None,
        author_name=article.author.display_name if article.author else "",
        created_at=article.published_at or article.created_at,
    )


def _select() -> sa.Select:
    return sa.select(KbArticle).options(joinedload(KbArticle.category), joinedload(KbArticle.author))


class KbSource:
    """Published knowledge base articles, one document per language version."""

    kind = KIND
    label = _l("Knowledge base")

    def get_document(self, doc_id: str) -> Document | None:
        """One article's document, or None when it is not (or no longer) published."""
        try:
            article_id = int(doc_id)
        except (TypeError, ValueError):
            return None
        article = db.session.scalar(_select().where(KbArticle.id == article_id))
        if article is None or not article.is_published:
            return None
        return _as_document(article)

    def iter_documents(self, batch: int = BATCH) -> Iterator[Document]:
        """Every published article, read in batches."""
        last_id = 0
        while True:
            articles = list(
                db.session.scalars(
                    _select()
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

    def count(self) -> int:
        return (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(KbArticle)
                .where(KbArticle.status == ArticleStatus.PUBLISHED.value)
            )
            or 0
        )

    def category_choices(self) -> list[tuple[str, str]]:
        language = current_language()
        rows = db.session.scalars(sa.select(KbCategory).order_by(KbCategory.position, KbCategory.id))
        return [(category_key(c.id), c.name(language)) for c in rows]


SOURCE = KbSource()
