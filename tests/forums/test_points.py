"""Points follow forum content through the real engine: hiding a topic takes back what its replies earned too."""

from __future__ import annotations

import pytest

from forums import services, social
from forums.models import PostStatus, Topic
from forums.moderation import post_adapter, topic_adapter
from gamification.engine import ledger
from gamification.engine.models import Balance
from portal.db import db
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import make_reply, make_topic
from tests.gamification.engine.factories import RuleFactory
from tests.portal.web import recorded_events

TOPIC_POINTS = 20
REPLY_POINTS = 5


@pytest.fixture(autouse=True)
def rules():
    RuleFactory(event_type="topic.created", points=TOPIC_POINTS, code="forum-topic")
    RuleFactory(event_type="post.created", points=REPLY_POINTS, code="forum-reply")


def _points(*members) -> list[int]:
    db.session.expire_all()
    return [(db.session.get(Balance, m.id).spendable if db.session.get(Balance, m.id) else 0) for m in members]


def _topic_with_replies():
    opener, ana, bob = MemberFactory(), MemberFactory(), MemberFactory()
    topic = make_topic(opener, title="Points follow the topic")
    replies = [make_reply(topic, ana), make_reply(topic, bob), make_reply(topic, ana)]
    return topic, replies, (opener, ana, bob)


def test_hiding_a_topic_reverses_its_replies_points_and_restoring_pays_them_again():
    topic, replies, (opener, ana, bob) = _topic_with_replies()
    paid = [TOPIC_POINTS, 2 * REPLY_POINTS, REPLY_POINTS]
    assert _points(opener, ana, bob) == paid

    with recorded_events() as seen:
        topic_adapter.hide(topic, actor=ModeratorFactory(), reason="off topic")
    assert sorted((e.type, e.source) for e in seen if e.type.endswith(".removed")) == sorted(
        [("topic.removed", ("topic", topic.id))] + [("post.removed", ("post", r.id)) for r in replies]
    )
    assert _points(opener, ana, bob) == [0, 0, 0]
    assert ledger.verify_balances() == []

    with recorded_events() as seen:
        topic_adapter.restore(db.session.get(Topic, topic.id), actor=ModeratorFactory())
    assert sorted((e.type, e.source) for e in seen if e.type.endswith((".restored", ".created"))) == sorted(
        [("topic.restored", ("topic", topic.id))] + [("post.restored", ("post", r.id)) for r in replies]
    )
    assert _points(opener, ana, bob) == paid
    assert ledger.verify_balances() == []


def test_a_reply_hidden_on_its_own_is_not_paid_back_when_its_topic_returns():
    topic, replies, (opener, ana, bob) = _topic_with_replies()
    moderator = ModeratorFactory()
    post_adapter.hide(replies[1], actor=moderator)  # Bob's reply
    assert _points(bob) == [0]
    topic_adapter.hide(topic, actor=moderator)
    with recorded_events("post.*") as seen:
        topic_adapter.restore(db.session.get(Topic, topic.id), actor=moderator)
    assert {e.source for e in seen} == {("post", replies[0].id), ("post", replies[2].id)}
    assert _points(opener, ana, bob) == [TOPIC_POINTS, 2 * REPLY_POINTS, 0]
    assert ledger.verify_balances() == []


def test_the_author_deleting_their_topic_takes_back_the_replies_points():
    topic, replies, (opener, ana, bob) = _topic_with_replies()
    first = db.session.get(type(replies[0]), topic.first_post_id)
    services.delete_post(actor=opener, post=first)
    assert db.session.get(Topic, topic.id).status == PostStatus.DELETED
    assert _points(opener, ana, bob) == [0, 0, 0]
    assert ledger.verify_balances() == []


class TestWithModerationGates:
    """With moderation's holds on: a new member's reply waits for review, then is paid once."""

    @pytest.fixture(autouse=True)
    def _forums_alone(self):  # overrides the package's gates-lifted fixture: the real gates apply
        return

    def test_an_approved_held_reply_shows_is_paid_once_and_is_not_held_again(self):
        import sqlalchemy as sa

        from portal.moderation.models import QueueItem
        from portal.moderation.services import queue

        topic = make_topic(ModeratorFactory(), title="Welcome")
        newcomer = MemberFactory()
        reply = make_reply(topic, newcomer, body="My first words here")
        assert reply.status == PostStatus.HELD
        (item,) = db.session.scalars(
            sa.select(QueueItem).where(QueueItem.object_id == reply.id, QueueItem.kind == "post")
        )
        queue.resolve_item(actor=ModeratorFactory(), item_id=item.id, action="approve")
        db.session.expire_all()
        assert reply.status == PostStatus.VISIBLE
        pending = db.session.scalars(sa.select(QueueItem).where(QueueItem.state == "pending")).all()
        assert pending == [], "the approved reply was held again"
        assert _points(newcomer) == [REPLY_POINTS]
        assert ledger.verify_balances() == []


def test_the_likes_a_hidden_topics_replies_earned_follow_them():
    RuleFactory(event_type="like.received", points=3, code="forum-like-received")
    topic, replies, (opener, ana, bob) = _topic_with_replies()
    liker = MemberFactory()
    social.like_post(actor=liker, post=replies[1])  # Bob's reply
    social.like_post(actor=ana, post=replies[1])
    assert _points(bob) == [REPLY_POINTS + 2 * 3]
    moderator = ModeratorFactory()
    topic_adapter.hide(topic, actor=moderator)
    assert _points(opener, ana, bob) == [0, 0, 0]
    topic_adapter.restore(db.session.get(Topic, topic.id), actor=moderator)
    assert _points(bob) == [REPLY_POINTS + 2 * 3]
    assert ledger.verify_balances() == []
