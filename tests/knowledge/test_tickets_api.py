"""The ticket endpoints of the integration API: opening (key, session, anonymous), reading by code and
email, scopes, bad input with one answer for every wrong pair, rate limits, and the OpenAPI document."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from knowledge.tickets import desk
from knowledge.tickets.models import Ticket
from portal.api import services as api_services
from portal.extensions import db
from tests.factories import AgentFactory, MemberFactory
from tests.knowledge.conftest import open_guest_ticket, open_member_ticket
from tests.knowledge.factories import TeamFactory
from tests.portal.web import make_client, sign_in, use_language

NEW = {"kind": "complaint", "subject": "Broken kettle", "body": "It leaks since day one."}


def _key(*scopes: str) -> dict[str, str]:
    created = api_services.create_api_key(actor=None, name="CRM", scopes=scopes or ("tickets:write",))
    db.session.commit()
    return {"Authorization": f"Bearer {created.plaintext}"}


def _post(client, body, headers=None):
    return client.post("/api/v1/tickets", data=json.dumps(body), content_type="application/json", headers=headers)


# --- opening -------------------------------------------------------------------------------------------


def test_an_anonymous_guest_opens_a_ticket_with_an_email_and_gets_the_code_by_mail(client, outbox):
    response = _post(client, {**NEW, "email": "Guest@Example.com", "name": "Sam", "language": "en"})
    assert response.status_code == 201
    body = response.get_json()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.tracking_code == body["tracking_code"]))
    assert (ticket.guest_email, ticket.guest_name, ticket.member_id, ticket.kind) == (
        "guest@example.com",
        "Sam",
        None,
        "complaint",
    )
    assert body["status"] == "new"
    assert body["priority"] == "high"
    assert [m["from"] for m in body["messages"]] == ["customer"]
    assert body["tracking_code"] in outbox.text(outbox.last())
    assert outbox.last()["To"] == "guest@example.com"


def test_without_a_member_an_email_is_required(client):
    response = _post(client, NEW)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"email": "invalid"}
    assert _post(client, {**NEW, "email": "not-an-email"}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_a_key_opens_a_ticket_for_a_member_or_a_guest(client):
    member = MemberFactory(external_id="crm-7", language="fa")
    headers = _key()
    response = _post(client, {**NEW, "member": "ext:crm-7"}, headers)
    assert response.status_code == 201
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.tracking_code == response.get_json()["tracking_code"]))
    assert (ticket.member_id, ticket.guest_email, ticket.language) == (member.id, None, "fa")
    guest = _post(client, {**NEW, "email": "buyer@example.com"}, headers)
    assert guest.status_code == 201
    missing = _post(client, {**NEW, "member": "ext:nobody"}, headers)
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (404, "member_not_found")


def test_an_idempotency_key_makes_a_retry_answer_the_first_ticket(client, outbox):
    headers = _key()
    body = {**NEW, "email": "buyer@example.com", "idempotency_key": "crm-ticket-1"}
    first = _post(client, body, headers)
    again = _post(client, {**body, "subject": "Different words"}, headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["tracking_code"] == first.get_json()["tracking_code"]
    assert again.get_json()["subject"] == "Broken kettle"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1
    assert len(outbox.messages()) == 1
    other_key = _post(client, body, _key())  # another caller's key of the same name is its own
    assert other_key.status_code == 201
    assert other_key.get_json()["tracking_code"] != first.get_json()["tracking_code"]


def test_an_anonymous_caller_may_not_send_an_idempotency_key(client):
    response = _post(client, {**NEW, "email": "a@example.com", "idempotency_key": "guess-me"})
    assert response.status_code == 403
    assert response.get_json()["error"]["fields"] == {"idempotency_key": "key_only"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_only_a_key_may_name_a_member(client):
    member = MemberFactory()
    db.session.commit()
    response = _post(client, {**NEW, "member": str(member.id), "email": "x@example.com"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_a_logged_in_session_opens_for_its_member_with_the_csrf_token(app, member):
    web = make_client(app)
    sign_in(web, member)
    assert _post(web, NEW).status_code == 400  # a browser session's write needs the CSRF token
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_scopes_and_keys_are_checked(client):
    wrong = _post(client, {**NEW, "email": "a@example.com"}, _key("members:read"))
    assert (wrong.status_code, wrong.get_json()["error"]["code"]) == (403, "missing_scope")
    bogus = _post(client, {**NEW, "email": "a@example.com"}, {"Authorization": "Bearer bgk_nope"})
    assert bogus.status_code == 401
    ticket = open_guest_ticket()
    db.session.commit()
    read = client.get(f"/api/v1/tickets/{ticket.tracking_code}", headers=_key("members:read"))
    assert read.status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({**NEW, "kind": "rant", "email": "a@example.com"}, "kind", 422),
        ({**NEW, "subject": "  x ", "email": "a@example.com"}, "subject", 422),
        ({**NEW, "body": "", "email": "a@example.com"}, "body", 422),
        ({**NEW, "body": "x" * 20_001, "email": "a@example.com"}, "body", 422),
        ({**NEW, "email": "a@example.com", "extra": 1}, "extra", 422),
        ({**NEW, "email": "a@example.com", "language": "de"}, "language", 422),
    ],
)
def test_bad_bodies_are_refused_by_field(client, body, field, status):
    response = _post(client, body)
    assert response.status_code == status
    assert field in response.get_json()["error"]["fields"]


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/api/v1/tickets", data="{kind:", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"body": "malformed_json"}


# --- reading ---------------------------------------------------------------------------------------------


def test_a_guest_reads_the_public_thread_with_code_and_email(client, agent):
    ticket = open_guest_ticket(email="guest@example.com")
    desk.reply(actor=agent, ticket=ticket, body="We are on it.")
    desk.add_note(actor=agent, ticket=ticket, body="Internal: customer is grumpy")
    db.session.commit()
    for code in [ticket.tracking_code, ticket.tracking_code.lower().replace("-", "")]:
        response = client.get(f"/api/v1/tickets/{code}", query_string={"email": " GUEST@example.com "})
        assert response.status_code == 200, code
        body = response.get_json()
        assert body["tracking_code"] == ticket.tracking_code
        assert [(m["from"], m["body"]) for m in body["messages"]] == [
            ("customer", "It is late."),
            ("support", "We are on it."),
        ]
        text = response.get_data(as_text=True)
        assert "grumpy" not in text
        assert "Sara Agent" not in text


def test_every_wrong_pair_gets_the_same_answer(client):
    ticket = open_guest_ticket(email="guest@example.com")
    other = open_guest_ticket(email="someone@example.com")
    db.session.commit()
    code = ticket.tracking_code
    wrong = [
        (code, "someone@example.com"),  # the email of another ticket
        (code, ""),
        (other.tracking_code, "guest@example.com"),
        ("BG-2222-2222", "guest@example.com"),  # well-formed, unknown
        ("BG-0000-OOOO", "guest@example.com"),  # ambiguous characters: malformed
        ("not a code", "guest@example.com"),
        ("x" * 40, "guest@example.com"),
    ]
    answers = set()
    for tried, email in wrong:
        response = client.get(f"/api/v1/tickets/{tried}", query_string={"email": email})
        assert response.status_code == 404, tried
        answers.add(response.get_data(as_text=True))
    assert len(answers) == 1
    assert json.loads(answers.pop())["error"]["code"] == "ticket_not_found"


def test_a_key_reads_any_ticket_without_the_email(client, member):
    ticket = open_member_ticket(member)
    db.session.commit()
    response = client.get(f"/api/v1/tickets/{ticket.tracking_code}", headers=_key())
    assert response.status_code == 200
    assert response.get_json()["subject"] == "Printer is broken"


def test_sessions_read_their_own_tickets_and_agents_those_they_may_see(app, member, agent):
    ticket = open_member_ticket(member, subject="Private matter")
    teammate = AgentFactory()
    team = TeamFactory(is_private=True, members=[teammate])
    ticket.team_id = team.id
    db.session.commit()
    path = f"/api/v1/tickets/{ticket.tracking_code}"
    owner = make_client(app)
    sign_in(owner, member)
    assert owner.get(path).status_code == 200
    stranger = make_client(app)
    sign_in(stranger, MemberFactory())
    assert stranger.get(path).status_code == 404
    outsider = make_client(app)
    sign_in(outsider, agent)  # not in the private team
    assert outsider.get(path).status_code == 404
    insider = make_client(app)
    sign_in(insider, teammate)
    assert insider.get(path).status_code == 200


def test_anonymous_lookups_are_rate_limited_but_keys_are_not(client, app):
    ticket = open_guest_ticket()
    db.session.commit()
    use_language(client, "en")
    statuses = [
        client.get(f"/api/v1/tickets/{ticket.tracking_code}", query_string={"email": "wrong@example.com"}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [404] * 10
    limited = client.get(f"/api/v1/tickets/{ticket.tracking_code}", query_string={"email": "guest@example.com"})
    assert limited.status_code == 429
    assert limited.headers.get("Retry-After")
    assert limited.get_json()["error"]["code"]
    headers = _key()
    assert all(
        client.get(f"/api/v1/tickets/{ticket.tracking_code}", headers=headers).status_code == 200 for _ in range(12)
    )


def test_the_openapi_document_describes_the_ticket_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    opening = document["paths"]["/tickets"]["post"]
    reading = document["paths"]["/tickets/{tracking_code}"]["get"]
    assert opening["x-scopes"] == reading["x-scopes"] == ["tickets:write"]
    assert opening["security"] == [{"bearerAuth": []}, {}]
    assert {"201", "401", "403", "404", "422", "429"} <= set(opening["responses"])
    assert {"200", "404", "429"} <= set(reading["responses"])
    assert [p["name"] for p in reading["parameters"]] == ["tracking_code", "email"]
    schemas = document["components"]["schemas"]
    assert set(schemas["TicketInput"]["required"]) == {"kind", "subject", "body"}
    assert schemas["TicketInput"]["properties"]["kind"]["enum"] == ["support", "complaint", "suggestion"]
    assert "messages" in schemas["Ticket"]["required"]
