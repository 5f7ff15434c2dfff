"""Topics and replies through the services: dense positions, counters, edits with history, deletes, flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from forums import services
from forums.models import Category, Post, PostRevision, PostStatus, Topic, TopicFollow
from portal.db import db
from portal.errors import NotAllowed, ValidationFailed
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.portal.web import recorded_events


def test_a_topic_opens_with_its_first_post_at_position_one_and_counts_in_its_category():
    category = CategoryFactory()
    author = MemberFactory()
    with recorded_events("topic.*") as seen:
        topic = make_topic(author, category, title="Hello forum", body="**Bold** start")
    first = db.session.get(Post, topic.first_post_id)
    assert first.position == 1
    assert "<strong>Bold</strong>" in first.html
    db.session.expire_all()
    assert db.session.get(Category, category.id).topic_count == 1
    assert db.session.get(Category, category.id).post_count == 1
    assert [e.type for e in seen] == ["topic.created"]
    assert seen[0].source == ("topic", topic.id)
    assert seen[0].member_id == author.id
    assert seen[0].attributes["category_id"] == category.id
    assert db.session.get(TopicFollow, (topic.id, author.id)) is not None


def test_replies_take_dense_positions_and_move_counters_atomically():
    topic = make_topic()
    replies = [make_reply(topic, body=f"reply {i}") for i in range(3)]
    assert [r.position for r in replies] == [2, 3, 4]
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    assert topic.reply_count == 3
    assert topic.post_seq == 4
    assert topic.last_post_id == replies[-1].id
    assert db.session.get(Category, topic.category_id).post_count == 4


def test_a_reply_emits_post_created_with_the_other_party_and_category():
    topic = make_topic()
    replier = MemberFactory()
    with recorded_events("post.*") as seen:
        post = make_reply(topic, replier)
    assert len(seen) == 1
    event = seen[0]
    assert event.member_id == replier.id
    assert event.source == ("post", post.id)
    assert event.attributes["topic_id"] == topic.id
    assert event.attributes["topic_author_id"] == topic.author_id
    assert event.attributes["category_id"] == topic.category_id


def test_editing_keeps_the_previous_text_as_a_revision():
    author = MemberFactory()
    topic = make_topic(author, body="first version")
    post = db.session.get(Post, topic.first_post_id)
    services.edit_post(actor=author, post=post, body="second version", title="A better title")
    revision = db.session.scalars(sa.select(PostRevision).where(PostRevision.post_id == post.id)).one()
    assert revision.body == "first version"
    assert revision.title == "A topic to talk about"
    assert post.body == "second version"
    assert "second version" in post.html
    assert topic.title == "A better title"
    assert post.edited_at is not None


def test_someone_else_cannot_edit_a_post_but_a_moderator_can_and_is_audited():
    topic = make_topic()
    post = db.session.get(Post, topic.first_post_id)
    with pytest.raises(NotAllowed):
        services.edit_post(actor=MemberFactory(), post=post, body="vandalised")
    moderator = ModeratorFactory()
    with recorded_events("audit.logged") as seen:
        services.edit_post(actor=moderator, post=post, body="cleaned up")
    assert seen[0].attributes["action"] == "forums.post_edited"
    assert seen[0].member_id == moderator.id


def test_the_author_deletes_a_reply_within_the_window_and_its_counts_and_points_go():
    topic = make_topic()
    author = MemberFactory()
    post = make_reply(topic, author)
    with recorded_events("post.removed") as seen:
        services.delete_post(actor=author, post=post)
    assert post.status == PostStatus.DELETED
    assert seen[0].source == ("post", post.id)
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).reply_count == 0
    assert db.session.get(Topic, topic.id).last_post_id == topic.first_post_id


def test_the_author_cannot_delete_after_the_window(app):
    topic = make_topic()
    author = MemberFactory()
    post = make_reply(topic, author)
    post.created_at = post.created_at - timedelta(minutes=app.config["FORUM_DELETE_WINDOW_MINUTES"] + 1)
    with force_locale("en"), pytest.raises(NotAllowed, match="within 30 minutes"):
        services.delete_post(actor=author, post=post)
    assert post.status == PostStatus.VISIBLE


@pytest.mark.parametrize(
    ("flag", "attribute"), [("pinned", "is_pinned"), ("locked", "is_locked"), ("closed", "is_closed")]
)
def test_moderators_pin_lock_and_close_topics_and_each_action_is_audited(flag, attribute):
    topic = make_topic()
    moderator = ModeratorFactory()
    with recorded_events("audit.logged") as seen:
        services.set_topic_flag(actor=moderator, topic=topic, flag=flag, value=True, reason="tidy")
    assert getattr(topic, attribute) is True
    assert seen[0].source == ("topic", topic.id)
    assert seen[0].attributes["before"] == {flag: False}
    assert seen[0].attributes["after"] == {flag: True}
    assert seen[0].attributes["reason"] == "tidy"


def test_members_cannot_pin():
    topic = make_topic()
    with pytest.raises(NotAllowed):
        services.set_topic_flag(actor=MemberFactory(), topic=topic, flag="pinned", value=True)


def test_a_locked_topic_refuses_replies_and_changes_nothing():
    topic = make_topic()
    services.set_topic_flag(actor=ModeratorFactory(), topic=topic, flag="locked", value=True)
    with pytest.raises(services.TopicClosed):
        make_reply(topic)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.topic_id == topic.id)) == 1


def test_empty_and_oversized_posts_are_refused(app):
    topic = make_topic()
    with force_locale("en"), pytest.raises(ValidationFailed, match="Write something"):
        make_reply(topic, body="   \n ")
    with force_locale("en"), pytest.raises(ValidationFailed, match="too long"):
        make_reply(topic, body="x" * (app.config["FORUM_MAX_POST_CHARS"] + 1))


def test_view_counter_increments_in_the_database():
    topic = make_topic()
    services.record_view(topic.id)
    services.record_view(topic.id)
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).view_count == 2


def test_hiding_and_restoring_a_post_reverses_and_reissues_its_event():
    topic = make_topic()
    post = make_reply(topic)
    moderator = ModeratorFactory()
    with recorded_events("post.*") as seen:
        services.moderate_post(actor=moderator, post=post, status=PostStatus.HIDDEN, reason="spam")
        services.moderate_post(actor=moderator, post=post, status=PostStatus.VISIBLE)
    assert [(e.type, e.source) for e in seen] == [
        ("post.removed", ("post", post.id)),
        ("post.restored", ("post", post.id)),
    ]
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).reply_count == 1


def test_views_are_batched_between_flushes_and_none_is_lost(app):
    topic = make_topic()
    services.record_view(topic.id)  # flushes what earlier requests left (interval 0)
    db.session.expire_all()
    start = db.session.get(Topic, topic.id).view_count
    app.config["FORUM_VIEW_FLUSH_SECONDS"] = 3600
    for _ in range(5):
        services.record_view(topic.id)
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).view_count == start, "held back until the next flush"
    app.config["FORUM_VIEW_FLUSH_SECONDS"] = 0
    services.record_view(topic.id)
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).view_count == start + 6
