"""The moderation adapters for posts and topics: the agreed interface, and points reversed through events."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from forums.models import Category, Post, PostStatus, Topic
from forums.moderation import ADAPTERS, post_adapter, topic_adapter
from portal.db import db
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import make_reply, make_topic
from tests.portal.web import recorded_events

INTERFACE = [
    "kind", "label", "load", "author_id", "title", "excerpt_html", "url",
    "is_visible", "hide", "restore", "hold", "delete",
]  # fmt: skip


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_each_adapter_offers_the_agreed_interface(adapter):
    for name in INTERFACE:
        assert hasattr(adapter, name), name
    assert str(adapter.label)


def test_the_post_adapter_reads_a_post():
    author = MemberFactory()
    topic = make_topic(title="Adapters")
    post = make_reply(topic, author, body="**hello**")
    loaded = post_adapter.load(post.id)
    assert post_adapter.author_id(loaded) == author.id
    assert post_adapter.title(loaded) == "Adapters"
    assert isinstance(post_adapter.excerpt_html(loaded), Markup)
    assert "<strong>hello</strong>" in post_adapter.excerpt_html(loaded)
    assert post_adapter.url(loaded) == f"/forums/p/{post.id}"
    assert post_adapter.is_visible(loaded)
    assert post_adapter.load(999999) is None


def test_hiding_a_post_emits_post_removed_and_an_audit_record_and_restoring_emits_post_restored():
    post = make_reply(make_topic())
    moderator = ModeratorFactory()
    with recorded_events() as seen:
        post_adapter.hide(post, actor=moderator, reason="off topic")
    types = [e.type for e in seen]
    assert "post.removed" in types
    audit = next(e for e in seen if e.type == "audit.logged")
    assert audit.attributes["action"] == "forums.post_hidden"
    assert audit.attributes["reason"] == "off topic"
    assert audit.source == ("post", post.id)
    assert not post_adapter.is_visible(post)
    with recorded_events("post.*") as seen:
        post_adapter.restore(post, actor=moderator, reason="ok")
    assert [(e.type, e.source) for e in seen] == [("post.restored", ("post", post.id))]


def test_holding_a_visible_post_removes_it_until_restored():
    topic = make_topic()
    post = make_reply(topic)
    with recorded_events("post.*") as seen:
        post_adapter.hold(post)
    assert post.status == PostStatus.HELD
    assert [e.type for e in seen] == ["post.removed"]
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).reply_count == 0


def test_deleting_a_topic_through_the_adapter_takes_it_out_of_its_category():
    topic = make_topic(title="Delete me")
    make_reply(topic)
    with recorded_events() as seen:
        topic_adapter.delete(topic, actor=ModeratorFactory(), reason="spam")
    assert ("topic.removed", ("topic", topic.id)) in [(e.type, e.source) for e in seen]
    db.session.expire_all()
    category = db.session.get(Category, topic.category_id)
    assert category.topic_count == 0
    assert category.post_count == 0
    assert db.session.get(Post, topic.first_post_id).status == PostStatus.DELETED
    with recorded_events("topic.*") as seen:
        topic_adapter.restore(db.session.get(Topic, topic.id), actor=ModeratorFactory())
    assert [(e.type, e.source) for e in seen] == [("topic.restored", ("topic", topic.id))]
    db.session.expire_all()
    assert db.session.get(Category, topic.category_id).post_count == 2
