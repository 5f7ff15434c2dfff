"""Bad input anywhere in the help desk and knowledge base: a clear answer, never a 500, nothing changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from knowledge.tickets.models import Ticket, TicketEvent
from portal.extensions import db
from tests.knowledge.conftest import open_member_ticket
from tests.knowledge.factories import KbArticleFactory
from tests.portal.web import csrf_token, sign_in

AGENT_GETS = [
    "/desk/?status=bogus&kind=x&priority=y&assignee=abc&team=<b>&sla=z&q=" + "x" * 500,
    "/desk/t/BG-0000-0000",
    "/desk/t/" + "A" * 300,
    "/desk/kb-search?q=%25%25%25",
    "/kb/manage?cursor=not-a-cursor",
    "/kb/manage/999999/edit",
    "/kb/c/no-such-category?cursor=@@",
    "/kb/a/999999",
    "/support/suggest?subject=" + "ب" * 1000,
    "/support/attachments/999999",
    "/support/t/BG-2222-2222/link/garbage",
    "/support/t/BG-2222-2222/rate/garbage",
]


@pytest.mark.parametrize("path", AGENT_GETS)
def test_malformed_addresses_get_a_clear_answer_never_a_500(web, agent, path):
    sign_in(web, agent)
    response = web.get(path)
    assert response.status_code in {200, 302, 400, 404}, (path, response.status_code)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("assign", {"assignee_id": "abc", "team_id": "999"}),
        ("assign", {"assignee_id": "999999", "team_id": "0"}),
        ("status", {"status": "exploded"}),
        ("priority", {"priority": "whenever"}),
        ("merge", {"into_code": "not a code"}),
        ("reply", {"body": "", "then_status": "nonsense"}),
        ("note", {"body": ""}),
    ],
)
def test_bad_desk_forms_change_nothing(web, agent, member, action, data):
    ticket = open_member_ticket(member)
    sign_in(web, agent)
    events = db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent))
    token = csrf_token(web, f"/desk/t/{ticket.tracking_code}")
    response = web.post(f"/desk/t/{ticket.tracking_code}/{action}", data={"csrf_token": token, **data})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent)) == events
    stored = db.session.get(Ticket, ticket.id)
    assert (stored.status, stored.priority, stored.assignee_id, stored.merged_into_id) == ("new", "normal", None, None)


def test_an_agent_opening_a_customer_page_of_a_ticket_is_sent_to_the_desk(web, agent, member):
    ticket = open_member_ticket(member)
    sign_in(web, agent)
    response = web.get(f"/support/t/{ticket.tracking_code}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/desk/t/{ticket.tracking_code}"


def test_a_bad_rating_is_refused_in_words(web, member, agent):
    from knowledge.tickets import desk

    ticket = open_member_ticket(member)
    desk.change_status(actor=agent, ticket=ticket, status="resolved")
    sign_in(web, member)
    token = csrf_token(web, f"/support/t/{ticket.tracking_code}/rate")
    response = web.post(f"/support/t/{ticket.tracking_code}/rate", data={"csrf_token": token, "rating": "9"})
    assert response.status_code == 422
    assert db.session.get(Ticket, ticket.id).rating is None


def test_a_bad_kb_article_form_is_refused_with_the_field_named(web, agent):
    KbArticleFactory()
    sign_in(web, agent)
    token = csrf_token(web, "/kb/manage/new")
    response = web.post(
        "/kb/manage/new",
        data={
            "csrf_token": token,
            "title": "",
            "category_id": "abc",
            "language": "xx",
            "body": "",
            "translation_of_id": "0",
        },
    )
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
