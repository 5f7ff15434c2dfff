"""Live forums over Socket.IO (flask_socketio's server-side test client): replies, new topics and counts."""

from __future__ import annotations

from forums import services, social
from forums.models import Post
from portal.db import db
from portal.extensions import socketio
from tests.factories import AdminFactory, MemberFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.portal.web import sign_in


def _events(socket, name):
    return [event["args"][0] for event in socket.get_received() if event["name"] == name]


def test_a_reader_of_an_open_topic_gets_a_new_reply_after_commit_and_can_fetch_it_rendered(app, web):
    topic = make_topic()
    reader = MemberFactory(language="en")
    sign_in(web, reader)
    socket = socketio.test_client(app, flask_test_client=web)
    assert socket.emit("forum:join", {"topic_id": topic.id}, callback=True) is True
    socket.get_received()
    post = make_reply(topic, MemberFactory(), body="Fresh **news**")
    assert _events(socket, "forum:post") == []  # nothing leaves before the commit
    db.session.commit()
    received = _events(socket, "forum:post")
    socket.disconnect()
    assert received == [{"topic_id": topic.id, "post_id": post.id, "position": 2, "reply_count": 1}]
    fragment = web.get(f"/forums/p/{post.id}/fragment").get_data(as_text=True)
    assert "<strong>news</strong>" in fragment
    assert "<html" not in fragment
    assert 'id="p2"' in fragment


def test_a_rolled_back_reply_is_never_pushed(app, web):
    topic = make_topic()
    db.session.commit()
    socket = socketio.test_client(app, flask_test_client=web)
    socket.emit("forum:join", {"topic_id": topic.id}, callback=True)
    socket.get_received()
    make_reply(topic)
    db.session.rollback()
    assert _events(socket, "forum:post") == []
    socket.disconnect()


def test_a_reader_cannot_join_the_room_of_a_topic_in_a_forum_closed_to_them(app, web):
    staff = CategoryFactory(allowed_roles=["admin"])
    admin = AdminFactory()
    topic = make_topic(admin, category=staff)
    sign_in(web, MemberFactory())
    socket = socketio.test_client(app, flask_test_client=web)
    assert socket.emit("forum:join", {"topic_id": topic.id}, callback=True) is False
    assert socket.emit("forum:join", {"room": f"category:{staff.id}"}, callback=True) is False
    socket.get_received()
    make_reply(topic, admin)
    db.session.commit()
    assert _events(socket, "forum:post") == []
    socket.disconnect()


def test_topic_lists_hear_of_new_topics_and_reply_counts(app, web):
    category = CategoryFactory()
    db.session.commit()
    socket = socketio.test_client(app, flask_test_client=web)
    assert socket.emit("forum:join", {"room": "topics"}, callback=True) is True
    assert socket.emit("forum:join", {"room": f"category:{category.id}"}, callback=True) is True
    socket.get_received()
    topic = make_topic(category=category)
    db.session.commit()
    received = socket.get_received()
    topics = [e["args"][0] for e in received if e["name"] == "forum:topic"]
    assert topics == [{"topic_id": topic.id, "category_id": category.id}] * 2
    make_reply(topic)
    db.session.commit()
    counts = _events(socket, "forum:counts")
    socket.disconnect()
    assert counts == [{"topic_id": topic.id, "reply_count": 1}] * 2


def test_like_counts_update_live(app, web):
    topic = make_topic()
    db.session.commit()
    socket = socketio.test_client(app, flask_test_client=web)
    socket.emit("forum:join", {"topic_id": topic.id}, callback=True)
    socket.get_received()
    post = db.session.get(Post, topic.first_post_id)
    social.like_post(actor=MemberFactory(), post=post)
    db.session.commit()
    assert _events(socket, "forum:likes") == [{"post_id": post.id, "like_count": 1}]
    socket.disconnect()


def test_hidden_replies_are_not_pushed(app, web):
    topic = make_topic()
    db.session.commit()
    socket = socketio.test_client(app, flask_test_client=web)
    socket.emit("forum:join", {"topic_id": topic.id}, callback=True)
    socket.get_received()
    post = make_reply(topic)
    services.set_post_status(post, services.PostStatus.HIDDEN)
    db.session.commit()
    assert _events(socket, "forum:post") == []
    socket.disconnect()
