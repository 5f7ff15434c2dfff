"""Forum addresses built without a request: stored page paths (notifications, search) and Socket.IO rooms."""

from __future__ import annotations

PREFIX = "/forums"


def topic_path(topic_id: int, page: int | None = None) -> str:
    return f"{PREFIX}/t/{topic_id}" + (f"?page={page}" if page and page > 1 else "")


def post_path(post_id: int) -> str:
    """A stable link to one post; it redirects to the page that holds it."""
    return f"{PREFIX}/p/{post_id}"


def category_path(category_id: int) -> str:
    return f"{PREFIX}/c/{category_id}"


def like_source(post_id: int, member_id: int) -> tuple[str, str]:
    """The event source of one member's like of a post: the points it pays are reversed by it."""
    return ("like", f"{post_id}:{member_id}")


TOPICS_ROOM = "forum:topics"


def topic_room(topic_id: int) -> str:
    return f"forum:topic:{topic_id}"


def category_room(category_id: int) -> str:
    return f"forum:category:{category_id}"
