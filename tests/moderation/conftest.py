"""Moderation test support: a content kind over a tests-only table, registered like a real package's adapter.

The table lives in its own metadata (never in the app's schema) and is created inside the
test's transaction, so it disappears with the rollback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale
from markupsafe import Markup

from portal.db import db
from portal.events import emit
from portal.moderation import registry
from portal.sanitize import render_markdown
from tests.portal.web import make_client, use_language

TEST_METADATA = sa.MetaData()
ITEMS = sa.Table(
    "test_moderated_items",
    TEST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("author_id", sa.Integer),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("state", sa.String(10), nullable=False, server_default="visible"),
    sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("parent_id", sa.Integer),
)


@dataclass
class Item:
    id: int
    kind: str
    author_id: int | None
    title: str
    body: str
    state: str
    locked: bool
    pinned: bool
    parent_id: int | None


class ItemAdapter:
    """Behaves like a content package's adapter: hiding and deleting emit ``<kind>.removed``."""

    kind = "post"
    label = "Post"

    def _set(self, obj: Item, **values: Any) -> None:
        db.session.execute(sa.update(ITEMS).where(ITEMS.c.id == obj.id).values(**values))
        for key, value in values.items():
            setattr(obj, key, value)

    def load(self, id: int) -> Item | None:
        row = db.session.execute(
            sa.select(ITEMS).where(ITEMS.c.id == id, ITEMS.c.kind == self.kind, ITEMS.c.state != "deleted")
        ).first()
        return Item(**row._mapping) if row else None

    def load_many(self, ids: list[int]) -> dict[int, Item]:
        rows = db.session.execute(
            sa.select(ITEMS).where(ITEMS.c.id.in_(ids), ITEMS.c.kind == self.kind, ITEMS.c.state != "deleted")
        )
        return {row.id: Item(**row._mapping) for row in rows}

    def author_id(self, obj: Item) -> int | None:
        return obj.author_id

    def title(self, obj: Item) -> str:
        return obj.title

    def excerpt_html(self, obj: Item) -> Markup:
        return render_markdown(obj.body)

    def url(self, obj: Item) -> str:
        return f"/test-items/{obj.id}"

    def is_visible(self, obj: Item) -> bool:
        return obj.state == "visible"

    def hide(self, obj: Item, *, actor: Any, reason: str) -> None:
        self._set(obj, state="hidden")
        emit(f"{self.kind}.removed", member_id=obj.author_id, source=(self.kind, obj.id), attributes={"reason": reason})

    def restore(self, obj: Item, *, actor: Any, reason: str) -> None:
        self._set(obj, state="visible")
        emit(f"{self.kind}.restored", member_id=obj.author_id, source=(self.kind, obj.id))

    def hold(self, obj: Item) -> None:
        self._set(obj, state="held")

    def delete(self, obj: Item, *, actor: Any, reason: str) -> None:
        self._set(obj, state="deleted")
        emit(f"{self.kind}.removed", member_id=obj.author_id, source=(self.kind, obj.id), attributes={"reason": reason})

    def edit(self, obj: Item, *, actor: Any, new_text: str, reason: str) -> None:
        self._set(obj, body=new_text)

    def text(self, obj: Item) -> str:
        return obj.body

    def replace_text(self, obj: Item, new_text: str) -> None:
        self._set(obj, body=new_text)

    def by_author(self, member_id: int, limit: int) -> list[Item]:
        rows = db.session.execute(
            sa.select(ITEMS)
            .where(ITEMS.c.author_id == member_id, ITEMS.c.kind == self.kind)
            .order_by(ITEMS.c.id.desc())
            .limit(limit)
        )
        return [Item(**row._mapping) for row in rows]


class TopicAdapter(ItemAdapter):
    """A topic: everything a post has, plus lock, pin, move and merge."""

    kind = "topic"
    label = "Topic"

    def context_html(self, obj: Item) -> Markup:
        return Markup("in category <b>{}</b>").format(obj.parent_id or "General")

    def lock(self, obj: Item, *, actor: Any, reason: str) -> None:
        self._set(obj, locked=True)

    def pin(self, obj: Item, *, actor: Any, reason: str) -> None:
        self._set(obj, pinned=True)

    def move(self, obj: Item, *, actor: Any, target_id: int, reason: str) -> None:
        self._set(obj, parent_id=target_id)

    def merge(self, obj: Item, *, actor: Any, target_id: int, reason: str) -> None:
        self._set(obj, parent_id=target_id, state="deleted")


class Content:
    """Creates test items and answers questions about them."""

    def __init__(self) -> None:
        self.post = ItemAdapter()
        self.topic = TopicAdapter()

    def create(
        self,
        *,
        author: Any,
        body: str = "A perfectly fine post.",
        kind: str = "post",
        title: str = "Hello",
        state: str = "visible",
    ) -> Item:
        result = db.session.execute(
            sa.insert(ITEMS).values(
                kind=kind, author_id=author.id if author else None, title=title, body=body, state=state
            )
        )
        adapter = self.post if kind == "post" else self.topic
        return adapter.load(result.inserted_primary_key[0]) or Item(
            id=result.inserted_primary_key[0],
            kind=kind,
            author_id=author.id,
            title=title,
            body=body,
            state=state,
            locked=False,
            pinned=False,
            parent_id=None,
        )

    def publish(
        self, *, author: Any, body: str = "A perfectly fine post.", kind: str = "post", category_id: int | None = None
    ) -> Item:
        """Creates an item and emits its creation event, as a content package's service would."""
        item = self.create(author=author, body=body, kind=kind)
        attributes: dict[str, Any] = {"text": body}
        if category_id is not None:
            attributes["category_id"] = category_id
        emit(f"{kind}.created", member_id=author.id, source=(kind, item.id), attributes=attributes)
        return item

    def state(self, item: Item) -> str:
        return db.session.scalar(sa.select(ITEMS.c.state).where(ITEMS.c.id == item.id))

    def row(self, item: Item) -> Any:
        return db.session.execute(sa.select(ITEMS).where(ITEMS.c.id == item.id)).first()


@pytest.fixture(autouse=True)
def english_outside_requests(db_session: Any) -> Iterator[None]:
    """Services called directly (no request) speak the club's default language; these tests read English."""
    with force_locale("en"):
        yield


@pytest.fixture
def content(db_session: Any) -> Iterator[Content]:
    ITEMS.create(bind=db.session.connection())
    helper = Content()
    wired = [registry.get("post"), registry.get("topic")]  # the forums' adapters, put back afterwards
    registry.register(helper.post)
    registry.register(helper.topic)
    try:
        yield helper
    finally:
        registry.unregister("post")
        registry.unregister("topic")
        for adapter in wired:
            if adapter is not None:
                registry.register(adapter)


@pytest.fixture
def web(app: Flask) -> Any:
    client = make_client(app)
    use_language(client, "en")
    return client
