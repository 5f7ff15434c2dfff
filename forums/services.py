"""The writers of the forums: categories, topics, replies, edits, deletes, and moderators' actions.

Each function checks its policy, cleans and renders the text once (the HTML is stored),
updates counters with ``UPDATE ... SET n = n + 1``, emits its domain events and never
commits: the view, CLI command or job that called it commits once.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from forums import content, policies, polls
from forums.models import (
    CATEGORY_COLOURS,
    Category,
    CategoryFollow,
    Post,
    PostLike,
    PostRevision,
    PostStatus,
    Topic,
    TopicFollow,
    TopicRead,
)
from forums.notices import KINDS  # noqa: F401 - registers the notification kinds
from forums.paths import like_source, post_path, topic_path
from gamification.engine.queries import tier_choices, tier_code_of
from portal import media, search
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit
from portal.notifications.services import notify

FORUM_IMAGES = media.ImageSpec("forums", {"display": (1600, 1600), "thumb": (320, 320)})
TOPIC_KIND = "forum_topic"
POST_KIND = "forum_post"


class TopicClosed(Conflict):
    code = "topic_closed"

    def default_message(self) -> Any:
        return _l("This topic is locked or closed; it does not take new replies.")


def delete_window() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("FORUM_DELETE_WINDOW_MINUTES", 30)))


def _require_member(actor: Any) -> None:
    if not policies.can_start_topic(actor):
        raise NotAllowed(_l("Log in to take part in the forums."))


def check_category_access(actor: Any, category: Category) -> None:
    member_id = actor.id if policies.is_member(actor) else None
    tier = tier_code_of(member_id) if member_id and category.min_tier else None
    access = policies.category_access(actor, category, tier=tier, tiers=tier_choices() if category.min_tier else [])
    if not access.allowed:
        raise NotAllowed(access.reason)


def _audit(actor: Member, kind: str, object_id: int, action: str, before: dict, after: dict, reason: str = "") -> None:
    emit(
        "audit.logged",
        member_id=actor.id,
        source=(kind, object_id),
        attributes={"action": action, "before": before, "after": after, "reason": reason or ""},
    )


# --- categories ------------------------------------------------------------------------------


def create_category(
    *,
    actor: Any,
    name: str,
    description: str = "",
    icon: str = "💬",
    colour: str = "blue",
    position: int = 0,
    parent_id: int | None = None,
    allowed_roles: list[str] | None = None,
    min_tier: str | None = None,
) -> Category:
    """Admins arrange the forums; a sub-category's parent must itself be top-level."""
    if actor is not None and not policies.is_admin(actor):
        raise NotAllowed()
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ValidationFailed(_l("A category needs a name of at most 120 characters."), fields={"name": "invalid"})
    if parent_id is not None:
        parent = db.session.get(Category, parent_id)
        if parent is None:
            raise NotFound(_l("That parent category does not exist."))
        if parent.parent_id is not None:
            raise ValidationFailed(_l("Sub-categories can only be one level deep."), fields={"parent_id": "too_deep"})
    category = Category(
        name=name,
        description=(description or "").strip(),
        icon=(icon or "💬")[:16],
        colour=colour if colour in CATEGORY_COLOURS else "blue",
        position=position,
        parent_id=parent_id,
        allowed_roles=list(allowed_roles or []),
        min_tier=min_tier or None,
    )
    db.session.add(category)
    db.session.flush()
    if actor is not None:
        _audit(actor, "forum_category", category.id, "forums.category_created", {}, {"name": name})
    return category


# --- counters ------------------------------------------------------------------------------------


def _bump_categories(category: Category, *, topics: int = 0, posts: int = 0, topic_id: int | None = None) -> None:
    """Counts on the category and its parent, and its latest activity when a topic moved up."""
    ids = [category.id] + ([category.parent_id] if category.parent_id else [])
    table = Category.__table__
    values: dict[str, Any] = {
        "topic_count": table.c.topic_count + topics,
        "post_count": table.c.post_count + posts,
    }
    if topic_id is not None:
        values["last_topic_id"] = topic_id
        values["last_activity_at"] = utcnow()
    db.session.execute(sa.update(table).where(table.c.id.in_(ids)).values(**values))


def _next_place(topic_id: int) -> tuple[int, int]:
    """The new reply's position and ordinal, taken with the count in one locking update of the topic row
    (concurrent replies, hides and restores of the same topic queue behind it)."""
    table = Topic.__table__
    position, replies = db.session.execute(
        sa.update(table)
        .where(table.c.id == topic_id)
        .values(post_seq=table.c.post_seq + 1, reply_count=table.c.reply_count + 1)
        .returning(table.c.post_seq, table.c.reply_count)
    ).one()
    return position, replies + 1  # the opening post is ordinal 1


def _renumber(post: Post, now_visible: bool) -> None:
    """Keeps ordinals dense over the shown posts: later ones move up when a post goes, down when it returns.
    Runs after the topic row's counter update, which serialises it with replies to the same topic."""
    if now_visible:
        before = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Post)
            .where(Post.topic_id == post.topic_id, Post.position < post.position, Post.ordinal.is_not(None))
        )
        ordinal = (before or 0) + 1
        db.session.execute(
            sa.update(Post)
            .where(Post.topic_id == post.topic_id, Post.ordinal >= ordinal, Post.id != post.id)
            .values(ordinal=Post.ordinal + 1)
            .execution_options(synchronize_session="fetch")
        )
        post.ordinal = ordinal
    elif post.ordinal is not None:
        old = post.ordinal
        post.ordinal = None
        db.session.flush()
        db.session.execute(
            sa.update(Post)
            .where(Post.topic_id == post.topic_id, Post.ordinal > old)
            .values(ordinal=Post.ordinal - 1)
            .execution_options(synchronize_session="fetch")
        )


def _follow(member_id: int, topic_id: int) -> None:
    if db.session.get(TopicFollow, (topic_id, member_id)) is None:
        db.session.add(TopicFollow(topic_id=topic_id, member_id=member_id))


def _mark_read(member_id: int, topic_id: int, position: int) -> None:
    read = db.session.get(TopicRead, (member_id, topic_id))
    if read is None:
        db.session.add(TopicRead(member_id=member_id, topic_id=topic_id, last_position=position))
    elif read.last_position < position:
        read.last_position = position
        read.updated_at = utcnow()


def _with_image(body: str, image: IO[bytes] | bytes | None) -> str:
    """An attached image goes through the shared upload pipeline and is appended as Markdown."""
    if image is None:
        return body
    stored = media.store_image(image, FORUM_IMAGES)
    return f"{body}\n\n![](/media/{stored.url_key('display')})"


# --- topics and replies ------------------------------------------------------------------------------


def create_topic(
    *,
    actor: Member,
    category: Category,
    title: str,
    body: str,
    image: IO[bytes] | bytes | None = None,
    poll: dict[str, Any] | None = None,
) -> Topic:
    """Opens a topic with its first post; the author follows it. ``poll`` holds attach_poll's arguments."""
    _require_member(actor)
    check_category_access(actor, category)
    title = content.clean_title(title)
    body = _with_image(content.clean_body(body), image)
    content.clean_body(body)
    rendered = content.render_post(body)
    now = utcnow()
    topic = Topic(
        category_id=category.id,
        author_id=actor.id,
        title=title,
        post_seq=1,
        last_poster_id=actor.id,
        created_at=now,
        last_post_at=now,
    )
    db.session.add(topic)
    db.session.flush()
    post = Post(
        topic_id=topic.id, author_id=actor.id, position=1, ordinal=1, body=body, html=rendered.html, created_at=now
    )
    db.session.add(post)
    db.session.flush()
    topic.first_post_id = post.id
    topic.last_post_id = post.id
    _bump_categories(category, topics=1, posts=1, topic_id=topic.id)
    _follow(actor.id, topic.id)
    _mark_read(actor.id, topic.id, 1)
    if poll:
        polls.attach_poll(topic, **poll)
    emit(
        "topic.created",
        member_id=actor.id,
        source=("topic", topic.id),
        attributes={"category_id": category.id, "topic_id": topic.id, "post_id": post.id},
    )
    _after_new_post(actor, topic, post, rendered.mentioned, quoted=None, category=category)
    _notify_category_followers(actor, topic, category)
    search.index_later(TOPIC_KIND, topic.id)
    return topic


def reply(
    *,
    actor: Member,
    topic: Topic,
    body: str,
    quoted_post_id: int | None = None,
    image: IO[bytes] | bytes | None = None,
) -> Post:
    """Adds a reply at the next dense position and moves the topic to the top of its list."""
    _require_member(actor)
    category = db.session.get(Category, topic.category_id)
    check_category_access(actor, category)
    if not topic.is_visible:
        raise NotFound(_l("This topic does not exist or was removed."))
    if not policies.can_reply(actor, topic):
        raise TopicClosed()
    body = _with_image(content.clean_body(body), image)
    content.clean_body(body)
    quoted = None
    if quoted_post_id:
        quoted = db.session.get(Post, quoted_post_id)
        if quoted is None or quoted.topic_id != topic.id or not quoted.is_visible:
            quoted = None
    rendered = content.render_post(body)
    position, ordinal = _next_place(topic.id)
    now = utcnow()
    post = Post(
        topic_id=topic.id,
        author_id=actor.id,
        position=position,
        ordinal=ordinal,
        body=body,
        html=rendered.html,
        quoted_post_id=quoted.id if quoted else None,
        created_at=now,
    )
    db.session.add(post)
    db.session.flush()
    table = Topic.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id == topic.id)
        .values(last_post_at=now, last_post_id=post.id, last_poster_id=actor.id)
    )
    _bump_categories(category, posts=1, topic_id=topic.id)
    db.session.expire(topic, ["reply_count", "last_post_at", "last_post_id", "last_poster_id", "post_seq"])
    _follow(actor.id, topic.id)
    _mark_read(actor.id, topic.id, position)
    emit(
        "post.created",
        member_id=actor.id,
        source=("post", post.id),
        attributes={
            "category_id": category.id,
            "topic_id": topic.id,
            "post_id": post.id,
            "topic_author_id": topic.author_id,
            "quoted_author_id": quoted.author_id if quoted else None,
        },
    )
    _after_new_post(actor, topic, post, rendered.mentioned, quoted=quoted, category=category)
    search.index_later(POST_KIND, post.id)
    return post


def _after_new_post(
    actor: Member, topic: Topic, post: Post, mentioned: list[Member], *, quoted: Post | None, category: Category
) -> None:
    """Mentions, the quote and the topic's followers, each told once, never the author themself."""
    told: set[int] = {actor.id}
    params = {"name": actor.display_name, "topic": topic.title}
    for member in mentioned:
        if member.id in told:
            continue
        told.add(member.id)
        _emit_mention(actor, member, topic, post, category)
        notify(member.id, "forums.mention", params, url=post_path(post.id))
    if quoted is not None and quoted.author_id and quoted.author_id not in told:
        told.add(quoted.author_id)
        notify(quoted.author_id, "forums.quote", params, url=post_path(post.id))
    if post.position > 1:
        followers = db.session.scalars(sa.select(TopicFollow.member_id).where(TopicFollow.topic_id == topic.id))
        for member_id in followers:
            if member_id not in told:
                told.add(member_id)
                notify(member_id, "forums.reply", params, url=post_path(post.id))


def _emit_mention(actor: Member, member: Member, topic: Topic, post: Post, category: Category) -> None:
    emit(
        "mention.created",
        member_id=member.id,
        source=("mention", f"{post.id}:{member.id}"),
        attributes={"category_id": category.id, "topic_id": topic.id, "post_id": post.id, "author_id": actor.id},
    )


def _notify_category_followers(actor: Member, topic: Topic, category: Category) -> None:
    ids = [category.id] + ([category.parent_id] if category.parent_id else [])
    followers = db.session.scalars(
        sa.select(CategoryFollow.member_id).where(CategoryFollow.category_id.in_(ids)).distinct()
    )
    params = {"name": actor.display_name, "topic": topic.title, "category": category.name}
    for member_id in followers:
        if member_id != actor.id:
            notify(member_id, "forums.new_topic", params, url=topic_path(topic.id))


# --- editing and deleting ------------------------------------------------------------------------------


def edit_post(*, actor: Member, post: Post, body: str, title: str | None = None) -> Post:
    """Keeps the previous text as a revision; new mentions are told, old ones are not told again."""
    topic = db.session.get(Topic, post.topic_id)
    if not policies.can_edit(actor, post, topic):
        raise NotAllowed(_l("You cannot edit this post."))
    body = content.clean_body(body)
    new_title = content.clean_title(title) if (title is not None and post.position == 1) else None
    if body == post.body and (new_title is None or new_title == topic.title):
        return post
    before_handles = set(content.mentioned_handles(post.body))
    db.session.add(
        PostRevision(
            post_id=post.id,
            editor_id=actor.id,
            body=post.body,
            title=topic.title if post.position == 1 else None,
        )
    )
    rendered = content.render_post(body)
    before = {"body": post.body}
    post.body = body
    post.html = rendered.html
    post.edited_at = utcnow()
    post.edit_count = Post.edit_count + 1
    if new_title is not None and new_title != topic.title:
        before["title"] = topic.title
        topic.title = new_title
    db.session.flush()
    category = db.session.get(Category, topic.category_id)
    for member in rendered.mentioned:
        if member.id != actor.id and content.handle_of(member.display_name).lower() not in before_handles:
            _emit_mention(actor, member, topic, post, category)
            notify(member.id, "forums.mention", {"name": actor.display_name, "topic": topic.title}, post_path(post.id))
    if actor.id != post.author_id:
        _audit(actor, "post", post.id, "forums.post_edited", before, {"body": body, "title": topic.title})
    search.index_later(TOPIC_KIND if post.position == 1 else POST_KIND, topic.id if post.position == 1 else post.id)
    return post


def delete_post(*, actor: Member, post: Post, reason: str = "") -> None:
    """The author within the window, or a moderator; deleting the opening post removes the topic."""
    if not policies.can_delete(actor, post, window=delete_window()):
        if policies.is_member(actor) and post.author_id == actor.id and post.is_visible:
            raise NotAllowed(
                _l(
                    "Posts can only be deleted within %(n)s minutes of posting.",
                    n=int(delete_window().total_seconds() // 60),
                )
            )
        raise NotAllowed(_l("You cannot delete this post."))
    topic = db.session.get(Topic, post.topic_id)
    if post.position == 1:
        set_topic_status(topic, PostStatus.DELETED)
    else:
        set_post_status(post, PostStatus.DELETED)
    if actor.id != post.author_id:
        _audit(actor, "post", post.id, "forums.post_deleted", {"status": "visible"}, {"status": "deleted"}, reason)


def set_post_status(post: Post, status: PostStatus) -> None:
    """Moves a reply between visible and not; counters, last activity, events and the index follow."""
    if post.position == 1:
        set_topic_status(db.session.get(Topic, post.topic_id), status)
        post.status = status.value
        return
    was_visible = post.is_visible
    post.status = status.value
    now_visible = status == PostStatus.VISIBLE
    if was_visible == now_visible:
        return
    topic = db.session.get(Topic, post.topic_id)
    category = db.session.get(Category, topic.category_id)
    delta = 1 if now_visible else -1
    table = Topic.__table__
    db.session.execute(sa.update(table).where(table.c.id == topic.id).values(reply_count=table.c.reply_count + delta))
    _renumber(post, now_visible)
    _bump_categories(category, posts=delta)
    db.session.flush()
    _refresh_last_post(topic)
    attributes = {"category_id": category.id, "topic_id": topic.id, "post_id": post.id}
    if now_visible:
        # ``*.restored``, not ``*.created``: the engine pays it like a creation, but moderation does not
        # screen (and hold) a post a moderator has just let through.
        emit("post.restored", member_id=post.author_id, source=("post", post.id), attributes=attributes)
        search.index_later(POST_KIND, post.id)
    else:
        emit("post.removed", member_id=post.author_id, source=("post", post.id), attributes=attributes)
        search.remove_later(POST_KIND, post.id)
    likes_follow_post(post, visible=now_visible)


def likes_follow_post(post: Post, *, visible: bool) -> None:
    """The points a post's likes earned its author follow the post: reversed when it leaves view
    (``like.removed``), paid again when it returns (``like.received``), same source as each like."""
    if not post.author_id:
        return
    liker_ids = list(
        db.session.scalars(
            sa.select(PostLike.member_id).where(PostLike.post_id == post.id).order_by(PostLike.created_at)
        )
    )
    _likes_follow(post.id, post.author_id, db.session.get(Topic, post.topic_id), liker_ids, visible=visible)


def _likes_follow(post_id: int, author_id: int | None, topic: Topic, liker_ids: list[int], *, visible: bool) -> None:
    if not author_id:
        return
    attributes = {"category_id": topic.category_id, "topic_id": topic.id, "post_id": post_id}
    for liker_id in liker_ids:
        source = like_source(post_id, liker_id)
        if visible:
            # No liker_id: the like is not new, so trust does not count it again.
            restored = {**attributes, "restored": True}
            emit("like.received", member_id=author_id, source=source, attributes=restored)
        else:
            removed = {**attributes, "liker_id": liker_id}
            emit("like.removed", member_id=author_id, source=source, attributes=removed)


def _refresh_last_post(topic: Topic) -> None:
    last = db.session.execute(
        sa.select(Post.id, Post.author_id, Post.created_at)
        .where(Post.topic_id == topic.id, Post.status == PostStatus.VISIBLE.value)
        .order_by(Post.position.desc())
        .limit(1)
    ).first()
    if last is not None:
        table = Topic.__table__
        db.session.execute(
            sa.update(table)
            .where(table.c.id == topic.id)
            .values(last_post_id=last.id, last_poster_id=last.author_id, last_post_at=last.created_at)
        )
    db.session.expire(topic)


def set_topic_status(topic: Topic, status: PostStatus) -> None:
    """Hides, holds, deletes or restores a whole topic; the category's counts follow."""
    was_visible = topic.is_visible
    topic.status = status.value
    now_visible = status == PostStatus.VISIBLE
    first = db.session.get(Post, topic.first_post_id) if topic.first_post_id else None
    if first is not None:
        first.status = status.value
    if was_visible == now_visible:
        return
    category = db.session.get(Category, topic.category_id)
    delta = 1 if now_visible else -1
    db.session.flush()
    _bump_categories(category, topics=delta, posts=delta * (topic.reply_count + 1))
    attributes = {"category_id": category.id, "topic_id": topic.id}
    if now_visible:
        emit("topic.restored", member_id=topic.author_id, source=("topic", topic.id), attributes=attributes)
        search.index_later(TOPIC_KIND, topic.id)
    else:
        emit("topic.removed", member_id=topic.author_id, source=("topic", topic.id), attributes=attributes)
        search.remove_later(TOPIC_KIND, topic.id)
    if first is not None:
        likes_follow_post(first, visible=now_visible)
    _replies_follow_topic(topic, category, now_visible)


def _replies_follow_topic(topic: Topic, category: Category, now_visible: bool) -> None:
    """A hidden topic takes its visible replies with it, for the points engine too: each one's
    ``post.removed`` (or ``post.restored`` when the topic comes back) with its creation's source.
    Replies hidden on their own stay hidden and were reversed when they were hidden."""
    replies = db.session.execute(
        sa.select(Post.id, Post.author_id)
        .where(Post.topic_id == topic.id, Post.position > 1, Post.status == PostStatus.VISIBLE.value)
        .order_by(Post.position)
    ).all()
    likers: dict[int, list[int]] = {}
    for post_id, liker_id in db.session.execute(
        sa.select(PostLike.post_id, PostLike.member_id)
        .join(Post, Post.id == PostLike.post_id)
        .where(Post.topic_id == topic.id, Post.position > 1, Post.status == PostStatus.VISIBLE.value)
        .order_by(PostLike.created_at)
    ):
        likers.setdefault(post_id, []).append(liker_id)
    kind = "post.restored" if now_visible else "post.removed"
    for post_id, author_id in replies:
        attributes = {"category_id": category.id, "topic_id": topic.id, "post_id": post_id}
        emit(kind, member_id=author_id, source=("post", post_id), attributes=attributes)
        _likes_follow(post_id, author_id, topic, likers.get(post_id, []), visible=now_visible)


# --- moderators' actions ----------------------------------------------------------------------------------

TOPIC_FLAGS = {"pinned": "is_pinned", "locked": "is_locked", "closed": "is_closed"}


def set_topic_flag(*, actor: Member, topic: Topic, flag: str, value: bool, reason: str = "") -> Topic:
    """Pin, lock or close (and undo); moderators and admins only, always audited."""
    if not policies.is_moderator(actor):
        raise NotAllowed()
    attribute = TOPIC_FLAGS.get(flag)
    if attribute is None:
        raise ValidationFailed(_l("Unknown topic action."))
    before = bool(getattr(topic, attribute))
    if before == value:
        return topic
    setattr(topic, attribute, value)
    action = {"pinned": "pin", "locked": "lock", "closed": "close"}[flag]
    _audit(
        actor,
        "topic",
        topic.id,
        f"forums.topic_{action}" if value else f"forums.topic_un{action}",
        {flag: before},
        {flag: value},
        reason,
    )
    return topic


def moderate_post(*, actor: Member, post: Post, status: PostStatus, reason: str = "") -> None:
    """Hide, hold or restore a post as a moderator (audited)."""
    if not policies.is_moderator(actor):
        raise NotAllowed()
    before = post.status
    set_post_status(post, status)
    _audit(actor, "post", post.id, f"forums.post_{status.value}", {"status": before}, {"status": status.value}, reason)


def moderate_topic(*, actor: Member, topic: Topic, status: PostStatus, reason: str = "") -> None:
    if not policies.is_moderator(actor):
        raise NotAllowed()
    before = topic.status
    set_topic_status(topic, status)
    _audit(
        actor, "topic", topic.id, f"forums.topic_{status.value}", {"status": before}, {"status": status.value}, reason
    )


def move_topic(*, actor: Member, topic: Topic, category: Category, reason: str = "") -> None:
    if not policies.is_moderator(actor):
        raise NotAllowed()
    old = db.session.get(Category, topic.category_id)
    if old.id == category.id:
        return
    if topic.is_visible:
        _bump_categories(old, topics=-1, posts=-(topic.reply_count + 1))
        _bump_categories(category, topics=1, posts=topic.reply_count + 1)
    topic.category_id = category.id
    _audit(
        actor, "topic", topic.id, "forums.topic_moved", {"category_id": old.id}, {"category_id": category.id}, reason
    )
    search.index_later(TOPIC_KIND, topic.id)


# --- views ------------------------------------------------------------------------------------------------------


_pending_views: dict[int, int] = {}
_views_lock = threading.Lock()
_views_flushed_at = [0.0]


def record_view(topic_id: int) -> None:
    """Counts a view. Views add up in the process and are written at most every
    ``FORUM_VIEW_FLUSH_SECONDS`` (0: at once), one atomic increment per topic: a popular topic's
    readers then do not each write (and queue behind) its row. A crash loses a few seconds of views."""
    interval = float(current_app.config.get("FORUM_VIEW_FLUSH_SECONDS", 5))
    now = time.monotonic()
    with _views_lock:
        _pending_views[topic_id] = _pending_views.get(topic_id, 0) + 1
        if now - _views_flushed_at[0] < interval:
            return
        _views_flushed_at[0] = now
        due = dict(_pending_views)
        _pending_views.clear()
    table = Topic.__table__
    try:
        with db.session.begin_nested():
            for pending_id, count in sorted(due.items()):
                db.session.execute(
                    sa.update(table).where(table.c.id == pending_id).values(view_count=table.c.view_count + count),
                    execution_options={"forum_pages_unchanged": True},  # the page cache's generation stays
                )
    except sa.exc.OperationalError:
        # SQLite: another process wrote since this transaction's first read (the page cache's
        # generation), so it may not write now; WAL answers "database is locked" at once, whatever
        # the busy timeout. The views wait for the next flush instead of failing the page.
        with _views_lock:
            for pending_id, count in due.items():
                _pending_views[pending_id] = _pending_views.get(pending_id, 0) + count


def store_upload(*, actor: Member, stream: IO[bytes] | bytes) -> str:
    """An image for a post, through the shared pipeline; returns the Markdown that shows it."""
    _require_member(actor)
    stored = media.store_image(stream, FORUM_IMAGES)
    return f"![](/media/{stored.url_key('display')})"
