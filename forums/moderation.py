"""Moderation adapters for forum posts and topics (registered with moderation by the composition root)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from forums import services
from forums.models import Post, PostStatus, Topic
from forums.paths import post_path, topic_path
from portal.db import db, int_id
from portal.sanitize import plain_text

_LOADED = "forums.moderation.loaded"


class PostModeration:
    kind = "post"
    label = _l("Forum post")

    def load(self, id: int) -> Post | None:
        key = int_id(id)
        return db.session.get(Post, key) if key is not None else None

    def load_many(self, ids: list[int]) -> dict[int, Post]:
        """The posts with their topics (``title`` reads them from the session), in two queries."""
        posts = db.session.scalars(sa.select(Post).options(selectinload(Post.topic)).where(Post.id.in_(ids)))
        return {post.id: post for post in posts}

    def author_id(self, obj: Post) -> int | None:
        return obj.author_id

    def title(self, obj: Post) -> str:
        topic = db.session.get(Topic, obj.topic_id)
        return topic.title if topic else ""

    def excerpt_html(self, obj: Post) -> Markup:
        return Markup(obj.html)  # noqa: S704 - stored sanitised at write time

    def url(self, obj: Post) -> str:
        return post_path(obj.id)

    def is_visible(self, obj: Post) -> bool:
        return obj.is_visible

    def hide(self, obj: Post, *, actor: Any, reason: str = "") -> None:
        if actor is None:  # hidden by moderation itself (enough flags); moderation audits it
            services.set_post_status(obj, PostStatus.HIDDEN)
        else:
            services.moderate_post(actor=actor, post=obj, status=PostStatus.HIDDEN, reason=reason)

    def restore(self, obj: Post, *, actor: Any, reason: str = "") -> None:
        services.moderate_post(actor=actor, post=obj, status=PostStatus.VISIBLE, reason=reason)

    def hold(self, obj: Post) -> None:
        services.set_post_status(obj, PostStatus.HELD)

    def delete(self, obj: Post, *, actor: Any, reason: str = "") -> None:
        services.moderate_post(actor=actor, post=obj, status=PostStatus.DELETED, reason=reason)

    def excerpt_text(self, obj: Post) -> str:
        return plain_text(obj.body, 200)


class TopicModeration:
    kind = "topic"
    label = _l("Forum topic")

    def load(self, id: int) -> Topic | None:
        key = int_id(id)
        return db.session.get(Topic, key) if key is not None else None

    def load_many(self, ids: list[int]) -> dict[int, Topic]:
        """The topics and their opening posts (``excerpt_html`` reads them from the session), in two queries."""
        topics = list(db.session.scalars(sa.select(Topic).where(Topic.id.in_(ids))))
        first_ids = {topic.first_post_id for topic in topics if topic.first_post_id}
        if first_ids:
            # The session holds its objects weakly: keep the opening posts alive while it lasts.
            first_posts = db.session.scalars(sa.select(Post).where(Post.id.in_(first_ids))).all()
            db.session.info.setdefault(_LOADED, []).extend(first_posts)
        return {topic.id: topic for topic in topics}

    def author_id(self, obj: Topic) -> int | None:
        return obj.author_id

    def title(self, obj: Topic) -> str:
        return obj.title

    def excerpt_html(self, obj: Topic) -> Markup:
        first = db.session.get(Post, obj.first_post_id) if obj.first_post_id else None
        return Markup(first.html if first else "")  # noqa: S704 - stored sanitised at write time

    def url(self, obj: Topic) -> str:
        return topic_path(obj.id)

    def is_visible(self, obj: Topic) -> bool:
        return obj.is_visible

    def hide(self, obj: Topic, *, actor: Any, reason: str = "") -> None:
        if actor is None:  # hidden by moderation itself (enough flags); moderation audits it
            services.set_topic_status(obj, PostStatus.HIDDEN)
        else:
            services.moderate_topic(actor=actor, topic=obj, status=PostStatus.HIDDEN, reason=reason)

    def restore(self, obj: Topic, *, actor: Any, reason: str = "") -> None:
        services.moderate_topic(actor=actor, topic=obj, status=PostStatus.VISIBLE, reason=reason)

    def hold(self, obj: Topic) -> None:
        services.set_topic_status(obj, PostStatus.HELD)

    def delete(self, obj: Topic, *, actor: Any, reason: str = "") -> None:
        services.moderate_topic(actor=actor, topic=obj, status=PostStatus.DELETED, reason=reason)


post_adapter = PostModeration()
topic_adapter = TopicModeration()
ADAPTERS = [post_adapter, topic_adapter]
