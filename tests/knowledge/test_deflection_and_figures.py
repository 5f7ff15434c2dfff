"""Deflection (KB suggestions while typing a subject, counted when no ticket follows) and the desk figures."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from knowledge.tickets import desk, figures, queries
from knowledge.tickets.models import SuggestionClick
from portal.extensions import db
from tests.factories import AgentFactory
from tests.knowledge.conftest import open_member_ticket
from tests.knowledge.factories import KbArticleFactory, index_kb
from tests.portal.web import post_form, sign_in


def test_the_new_ticket_form_asks_for_suggestions_while_typing_the_subject(web):
    html = web.get("/support/new").get_data(as_text=True)
    assert 'hx-get="/support/suggest"' in html
    assert 'hx-trigger="keyup changed delay:400ms"' in html
    assert 'hx-target="#suggestions"' in html


def test_suggestions_list_matching_articles_in_the_readers_language(web):
    article = KbArticleFactory(title="Resetting your password")
    KbArticleFactory(title="Password in Persian", language="fa")
    index_kb()
    fragment = web.get("/support/suggest?subject=forgot+password").get_data(as_text=True)
    assert "Resetting your password" in fragment
    assert f'href="/support/suggested/{article.id}"' in fragment
    assert "Password in Persian" not in fragment
    assert web.get("/support/suggest?subject=ab").get_data(as_text=True).strip() == ""


def test_opening_a_suggestion_without_submitting_is_a_deflection(web):
    article = KbArticleFactory()
    db.session.commit()
    response = web.get(f"/support/suggested/{article.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/kb/a/{article.id}"
    assert queries.deflection_count() == 1


def test_a_ticket_submitted_afterwards_in_the_same_session_uncounts_it(web, other_web):
    article = KbArticleFactory()
    db.session.commit()
    web.get(f"/support/suggested/{article.id}")
    other_web.get(f"/support/suggested/{article.id}")
    assert queries.deflection_count() == 2
    post_form(
        web,
        "/support/new",
        {"kind": "support", "subject": "Still stuck", "body": "The article did not help.", "email": "a@example.com"},
    )
    assert queries.deflection_count() == 1
    clicks = db.session.scalars(sa.select(SuggestionClick).order_by(SuggestionClick.id)).all()
    assert [c.ticket_id is not None for c in clicks] == [True, False]


def test_a_suggestion_for_a_draft_or_missing_article_is_not_found(web):
    draft = KbArticleFactory(status="draft")
    db.session.commit()
    assert web.get(f"/support/suggested/{draft.id}").status_code == 404
    assert web.get("/support/suggested/999999").status_code == 404
    assert queries.deflection_count() == 0


def test_the_figures_page_shows_deflections_csat_and_chart_data_without_inline_script(web, admin, agent, member):
    article = KbArticleFactory()
    db.session.commit()
    web.get(f"/support/suggested/{article.id}")
    ticket = open_member_ticket(member)
    desk.assign(actor=agent, ticket=ticket, assignee_id=agent.id, team_id=None)
    desk.reply(actor=agent, ticket=ticket, body="Done", then_status="resolved")
    from knowledge.tickets import services

    services.rate_ticket(ticket=ticket, rating=4)
    sign_in(web, admin)
    html = web.get("/desk/figures").get_data(as_text=True)
    assert re.search(r'data-testid="deflections">1<', html)
    assert re.search(r'data-testid="csat">4<', html)
    match = re.search(r'<script type="application/json" id="desk-figures-data">(.*?)</script>', html, re.S)
    data = json.loads(match.group(1))
    assert data["agents"]["labels"] == ["Sara Agent"]
    assert data["agents"]["csat"] == [4.0]
    assert "js/desk-figures.js" in html
    assert "<script>" not in html


def test_figures_compute_medians_breach_rate_and_csat_per_agent_and_kind(agent, member):
    other = AgentFactory(display_name="Other Agent")
    tickets = [open_member_ticket(member) for _ in range(3)]
    complaint = open_member_ticket(member, kind="complaint")
    for hours, ticket in zip((1, 3, 5), tickets, strict=True):
        desk.assign(actor=agent, ticket=ticket, assignee_id=agent.id, team_id=None)
        desk.reply(actor=agent, ticket=ticket, body="ok", then_status="resolved")
        ticket.first_response_at = ticket.created_at + timedelta(hours=hours)
        ticket.resolved_at = ticket.created_at + timedelta(hours=2 * hours)
    tickets[0].rating, tickets[1].rating = 5, 2
    complaint.first_response_breached = True
    desk.assign(actor=other, ticket=complaint, assignee_id=other.id, team_id=None)
    db.session.flush()
    with force_locale("en"):
        result = figures.desk_figures(agent, language="en")
    assert result.overall.tickets == 4
    assert result.overall.open == 1
    assert result.overall.breach_rate == 25.0
    by_agent = {row.label: row for row in result.per_agent}
    assert by_agent["Sara Agent"].median_first_response_hours == 3.0
    assert by_agent["Sara Agent"].median_resolution_hours == 6.0
    assert by_agent["Sara Agent"].csat == 3.5
    assert by_agent["Other Agent"].open == 1
    by_kind = {row.label: row for row in result.per_kind}
    assert by_kind["Complaint"].breach_rate == 100.0
    assert by_kind["Support request"].tickets == 3


def test_figures_leave_out_private_team_tickets_an_agent_cannot_open(agent, member):
    from tests.knowledge.factories import TeamFactory

    team = TeamFactory(is_private=True)
    hidden = open_member_ticket(member)
    hidden.team_id = team.id
    open_member_ticket(member)
    db.session.flush()
    assert figures.desk_figures(agent, language="en").overall.tickets == 1


def test_members_cannot_see_the_figures(web, member):
    sign_in(web, member)
    assert web.get("/desk/figures").status_code == 403
