"""The flag button on forum posts and contest photos: shown to signed-in members on others' content,
posting it records a flag (the content packages include the template, they never import moderation)."""

from __future__ import annotations

import sqlalchemy as sa

from forums import services as forum_services
from forums.paths import topic_path
from gamification.contests import services as contest_services
from portal.extensions import db
from portal.moderation.models import Flag
from portal.moderation.services import trust
from tests.factories import MemberFactory
from tests.forums.factories import CategoryFactory
from tests.gamification.contests.factories import ContestFactory, EntryFactory
from tests.portal.web import csrf_from, sign_in


def _veteran():
    member = MemberFactory()
    trust.record_for(member.id).approved_posts = 10
    return member


def _topic_with_replies():
    opener, replier, reader = _veteran(), _veteran(), _veteran()
    topic = forum_services.create_topic(actor=opener, category=CategoryFactory(), title="Tripods", body="Which?")
    theirs = forum_services.reply(actor=replier, topic=topic, body="A light one")
    mine = forum_services.reply(actor=reader, topic=topic, body="Carbon fibre")
    db.session.commit()
    return topic, theirs, mine, reader


def test_the_topic_page_offers_the_flag_button_on_others_posts_only(web):
    topic, theirs, mine, reader = _topic_with_replies()
    sign_in(web, reader)
    html = web.get(topic_path(topic.id)).get_data(as_text=True)
    assert f'action="/moderation/flag/post/{theirs.id}"' in html
    assert f'action="/moderation/flag/topic/{topic.id}"' in html, "the opening post flags its topic"
    assert f"/moderation/flag/post/{mine.id}" not in html, "never on one's own post"


def test_anonymous_visitors_see_no_flag_button(web):
    topic, _theirs, _mine, _reader = _topic_with_replies()
    html = web.get(topic_path(topic.id)).get_data(as_text=True)
    assert "/moderation/flag/" not in html


def test_sending_the_flag_form_from_the_topic_page_records_the_flag(web):
    topic, theirs, _mine, reader = _topic_with_replies()
    sign_in(web, reader)
    token = csrf_from(web.get(topic_path(topic.id)).get_data(as_text=True))
    response = web.post(
        f"/moderation/flag/post/{theirs.id}",
        data={"csrf_token": token, "reason": "off_topic", "next": topic_path(topic.id)},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(topic_path(topic.id))
    flags = db.session.execute(sa.select(Flag.kind, Flag.object_id, Flag.flagger_id, Flag.reason)).all()
    assert flags == [("post", theirs.id, reader.id, "off_topic")]


def test_the_contest_gallery_offers_the_flag_button_on_others_photos_only(web):
    contest = ContestFactory(phase="voting")
    viewer = MemberFactory()
    theirs = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    mine = EntryFactory(contest_id=contest.id, member_id=viewer.id)
    db.session.commit()
    sign_in(web, viewer)
    html = web.get(contest_services.contest_path(contest.id)).get_data(as_text=True)
    assert f'action="/moderation/flag/contest_entry/{theirs.id}"' in html
    assert f"/moderation/flag/contest_entry/{mine.id}" not in html
    page_token = csrf_from(html)
    response = web.post(
        f"/moderation/flag/contest_entry/{theirs.id}", data={"csrf_token": page_token, "reason": "spam"}
    )
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Flag.object_id).where(Flag.kind == "contest_entry")) == theirs.id
