"""Forum pages: index, category, topic (paging, unread), posting through forms, locked forums, bad input."""

from __future__ import annotations

import sqlalchemy as sa

from forums import services
from forums.bench import bulk_replies
from forums.models import Post, Topic, TopicRead
from portal.db import db
from tests.factories import AdminFactory, MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.portal.web import flashes, fresh, post_form, sign_in, use_language


def test_the_index_lists_categories_with_sub_categories_and_the_latest_topic(web):
    parent = CategoryFactory(name="Products", icon="📦", colour="green")
    child = CategoryFactory(name="Phones", parent_id=parent.id)
    make_topic(category=child, title="Battery life tips")
    db.session.commit()
    html = web.get("/forums/").get_data(as_text=True)
    assert "Products" in html
    assert "Phones" in html
    assert "Battery life tips" in html
    assert "forum-colour-green" in html


def test_a_forum_restricted_to_a_role_is_shown_locked_with_the_reason(web):
    staff = CategoryFactory(name="Staff room", allowed_roles=["moderator", "admin"])
    topic = make_topic(author=ModeratorFactory(), category=staff, title="Secret plans")
    member = MemberFactory()
    sign_in(web, member)
    index = web.get("/forums/").get_data(as_text=True)
    assert "Staff room" in index
    assert "open to moderators, admins only" in index
    assert "Secret plans" not in index
    page = web.get(f"/forums/c/{staff.id}")
    assert page.status_code == 403
    assert "open to moderators, admins only" in page.get_data(as_text=True)
    assert web.get(f"/forums/t/{topic.id}").status_code == 403


def test_a_moderator_enters_a_role_restricted_forum(web):
    staff = CategoryFactory(name="Staff room", allowed_roles=["admin"])
    sign_in(web, ModeratorFactory())
    assert web.get(f"/forums/c/{staff.id}").status_code == 200


def test_tier_restricted_forums_are_locked_while_no_member_has_a_tier(web):
    gold = CategoryFactory(name="Gold lounge", min_tier="gold")
    sign_in(web, MemberFactory())
    page = web.get(f"/forums/c/{gold.id}")
    assert page.status_code == 403
    assert "tier up" in page.get_data(as_text=True)


def test_a_member_starts_a_topic_and_replies_through_the_forms(web):
    category = CategoryFactory()
    member = MemberFactory()
    sign_in(web, member)
    response = post_form(web, f"/forums/c/{category.id}/new", {"title": "How do I pair?", "body": "Any **tips**?"})
    assert response.status_code == 303
    topic = db.session.scalars(sa.select(Topic).where(Topic.category_id == category.id)).one()
    page = web.get(response.location).get_data(as_text=True)
    assert "How do I pair?" in page
    assert "<strong>tips</strong>" in page
    response = post_form(
        web, f"/forums/t/{topic.id}/reply", {"body": "Try turning it off and on"}, page=f"/forums/t/{topic.id}"
    )
    assert response.status_code == 303
    assert "Try turning it off and on" in web.get(f"/forums/t/{topic.id}").get_data(as_text=True)


def test_an_empty_reply_gets_a_clear_message_and_nothing_is_stored(web):
    topic = make_topic()
    sign_in(web, MemberFactory())
    response = post_form(web, f"/forums/t/{topic.id}/reply", {"body": "  "}, page=f"/forums/t/{topic.id}")
    assert response.status_code == 422
    assert "Write something before posting." in response.get_data(as_text=True)
    assert fresh(topic).reply_count == 0


def test_the_empty_reply_message_is_in_persian_for_a_persian_member(web):
    topic = make_topic()
    member = MemberFactory(language="fa")
    sign_in(web, member)
    use_language(web, "fa")
    response = post_form(web, f"/forums/t/{topic.id}/reply", {"body": ""}, page=f"/forums/t/{topic.id}")
    assert response.status_code == 422
    assert "پیش از ارسال، چیزی بنویسید." in response.get_data(as_text=True)
    assert fresh(topic).reply_count == 0


def test_replying_to_a_locked_topic_says_so_and_adds_nothing(web):
    topic = make_topic()
    services.set_topic_flag(actor=ModeratorFactory(), topic=topic, flag="locked", value=True)
    sign_in(web, MemberFactory())
    response = post_form(web, f"/forums/t/{topic.id}/reply", {"body": "let me in"}, page=f"/forums/t/{topic.id}")
    assert response.status_code == 422
    assert "locked or closed" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.topic_id == topic.id)) == 1


def test_unknown_topic_and_post_ids_get_a_clear_not_found_page(web):
    response = web.get("/forums/t/999999")
    assert response.status_code == 404
    assert "This topic does not exist or was removed." in response.get_data(as_text=True)
    assert web.get("/forums/p/999999").status_code == 404


def test_pages_of_a_long_topic_are_position_ranges_and_the_last_page_is_reachable(web, app):
    topic = make_topic()
    bulk_replies(topic, [MemberFactory().id], 45, body=lambda i: f"numbered reply {i + 2}")
    db.session.commit()
    first = web.get(f"/forums/t/{topic.id}").get_data(as_text=True)
    assert 'id="p1"' in first
    assert 'id="p20"' in first
    assert 'id="p21"' not in first
    last = web.get(f"/forums/t/{topic.id}?page=last").get_data(as_text=True)
    assert 'id="p41"' in last
    assert 'id="p46"' in last
    assert "numbered reply 46" in last
    assert web.get(f"/forums/t/{topic.id}?page=99").status_code == 302


def test_reading_moves_the_read_position_and_jump_to_first_unread_finds_the_next_post(web):
    topic = make_topic()
    bulk_replies(topic, [MemberFactory().id], 30)
    reader = MemberFactory()
    sign_in(web, reader)
    web.get(f"/forums/t/{topic.id}")
    assert db.session.get(TopicRead, (reader.id, topic.id)).last_position == 20
    response = web.get(f"/forums/t/{topic.id}/unread")
    assert response.status_code == 302
    assert response.location.endswith(f"/forums/t/{topic.id}?page=2#p21")
    web.get(f"/forums/t/{topic.id}?page=1")  # going back never moves the position backwards
    db.session.expire_all()
    assert db.session.get(TopicRead, (reader.id, topic.id)).last_position == 20


def test_a_topic_view_counts(web):
    topic = make_topic()
    db.session.commit()
    web.get(f"/forums/t/{topic.id}")
    web.get(f"/forums/t/{topic.id}")
    assert fresh(topic).view_count == 2


def test_quote_prefills_the_reply_and_notifies_the_quoted_author(web):
    quoted_author = MemberFactory(display_name="Emma Clarke")
    topic = make_topic(quoted_author, body="Original wisdom")
    sign_in(web, MemberFactory())
    page = web.get(f"/forums/t/{topic.id}/reply?quote={topic.first_post_id}").get_data(as_text=True)
    assert "&gt; Original wisdom" in page
    assert f'value="{topic.first_post_id}"' in page


def test_moderator_pins_from_the_topic_page(web):
    topic = make_topic()
    sign_in(web, ModeratorFactory())
    response = post_form(web, f"/forums/t/{topic.id}/moderate", {"action": "pin"}, page=f"/forums/t/{topic.id}")
    assert response.status_code == 303
    assert fresh(topic).is_pinned is True


def test_a_member_cannot_use_moderator_actions(web):
    topic = make_topic()
    sign_in(web, MemberFactory())
    response = post_form(web, f"/forums/t/{topic.id}/moderate", {"action": "lock"}, page=f"/forums/t/{topic.id}")
    assert response.status_code == 403
    assert fresh(topic).is_locked is False


def test_revision_history_is_visible_to_the_author_and_moderators_only(web):
    author = MemberFactory()
    topic = make_topic(author, body="v1")
    post = db.session.get(Post, topic.first_post_id)
    services.edit_post(actor=author, post=post, body="v2")
    sign_in(web, MemberFactory())
    assert web.get(f"/forums/p/{post.id}/revisions").status_code == 403
    sign_in(web, author)
    assert "v1" in web.get(f"/forums/p/{post.id}/revisions").get_data(as_text=True)
    sign_in(web, ModeratorFactory())
    assert web.get(f"/forums/p/{post.id}/revisions").status_code == 200


def test_admin_creates_a_sub_category(web):
    parent = CategoryFactory(name="Learning")
    sign_in(web, AdminFactory())
    response = post_form(
        web,
        "/forums/categories/new",
        {
            "name": "Webinars",
            "description": "Recorded sessions",
            "icon": "🎓",
            "colour": "purple",
            "position": 1,
            "parent_id": str(parent.id),
            "allowed_roles": "",
            "min_tier": "",
        },
    )
    assert response.status_code == 303, flashes(web)


def test_hidden_reply_does_not_show(web):
    topic = make_topic()
    post = make_reply(topic, body="rude words here")
    services.moderate_post(actor=ModeratorFactory(), post=post, status=services.PostStatus.HIDDEN)
    db.session.commit()
    assert "rude words here" not in web.get(f"/forums/t/{topic.id}").get_data(as_text=True)
