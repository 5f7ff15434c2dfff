"""Likes, follows, notifications, the email digest, and polls."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask_babel import force_locale
from sqlalchemy.orm import selectinload

from forums import digest, polls, services, social
from forums.models import CategoryFollow, Post, PostLike, PostStatus
from portal.db import db, utcnow
from portal.errors import Conflict, ValidationFailed
from portal.notifications.models import Notification
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.portal.web import flashes, fresh, post_form, recorded_events, sign_in


def _kinds(member_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.kind).where(Notification.member_id == member_id).order_by(Notification.id)
        )
    )


# --- likes --------------------------------------------------------------------------------------------


def test_a_like_counts_once_emits_given_and_received_and_notifies_the_author():
    author = MemberFactory()
    topic = make_topic(author)
    post = db.session.get(Post, topic.first_post_id)
    liker = MemberFactory()
    with recorded_events("like.*") as seen:
        social.like_post(actor=liker, post=post)
    assert post.like_count == 1
    assert [(e.type, e.member_id) for e in seen] == [("like.given", liker.id), ("like.received", author.id)]
    assert seen[0].source == seen[1].source == ("like", f"{post.id}:{liker.id}")
    assert seen[1].attributes["liker_id"] == liker.id
    assert seen[0].attributes["author_id"] == author.id
    assert "forums.like" in _kinds(author.id)
    with force_locale("en"), pytest.raises(Conflict, match="already like"):
        social.like_post(actor=liker, post=post)
    assert fresh(post).like_count == 1


def test_nobody_likes_their_own_post():
    author = MemberFactory()
    post = db.session.get(Post, make_topic(author).first_post_id)
    with force_locale("en"), pytest.raises(Conflict, match="your own post"):
        social.like_post(actor=author, post=post)
    assert fresh(post).like_count == 0


def test_withdrawing_a_like_emits_like_removed_with_the_same_source():
    post = make_reply(make_topic())
    liker = MemberFactory()
    social.like_post(actor=liker, post=post)
    with recorded_events("like.*") as seen:
        social.unlike_post(actor=liker, post=post)
    assert [e.type for e in seen] == ["like.removed"]
    assert seen[0].source == ("like", f"{post.id}:{liker.id}")
    assert fresh(post).like_count == 0
    assert db.session.get(PostLike, (post.id, liker.id)) is None


def test_liking_a_deleted_post_is_refused_with_a_message_in_the_members_language(web):
    author = MemberFactory()
    topic = make_topic()
    post = make_reply(topic, author)
    services.delete_post(actor=author, post=post)
    sign_in(web, MemberFactory())
    response = post_form(web, f"/forums/p/{post.id}/like", {}, page=f"/forums/t/{topic.id}")
    assert response.status_code == 303
    assert ("danger", "This post was removed; it cannot be liked.") in flashes(web)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostLike)) == 0


def test_liking_a_hidden_post_through_the_service_says_why():
    post = make_reply(make_topic())
    services.moderate_post(actor=ModeratorFactory(), post=post, status=PostStatus.HIDDEN)
    with force_locale("en"), pytest.raises(Conflict, match="removed"):
        social.like_post(actor=MemberFactory(), post=post)


def test_like_and_unlike_through_the_page_and_the_who_liked_list(web):
    topic = make_topic()
    post = make_reply(topic)
    liker = MemberFactory(display_name="Niloofar Rahimi")
    sign_in(web, liker)
    assert post_form(web, f"/forums/p/{post.id}/like", {}, page=f"/forums/t/{topic.id}").status_code == 303
    assert fresh(post).like_count == 1
    assert "Niloofar Rahimi" in web.get(f"/forums/p/{post.id}/likers").get_data(as_text=True)
    fragment = web.get(f"/forums/p/{post.id}/likers", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert "Niloofar Rahimi" in fragment
    post_form(web, f"/forums/p/{post.id}/like", {"undo": "1"}, page=f"/forums/t/{topic.id}")
    assert fresh(post).like_count == 0


# --- follows and notifications ---------------------------------------------------------------------------------


def test_followers_of_a_topic_hear_of_replies_but_not_of_their_own():
    author = MemberFactory()
    topic = make_topic(author)
    follower = MemberFactory()
    social.follow_topic(actor=follower, topic=topic)
    replier = MemberFactory()
    make_reply(topic, replier)
    assert _kinds(author.id) == ["forums.reply"]
    assert _kinds(follower.id) == ["forums.reply"]
    assert _kinds(replier.id) == []


def test_unfollowing_stops_the_notifications():
    author = MemberFactory()
    topic = make_topic(author)
    social.follow_topic(actor=author, topic=topic, follow=False)
    make_reply(topic)
    assert _kinds(author.id) == []


def test_a_quoted_author_is_told_once_as_a_quote():
    author = MemberFactory()
    topic = make_topic(author)
    make_reply(topic, quoted_post_id=topic.first_post_id)
    assert _kinds(author.id) == ["forums.quote"]


def test_category_followers_hear_of_new_topics(web):
    category = CategoryFactory()
    fan = MemberFactory()
    sign_in(web, fan)
    post_form(web, f"/forums/c/{category.id}/follow", {"follow": "1"}, page=f"/forums/c/{category.id}")
    assert db.session.get(CategoryFollow, (category.id, fan.id)) is not None
    make_topic(category=category)
    assert _kinds(fan.id) == ["forums.new_topic"]


def test_notifications_read_in_the_readers_language():
    from portal.notifications.kinds import render_text

    with force_locale("fa"):
        text = render_text("forums.reply", {"name": "Emma", "topic": "Batteries"})
    assert text == "Emma در «Batteries» پاسخ داد."


# --- digest ----------------------------------------------------------------------------------------------------------


def test_the_digest_mails_unread_forum_notifications_once_per_period(outbox):
    member = MemberFactory(language="en")
    social.set_digest(actor=member, frequency="daily")
    preference = db.session.get(digest.DigestPreference, member.id)
    preference.last_sent_at = utcnow() - timedelta(days=2)
    topic = make_topic(member, title="Warranty question")
    make_reply(topic, MemberFactory(display_name="John Miller"))
    assert digest.send_digests() == 1
    db.session.commit()  # mail leaves after the commit
    message = outbox.last()
    assert message["To"] == member.email
    text = outbox.text(message)
    assert "John Miller replied in “Warranty question”." in text
    assert "/forums/p/" in text
    assert digest.send_digests() == 0  # not due again today


def test_members_with_the_digest_off_get_no_mail(outbox):
    member = MemberFactory()
    make_reply(make_topic(member))
    assert digest.send_digests() == 0
    assert outbox.messages() == []


def test_the_digest_cli_command_runs(app):
    result = CliRunner().invoke(app.cli, ["portal", "forums", "digest"], obj=None)
    assert result.exit_code == 0, result.output
    assert "digest(s) sent" in result.output


def test_the_digest_preference_page_saves(web):
    member = MemberFactory()
    sign_in(web, member)
    response = post_form(web, "/forums/preferences", {"frequency": "weekly"})
    assert response.status_code == 303
    assert db.session.get(digest.DigestPreference, member.id).frequency == "weekly"


# --- polls ---------------------------------------------------------------------------------------------


def _poll_topic(**poll):
    poll.setdefault("question", "Which colour?")
    poll.setdefault("options", ["Red", "Blue", "Green"])
    topic = make_topic(poll=poll)
    return topic, db.session.scalar(
        sa.select(polls.Poll).options(selectinload(polls.Poll.options)).where(polls.Poll.topic_id == topic.id)
    )


def test_a_single_choice_vote_counts_once_and_emits_poll_voted():
    topic, poll = _poll_topic()
    voter = MemberFactory()
    option = poll.options[1]
    with recorded_events("poll.voted") as seen:
        polls.vote(actor=voter, poll=poll, option_ids=[option.id])
    assert seen[0].source == ("poll_vote", f"{poll.id}:{voter.id}")
    assert seen[0].attributes["topic_id"] == topic.id
    db.session.expire_all()
    assert db.session.get(polls.PollOption, option.id).vote_count == 1
    assert db.session.get(polls.Poll, poll.id).voter_count == 1
    with force_locale("en"), pytest.raises(Conflict, match="already voted"):
        polls.vote(actor=voter, poll=poll, option_ids=[poll.options[0].id])


def test_single_choice_polls_refuse_two_options_and_multiple_choice_polls_take_them():
    _topic, single = _poll_topic()
    with pytest.raises(ValidationFailed):
        polls.vote(actor=MemberFactory(), poll=single, option_ids=[o.id for o in single.options[:2]])
    _topic, multiple = _poll_topic(multiple=True)
    polls.vote(actor=MemberFactory(), poll=multiple, option_ids=[o.id for o in multiple.options[:2]])
    db.session.expire_all()
    counts = db.session.scalars(
        sa.select(polls.PollOption.vote_count)
        .where(polls.PollOption.poll_id == multiple.id)
        .order_by(polls.PollOption.position)
    )
    assert list(counts) == [1, 1, 0]


def test_a_closed_poll_takes_no_votes():
    _topic, poll = _poll_topic(closes_at=utcnow() + timedelta(hours=1))
    poll.closes_at = utcnow() - timedelta(minutes=1)
    with force_locale("en"), pytest.raises(Conflict, match="closed"):
        polls.vote(actor=MemberFactory(), poll=poll, option_ids=[poll.options[0].id])


def test_results_show_only_after_voting(web):
    topic, poll = _poll_topic()
    sign_in(web, MemberFactory())
    before = web.get(f"/forums/t/{topic.id}").get_data(as_text=True)
    assert 'name="option"' in before
    assert "progress-bar" not in before
    response = post_form(
        web, f"/forums/t/{topic.id}/vote", {"option": str(poll.options[0].id)}, page=f"/forums/t/{topic.id}"
    )
    assert response.status_code == 303
    after = web.get(f"/forums/t/{topic.id}").get_data(as_text=True)
    assert "progress-bar pct-100" in after
    assert 'name="option"' not in after


def test_a_poll_needs_two_options():
    with pytest.raises(ValidationFailed):
        _poll_topic(options=["Only one"])
