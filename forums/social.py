"""The social writers: likes, follows, reading position and digest preferences."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from forums import policies
from forums.models import (
    Category,
    CategoryFollow,
    DigestFrequency,
    DigestPreference,
    Post,
    PostLike,
    Topic,
    TopicFollow,
    TopicRead,
)
from forums.paths import like_source, post_path
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit
from portal.notifications.services import notify


def _insert_for_dialect():  # type: ignore[no-untyped-def]
    """INSERT with ON CONFLICT for the database in use (PostgreSQL or SQLite)."""
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _like_source(post_id: int, member_id: int) -> tuple[str, str]:
    return like_source(post_id, member_id)


def like_post(*, actor: Any, post: Post) -> None:
    """One like per member and post, never one's own, never on a removed post."""
    if not policies.is_member(actor):
        raise NotAllowed(_l("Log in to like posts."))
    if not post.is_visible:
        raise Conflict(_l("This post was removed; it cannot be liked."))
    if post.author_id == actor.id:
        raise Conflict(_l("You cannot like your own post."))
    # One statement that inserts or does nothing: the primary key keeps it one like per member,
    # even for two requests at once, without a savepoint.
    if db.session.get(PostLike, (post.id, actor.id)) is not None:
        raise Conflict(_l("You already like this post."))
    likes = PostLike.__table__
    insert = _insert_for_dialect()
    added = db.session.execute(
        insert(likes)
        .values(post_id=post.id, member_id=actor.id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["post_id", "member_id"])
    )
    if not added.rowcount:
        raise Conflict(_l("You already like this post."))
    table = Post.__table__
    db.session.execute(sa.update(table).where(table.c.id == post.id).values(like_count=table.c.like_count + 1))
    db.session.expire(post, ["like_count"])
    topic = db.session.get(Topic, post.topic_id)
    attributes = {"category_id": topic.category_id, "topic_id": topic.id, "post_id": post.id}
    source = _like_source(post.id, actor.id)
    emit("like.given", member_id=actor.id, source=source, attributes={**attributes, "author_id": post.author_id})
    if post.author_id:
        emit("like.received", member_id=post.author_id, source=source, attributes={**attributes, "liker_id": actor.id})
        notify(
            post.author_id, "forums.like", {"name": actor.display_name, "topic": topic.title}, url=post_path(post.id)
        )


def unlike_post(*, actor: Any, post: Post) -> None:
    """Withdraws a like; the points it gave are reversed through ``like.removed`` (same source)."""
    if not policies.is_member(actor):
        raise NotAllowed(_l("Log in to like posts."))
    like = db.session.get(PostLike, (post.id, actor.id))
    if like is None:
        raise Conflict(_l("You do not like this post."))
    db.session.delete(like)
    table = Post.__table__
    db.session.execute(sa.update(table).where(table.c.id == post.id).values(like_count=table.c.like_count - 1))
    db.session.expire(post, ["like_count"])
    topic = db.session.get(Topic, post.topic_id)
    emit(
        "like.removed",
        member_id=actor.id,
        source=_like_source(post.id, actor.id),
        attributes={
            "category_id": topic.category_id,
            "topic_id": topic.id,
            "post_id": post.id,
            "author_id": post.author_id,
            "liker_id": actor.id,
        },
    )


def follow_topic(*, actor: Any, topic: Topic, follow: bool = True) -> None:
    if not policies.is_member(actor):
        raise NotAllowed(_l("Log in to follow topics."))
    existing = db.session.get(TopicFollow, (topic.id, actor.id))
    if follow and existing is None:
        db.session.add(TopicFollow(topic_id=topic.id, member_id=actor.id))
    elif not follow and existing is not None:
        db.session.delete(existing)


def follow_category(*, actor: Any, category: Category, follow: bool = True) -> None:
    if not policies.is_member(actor):
        raise NotAllowed(_l("Log in to follow forums."))
    existing = db.session.get(CategoryFollow, (category.id, actor.id))
    if follow and existing is None:
        db.session.add(CategoryFollow(category_id=category.id, member_id=actor.id))
    elif not follow and existing is not None:
        db.session.delete(existing)


def mark_read(member_id: int, topic_id: int, position: int) -> None:
    """One upsert that only ever moves the reading position forward."""
    table = TopicRead.__table__
    insert = _insert_for_dialect()
    stmt = insert(table).values(member_id=member_id, topic_id=topic_id, last_position=position, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=["member_id", "topic_id"],
        set_={
            "last_position": sa.case(
                (stmt.excluded.last_position > table.c.last_position, stmt.excluded.last_position),
                else_=table.c.last_position,
            ),
            "updated_at": stmt.excluded.updated_at,
        },
    )
    db.session.execute(stmt)


def set_digest(*, actor: Any, frequency: str) -> DigestPreference:
    if not policies.is_member(actor):
        raise NotAllowed()
    if frequency not in {f.value for f in DigestFrequency}:
        raise ValidationFailed(_l("Choose how often to get the digest."), fields={"frequency": "unknown"})
    preference = db.session.get(DigestPreference, actor.id)
    if preference is None:
        preference = DigestPreference(member_id=actor.id, frequency=frequency, last_sent_at=utcnow())
        db.session.add(preference)
    else:
        preference.frequency = frequency
    return preference


def load_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound(_l("This post does not exist."))
    return post
