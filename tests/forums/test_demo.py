"""The demo club's forums: categories by product, learning and customer group, dozens of topics, hundreds of posts."""

from __future__ import annotations

import sqlalchemy as sa

from forums.demo import seed_forums
from forums.models import Category, Poll, Post, PostLike, Topic
from portal import search
from portal.accounts.demo import seed_accounts
from portal.db import db


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_demo_forums_are_seeded_once_with_persian_and_english_content(web):
    seed_accounts()
    seed_forums()
    db.session.commit()
    names = set(db.session.scalars(sa.select(Category.name)))
    assert {"محصولات", "آموزش", "گروه‌های مشتریان", "Laptops & accessories"} <= names
    assert _count(Topic) >= 30
    assert _count(Post) >= 300
    assert _count(PostLike) >= 50
    poll = db.session.scalars(sa.select(Poll)).one()
    assert poll.voter_count == 8
    persian = db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.body.like("%ممنون%")))
    english = db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.body.like("%Thanks%")))
    assert persian > 0
    assert english > 0
    assert search.search("باتری").total > 0
    seed_forums()
    assert _count(Category) == len(names)
    assert web.get("/forums/").status_code == 200
    long_topic = db.session.scalars(sa.select(Topic).order_by(Topic.post_seq.desc())).first()
    assert web.get(f"/forums/t/{long_topic.id}?page=last").status_code == 200
