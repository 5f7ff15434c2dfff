"""Read-only selects of the knowledge base; the help desk reads articles only through this module."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from knowledge.kb.models import ArticleStatus, KbArticle, KbCategory, KbRevision, KbVote
from portal import search
from portal.db import KeysetPage, db, paginate_keyset

_WORD = re.compile(r"\w{2,}", re.UNICODE)
SEARCH_KIND = "kb"
"""The knowledge base's kind in the shared search (its source is ``knowledge.kb.search``)."""
_SUGGEST_WORDS = 5


@dataclass(frozen=True)
class ArticleLink:
    """What another package needs to show or link an article."""

    id: int
    title: str
    language: str
    url_path: str


def _published() -> sa.ColumnElement[bool]:
    return KbArticle.status == ArticleStatus.PUBLISHED.value


def article_path(article_id: int) -> str:
    return f"/kb/a/{article_id}"


def category_key(category_id: int) -> str:
    """A category's filter key in the shared search (prefixed: forum categories have ids too)."""
    return f"kb-{category_id}"


def categories() -> list[KbCategory]:
    return list(db.session.scalars(sa.select(KbCategory).order_by(KbCategory.position, KbCategory.id)))


def category_choices(language: str) -> list[tuple[int, str]]:
    return [(c.id, c.name(language)) for c in categories()]


def category_by_slug(slug: str) -> KbCategory | None:
    return db.session.scalar(sa.select(KbCategory).where(KbCategory.slug == slug))


def categories_with_articles(language: str, per_category: int = 6) -> list[tuple[KbCategory, list[KbArticle], int]]:
    """Each category with its most viewed published articles in ``language`` and their count (two queries)."""
    cats = categories()
    rows = db.session.scalars(
        sa.select(KbArticle)
        .where(_published(), KbArticle.language == language)
        .order_by(KbArticle.view_count.desc(), KbArticle.id.desc())
    ).all()
    grouped: dict[int, list[KbArticle]] = {}
    for article in rows:
        grouped.setdefault(article.category_id, []).append(article)
    return [(c, grouped.get(c.id, [])[:per_category], len(grouped.get(c.id, []))) for c in cats]


def category_articles(category_id: int, language: str, cursor: str | None = None, limit: int = 30) -> KeysetPage:
    stmt = sa.select(KbArticle).where(
        _published(), KbArticle.language == language, KbArticle.category_id == category_id
    )
    return paginate_keyset(stmt, key=[KbArticle.id], cursor=cursor, limit=limit)


def article_with_category(article_id: int) -> KbArticle | None:
    return db.session.scalar(
        sa.select(KbArticle)
        .options(joinedload(KbArticle.category), joinedload(KbArticle.author))
        .where(KbArticle.id == article_id)
    )


def translations(article: KbArticle, published_only: bool = True) -> dict[str, int]:
    """language → article id of every version of the article (itself included)."""
    root = article.root_id
    stmt = sa.select(KbArticle.language, KbArticle.id).where(
        sa.or_(KbArticle.id == root, KbArticle.translation_of_id == root)
    )
    if published_only:
        stmt = stmt.where(_published())
    found: dict[str, int] = {row.language: row.id for row in db.session.execute(stmt)}
    found[article.language] = article.id
    return found


def related(article: KbArticle, limit: int = 5) -> list[KbArticle]:
    """Published articles of the same category and language, most read first."""
    return list(
        db.session.scalars(
            sa.select(KbArticle)
            .where(
                _published(),
                KbArticle.language == article.language,
                KbArticle.category_id == article.category_id,
                KbArticle.id != article.id,
            )
            .order_by(KbArticle.view_count.desc(), KbArticle.id.desc())
            .limit(limit)
        )
    )


def suggest(text: str, language: str | None = None, limit: int = 5) -> list[ArticleLink]:
    """Published articles matching the words typed, through the shared search (kind ``kb``).

    Articles with every word come first; when they are fewer than ``limit``, articles with
    some of the (longest) words follow, best summed score first, since a ticket's subject
    ("my printer is broken") rarely has all its words in one article. The hits are checked
    against the database, so an article unpublished a moment ago is never offered.
    """
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text or "")))[:8]
    if not words:
        return []
    filters = search.Filters(language=language or None)
    ordered: list[str] = [h.id for h in search.search(" ".join(words), [SEARCH_KIND], filters, per_page=limit).hits]
    if len(ordered) < limit and len(words) > 1:
        scores: dict[str, float] = {}
        for word in sorted(words, key=len, reverse=True)[:_SUGGEST_WORDS]:
            for hit in search.search(word, [SEARCH_KIND], filters, per_page=limit * 2).hits:
                scores[hit.id] = scores.get(hit.id, 0.0) + hit.score
        ordered += sorted((i for i in scores if i not in ordered), key=lambda i: -scores[i])
    ids = [int(i) for i in ordered if i.isdigit()]
    return article_links(ids)[:limit]


def article_links(ids: list[int]) -> list[ArticleLink]:
    """Published articles by id, in the order asked (for links in ticket replies)."""
    if not ids:
        return []
    rows = db.session.execute(
        sa.select(KbArticle.id, KbArticle.title, KbArticle.language).where(KbArticle.id.in_(ids), _published())
    ).all()
    by_id = {r.id: ArticleLink(r.id, r.title, r.language, article_path(r.id)) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def article_titles(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(KbArticle.id, KbArticle.title).where(KbArticle.id.in_(ids))).all())


def is_published_article(article_id: int) -> bool:
    return bool(db.session.scalar(sa.select(KbArticle.id).where(KbArticle.id == article_id, _published())))


def existing_vote(article_id: int, *, member_id: int | None, visitor_key: str | None) -> KbVote | None:
    if member_id is not None:
        condition = KbVote.member_id == member_id
    elif visitor_key:
        condition = KbVote.visitor_key == visitor_key
    else:
        return None
    return db.session.scalar(sa.select(KbVote).where(KbVote.article_id == article_id, condition))


def editor_listing(cursor: str | None = None, limit: int = 50) -> KeysetPage:
    stmt = sa.select(KbArticle).options(joinedload(KbArticle.category))
    return paginate_keyset(stmt, key=[KbArticle.id], cursor=cursor, limit=limit)


def revisions(article_id: int) -> list[KbRevision]:
    return list(
        db.session.scalars(
            sa.select(KbRevision)
            .options(joinedload(KbRevision.editor))
            .where(KbRevision.article_id == article_id)
            .order_by(KbRevision.id.desc())
        )
    )


def originals_for_translation(language: str) -> list[tuple[int, str]]:
    """Untranslated-into-``language`` originals in other languages, for the "translation of" choice."""
    translated = sa.select(KbArticle.translation_of_id).where(
        KbArticle.language == language, KbArticle.translation_of_id.is_not(None)
    )
    rows = db.session.execute(
        sa.select(KbArticle.id, KbArticle.title)
        .where(KbArticle.translation_of_id.is_(None), KbArticle.language != language, KbArticle.id.not_in(translated))
        .order_by(KbArticle.id.desc())
    ).all()
    return [(r.id, r.title) for r in rows]
