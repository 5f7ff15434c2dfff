"""Factories of the knowledge base and help desk; they flush into the test's session."""

from __future__ import annotations

import factory

from knowledge.kb.models import KbArticle, KbCategory
from knowledge.kb.queries import SEARCH_KIND
from knowledge.tickets.models import CannedReply, SupportTeam
from portal import search
from portal.db import utcnow
from tests.factories import BaseFactory


class KbCategoryFactory(BaseFactory):
    class Meta:
        model = KbCategory

    slug = factory.Sequence(lambda n: f"category-{n}")
    name_fa = factory.Sequence(lambda n: f"دسته {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class KbArticleFactory(BaseFactory):
    """A published English article by default; pass ``author_id`` for votes that earn."""

    class Meta:
        model = KbArticle

    category = factory.SubFactory(KbCategoryFactory)
    language = "en"
    slug = factory.Sequence(lambda n: f"article-{n}")
    title = factory.Sequence(lambda n: f"Article {n}")
    body = "Some **helpful** text."
    status = "published"
    published_at = factory.LazyFunction(utcnow)


class TeamFactory(BaseFactory):
    class Meta:
        model = SupportTeam

    name = factory.Sequence(lambda n: f"Team {n}")
    kinds = ""


class CannedReplyFactory(BaseFactory):
    class Meta:
        model = CannedReply

    title = factory.Sequence(lambda n: f"Canned {n}")
    body = "Hello {name}, your code is {tracking_code}."


def index_kb() -> None:
    """Rebuilds the knowledge base's part of the search index (factories write rows, not the index)."""
    search.reindex([SEARCH_KIND])
