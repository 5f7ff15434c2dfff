"""Who may read and edit knowledge-base articles."""

from __future__ import annotations

from typing import Any

from knowledge.kb.models import KbArticle

EDITOR_ROLES = ("agent", "admin")


def can_edit_kb(actor: Any) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and actor.role in EDITOR_ROLES)


def can_read(actor: Any, article: KbArticle) -> bool:
    """Published articles are public; drafts only for editors."""
    return article.is_published or can_edit_kb(actor)
