"""The review queue page with the real content packages' adapters: a constant number of queries,
however many forum posts, topics and contest photos wait on it."""

from __future__ import annotations

import sqlalchemy as sa

from forums import services as forum_services
from gamification.contests import services as contest_services
from portal.extensions import db
from portal.moderation.models import QueueItem
from portal.moderation.services import flags, trust
from tests.factories import MemberFactory, ModeratorFactory
from tests.forums.factories import CategoryFactory
from tests.gamification.contests.factories import ContestFactory, jpeg
from tests.helpers import count_queries
from tests.portal.web import sign_in


def _author():
    member = MemberFactory()
    trust.record_for(member.id).approved_posts = 10
    return member


def _flag(kind, object_id):
    flags.flag_content(actor=MemberFactory(), kind=kind, object_id=object_id, reason="spam")


def _add_items(n: int) -> None:
    """n flagged replies (each in its own topic), n flagged topics and n flagged contest photos."""
    contest = ContestFactory(phase="submissions", entries_per_member=1)
    for i in range(n):
        topic = forum_services.create_topic(
            actor=_author(), category=CategoryFactory(), title=f"Topic {i}", body=f"Opening {i}"
        )
        reply = forum_services.reply(actor=_author(), topic=topic, body=f"Reply number {i}")
        entry = contest_services.enter_contest(actor=_author(), contest=contest, stream=jpeg(), caption=f"Photo {i}")
        _flag("post", reply.id)
        _flag("topic", topic.id)
        _flag("contest_entry", entry.id)


def test_the_queue_page_loads_every_kind_in_a_constant_number_of_queries(web):
    moderator = ModeratorFactory()
    sign_in(web, moderator)
    web.get("/moderation/")

    def page() -> tuple[object, str]:
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            response = web.get("/moderation/")
        assert response.status_code == 200
        return counter, response.get_data(as_text=True)

    _add_items(1)
    few, html = page()
    for text in ("Reply number 0", "Opening 0", "Photo 0"):
        assert text in html
    _add_items(5)
    many, html = page()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueItem)) == 18
    assert html.count("Reply number ") == html.count("Opening ") == 6
    assert html.count('alt="Photo ') == 6
    assert many.count == few.count, f"3 items: {few}\n18 items: {many}"
