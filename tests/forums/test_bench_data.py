"""The bench data generator: bulk members, topics and posts with counters and dense positions that hold."""

from __future__ import annotations

import sqlalchemy as sa

from forums.bench import generate
from forums.models import Category, Post, Topic
from portal.db import db


def test_generate_builds_a_consistent_data_set(web):
    long_topic = generate(members=5, topics=8, posts=80, long_topic_replies=40)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 80
    topic = db.session.get(Topic, long_topic.id)
    assert topic.post_seq == topic.reply_count + 1 == 41
    positions = list(
        db.session.scalars(sa.select(Post.position).where(Post.topic_id == topic.id).order_by(Post.position))
    )
    assert positions == list(range(1, 42))
    for each in db.session.scalars(sa.select(Topic)):
        visible = db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.topic_id == each.id))
        assert each.reply_count + 1 == visible == each.post_seq
    assert sum(c.post_count for c in db.session.scalars(sa.select(Category))) == 80
    assert web.get(f"/forums/t/{topic.id}?page=last").status_code == 200
