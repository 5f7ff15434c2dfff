"""Benchmark data of the forums: four forums, topics and posts in Persian and English, one very long topic.

``python -m bench.run --members 1000 --topics 200 --posts 20000`` builds the issue's data set
(the long topic has 5,000 replies, or half the posts when fewer are asked for).
"""

from __future__ import annotations

import sqlalchemy as sa

from bench.registry import Context, Target, generator, targets
from forums.bench import generate
from forums.models import Topic
from portal.db import db

LONG_TOPIC_REPLIES = 5000


@generator("forums", order=20)  # accounts run at order 10: the members exist
def forums(ctx: Context) -> None:
    topics, posts = ctx.sizes.topics, ctx.sizes.posts
    if topics <= 0 or posts <= 0:
        return
    long_replies = min(LONG_TOPIC_REPLIES, max(0, posts - topics) // 2)
    long_topic = generate(topics=topics, posts=posts, long_topic_replies=long_replies, author_ids=ctx.ids["members"])
    ctx.ids["forum_topics"] = [long_topic.id]
    ctx.ids["forum_categories"] = [long_topic.category_id]
    ctx.notes["forum_long_topic_posts"] = db.session.scalar(
        sa.select(Topic.reply_count + 1).where(Topic.id == long_topic.id)
    )


@targets
def forum_pages(ctx: Context) -> list[Target]:
    if not ctx.ids.get("forum_topics"):
        return []
    topic_id = ctx.ids["forum_topics"][0]
    category_id = ctx.ids["forum_categories"][0]
    return [
        Target("/forums/", label="forum index"),
        Target(f"/forums/c/{category_id}", label="topic list (category)"),
        Target("/forums/latest", label="topic list (latest)"),
        Target(f"/forums/t/{topic_id}", label="long topic, first page"),
        Target(f"/forums/t/{topic_id}?page=last", label="long topic, last page"),
    ]
