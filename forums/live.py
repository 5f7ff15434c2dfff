"""After-commit effects of forum events: live pushes to topic and list rooms (they leave the process)."""

from __future__ import annotations

import sqlalchemy as sa

from forums.models import Category, Post, Topic
from forums.paths import TOPICS_ROOM, category_room, topic_room
from portal import realtime
from portal.db import db
from portal.events import Event


def push_post(event: Event) -> None:
    """A new reply: readers of the topic fetch it; lists update the topic's reply count."""
    post_id = event.attributes.get("post_id")
    if not isinstance(post_id, int):
        return  # an event of the same name from outside the forums (the API) carries no post
    row = db.session.execute(
        sa.select(Post.id, Post.position, Post.status, Topic.id, Topic.reply_count, Topic.category_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(Post.id == post_id)
    ).first()
    if row is None or row[2] != "visible":
        return
    data = {"topic_id": row[3], "post_id": row[0], "position": row[1], "reply_count": row[4]}
    realtime.emit_to_room(topic_room(row[3]), "forum:post", data)
    counts = {"topic_id": row[3], "reply_count": row[4]}
    realtime.emit_to_room(TOPICS_ROOM, "forum:counts", counts)
    realtime.emit_to_room(category_room(row[5]), "forum:counts", counts)


def push_topic(event: Event) -> None:
    """A new topic: open topic lists show the "new topics" bar."""
    topic_id = event.attributes.get("topic_id")
    # Events of the same name from outside the forums (the API, replays) carry no topic.
    topic = db.session.get(Topic, topic_id) if isinstance(topic_id, int) else None
    if topic is None or not topic.is_visible:
        return
    data = {"topic_id": topic.id, "category_id": topic.category_id}
    realtime.emit_to_room(TOPICS_ROOM, "forum:topic", data)
    parent_id = db.session.scalar(sa.select(Category.parent_id).where(Category.id == topic.category_id))
    for category_id in {topic.category_id, parent_id} - {None}:
        realtime.emit_to_room(category_room(category_id), "forum:topic", data)


def push_likes(event: Event) -> None:
    post_id = event.attributes.get("post_id")
    if not isinstance(post_id, int):
        return
    row = db.session.execute(sa.select(Post.like_count, Post.topic_id).where(Post.id == post_id)).first()
    if row is None:
        return
    realtime.emit_to_room(topic_room(row[1]), "forum:likes", {"post_id": post_id, "like_count": row[0]})


EFFECTS = {
    "post.created": push_post,
    "post.restored": push_post,
    "topic.created": push_topic,
    "like.given": push_likes,
    "like.removed": push_likes,
}
