"""Topic pages are full pages of shown posts: hidden, held and deleted replies never leave a page short."""

from __future__ import annotations

import random
import re

import sqlalchemy as sa

from forums import services
from forums.bench import bulk_replies
from forums.models import Post, PostStatus, Topic
from portal.db import db
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import make_reply, make_topic
from tests.portal.web import sign_in

SIZE = 20  # FORUM_PAGE_SIZE's default


def _positions(web, topic_id: int, page: int | str) -> list[int]:
    html = web.get(f"/forums/t/{topic_id}?page={page}").get_data(as_text=True)
    return [int(n) for n in re.findall(r'<article class="card mb-3 forum-post" id="p(\d+)"', html)]


def _by_position(topic: Topic) -> dict[int, Post]:
    return {p.position: p for p in db.session.scalars(sa.select(Post).where(Post.topic_id == topic.id))}


def _assert_dense(topic_id: int) -> None:
    """Shown posts are numbered 1..n in position order; no other post has a number."""
    rows = db.session.execute(
        sa.select(Post.position, Post.status, Post.ordinal).where(Post.topic_id == topic_id).order_by(Post.position)
    ).all()
    shown = [(pos, ordinal) for pos, status, ordinal in rows if status == "visible" or pos == 1]
    assert [ordinal for _pos, ordinal in shown] == list(range(1, len(shown) + 1))
    assert all(ordinal is None for pos, status, ordinal in rows if status != "visible" and pos != 1)
    topic = db.session.get(Topic, topic_id)
    assert topic.reply_count == len(shown) - 1


def test_hidden_replies_do_not_shorten_a_page(web):
    topic = make_topic()
    bulk_replies(topic, [MemberFactory().id], 50)
    posts = _by_position(topic)
    moderator = ModeratorFactory()
    for position in (3, 4, 5, 25):
        services.moderate_post(actor=moderator, post=posts[position], status=PostStatus.HIDDEN)
    services.set_post_status(posts[7], PostStatus.HELD)
    services.delete_post(actor=moderator, post=posts[8])
    db.session.commit()
    _assert_dense(topic.id)

    hidden = {3, 4, 5, 7, 8, 25}
    shown = [p for p in range(1, 52) if p not in hidden]
    assert _positions(web, topic.id, 1) == shown[:SIZE]
    assert _positions(web, topic.id, 2) == shown[SIZE : 2 * SIZE]
    assert _positions(web, topic.id, "last") == shown[2 * SIZE :]
    assert web.get(f"/forums/t/{topic.id}?page=4").status_code == 302  # 45 shown posts: three pages

    # A post's link and "jump to first unread" land on the page that shows it.
    assert web.get(f"/forums/p/{posts[28].id}").location.endswith("?page=2#p28")
    reader = MemberFactory()
    sign_in(web, reader)
    web.get(f"/forums/t/{topic.id}")  # reads page 1, up to position 26
    assert web.get(f"/forums/t/{topic.id}/unread").location.endswith("?page=2#p27")

    # Restored, a post takes its place back and the pages shift by one.
    services.moderate_post(actor=moderator, post=posts[4], status=PostStatus.VISIBLE)
    db.session.commit()
    _assert_dense(topic.id)
    shown = sorted([*shown, 4])
    assert _positions(web, topic.id, 1) == shown[:SIZE]
    assert _positions(web, topic.id, 2) == shown[SIZE : 2 * SIZE]


def test_ordinals_stay_dense_through_any_mix_of_replies_hides_and_restores():
    rng = random.Random(3)
    topic = make_topic()
    members = [MemberFactory() for _ in range(3)]
    moderator = ModeratorFactory()
    for step in range(80):
        posts = [p for p in _by_position(topic).values() if p.position > 1]
        action = rng.choice(["reply", "reply", "hide", "restore", "hold"]) if posts else "reply"
        if action == "reply":
            make_reply(db.session.get(Topic, topic.id), rng.choice(members), body=f"reply {step}")
        else:
            post = rng.choice(posts)
            status = {"hide": PostStatus.HIDDEN, "restore": PostStatus.VISIBLE, "hold": PostStatus.HELD}[action]
            services.moderate_post(actor=moderator, post=post, status=status)
        db.session.flush()
        _assert_dense(topic.id)


def test_a_hidden_topic_keeps_its_replies_numbered_for_moderators(web):
    topic = make_topic()
    replies = [make_reply(topic) for _ in range(3)]
    moderator = ModeratorFactory()
    services.moderate_topic(actor=moderator, topic=topic, status=PostStatus.HIDDEN)
    db.session.commit()
    _assert_dense(topic.id)
    sign_in(web, moderator)
    assert _positions(web, topic.id, 1) == [1, *[r.position for r in replies]]
