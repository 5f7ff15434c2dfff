"""Post content: Markdown stored as sanitised HTML, mentions, code, direction, images, and bad input."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from forums.models import Post, Topic
from portal.db import db
from portal.errors import ValidationFailed
from portal.notifications.models import Notification
from tests.factories import MemberFactory
from tests.forums.factories import CategoryFactory, make_reply, make_topic
from tests.portal.web import csrf_token, fresh, recorded_events, sign_in


def _png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_mentions_become_profile_links_notify_and_emit_an_event():
    emma = MemberFactory(display_name="Emma Clarke")
    reza = MemberFactory(display_name="رضا کریمی")
    topic = make_topic()
    with recorded_events("mention.created") as seen:
        post = make_reply(topic, body="Thanks @Emma_Clarke and @رضا_کریمی! Not `@Emma_Clarke` in code, nor @nobody.")
    assert f'<a href="/members/{emma.id}" class="mention" rel="nofollow ugc noopener">@Emma_Clarke</a>' in post.html
    assert f'href="/members/{reza.id}"' in post.html
    assert "<code>@Emma_Clarke</code>" in post.html
    assert "@nobody" in post.html
    assert {e.member_id for e in seen} == {emma.id, reza.id}
    assert seen[0].source == ("mention", f"{post.id}:{seen[0].member_id}")
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == emma.id)).all()
    assert kinds == ["forums.mention"]


def test_code_blocks_stay_code_and_paragraphs_take_their_own_direction():
    topic = make_topic(body="سلام دوستان\n\n```python\nprint('hi')\n```\n\nEnglish line")
    html = db.session.get(Post, topic.first_post_id).html
    assert '<p dir="auto">سلام دوستان</p>' in html
    assert '<pre><code class="language-python">' in html
    assert '<p dir="auto">English line</p>' in html


def test_links_are_nofollow_ugc_noopener():
    topic = make_topic(body="see https://example.com and [docs](https://docs.example.com)")
    html = db.session.get(Post, topic.first_post_id).html
    assert html.count('rel="nofollow ugc noopener"') == 2


def test_broken_markdown_is_rendered_without_error():
    post = make_reply(make_topic(), body="**unclosed *mixed _ [link](  ``` \n> > >\n| a | b\n|--")
    assert post.html


def test_a_ten_thousand_character_word_is_stored_and_the_page_wraps_it(web):
    word = "ب" * 10_000
    topic = make_topic(body=word)
    db.session.commit()
    html = web.get(f"/forums/t/{topic.id}").get_data(as_text=True)
    assert word in html
    assert "forum-post-body" in html
    response = web.get("/static/css/forums.css")
    css = response.get_data(as_text=True)
    response.close()
    assert re.search(r"\.forum-post-body[^{]*\{[^}]*overflow-wrap: anywhere", css)


def test_invalid_utf8_in_the_body_is_refused_with_a_message(web):
    topic = make_topic()
    sign_in(web, MemberFactory())
    token = csrf_token(web, f"/forums/t/{topic.id}")
    # The reply form is multipart (it takes an image), as a browser sends it.
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
        b'--XX\r\nContent-Disposition: form-data; name="body"\r\n\r\nbad\xff\xfebytes\r\n--XX--\r\n'
    )
    response = web.post(f"/forums/t/{topic.id}/reply", data=body, content_type="multipart/form-data; boundary=XX")
    assert response.status_code == 422
    assert "invalid encoding" in response.get_data(as_text=True)
    assert fresh(topic).reply_count == 0


def test_null_bytes_and_control_characters_are_dropped():
    post = make_reply(make_topic(), body="hello\x00 world\x07")
    assert post.body == "hello world"


def test_an_image_attached_to_a_reply_goes_through_the_upload_pipeline(web, app):
    topic = make_topic()
    sign_in(web, MemberFactory())
    token = csrf_token(web, f"/forums/t/{topic.id}")
    response = web.post(
        f"/forums/t/{topic.id}/reply",
        data={"csrf_token": token, "body": "my photo", "image": (io.BytesIO(_png()), "photo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    post = db.session.scalars(sa.select(Post).where(Post.topic_id == topic.id, Post.position == 2)).one()
    match = re.search(r'<img src="/media/(forums/[^"]+)"', post.html)
    assert match, post.html
    with Image.open(f"{app.config['UPLOADS_ROOT']}/{match.group(1)}") as stored:
        assert stored.size == (40, 30)


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_posted(web):
    topic = make_topic()
    sign_in(web, MemberFactory())
    token = csrf_token(web, f"/forums/t/{topic.id}")
    response = web.post(
        f"/forums/t/{topic.id}/reply",
        data={"csrf_token": token, "body": "photo", "image": (io.BytesIO(b"not an image"), "x.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not a valid image" in response.get_data(as_text=True)
    assert fresh(topic).reply_count == 0


def test_the_upload_endpoint_answers_with_markdown(web):
    sign_in(web, MemberFactory())
    token = csrf_token(web, "/forums/")
    response = web.post(
        "/forums/uploads",
        data={"image": (io.BytesIO(_png()), "a.png")},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.json["markdown"].startswith("![](/media/forums/")


def test_titles_are_checked():
    category = CategoryFactory()
    with pytest.raises(ValidationFailed) as refused:
        make_topic(category=category, title="ab")
    assert refused.value.fields == {"title": "too_short"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Topic)) == 0
