"""The topic page (first and last page), topic lists and the category index run a constant, small number of queries."""

from __future__ import annotations

import pytest

from forums import polls
from forums.bench import bulk_replies
from forums.models import Topic
from portal.db import db
from tests.factories import MemberFactory
from tests.forums.factories import CategoryFactory, make_topic
from tests.helpers import count_queries
from tests.portal.web import sign_in

LIMIT = 12


def _long_topic(replies: int) -> Topic:
    authors = [MemberFactory().id for _ in range(5)]
    category = CategoryFactory()
    CategoryFactory(parent_id=category.id)
    topic = make_topic(category=category)
    polls.attach_poll(topic, question="Which one?", options=["A", "B"])
    bulk_replies(topic, authors, replies)
    for i in range(8):
        make_topic(category=category, title=f"Other topic {i}")
    db.session.commit()
    return db.session.get(Topic, topic.id)


def _counts(web, topic: Topic) -> dict[str, int]:
    counts = {}
    for name, path in {
        "first": f"/forums/t/{topic.id}",
        "last": f"/forums/t/{topic.id}?page=last",
        "list": f"/forums/c/{topic.category_id}",
        "latest": "/forums/latest",
        "index": "/forums/",
    }.items():
        web.get(path)  # warm caches that are per process, not per request
        with count_queries() as counter:
            response = web.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = counter.count
        assert counter.count <= LIMIT, (name, counter)
    return counts


@pytest.mark.parametrize("signed_in", [False, True])
def test_page_query_counts_do_not_grow_with_the_number_of_replies(web, signed_in):
    if signed_in:
        sign_in(web, MemberFactory())
    small = _counts(web, _long_topic(60))
    large = _counts(web, _long_topic(600))
    assert small == large, (small, large)
