"""Factories for forum tests: categories directly, topics and replies through the services (so counters hold)."""

from __future__ import annotations

from typing import Any

import factory

from forums import services
from forums.models import Category
from tests.factories import BaseFactory, MemberFactory


class CategoryFactory(BaseFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Forum {n}")
    description = "A place to talk"
    position = factory.Sequence(int)
    allowed_roles = factory.LazyFunction(list)


def make_topic(author: Any = None, category: Category | None = None, **kwargs: Any) -> Any:
    author = author or MemberFactory()
    category = category or CategoryFactory()
    kwargs.setdefault("title", "A topic to talk about")
    kwargs.setdefault("body", "The opening post")
    return services.create_topic(actor=author, category=category, **kwargs)


def make_reply(topic: Any, author: Any = None, body: str = "A reply", **kwargs: Any) -> Any:
    return services.reply(actor=author or MemberFactory(), topic=topic, body=body, **kwargs)
