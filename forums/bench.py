"""Bulk data for benchmarks and large test topics: plain multi-row inserts, counters set once at the end.

Nothing here emits events, notifies or indexes (that is the point: 20,000 posts in seconds);
run ``flask portal search reindex`` afterwards if search should see them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from forums.content import render_post
from forums.models import Category, Post, Topic
from portal.accounts.models import Member
from portal.accounts.services import hash_password
from portal.db import db, utcnow

SAMPLE_BODIES = [
    "سلام به همه! من هم همین مشکل را داشتم و با **به‌روزرسانی** حل شد.",
    "I had the same question. The manual says to restart the device first, then pair it again.",
    "ممنون از راهنمایی‌تان؛ امروز امتحان کردم و جواب داد.",
    "Here is the command I used:\n\n```\nsudo systemctl restart bashgah\n```\n\nWorks every time.",
    "به نظر من کیفیت پشتیبانی در ماه‌های اخیر خیلی بهتر شده است.",
    "Does anyone know whether the loyalty points expire after twelve months?",
]


def bulk_replies(
    topic: Topic,
    author_ids: Sequence[int],
    count: int,
    *,
    body: Callable[[int], str] | None = None,
    batch: int = 1000,
) -> None:
    """Appends ``count`` visible replies to ``topic`` at the next dense positions."""
    if count <= 0:
        return
    start = topic.post_seq + 1
    first_ordinal = topic.reply_count + 2  # after the opening post and the visible replies
    rendered: dict[str, str] = {}
    base_time = utcnow() - timedelta(seconds=count)
    rows: list[dict[str, Any]] = []
    for i in range(count):
        text = body(i) if body else SAMPLE_BODIES[i % len(SAMPLE_BODIES)]
        if text not in rendered:
            rendered[text] = render_post(text).html
        rows.append(
            {
                "topic_id": topic.id,
                "author_id": author_ids[i % len(author_ids)],
                "position": start + i,
                "ordinal": first_ordinal + i,
                "body": text,
                "html": rendered[text],
                "status": "visible",
                "like_count": 0,
                "edit_count": 0,
                "created_at": base_time + timedelta(seconds=i),
            }
        )
        if len(rows) >= batch:
            db.session.execute(sa.insert(Post.__table__), rows)
            rows = []
    if rows:
        db.session.execute(sa.insert(Post.__table__), rows)
    last = db.session.execute(
        sa.select(Post.id, Post.author_id, Post.created_at)
        .where(Post.topic_id == topic.id)
        .order_by(Post.position.desc())
        .limit(1)
    ).one()
    table = Topic.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id == topic.id)
        .values(
            post_seq=table.c.post_seq + count,
            reply_count=table.c.reply_count + count,
            last_post_id=last.id,
            last_poster_id=last.author_id,
            last_post_at=last.created_at,
        )
    )
    categories = Category.__table__
    db.session.execute(
        sa.update(categories)
        .where(categories.c.id == topic.category_id)
        .values(post_count=categories.c.post_count + count, last_topic_id=topic.id, last_activity_at=last.created_at)
    )
    db.session.expire(topic)


def bulk_topics(category: Category, author_ids: Sequence[int], count: int, *, title: str = "Topic") -> list[Topic]:
    """``count`` topics with an opening post each, in a few statements."""
    now = utcnow()
    html = render_post(SAMPLE_BODIES[0]).html
    topics = [
        Topic(
            category_id=category.id,
            author_id=author_ids[i % len(author_ids)],
            title=f"{title} {i + 1}",
            post_seq=1,
            last_poster_id=author_ids[i % len(author_ids)],
            created_at=now - timedelta(minutes=count - i),
            last_post_at=now - timedelta(minutes=count - i),
        )
        for i in range(count)
    ]
    db.session.add_all(topics)
    db.session.flush()
    posts = [
        {
            "topic_id": t.id,
            "author_id": t.author_id,
            "position": 1,
            "ordinal": 1,
            "body": SAMPLE_BODIES[0],
            "html": html,
            "status": "visible",
            "like_count": 0,
            "edit_count": 0,
            "created_at": t.created_at,
        }
        for t in topics
    ]
    db.session.execute(sa.insert(Post.__table__), posts)
    firsts = dict(
        db.session.execute(
            sa.select(Post.topic_id, Post.id).where(Post.topic_id.in_([t.id for t in topics]), Post.position == 1)
        ).all()
    )
    for t in topics:
        t.first_post_id = t.last_post_id = firsts[t.id]
    categories = Category.__table__
    db.session.execute(
        sa.update(categories)
        .where(categories.c.id == category.id)
        .values(
            topic_count=categories.c.topic_count + count,
            post_count=categories.c.post_count + count,
            last_topic_id=topics[-1].id,
            last_activity_at=topics[-1].last_post_at,
        )
    )
    db.session.flush()
    return topics


def generate(
    members: int = 1000,
    topics: int = 200,
    posts: int = 20_000,
    long_topic_replies: int = 5000,
    *,
    author_ids: Sequence[int] | None = None,
) -> Topic:
    """The benchmark's data set: members, categories, topics, posts and one very long topic; returns it.
    With ``author_ids`` (members made elsewhere, as by the benchmark's accounts generator) it adds none."""
    if author_ids:
        return _generate_forums(list(author_ids), topics, posts, long_topic_replies)
    password = hash_password("bench-password")
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Member)) or 0
    rows = [
        {
            "email": f"bench{existing + i}@bench.example",
            "password_hash": password,
            "display_name": f"Bench Member {existing + i}",
            "referral_code": f"BENCH{existing + i:07d}",
            "role": "member",
            "email_verified_at": utcnow(),
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        for i in range(members)
    ]
    if rows:
        db.session.execute(sa.insert(Member.__table__), rows)
    author_ids = list(db.session.scalars(sa.select(Member.id).order_by(Member.id.desc()).limit(max(members, 1))))
    return _generate_forums(author_ids, topics, posts, long_topic_replies)


def _generate_forums(author_ids: list[int], topics: int, posts: int, long_topic_replies: int) -> Topic:
    categories = [Category(name=f"Bench forum {i + 1}", position=i) for i in range(4)]
    db.session.add_all(categories)
    db.session.flush()
    made: list[Topic] = []
    per_category = max(1, topics // len(categories))
    for category in categories:
        made.extend(bulk_topics(category, author_ids, per_category))
    remaining = max(0, posts - len(made) - long_topic_replies)
    rng = random.Random(7)
    long_topic = made[0]
    bulk_replies(long_topic, author_ids, long_topic_replies)
    spread: dict[int, int] = {}
    for _ in range(remaining):
        topic = made[rng.randrange(1, len(made))] if len(made) > 1 else long_topic
        spread[topic.id] = spread.get(topic.id, 0) + 1
    by_id = {t.id: t for t in made}
    for topic_id, n in spread.items():
        bulk_replies(by_id[topic_id], author_ids, n)
    db.session.commit()
    return long_topic
