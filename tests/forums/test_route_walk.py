"""Every forum page answers as every role, in Persian and English, without a server error."""

from __future__ import annotations

import pytest

from forums import services
from forums.models import Post
from portal.db import db
from tests.factories import AdminFactory, MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.portal.web import sign_in, use_language

ROLES = {"visitor": None, "member": MemberFactory, "moderator": ModeratorFactory, "admin": AdminFactory}


@pytest.mark.parametrize("language", ["fa", "en"])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_forum_page_renders(web, role, language):
    author = MemberFactory()
    parent = CategoryFactory(name="محصولات")
    category = CategoryFactory(name="Phones", parent_id=parent.id)
    CategoryFactory(name="Staff", allowed_roles=["admin"])
    topic = make_topic(
        author, category, title="موضوع آزمایشی", body="متن **نخست**",
        poll={"question": "کدام؟", "options": ["الف", "ب"]},
    )  # fmt: skip
    reply = make_reply(topic, body="پاسخ @nobody")
    services.edit_post(actor=author, post=db.session.get(Post, topic.first_post_id), body="متن ویرایش‌شده")
    factory = ROLES[role]
    if factory is not None:
        sign_in(web, factory())
    else:
        db.session.commit()
    use_language(web, language)
    pages = [
        "/forums/",
        "/forums/latest",
        f"/forums/c/{parent.id}",
        f"/forums/c/{category.id}",
        f"/forums/t/{topic.id}",
        f"/forums/t/{topic.id}?page=last",
        f"/forums/p/{reply.id}/fragment",
        f"/forums/p/{reply.id}/likers",
        "/search/?q=موضوع",
        "/search/?q=",
    ]
    if factory is not None:
        pages += [
            f"/forums/c/{category.id}/new",
            f"/forums/t/{topic.id}/reply?quote={reply.id}",
            "/forums/preferences",
        ]
    if role in {"moderator", "admin"}:
        pages += [f"/forums/p/{topic.first_post_id}/revisions", f"/forums/p/{reply.id}/edit"]
    if role == "admin":
        pages.append("/forums/categories/new")
    for path in pages:
        response = web.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if not path.endswith(("fragment", "likers")):
            assert f'lang="{language}"' in response.get_data(as_text=True), path
