"""The agent desk: inbox filters, counts and urgency, private teams, assignment and round robin, internal
notes kept from customers, canned replies, KB links, merging, the timeline, audits and live updates."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from knowledge.tickets import desk, queries, services
from knowledge.tickets.models import Ticket, TicketEvent, TicketMessage
from portal.db import utcnow
from portal.errors import NotFound
from portal.extensions import db, socketio
from tests.factories import AgentFactory, MemberFactory
from tests.helpers import count_queries
from tests.knowledge.conftest import open_guest_ticket, open_member_ticket
from tests.knowledge.factories import CannedReplyFactory, KbArticleFactory, TeamFactory, index_kb
from tests.portal.web import fresh, post_form, recorded_events, sign_in

SECRET = "Customer looks like a reseller, check before refunding"


def _actions(ticket) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
    )


# --- the inbox ----------------------------------------------------------------------------------------


def test_the_inbox_is_for_agents_and_admins_only(web, member, agent):
    assert web.get("/desk/").status_code == 302  # to log in
    sign_in(web, member)
    assert web.get("/desk/").status_code == 403
    sign_in(web, agent)
    assert web.get("/desk/").status_code == 200


def test_the_inbox_sorts_by_urgency_and_counts_by_status(web, agent, member):
    later = open_member_ticket(member, subject="Later one")
    sooner = open_member_ticket(member, subject="Sooner one")
    sooner.priority = "urgent"
    from knowledge.tickets import sla

    sla.recompute(sooner)
    done = open_member_ticket(member, subject="Done one")
    desk.change_status(actor=agent, ticket=done, status="resolved")
    sign_in(web, agent)
    html = web.get("/desk/").get_data(as_text=True)
    assert html.index("Sooner one") < html.index("Later one")
    assert "Done one" not in html  # finished tickets are not in the default view
    assert "Resolved: <strong>1</strong>" in html
    assert "New: <strong>2</strong>" in html
    assert "Done one" in web.get("/desk/?status=resolved").get_data(as_text=True)
    assert later.id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=complaint", {"Complaint A"}),
        ("priority=high", {"Complaint A"}),
        ("assignee=me", {"Mine"}),
        ("assignee=none", {"Complaint A", "Support B"}),
        ("team=none", {"Support B", "Mine"}),
        ("status=", {"Complaint A", "Support B", "Mine"}),
        ("q=support", {"Support B"}),
    ],
)
def test_inbox_filters(web, agent, member, query, expected):
    team = TeamFactory()
    complaint = open_member_ticket(member, kind="complaint", subject="Complaint A")
    complaint.team_id = team.id
    open_member_ticket(member, subject="Support B")
    mine = open_member_ticket(member, subject="Mine")
    desk.assign(actor=agent, ticket=mine, assignee_id=agent.id, team_id=None)
    sign_in(web, agent)
    html = web.get(f"/desk/?{query}").get_data(as_text=True)
    shown = {s for s in ("Complaint A", "Support B", "Mine") if s in html}
    assert shown == expected


def test_the_sla_filter_finds_breached_and_at_risk_tickets(web, agent, member):
    breached = open_member_ticket(member, subject="Way overdue")
    breached.sla_due_at = utcnow() - timedelta(hours=1)
    risky = open_member_ticket(member, subject="Almost due")
    risky.sla_due_at = utcnow() + timedelta(minutes=10)
    calm = open_member_ticket(member, subject="Plenty of time")
    calm.sla_due_at = utcnow() + timedelta(days=3)
    sign_in(web, agent)
    assert "Way overdue" in web.get("/desk/?sla=breached").get_data(as_text=True)
    at_risk = web.get("/desk/?sla=at_risk").get_data(as_text=True)
    assert "Almost due" in at_risk
    assert "Way overdue" not in at_risk
    ok = web.get("/desk/?sla=ok").get_data(as_text=True)
    assert "Plenty of time" in ok
    assert "Almost due" not in ok


def test_the_inbox_runs_a_fixed_number_of_queries(web, agent, member):
    team = TeamFactory()
    for n in range(12):
        ticket = open_member_ticket(member, subject=f"Ticket {n}")
        desk.assign(actor=agent, ticket=ticket, assignee_id=agent.id, team_id=team.id)
    sign_in(web, agent)
    web.get("/desk/")
    with count_queries() as counter:
        assert web.get("/desk/").status_code == 200
    assert counter.count <= 12, counter


# --- private teams --------------------------------------------------------------------------------------


def test_an_agent_outside_a_private_team_cannot_open_its_tickets(web, agent, member):
    insider = AgentFactory()
    team = TeamFactory(is_private=True, members=[insider])
    ticket = open_member_ticket(member, subject="Private matter")
    ticket.team_id = team.id
    sign_in(web, agent)
    page = web.get(f"/desk/t/{ticket.tracking_code}")
    assert page.status_code == 404
    assert "Private matter" not in page.get_data(as_text=True)
    assert web.get(f"/desk/t/{ticket.tracking_code[:-1]}Z").status_code == 404  # same answer as a missing one
    assert "Private matter" not in web.get("/desk/").get_data(as_text=True)
    with pytest.raises(NotFound):
        desk.add_note(actor=agent, ticket=ticket, body="sneaky")
    sign_in(web, insider)
    assert web.get(f"/desk/t/{ticket.tracking_code}").status_code == 200


def test_an_admin_sees_private_team_tickets(web, admin, member):
    team = TeamFactory(is_private=True)
    ticket = open_member_ticket(member, subject="Private matter")
    ticket.team_id = team.id
    sign_in(web, admin)
    assert web.get(f"/desk/t/{ticket.tracking_code}").status_code == 200


# --- assignment -------------------------------------------------------------------------------------------


def test_round_robin_teams_hand_new_tickets_to_their_agents_in_turn(member):
    first, second = AgentFactory(), AgentFactory()
    TeamFactory(kinds="support", round_robin=True, members=[first, second])
    tickets = [open_member_ticket(member) for _ in range(3)]
    assert [t.assignee_id for t in tickets] == [first.id, second.id, first.id]
    assert all(t.team_id is not None for t in tickets)


def test_a_team_that_receives_complaints_gets_them_without_round_robin(member):
    team = TeamFactory(kinds="complaint")
    complaint = open_member_ticket(member, kind="complaint")
    support = open_member_ticket(member)
    assert (complaint.team_id, complaint.assignee_id) == (team.id, None)
    assert support.team_id is None


def test_assigning_records_notifies_and_refuses_non_agents(agent, member):
    from portal.notifications.models import Notification

    other = AgentFactory()
    ticket = open_member_ticket(member)
    desk.assign(actor=agent, ticket=ticket, assignee_id=other.id, team_id=None)
    assert ticket.assignee_id == other.id
    assert "assigned" in _actions(ticket)
    assert (
        db.session.scalar(sa.select(Notification.kind).where(Notification.member_id == other.id)) == "ticket.assigned"
    )
    with pytest.raises(services.ValidationFailed):
        desk.assign(actor=agent, ticket=ticket, assignee_id=member.id, team_id=None)
    assert ticket.assignee_id == other.id


def test_the_assign_form_changes_the_assignee(web, agent, member):
    ticket = open_member_ticket(member)
    sign_in(web, agent)
    page = f"/desk/t/{ticket.tracking_code}"
    response = post_form(web, f"{page}/assign", {"assignee_id": str(agent.id), "team_id": "0"}, page=page)
    assert response.status_code == 303
    assert fresh(ticket).assignee_id == agent.id


# --- internal notes never reach the customer -------------------------------------------------------------


def test_internal_notes_stay_off_every_customer_page_and_mail(app, web, agent, outbox):
    ticket = open_guest_ticket()
    desk.add_note(actor=agent, ticket=ticket, body=SECRET)
    desk.reply(actor=agent, ticket=ticket, body="We are checking.", then_status="pending_customer")
    desk.change_status(actor=agent, ticket=ticket, status="open")
    desk.change_status(actor=agent, ticket=ticket, status="resolved")
    db.session.commit()
    note = db.session.scalar(sa.select(TicketMessage).where(TicketMessage.is_internal.is_(True)))
    with web.session_transaction() as session:
        session["ticket_access"] = [ticket.id]
    pages = [
        f"/support/t/{ticket.tracking_code}",
        f"/support/t/{ticket.tracking_code}/rate",
        f"/support/t/{ticket.tracking_code}?lang=fa",
    ]
    for path in pages:
        html = web.get(path).get_data(as_text=True)
        assert SECRET not in html, path
        assert f'id="m{note.id}"' not in html
    mails = outbox.messages()
    assert len(mails) >= 4
    for mail in mails:
        assert SECRET not in outbox.text(mail)
    sign_in(web, agent)
    assert SECRET in web.get(f"/desk/t/{ticket.tracking_code}").get_data(as_text=True)


def test_attachments_of_internal_notes_are_not_served_to_the_customer(web, agent, member):
    from tests.knowledge.conftest import PDF_BYTES

    ticket = open_member_ticket(member)
    desk.add_note(actor=agent, ticket=ticket, body="see file", uploads=[("internal.pdf", PDF_BYTES)])
    attachment_id = db.session.scalar(sa.text("SELECT id FROM ticket_attachments"))
    sign_in(web, member)
    assert web.get(f"/support/attachments/{attachment_id}").status_code == 404
    sign_in(web, agent)
    response = web.get(f"/support/attachments/{attachment_id}")
    assert response.status_code == 200
    response.close()


# --- replies, canned replies, KB links ----------------------------------------------------------------------


def test_a_reply_is_the_first_response_and_opens_a_new_ticket(agent, member):
    ticket = open_member_ticket(member)
    desk.reply(actor=agent, ticket=ticket, body="Hello")
    assert ticket.status == "open"
    assert ticket.first_response_at is not None
    assert ticket.sla_due_at == ticket.resolution_due_at
    assert _actions(ticket) == ["created", "first_response", "replied", "status_changed"]


def test_canned_replies_fill_in_the_name_and_tracking_code(web, agent, member):
    canned = CannedReplyFactory(body="Dear {name}, ticket {tracking_code} is in hand. {unknown} stays.")
    ticket = open_member_ticket(member)
    assert desk.fill_canned(canned, ticket) == (
        f"Dear Maryam, ticket {ticket.tracking_code} is in hand. {{unknown}} stays."
    )
    sign_in(web, agent)
    html = web.get(f"/desk/t/{ticket.tracking_code}?canned={canned.id}").get_data(as_text=True)
    assert f"Dear Maryam, ticket {ticket.tracking_code} is in hand." in html


def test_guest_names_fill_canned_replies_too(agent):
    ticket = open_guest_ticket(email="sam@example.com")
    canned = CannedReplyFactory(body="Hi {name}")
    assert desk.fill_canned(canned, ticket) == "Hi sam"


def test_a_reply_links_kb_articles_through_kb_queries(web, agent, member, outbox):
    article = KbArticleFactory(title="Resetting the printer")
    draft = KbArticleFactory(title="Secret draft", status="draft")
    index_kb()
    ticket = open_member_ticket(member)
    sign_in(web, agent)
    choices = web.get("/desk/kb-search?q=printer").get_data(as_text=True)
    assert "Resetting the printer" in choices
    page = f"/desk/t/{ticket.tracking_code}"
    post_form(
        web,
        f"{page}/reply",
        {"body": "Try this:", "kb_articles": [str(article.id), str(draft.id)], "then_status": ""},
        page=page,
    )
    reply = db.session.scalars(sa.select(TicketMessage).order_by(TicketMessage.id.desc())).first()
    assert f"[Resetting the printer](http://localhost/kb/a/{article.id})" in reply.body
    assert "Secret draft" not in reply.body
    sign_in(web, member)
    customer_page = web.get(page.replace("/desk/t/", "/support/t/")).get_data(as_text=True)
    assert f'href="http://localhost/kb/a/{article.id}"' in customer_page


def test_every_agent_action_lands_on_the_timeline_and_admin_actions_are_audited(admin, agent, member):
    ticket = open_member_ticket(member)
    with recorded_events("audit.logged") as audits:
        desk.change_priority(actor=agent, ticket=ticket, priority="urgent")
        desk.add_note(actor=agent, ticket=ticket, body="note")
    assert audits == []
    with recorded_events("audit.logged") as audits:
        desk.change_status(actor=admin, ticket=ticket, status="pending_customer")
        desk.assign(actor=admin, ticket=ticket, assignee_id=agent.id, team_id=None)
    assert [a.attributes["action"] for a in audits] == ["tickets.status_changed", "tickets.assigned"]
    assert audits[0].member_id == admin.id
    assert audits[0].source == ("ticket", ticket.id)
    assert audits[0].attributes["before"] == {"status": "new"}
    assert _actions(ticket) == ["created", "priority_changed", "note_added", "status_changed", "assigned"]


def test_resolving_emits_ticket_resolved_for_the_customer(agent, member):
    ticket = open_member_ticket(member)
    with recorded_events("ticket.resolved") as seen:
        desk.change_status(actor=agent, ticket=ticket, status="resolved")
    assert [(e.member_id, e.source) for e in seen] == [(member.id, ("ticket", ticket.id))]


# --- merging ------------------------------------------------------------------------------------------------


def test_merging_moves_the_thread_and_closes_the_duplicate(web, agent, member):
    original = open_member_ticket(member, subject="Printer broken")
    duplicate = open_member_ticket(member, subject="Printer still broken", body="Second message")
    sign_in(web, agent)
    page = f"/desk/t/{duplicate.tracking_code}"
    response = post_form(web, f"{page}/merge", {"into_code": original.tracking_code.lower()}, page=page)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/desk/t/{original.tracking_code}"
    duplicate, original = fresh(duplicate), fresh(original)
    assert (duplicate.status, duplicate.merged_into_id) == ("closed", original.id)
    bodies = [m.body for m in queries.thread(original.id, include_internal=True)]
    assert "Second message" in bodies
    assert "merged_from" in _actions(original)
    sign_in(web, member)
    html = web.get(f"/support/t/{duplicate.tracking_code}").get_data(as_text=True)
    assert original.tracking_code in html


def test_tickets_of_different_customers_are_not_merged(agent, member):
    mine = open_member_ticket(member)
    theirs = open_member_ticket(MemberFactory())
    with pytest.raises(services.Conflict):
        desk.merge(actor=agent, ticket=theirs, into=mine)
    assert theirs.merged_into_id is None


def test_merging_into_an_unknown_code_says_so_and_changes_nothing(web, agent, member):
    ticket = open_member_ticket(member)
    sign_in(web, agent)
    page = f"/desk/t/{ticket.tracking_code}"
    post_form(web, f"{page}/merge", {"into_code": "BG-2222-2222"}, page=page)
    assert "There is no ticket with that tracking code." in web.get(page).get_data(as_text=True)
    assert fresh(ticket).merged_into_id is None


# --- live updates ---------------------------------------------------------------------------------------------


def test_a_customer_reply_is_pushed_live_to_the_assignee_after_commit(app, web, agent, member):
    ticket = open_member_ticket(member)
    desk.assign(actor=agent, ticket=ticket, assignee_id=agent.id, team_id=None)
    sign_in(web, agent)
    socket = socketio.test_client(app, flask_test_client=web)
    socket.get_received()
    services.add_customer_reply(ticket=ticket, actor=member, body="Any news?")
    assert socket.get_received() == []  # nothing before the commit
    db.session.commit()
    received = [e for e in socket.get_received() if e["name"] == "ticket.updated"]
    socket.disconnect()
    assert [e["args"][0]["code"] for e in received] == [ticket.tracking_code]
    assert received[0]["args"][0]["what"] == "customer_replied"
    assert "Any news?" not in str(received)


def test_a_team_ticket_is_pushed_to_the_team_not_to_other_agents(app, web, other_web, member):
    inside, outside = AgentFactory(), AgentFactory()
    team = TeamFactory(members=[inside])
    ticket = open_member_ticket(member)
    ticket.team_id = team.id
    sign_in(web, inside)
    sign_in(other_web, outside)
    # Each connection in its own app context, so Flask-Login's cached user of one is not the other's.
    with app.app_context():
        watching = socketio.test_client(app, flask_test_client=web)
    with app.app_context():
        elsewhere = socketio.test_client(app, flask_test_client=other_web)
    watching.get_received()
    elsewhere.get_received()
    services.add_customer_reply(ticket=ticket, actor=member, body="Hello")
    db.session.commit()
    got_inside = [e["name"] for e in watching.get_received()]
    got_outside = [e["name"] for e in elsewhere.get_received()]
    watching.disconnect()
    elsewhere.disconnect()
    assert "ticket.updated" in got_inside
    assert "ticket.updated" not in got_outside


def test_the_desk_ticket_page_runs_a_fixed_number_of_queries(web, agent, member):
    ticket = open_member_ticket(member)
    for n in range(6):
        desk.reply(actor=agent, ticket=ticket, body=f"Reply {n}")
        desk.add_note(actor=agent, ticket=ticket, body=f"Note {n}")
    sign_in(web, agent)
    web.get(f"/desk/t/{ticket.tracking_code}")
    with count_queries() as counter:
        assert web.get(f"/desk/t/{ticket.tracking_code}").status_code == 200
    assert counter.count <= 16, counter


def test_the_desk_pages_render_for_admins(web, admin):
    TeamFactory()
    sign_in(web, admin)
    for path in ["/desk/canned", "/desk/teams", "/desk/sla", "/desk/figures"]:
        assert web.get(path).status_code == 200, path


def test_settings_pages_are_for_admins_only(web, agent):
    sign_in(web, agent)
    assert web.get("/desk/teams").status_code == 403
    assert web.get("/desk/sla").status_code == 403


def test_an_admin_creates_a_private_round_robin_team_and_it_is_audited(web, admin, agent):
    sign_in(web, admin)
    with recorded_events("audit.logged") as audits:
        response = post_form(
            web,
            "/desk/teams",
            {
                "name": "VIP",
                "is_private": "y",
                "round_robin": "y",
                "kinds": ["complaint"],
                "member_ids": [str(agent.id)],
            },
        )
    assert response.status_code == 303
    team = queries.teams()[0]
    assert (team.name, team.is_private, team.round_robin, team.kinds) == ("VIP", True, True, "complaint")
    assert [m.id for m in team.members] == [agent.id]
    assert [a.attributes["action"] for a in audits] == ["tickets.team_saved"]


def test_a_ticket_row_is_unchanged_by_a_refused_action(agent, member):
    ticket = open_member_ticket(member)
    before = (ticket.status, ticket.priority)
    with pytest.raises(services.ValidationFailed):
        desk.change_status(actor=agent, ticket=ticket, status="bogus")
    with pytest.raises(services.ValidationFailed):
        desk.change_priority(actor=agent, ticket=ticket, priority="bogus")
    assert (ticket.status, ticket.priority) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1


def test_the_public_view_for_the_api_has_the_thread_without_internal_notes(agent, member):
    ticket = open_member_ticket(member, body="First words")
    desk.add_note(actor=agent, ticket=ticket, body=SECRET)
    desk.reply(actor=agent, ticket=ticket, body="Public answer")
    view = queries.public_view(ticket)
    assert view["tracking_code"] == ticket.tracking_code
    assert view["status"] == "open"
    assert [(m["from"], m["body"]) for m in view["messages"]] == [
        ("customer", "First words"),
        ("support", "Public answer"),
    ]
    assert SECRET not in str(view)
    assert agent.display_name not in str(view)


def test_a_members_ticket_list_and_page_never_show_internal_notes(web, agent, member):
    ticket = open_member_ticket(member)
    desk.add_note(actor=agent, ticket=ticket, body=SECRET)
    sign_in(web, member)
    for path in ["/support/tickets", f"/support/t/{ticket.tracking_code}", "/support/"]:
        assert SECRET not in web.get(path).get_data(as_text=True), path


def test_knowledge_pages_have_no_inline_scripts_styles_or_handlers(web, admin, member):
    article = KbArticleFactory()
    ticket = open_member_ticket(member)
    sign_in(web, admin)
    pages = [
        "/kb/",
        f"/kb/a/{article.id}",
        "/support/",
        "/support/new",
        "/support/track",
        "/desk/",
        f"/desk/t/{ticket.tracking_code}",
        "/desk/figures",
        "/desk/teams",
        "/desk/sla",
        "/kb/manage/new",
    ]
    for path in pages:
        html = web.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        assert all('type="application/json"' in attrs for attrs in scripts), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
