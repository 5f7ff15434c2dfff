"""The writers of the knowledge base: categories, articles and their revisions, publishing, votes, views."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from knowledge.kb import policies
from knowledge.kb.models import ArticleStatus, KbArticle, KbCategory, KbRevision, KbVote
from knowledge.kb.queries import SEARCH_KIND
from portal import search
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit

_SLUG_JUNK = re.compile(r"[^\w]+", re.UNICODE)


def slugify(text: str, limit: int = 100) -> str:
    """A URL-friendly form of a title; Persian letters are kept (browsers show them as they are)."""
    slug = _SLUG_JUNK.sub("-", (text or "").strip().lower()).strip("-_")
    return slug[:limit].strip("-") or "article"


def _require_editor(actor: Any) -> None:
    if not policies.can_edit_kb(actor):
        raise NotAllowed()


def _audit(actor: Any, article: KbArticle, action: str, before: dict, after: dict) -> None:
    if getattr(actor, "role", None) == "admin":
        emit(
            "audit.logged",
            member_id=actor.id,
            source=("kb_article", article.id),
            attributes={"action": f"kb.{action}", "before": before, "after": after, "reason": ""},
        )


def create_category(*, actor: Any, slug: str, name_fa: str, name_en: str, position: int = 0) -> KbCategory:
    _require_editor(actor)
    slug = slugify(slug or name_en or name_fa, 80)
    if not (name_fa or "").strip() or not (name_en or "").strip():
        raise ValidationFailed(_l("Enter the category's name in both languages."), fields={"name": "required"})
    if db.session.scalar(sa.select(KbCategory.id).where(KbCategory.slug == slug)):
        raise Conflict(_l("A category with this address already exists."), fields={"slug": "taken"})
    category = KbCategory(slug=slug, name_fa=name_fa.strip(), name_en=name_en.strip(), position=position or 0)
    db.session.add(category)
    db.session.flush()
    return category


def _check_text(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise ValidationFailed(_l("Please enter a title."), fields={"title": "required"})
    if not body:
        raise ValidationFailed(_l("Please write the article."), fields={"body": "required"})
    return title, body


def create_article(
    *,
    actor: Any,
    category_id: int,
    language: str,
    title: str,
    body: str,
    translation_of_id: int | None = None,
) -> KbArticle:
    """A new draft (with its first revision); optionally the translation of another article."""
    _require_editor(actor)
    title, body = _check_text(title, body)
    if language not in current_app.config["LANGUAGES"]:
        raise ValidationFailed(_l("Unknown language."), fields={"language": "unknown"})
    if db.session.get(KbCategory, category_id) is None:
        raise ValidationFailed(_l("Choose a category."), fields={"category_id": "unknown"})
    if translation_of_id:
        original = db.session.get(KbArticle, translation_of_id)
        if original is None:
            raise ValidationFailed(_l("The original article does not exist."), fields={"translation_of_id": "unknown"})
        translation_of_id = original.root_id
        root = db.session.get(KbArticle, translation_of_id)
        taken = db.session.scalar(
            sa.select(KbArticle.id).where(
                KbArticle.language == language,
                sa.or_(KbArticle.id == translation_of_id, KbArticle.translation_of_id == translation_of_id),
            )
        )
        if taken or (root is not None and root.language == language):
            raise Conflict(
                _l("That article already has a version in this language."), fields={"translation_of_id": "taken"}
            )
    article = KbArticle(
        category_id=category_id,
        language=language,
        translation_of_id=translation_of_id or None,
        slug=slugify(title),
        title=title,
        body=body,
        status=ArticleStatus.DRAFT.value,
        author_id=actor.id,
    )
    db.session.add(article)
    db.session.flush()
    db.session.add(KbRevision(article_id=article.id, editor_id=actor.id, title=title, body=body, note="created"))
    return article


def update_article(
    *, actor: Any, article: KbArticle, title: str, body: str, category_id: int | None = None, note: str | None = None
) -> KbArticle:
    """Saves new text as a revision; published articles stay published with the new text."""
    _require_editor(actor)
    title, body = _check_text(title, body)
    if category_id and db.session.get(KbCategory, category_id) is None:
        raise ValidationFailed(_l("Choose a category."), fields={"category_id": "unknown"})
    before = {"title": article.title}
    article.title = title
    article.body = body
    article.slug = slugify(title)
    if category_id:
        article.category_id = category_id
    db.session.add(
        KbRevision(article_id=article.id, editor_id=actor.id, title=title, body=body, note=(note or "").strip() or None)
    )
    _audit(actor, article, "article_edited", before, {"title": title})
    if article.is_published:
        search.index_later(SEARCH_KIND, article.id)
    return article


def publish_article(*, actor: Any, article: KbArticle) -> None:
    _require_editor(actor)
    if article.status != ArticleStatus.PUBLISHED:
        article.status = ArticleStatus.PUBLISHED.value
        article.published_at = article.published_at or utcnow()
        emit(
            "kb.article_published",
            member_id=article.author_id,
            source=("kb_article", article.id),
            attributes={"language": article.language, "category_id": article.category_id},
        )
        _audit(actor, article, "article_published", {"status": "draft"}, {"status": "published"})
        search.index_later(SEARCH_KIND, article.id)


def unpublish_article(*, actor: Any, article: KbArticle) -> None:
    _require_editor(actor)
    if article.status == ArticleStatus.PUBLISHED:
        article.status = ArticleStatus.DRAFT.value
        _audit(actor, article, "article_unpublished", {"status": "published"}, {"status": "draft"})
        search.remove_later(SEARCH_KIND, article.id)


def record_view(article_id: int) -> None:
    """One more view, counted in the database (no read-modify-write race)."""
    db.session.execute(
        sa.update(KbArticle).where(KbArticle.id == article_id).values(view_count=KbArticle.view_count + 1)
    )


def vote(*, article: KbArticle, helpful: bool, member_id: int | None, visitor_key: str | None) -> KbVote:
    """Records one "was this helpful?" answer per member (or visitor session) and counts it.

    A helpful answer emits ``kb.article_helpful`` for the article's author (who earns), keyed by the vote.
    """
    if not article.is_published:
        raise NotFound()
    if member_id is None and not visitor_key:
        raise ValidationFailed(_l("Your browser did not keep our cookie; please try again."))
    vote = KbVote(
        article_id=article.id, member_id=member_id, visitor_key=None if member_id else visitor_key, helpful=helpful
    )
    try:
        with db.session.begin_nested():
            db.session.add(vote)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("You have already answered for this article. Thank you!")) from exc
    column = KbArticle.helpful_yes if helpful else KbArticle.helpful_no
    db.session.execute(sa.update(KbArticle).where(KbArticle.id == article.id).values({column: column + 1}))
    if helpful and article.author_id and article.author_id != member_id:
        emit(
            "kb.article_helpful",
            member_id=article.author_id,
            source=("kb_vote", vote.id),
            attributes={"article_id": article.id, "voter_id": member_id, "language": article.language},
        )
    return vote
