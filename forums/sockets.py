"""Socket.IO for the forums: a reader joins the room of the topic or topic list they have open."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import join_room

from forums import policies, queries
from forums.paths import TOPICS_ROOM, category_room, topic_room
from portal.extensions import socketio


def on_join(data: Any) -> bool:
    """Joins a topic's room (if the reader may see it) or a topic list's room; answers whether it worked."""
    if not isinstance(data, dict):
        return False
    viewer = queries.Viewer(current_user)
    topic_id = data.get("topic_id")
    if isinstance(topic_id, int):
        topic = queries.topic_with_category(topic_id)
        if (
            topic is None
            or not policies.can_see_topic(current_user, topic)
            or not viewer.access(topic.category).allowed
        ):
            return False
        join_room(topic_room(topic_id))
        return True
    room = data.get("room")
    if room == "topics":
        join_room(TOPICS_ROOM)
        return True
    if isinstance(room, str) and room.startswith("category:") and room[9:].isdigit():
        category, _parent, _children = queries.category_with_children(int(room[9:]))
        if category is None or not viewer.access(category).allowed:
            return False
        join_room(category_room(category.id))
        return True
    return False


def register() -> None:
    socketio.on_event("forum:join", on_join)
