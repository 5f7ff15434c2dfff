"""Points follow moderation decisions, end to end: real forum and contest services, the real points
engine subscribed as the composition root wires it, and the review queue deciding.

A post pays its author (``post.created``) and every like it receives (``like.received``); hiding it
takes all of that back, restoring pays it back exactly once, deleting takes it back for good. A post
that moderation holds pays nothing until a moderator approves it.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from forums import services as forum_services
from forums import social
from forums.models import Post, PostStatus, Topic
from gamification.contests import services as contest_services
from gamification.contests.models import Entry
from gamification.engine import ledger
from gamification.engine.models import Balance, PointEntry
from portal.extensions import db
from portal.moderation import registry
from portal.moderation.models import QueueItem, TrustRecord
from portal.moderation.services import flags, trust
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory
from tests.gamification.contests.factories import ContestFactory, jpeg
from tests.gamification.engine.factories import RuleFactory
from tests.portal.web import csrf_token, sign_in

POST_POINTS, TOPIC_POINTS, LIKE_POINTS, ENTRY_POINTS = 10, 5, 3, 7


@pytest.fixture(autouse=True)
def rules(db_session):
    RuleFactory(event_type="post.created", points=POST_POINTS)
    RuleFactory(event_type="topic.created", points=TOPIC_POINTS)
    RuleFactory(event_type="like.received", points=LIKE_POINTS)
    RuleFactory(event_type="contest.entered", points=ENTRY_POINTS)


@pytest.fixture
def moderator_web(web):
    moderator = ModeratorFactory()
    sign_in(web, moderator)
    web.moderator = moderator
    return web


def points(member) -> int:
    db.session.expire_all()
    balance = db.session.get(Balance, member.id)
    return balance.spendable if balance else 0


def veteran():
    """A member past the first-posts hold, so their posts go up at once."""
    member = MemberFactory()
    trust.record_for(member.id).approved_posts = 10
    return member


def a_topic():
    return forum_services.create_topic(
        actor=veteran(), category=CategoryFactory(), title="Cameras", body="Which one do you use?"
    )


def liked_reply(author, likes=2):
    post = forum_services.reply(actor=author, topic=a_topic(), body="A mirrorless one, for the weight.")
    for _ in range(likes):
        social.like_post(actor=MemberFactory(), post=post)
    return post


def flag(kind, object_id):
    """A member flags the item; returns its queue item."""
    found = flags.flag_content(actor=MemberFactory(), kind=kind, object_id=object_id, reason="spam")
    return db.session.get(QueueItem, found.queue_item_id)


def act(client, item, action, **data):
    response = client.post(
        f"/moderation/queue/{item.id}/{action}", data={"csrf_token": csrf_token(client, "/"), **data}
    )
    assert response.status_code in (200, 303), response.get_data(as_text=True)
    return response


def status_of(post) -> str:
    db.session.expire_all()
    return db.session.get(Post, post.id).status


def pending_items() -> list[tuple[str, int, str]]:
    return [
        (i.kind, i.object_id, i.reason)
        for i in db.session.scalars(sa.select(QueueItem).where(QueueItem.state == "pending").order_by(QueueItem.id))
    ]


def ledger_is_consistent() -> None:
    assert ledger.verify_balances() == []


# --- forum posts ------------------------------------------------------------------------------------------


def test_hiding_a_post_through_the_queue_takes_back_the_post_and_its_likes(moderator_web):
    author = veteran()
    post = liked_reply(author, likes=2)
    earned = POST_POINTS + 2 * LIKE_POINTS
    assert points(author) == earned
    item = flag("post", post.id)
    db.session.commit()

    act(moderator_web, item, "hide", reason="Advertising")

    assert status_of(post) == PostStatus.HIDDEN
    assert points(author) == 0, "the post and both likes it received are reversed"
    ledger_is_consistent()


def test_restoring_pays_back_exactly_once_however_often_it_is_hidden_and_restored(app, moderator_web):
    app.config["MODERATION_FLAGS_TO_HIDE"] = 2
    try:
        author = veteran()
        post = liked_reply(author, likes=2)
        earned = POST_POINTS + 2 * LIKE_POINTS
        item = flag("post", post.id)
        flag("post", post.id)  # the second flag hides it at once, pending review
        assert status_of(post) == PostStatus.HIDDEN
        assert points(author) == 0
        db.session.commit()

        act(moderator_web, item, "restore", reason="Nothing wrong with it")
        assert status_of(post) == PostStatus.VISIBLE
        assert points(author) == earned
        assert pending_items() == [], "restoring a member's post does not send it back to the queue"

        adapter = registry.require("post")
        moderator = moderator_web.moderator
        adapter.restore(db.session.get(Post, post.id), actor=moderator, reason="again")
        assert points(author) == earned, "restoring what is visible pays nothing more"
        for _ in range(3):
            adapter.hide(db.session.get(Post, post.id), actor=moderator, reason="")
            assert points(author) == 0
            adapter.hide(db.session.get(Post, post.id), actor=moderator, reason="")
            assert points(author) == 0
            adapter.restore(db.session.get(Post, post.id), actor=moderator, reason="")
            assert points(author) == earned
        ledger_is_consistent()
    finally:
        app.config.pop("MODERATION_FLAGS_TO_HIDE", None)


def test_deleting_a_post_takes_its_points_back_for_good(moderator_web):
    author = veteran()
    post = liked_reply(author, likes=1)
    assert points(author) == POST_POINTS + LIKE_POINTS
    item = flag("post", post.id)
    db.session.commit()

    act(moderator_web, item, "delete", reason="Spam")

    assert status_of(post) == PostStatus.DELETED
    assert points(author) == 0
    with pytest.raises(Exception, match="no longer visible"):
        flag("post", post.id)
    assert pending_items() == []
    assert points(author) == 0
    ledger_is_consistent()


def test_hiding_a_topic_takes_back_the_opening_post_and_its_likes(moderator_web):
    author = veteran()
    topic = forum_services.create_topic(actor=author, category=CategoryFactory(), title="Lenses", body="Primes?")
    social.like_post(actor=MemberFactory(), post=db.session.get(Post, topic.first_post_id))
    assert points(author) == TOPIC_POINTS + LIKE_POINTS
    item = flag("topic", topic.id)
    db.session.commit()

    act(moderator_web, item, "hide", reason="Off-topic")

    assert points(author) == 0
    ledger_is_consistent()


# --- held posts -------------------------------------------------------------------------------------------


def test_a_held_reply_pays_nothing_until_a_moderator_approves_it(moderator_web):
    newcomer = MemberFactory()
    post = forum_services.reply(actor=newcomer, topic=a_topic(), body="My very first words here")

    assert status_of(post) == PostStatus.HELD
    assert points(newcomer) == 0, "a held post pays nothing"
    assert pending_items() == [("post", post.id, "held_new")]
    db.session.commit()

    item = db.session.scalar(sa.select(QueueItem).where(QueueItem.object_id == post.id, QueueItem.kind == "post"))
    act(moderator_web, item, "approve")

    assert status_of(post) == PostStatus.VISIBLE
    assert points(newcomer) == POST_POINTS, "approval pays the post, once"
    assert pending_items() == [], "the approved post is not held again"
    assert db.session.get(TrustRecord, newcomer.id).approved_posts == 1
    ledger_is_consistent()


def test_a_held_topic_pays_nothing_and_a_hidden_held_post_never_pays(moderator_web):
    newcomer = MemberFactory()
    topic = forum_services.create_topic(actor=newcomer, category=CategoryFactory(), title="Hello", body="I am new")
    reply = forum_services.reply(actor=newcomer, topic=a_topic(), body="And this is my reply")
    assert points(newcomer) == 0
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).status == PostStatus.HELD
    db.session.commit()

    items = {i.kind: i for i in db.session.scalars(sa.select(QueueItem).where(QueueItem.state == "pending"))}
    act(moderator_web, items["topic"], "approve")
    assert points(newcomer) == TOPIC_POINTS
    act(moderator_web, items["post"], "hide", reason="Not for this topic")
    assert status_of(reply) == PostStatus.HIDDEN
    assert points(newcomer) == TOPIC_POINTS, "hiding a held post takes nothing: it never paid"
    ledger_is_consistent()


def test_a_held_post_earns_entries_that_net_to_nothing(moderator_web):
    """The ledger tells the story: the creation paid, the hold reversed it in the same transaction."""
    newcomer = MemberFactory()
    post = forum_services.reply(actor=newcomer, topic=a_topic(), body="Held for review")
    entries = [
        (e.kind, e.amount)
        for e in db.session.scalars(
            sa.select(PointEntry)
            .where(PointEntry.source_kind == "post", PointEntry.source_id == str(post.id))
            .order_by(PointEntry.id)
        )
    ]
    assert sum(amount for _kind, amount in entries) == 0
    assert points(newcomer) == 0


# --- contest entries --------------------------------------------------------------------------------------


def test_a_contest_entrys_points_follow_hide_restore_and_delete(app, moderator_web):
    entrant = veteran()
    contest = ContestFactory(phase="submissions")
    entry = contest_services.enter_contest(actor=entrant, contest=contest, stream=jpeg(), caption="Sunset")
    assert points(entrant) == ENTRY_POINTS
    item = flag("contest_entry", entry.id)
    db.session.commit()

    act(moderator_web, item, "hide", reason="Not your photo")
    assert points(entrant) == 0

    app.config["MODERATION_FLAGS_TO_HIDE"] = 1
    try:
        adapter = registry.require("contest_entry")
        adapter.restore(db.session.get(Entry, entry.id), actor=moderator_web.moderator, reason="")
        assert points(entrant) == ENTRY_POINTS
        adapter.restore(db.session.get(Entry, entry.id), actor=moderator_web.moderator, reason="")
        assert points(entrant) == ENTRY_POINTS, "restored once, paid once"
        item = flag("contest_entry", entry.id)  # hidden at once by a single flag
        assert points(entrant) == 0
        db.session.commit()
    finally:
        app.config.pop("MODERATION_FLAGS_TO_HIDE", None)

    act(moderator_web, item, "restore")
    assert points(entrant) == ENTRY_POINTS
    adapter.delete(db.session.get(Entry, entry.id), actor=moderator_web.moderator, reason="Copied")
    assert points(entrant) == 0
    assert adapter.load(entry.id) is None, "a deleted entry is gone from moderation too"
    ledger_is_consistent()


def test_restoring_a_suspended_members_post_is_not_blocked_by_the_suspension(app, moderator_web):
    """Reinstated content is not a new post: the author's suspension, allowances and holds stay out of it."""
    from portal.moderation.services import sanctions

    app.config["MODERATION_FLAGS_TO_HIDE"] = 1
    try:
        author = veteran()
        post = liked_reply(author, likes=1)
        item = flag("post", post.id)
    finally:
        app.config.pop("MODERATION_FLAGS_TO_HIDE", None)
    sanctions.issue_sanction(
        actor=moderator_web.moderator, member=author, kind="suspension", reason="Cooling off", days=3
    )
    assert points(author) == 0
    db.session.commit()

    act(moderator_web, item, "restore")

    assert status_of(post) == PostStatus.VISIBLE
    assert points(author) == POST_POINTS + LIKE_POINTS
    assert pending_items() == []


def test_a_moderator_restoring_with_the_forums_own_tools_does_not_send_the_post_back_to_the_gate(moderator_web):
    """A new member's post, hidden and restored from the topic page, pays once and is not held again."""
    newcomer = MemberFactory()
    trust.record_for(newcomer.id).approved_posts = 2  # just past the hold; a first-day member's replies are few
    post = forum_services.reply(actor=newcomer, topic=a_topic(), body="A reply worth keeping")
    # The gate would hold a new post of theirs now.
    db.session.execute(sa.update(TrustRecord).where(TrustRecord.member_id == newcomer.id).values(approved_posts=0))
    assert points(newcomer) == POST_POINTS
    db.session.commit()
    token = csrf_token(moderator_web, "/")
    for action, expected in (("hide", 0), ("restore", POST_POINTS)):
        response = moderator_web.post(f"/forums/p/{post.id}/moderate", data={"csrf_token": token, "action": action})
        assert response.status_code == 303
        assert points(newcomer) == expected
    assert status_of(post) == PostStatus.VISIBLE
    assert pending_items() == []
    assert db.session.get(TrustRecord, newcomer.id).approved_posts == 0, "a restore is not a new approved post"
