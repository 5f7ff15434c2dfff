"""Flags: one per member per item, never one's own or hidden content, rate-limited, and enough of them hide the item."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.errors import Conflict, NotFound, RateLimited, ValidationFailed
from portal.extensions import db
from portal.moderation.models import Flag, QueueItem
from portal.moderation.services import flags
from tests.factories import MemberFactory
from tests.portal.web import csrf_token, flashes, recorded_events, sign_in


def _flag(actor, item, reason="spam", text=None, kind="post"):
    return flags.flag_content(actor=actor, kind=kind, object_id=item.id, reason=reason, text=text)


def test_a_flag_puts_the_item_in_the_queue_with_its_author(content):
    author, flagger = MemberFactory(), MemberFactory()
    post = content.create(author=author)
    flag = _flag(flagger, post, reason="abuse")
    item = db.session.get(QueueItem, flag.queue_item_id)
    assert (item.kind, item.object_id, item.reason, item.state, item.author_id, item.flag_count) == (
        "post",
        post.id,
        "flagged",
        "pending",
        author.id,
        1,
    )
    assert (flag.flagger_id, flag.author_id, flag.reason) == (flagger.id, author.id, "abuse")


def test_second_flagger_joins_the_same_queue_item(content):
    post = content.create(author=MemberFactory())
    first = _flag(MemberFactory(), post)
    second = _flag(MemberFactory(), post, reason="off_topic")
    assert first.queue_item_id == second.queue_item_id
    assert db.session.get(QueueItem, first.queue_item_id).flag_count == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueItem)) == 1


def test_flagging_ones_own_content_is_refused(content):
    author = MemberFactory()
    post = content.create(author=author)
    with pytest.raises(ValidationFailed, match="your own content"):
        _flag(author, post)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 0


def test_flagging_the_same_item_twice_is_refused(content):
    post = content.create(author=MemberFactory())
    flagger = MemberFactory()
    _flag(flagger, post)
    with pytest.raises(Conflict, match="already flagged"):
        _flag(flagger, post, reason="abuse")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 1


@pytest.mark.parametrize("state", ["hidden", "held"])
def test_hidden_or_held_content_cannot_be_flagged(content, state):
    post = content.create(author=MemberFactory(), state=state)
    with pytest.raises(ValidationFailed, match="no longer visible"):
        _flag(MemberFactory(), post)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueItem)) == 0


def test_deleted_or_unknown_content_is_not_found(content):
    post = content.create(author=MemberFactory(), state="deleted")
    with pytest.raises(NotFound):
        _flag(MemberFactory(), post)
    with pytest.raises(NotFound):
        flags.flag_content(actor=MemberFactory(), kind="unregistered", object_id=1, reason="spam")


def test_other_needs_an_explanation(content):
    post = content.create(author=MemberFactory())
    with pytest.raises(ValidationFailed, match="what is wrong"):
        _flag(MemberFactory(), post, reason="other", text="  ")
    assert _flag(MemberFactory(), post, reason="other", text="Copied from a book").text == "Copied from a book"


def test_an_unknown_reason_is_refused(content):
    post = content.create(author=MemberFactory())
    with pytest.raises(ValidationFailed):
        _flag(MemberFactory(), post, reason="boring")


def test_reaching_the_threshold_hides_the_item_and_emits_its_removal(app, content):
    app.config["MODERATION_FLAGS_TO_HIDE"] = 2
    try:
        author = MemberFactory()
        post = content.create(author=author)
        _flag(MemberFactory(), post)
        assert content.state(post) == "visible"
        with recorded_events("post.removed") as removed:
            _flag(MemberFactory(), post)
        assert content.state(post) == "hidden"
        assert [(e.member_id, e.source) for e in removed] == [(author.id, ("post", post.id))]
    finally:
        del app.config["MODERATION_FLAGS_TO_HIDE"]


def test_flags_are_rate_limited_by_trust_level(content):
    flagger = MemberFactory()
    posts = [content.create(author=MemberFactory()) for _ in range(4)]
    # A member on their first day at level 0 has 3 flags a day.
    for post in posts[:3]:
        _flag(flagger, post)
    with pytest.raises(RateLimited, match="today's limit of 3 flags") as refused:
        _flag(flagger, posts[3])
    assert refused.value.retry_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 3


# --- the endpoint -------------------------------------------------------------------------------------------


def test_flag_endpoint_records_the_flag_and_thanks_the_member(web, content):
    post = content.create(author=MemberFactory())
    flagger = MemberFactory()
    sign_in(web, flagger)
    response = web.post(
        f"/moderation/flag/post/{post.id}",
        data={"csrf_token": csrf_token(web), "reason": "spam", "next": "/test-items/1"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/test-items/1"
    assert ("success", "Thank you. The moderators will look at it.") in flashes(web)
    assert db.session.scalar(sa.select(Flag.reason).where(Flag.flagger_id == flagger.id)) == "spam"


def test_flag_endpoint_over_htmx_answers_with_the_refusal(web, content):
    author = MemberFactory()
    post = content.create(author=author)
    sign_in(web, author)
    response = web.post(
        f"/moderation/flag/post/{post.id}",
        data={"csrf_token": csrf_token(web), "reason": "spam"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "You cannot flag your own content." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 0


def test_flag_endpoint_needs_a_login_and_a_known_item(web, content):
    post = content.create(author=MemberFactory())
    response = web.post(f"/moderation/flag/post/{post.id}", data={"csrf_token": csrf_token(web), "reason": "spam"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    sign_in(web, MemberFactory())
    assert (
        web.post("/moderation/flag/post/987654", data={"csrf_token": csrf_token(web), "reason": "spam"}).status_code
        == 404
    )


def test_the_flag_button_include_posts_a_reason_to_the_flag_endpoint(app, content):
    from flask import render_template_string
    from flask_login import login_user

    member = MemberFactory()
    with app.test_request_context("/test-items/7"):
        login_user(member)
        html = render_template_string(
            '{% with kind="post", object_id=7 %}{% include "moderation/_flag_button.html" %}{% endwith %}'
        )
    assert 'action="/moderation/flag/post/7"' in html
    assert 'hx-post="/moderation/flag/post/7"' in html
    assert html.count('name="reason"') == 5
    assert 'name="csrf_token"' in html
    assert '<label class="form-label small mt-1" for="flag-post-7-text">' in html
