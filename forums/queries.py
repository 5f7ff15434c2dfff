"""Read-only selects for the forum pages: each page is a handful of indexed queries, whatever the topic's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, joinedload

from forums import policies
from forums.models import (
    Category,
    CategoryFollow,
    DigestPreference,
    Poll,
    PollOption,
    PollVote,
    Post,
    PostLike,
    PostRevision,
    PostStatus,
    Topic,
    TopicFollow,
    TopicRead,
)
from gamification.engine.queries import tier_choices, tier_code_of
from portal.accounts.models import Member
from portal.db import InvalidCursor, db, decode_cursor, encode_cursor

VISIBLE = PostStatus.VISIBLE.value


def page_size() -> int:
    return int(current_app.config.get("FORUM_PAGE_SIZE", 20))


def topics_per_page() -> int:
    return int(current_app.config.get("FORUM_TOPICS_PER_PAGE", 30))


@dataclass
class Viewer:
    """Who is reading, resolved once per request: their tier is asked for only if a forum needs it."""

    actor: Any
    _tier: Any = field(default=None)
    _tier_loaded: bool = False
    _tiers: list[tuple[str, str]] | None = None

    @property
    def member_id(self) -> int | None:
        return self.actor.id if policies.is_member(self.actor) else None

    def access(self, category: Category) -> policies.Access:
        if category.min_tier and not self._tier_loaded:
            self._tier = tier_code_of(self.member_id) if self.member_id else None
            self._tiers = tier_choices()
            self._tier_loaded = True
        return policies.category_access(self.actor, category, tier=self._tier, tiers=self._tiers or [])


@dataclass
class CategoryRow:
    category: Category
    access: policies.Access
    last_topic_title: str | None = None
    last_poster_name: str | None = None
    children: list[CategoryRow] = field(default_factory=list)


def category_index(viewer: Viewer) -> list[CategoryRow]:
    """Every category with its sub-categories and latest topic, in one query."""
    last_poster = aliased(Member)
    rows = db.session.execute(
        sa.select(Category, Topic.title, last_poster.display_name)
        .outerjoin(Topic, Topic.id == Category.last_topic_id)
        .outerjoin(last_poster, last_poster.id == Topic.last_poster_id)
        .order_by(Category.position, Category.id)
    ).all()
    by_id: dict[int, CategoryRow] = {}
    for category, title, poster in rows:
        access = viewer.access(category)
        by_id[category.id] = CategoryRow(
            category,
            access,
            title if access.allowed else None,
            poster if access.allowed else None,
        )
    roots: list[CategoryRow] = []
    for row in by_id.values():
        parent = by_id.get(row.category.parent_id) if row.category.parent_id else None
        if parent is not None:
            # A sub-category of a locked parent is locked for the same reason.
            if not parent.access.allowed:
                row.access = parent.access
            parent.children.append(row)
        else:
            roots.append(row)
    return roots


def allowed_category_ids(viewer: Viewer) -> list[int]:
    return [row.category.id for root in category_index(viewer) for row in [root, *root.children] if row.access.allowed]


@dataclass
class TopicRow:
    topic: Topic
    last_read: int | None = None

    @property
    def unread(self) -> bool:
        return self.last_read is not None and self.last_read < self.topic.post_seq

    @property
    def is_new(self) -> bool:
        return self.last_read is None


@dataclass
class TopicList:
    rows: list[TopicRow]
    next_cursor: str | None


def _topic_select(viewer: Viewer) -> sa.Select:
    stmt = sa.select(Topic).options(joinedload(Topic.author), joinedload(Topic.last_poster))
    if viewer.member_id:
        stmt = sa.select(Topic, TopicRead.last_position).options(
            joinedload(Topic.author), joinedload(Topic.last_poster)
        )
        stmt = stmt.outerjoin(
            TopicRead, sa.and_(TopicRead.topic_id == Topic.id, TopicRead.member_id == viewer.member_id)
        )
    return stmt


def _rows(stmt: sa.Select, viewer: Viewer) -> list[TopicRow]:
    if viewer.member_id:
        return [TopicRow(topic, last) for topic, last in db.session.execute(stmt).unique().all()]
    return [TopicRow(topic) for topic in db.session.scalars(stmt).unique().all()]


def topic_list(
    viewer: Viewer, *, category_ids: list[int] | None, cursor: str | None = None, limit: int | None = None
) -> TopicList:
    """Visible topics by latest activity, keyset-paginated on (last_post_at, id); pinned ones are listed apart."""
    limit = limit or topics_per_page()
    stmt = _topic_select(viewer).where(Topic.status == VISIBLE)
    if category_ids is not None:
        if len(category_ids) == 1:
            stmt = stmt.where(Topic.category_id == category_ids[0], Topic.is_pinned.is_(False))
        else:
            stmt = stmt.where(Topic.category_id.in_(category_ids or [-1]))
    if cursor:
        last_at, last_id = decode_cursor(cursor, 2)
        if not isinstance(last_id, int):
            raise InvalidCursor(cursor)
        stmt = stmt.where(sa.tuple_(Topic.last_post_at, Topic.id) < sa.tuple_(last_at, last_id))
    stmt = stmt.order_by(Topic.last_post_at.desc(), Topic.id.desc()).limit(limit + 1)
    rows = _rows(stmt, viewer)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1].topic
        next_cursor = encode_cursor([last.last_post_at, last.id])
    return TopicList(rows, next_cursor)


def pinned_topics(viewer: Viewer, category_id: int) -> list[TopicRow]:
    stmt = (
        _topic_select(viewer)
        .where(Topic.category_id == category_id, Topic.status == VISIBLE, Topic.is_pinned.is_(True))
        .order_by(Topic.last_post_at.desc(), Topic.id.desc())
        .limit(20)
    )
    return _rows(stmt, viewer)


def category_with_children(category_id: int) -> tuple[Category | None, Category | None, list[Category]]:
    """The category, its parent and its sub-categories (one query)."""
    rows = list(
        db.session.scalars(
            sa.select(Category)
            .where(
                sa.or_(
                    Category.id == category_id,
                    Category.parent_id == category_id,
                    Category.id == sa.select(Category.parent_id).where(Category.id == category_id).scalar_subquery(),
                )
            )
            .order_by(Category.position, Category.id)
        )
    )
    category = next((c for c in rows if c.id == category_id), None)
    if category is None:
        return None, None, []
    parent = next((c for c in rows if c.id == category.parent_id), None)
    children = [c for c in rows if c.parent_id == category_id]
    return category, parent, children


def topic_with_category(topic_id: int) -> Topic | None:
    return db.session.scalar(
        sa.select(Topic).options(joinedload(Topic.category), joinedload(Topic.author)).where(Topic.id == topic_id)
    )


def page_count(topic: Topic) -> int:
    """Pages of shown posts: the opening post and the visible replies."""
    return max(1, -(-(topic.reply_count + 1) // page_size()))


def page_of_ordinal(ordinal: int) -> int:
    return max(1, -(-ordinal // page_size()))


def page_of_position(topic_id: int, position: int) -> int:
    """The page showing the post at ``position``, or the nearest shown post before it (a hidden post's
    place): one backwards step along the (topic_id, position) index."""
    ordinal = db.session.scalar(
        sa.select(Post.ordinal)
        .where(Post.topic_id == topic_id, Post.position <= position, Post.ordinal.is_not(None))
        .order_by(Post.position.desc())
        .limit(1)
    )
    return page_of_ordinal(ordinal or 1)


def first_unread_position(topic_id: int, last_read: int) -> int | None:
    """The first shown post after what the member has read, if any."""
    return db.session.scalar(
        sa.select(Post.position)
        .where(Post.topic_id == topic_id, Post.position > last_read, Post.ordinal.is_not(None))
        .order_by(Post.position)
        .limit(1)
    )


def posts_on_page(topic: Topic, page: int) -> list[Post]:
    """One indexed range on (topic_id, ordinal): always a full page of shown posts, and as cheap on the
    last page of a long topic as on the first."""
    size = page_size()
    first = (page - 1) * size + 1
    stmt = (
        sa.select(Post)
        .options(joinedload(Post.author))
        .where(Post.topic_id == topic.id, Post.ordinal.between(first, first + size - 1))
        .order_by(Post.ordinal)
    )
    return list(db.session.scalars(stmt))


def liked_post_ids(member_id: int | None, post_ids: list[int]) -> set[int]:
    if not member_id or not post_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(PostLike.post_id).where(PostLike.member_id == member_id, PostLike.post_id.in_(post_ids))
        )
    )


@dataclass
class MemberTopicState:
    last_read: int | None
    following: bool


def member_topic_state(member_id: int | None, topic_id: int) -> MemberTopicState:
    """The reader's position and whether they follow the topic, in one query."""
    if not member_id:
        return MemberTopicState(None, False)
    following = (
        sa.select(sa.literal(1))
        .where(TopicFollow.topic_id == topic_id, TopicFollow.member_id == member_id)
        .exists()
        .label("following")
    )
    row = db.session.execute(
        sa.select(
            sa.select(TopicRead.last_position)
            .where(TopicRead.topic_id == topic_id, TopicRead.member_id == member_id)
            .scalar_subquery(),
            following,
        )
    ).one()
    return MemberTopicState(row[0], bool(row[1]))


@dataclass
class PollView:
    poll: Poll
    options: list[PollOption]
    my_votes: set[int]

    @property
    def voted(self) -> bool:
        return bool(self.my_votes)

    def show_results(self) -> bool:
        return self.voted or not self.poll.is_open()

    def percent(self, option: PollOption) -> int:
        return round(100 * option.vote_count / self.poll.voter_count) if self.poll.voter_count else 0


def poll_of(topic: Topic, member_id: int | None) -> PollView | None:
    """The topic's poll with its options and the reader's votes (two queries, only when the topic has one)."""
    if not topic.has_poll:
        return None
    rows = db.session.execute(
        sa.select(Poll, PollOption)
        .join(PollOption, PollOption.poll_id == Poll.id)
        .where(Poll.topic_id == topic.id)
        .order_by(PollOption.position)
    ).all()
    if not rows:
        return None
    poll = rows[0][0]
    mine: set[int] = set()
    if member_id:
        mine = set(
            db.session.scalars(
                sa.select(PollVote.option_id).where(PollVote.poll_id == poll.id, PollVote.member_id == member_id)
            )
        )
    return PollView(poll, [option for _poll, option in rows], mine)


def likers(post_id: int, limit: int = 100) -> list[Member]:
    return list(
        db.session.scalars(
            sa.select(Member)
            .join(PostLike, PostLike.member_id == Member.id)
            .where(PostLike.post_id == post_id)
            .order_by(PostLike.created_at.desc())
            .limit(limit)
        )
    )


def revisions(post_id: int) -> list[PostRevision]:
    return list(
        db.session.scalars(
            sa.select(PostRevision)
            .options(joinedload(PostRevision.editor))
            .where(PostRevision.post_id == post_id)
            .order_by(PostRevision.id.desc())
        )
    )


def post_with_author(post_id: int) -> Post | None:
    return db.session.scalar(sa.select(Post).options(joinedload(Post.author)).where(Post.id == post_id))


def is_following_category(member_id: int | None, category_id: int) -> bool:
    if not member_id:
        return False
    return db.session.get(CategoryFollow, (category_id, member_id)) is not None


def digest_preference(member_id: int) -> DigestPreference | None:
    return db.session.get(DigestPreference, member_id)


def categories_for_select() -> list[Category]:
    return list(db.session.scalars(sa.select(Category).order_by(Category.position, Category.id)))
