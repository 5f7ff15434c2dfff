"""The customer's side: opening tickets (members and guests), tracking codes by mail, following a ticket,
replying, attachments, closed tickets, rating, and the answers to bad input."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from knowledge.tickets import desk, services
from knowledge.tickets.models import Ticket, TicketAttachment, TicketMessage
from portal.extensions import db
from tests.factories import MemberFactory
from tests.helpers import count_queries, link_in
from tests.knowledge.conftest import EXE_BYTES, PDF_BYTES, open_guest_ticket, open_member_ticket, png_bytes
from tests.portal.web import csrf_token, flashes, fresh, post_form, recorded_events, sign_in

CODE = re.compile(r"BG-[A-Z2-9]{4}-[A-Z2-9]{4}")


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _open_as_guest(web, **fields):
    data = {
        "kind": "support",
        "subject": "My order is late",
        "body": "Ordered a week ago.",
        "email": "Guest@Example.com",
    }
    data.update(fields)
    return post_form(web, "/support/new", data, content_type="multipart/form-data")


# --- opening ------------------------------------------------------------------------------------------


def test_a_guest_opens_a_ticket_sees_its_code_and_gets_it_by_mail(web, outbox):
    response = _open_as_guest(web)
    assert response.status_code == 303
    ticket = db.session.scalar(sa.select(Ticket))
    assert CODE.fullmatch(ticket.tracking_code)
    assert (ticket.guest_email, ticket.member_id, ticket.status, ticket.kind) == (
        "guest@example.com",
        None,
        "new",
        "support",
    )
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.tracking_code in page
    assert "Ordered a week ago." in page
    mail = outbox.last()
    assert mail["To"] == "guest@example.com"
    assert ticket.tracking_code in mail["Subject"]
    text = outbox.text(mail)
    assert ticket.tracking_code in text
    assert f"/support/t/{ticket.tracking_code}/link/" in link_in(text)


def test_a_member_opens_a_ticket_without_an_email_and_sees_it_in_their_account(web, member, outbox):
    sign_in(web, member)
    response = post_form(
        web, "/support/new", {"kind": "complaint", "subject": "Rude cashier", "body": "At the Tehran shop."}
    )
    assert response.status_code == 303
    ticket = db.session.scalar(sa.select(Ticket))
    assert (ticket.member_id, ticket.guest_email, ticket.priority) == (member.id, None, "high")
    assert outbox.last()["To"] == member.email
    assert f"/support/t/{ticket.tracking_code}" in link_in(outbox.text(outbox.last()))
    mine = web.get("/support/tickets").get_data(as_text=True)
    assert ticket.tracking_code in mine
    assert "Rude cashier" in mine


def test_opening_a_ticket_emits_ticket_created_for_the_customer(member):
    with recorded_events("ticket.*") as seen:
        ticket = open_member_ticket(member)
    assert [(e.type, e.member_id, e.source) for e in seen] == [("ticket.created", member.id, ("ticket", ticket.id))]
    assert seen[0].attributes["tracking_code"] == ticket.tracking_code


def test_a_guest_without_a_valid_email_gets_a_clear_message_and_nothing_is_created(web):
    response = _open_as_guest(web, email="not-an-address")
    assert response.status_code == 422
    assert "Enter a valid email address." in response.get_data(as_text=True)
    response = _open_as_guest(web, email="")
    assert response.status_code == 422
    assert "so that you can follow the ticket" in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_every_ticket_gets_its_own_code_and_sla_due_times(member):
    tickets = [open_member_ticket(member) for _ in range(5)]
    assert len({t.tracking_code for t in tickets}) == 5
    for ticket in tickets:
        assert ticket.first_response_due_at < ticket.resolution_due_at
        assert ticket.sla_due_at == ticket.first_response_due_at


# --- attachments ----------------------------------------------------------------------------------------


def test_images_are_re_encoded_and_documents_kept_by_their_real_type(web, app):
    response = _open_as_guest(
        web,
        attachments=[(io.BytesIO(png_bytes()), "screen.png"), (io.BytesIO(PDF_BYTES), "invoice.pdf")],
    )
    assert response.status_code == 303
    items = db.session.scalars(sa.select(TicketAttachment).order_by(TicketAttachment.id)).all()
    assert [(a.filename, a.is_image, a.content_type) for a in items] == [
        ("screen.png", True, "image/jpeg"),
        ("invoice.pdf", False, "application/pdf"),
    ]
    assert items[1].storage_key.endswith(".pdf")
    download = web.get(f"/support/attachments/{items[1].id}")
    assert download.status_code == 200
    assert download.data == PDF_BYTES
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download.close()


def test_an_attachment_that_lies_about_its_type_is_refused_and_nothing_is_stored(web, app, tmp_path):
    response = _open_as_guest(web, attachments=[(io.BytesIO(EXE_BYTES), "photo.png")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "is not a file type we accept" in html
    assert _count(Ticket) == 0
    uploads = tmp_path / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_a_fake_png_header_with_garbage_is_refused(web):
    response = _open_as_guest(web, attachments=[(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"junk" * 50), "x.png")])
    assert response.status_code == 422
    assert "not a valid image" in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_a_file_over_the_upload_limit_is_refused_with_the_limit_named(web, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1024)
    response = _open_as_guest(web, attachments=[(io.BytesIO(b"a" * 5000), "notes.txt")])
    assert response.status_code == 422
    assert "The file is too large" in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_a_50_mb_upload_gets_the_413_page_and_creates_nothing(web):
    token = csrf_token(web, "/support/new")
    fields = {"csrf_token": token, "kind": "support", "subject": "Big file", "body": "x", "email": "big@example.com"}
    fields["attachments"] = FileStorage(io.BytesIO(b"\0" * (50 * 1024 * 1024)), "big.zip")
    boundary, body = encode_multipart(fields)
    # Posted as raw bytes, so that the test client keeps no temporary file of its own open.
    response = web.post("/support/new", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "What you sent is larger than we accept." in html
    assert _count(Ticket) == 0


# --- following a ticket as a guest -------------------------------------------------------------------------


def test_the_tracking_form_with_code_and_email_opens_the_ticket(web, other_web):
    ticket = open_guest_ticket()
    db.session.commit()
    response = post_form(
        other_web, "/support/track", {"code": ticket.tracking_code.lower(), "email": "GUEST@example.com"}
    )
    assert response.status_code == 303
    assert other_web.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("code", "email"),
    [("right", "wrong@example.com"), ("BG-2222-2222", "guest@example.com"), ("BG-0000", "guest@example.com")],
)
def test_a_wrong_code_or_email_gets_one_and_the_same_answer(web, code, email):
    ticket = open_guest_ticket()
    db.session.commit()
    response = post_form(
        web, "/support/track", {"code": ticket.tracking_code if code == "right" else code, "email": email}
    )
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "We found no ticket with that tracking code and email." in html
    assert ticket.subject not in html


def test_tracking_is_rate_limited(app, web):
    ticket = open_guest_ticket()
    db.session.commit()
    token = csrf_token(web, "/support/track")
    allowed = int(re.match(r"\d+", app.config["TICKET_TRACK_RATE_LIMIT"]).group(0))
    for _ in range(allowed):
        web.post("/support/track", data={"csrf_token": token, "code": "BG-2222-2222", "email": "x@example.com"})
    response = web.post(
        "/support/track", data={"csrf_token": token, "code": ticket.tracking_code, "email": "guest@example.com"}
    )
    assert response.status_code == 429
    assert response.headers.get("Retry-After")


def test_a_ticket_page_without_proof_sends_to_the_tracking_form_whether_it_exists_or_not(web):
    ticket = open_guest_ticket()
    db.session.commit()
    existing = web.get(f"/support/t/{ticket.tracking_code}")
    missing = web.get("/support/t/BG-2222-3333")
    assert existing.status_code == missing.status_code == 302
    assert existing.headers["Location"].startswith("/support/track")
    assert web.get("/support/t/not-a-code").status_code == 404
    assert web.get("/support/t/%3Cscript%3E").status_code == 404


def test_another_member_cannot_open_a_members_ticket(web, member):
    ticket = open_member_ticket(member)
    sign_in(web, MemberFactory())
    assert web.get(f"/support/t/{ticket.tracking_code}").status_code == 302


def test_the_signed_link_in_the_mail_opens_the_ticket_and_a_tampered_one_does_not(app, web, other_web, outbox):
    _open_as_guest(web)
    link = link_in(outbox.text(outbox.last()))
    assert other_web.get(link).status_code == 302
    code = db.session.scalar(sa.select(Ticket.tracking_code))
    assert other_web.get(f"/support/t/{code}").status_code == 200
    stranger = app.test_client()
    bad = stranger.get(link[:-4] + "AAAA?lang=en")
    assert bad.status_code == 400
    assert "not valid or has expired" in bad.get_data(as_text=True)


def test_a_link_for_one_ticket_does_not_open_another(app, web, outbox):
    _open_as_guest(web)
    first_link = link_in(outbox.text(outbox.last()))
    other = open_guest_ticket(email="someone@example.com")
    db.session.commit()
    token = first_link.rsplit("/", 1)[-1]
    stranger = app.test_client()
    assert stranger.get(f"/support/t/{other.tracking_code}/link/{token}").status_code == 400


# --- replies, closed tickets, reopening -------------------------------------------------------------------


def test_a_guest_replies_and_a_ticket_waiting_on_them_runs_again(web, agent, outbox):
    ticket = open_guest_ticket()
    desk.reply(actor=agent, ticket=ticket, body="Which order number?", then_status="pending_customer")
    db.session.commit()
    assert ticket.sla_paused_at is not None
    assert ticket.sla_due_at is None
    _open_proof(web, ticket)
    response = post_form(
        web,
        f"/support/t/{ticket.tracking_code}/reply",
        {"body": "Number 1234."},
        page=f"/support/t/{ticket.tracking_code}",
    )
    assert response.status_code == 303
    ticket = fresh(ticket)
    assert ticket.status == "open"
    assert ticket.sla_paused_at is None
    assert ticket.sla_due_at is not None


def _open_proof(web, ticket):
    with web.session_transaction() as session:
        session["ticket_access"] = [ticket.id]


def test_a_reply_to_a_closed_ticket_is_refused_with_a_clear_message_and_nothing_is_lost(web, agent):
    ticket = open_guest_ticket()
    desk.change_status(actor=agent, ticket=ticket, status="closed")
    db.session.commit()
    _open_proof(web, ticket)
    page = web.get(f"/support/t/{ticket.tracking_code}").get_data(as_text=True)
    assert "This ticket is closed and cannot be replied to." in page
    assert 'name="body"' not in page
    messages = _count(TicketMessage)
    token = csrf_token(web, "/support/new")
    response = web.post(f"/support/t/{ticket.tracking_code}/reply", data={"csrf_token": token, "body": "Hello?"})
    assert response.status_code == 409
    assert "This ticket is closed and cannot be replied to." in response.get_data(as_text=True)
    assert ticket.tracking_code in response.get_data(as_text=True)
    assert _count(TicketMessage) == messages
    assert fresh(ticket).status == "closed"


def test_a_customer_reply_within_the_window_reopens_a_resolved_ticket(member, agent):
    ticket = open_member_ticket(member)
    desk.change_status(actor=agent, ticket=ticket, status="resolved")
    services.add_customer_reply(ticket=ticket, actor=member, body="Still broken.")
    assert ticket.status == "open"
    assert ticket.resolved_at is None
    assert ticket.sla_due_at is not None


def test_after_the_window_a_resolved_ticket_cannot_be_replied_to(member, agent, app):
    ticket = open_member_ticket(member)
    desk.change_status(actor=agent, ticket=ticket, status="resolved")
    ticket.resolved_at = ticket.resolved_at - timedelta(days=app.config["SUPPORT_REOPEN_DAYS"] + 1)
    with pytest.raises(services.TicketClosed):
        services.add_customer_reply(ticket=ticket, actor=member, body="Hello again")
    assert ticket.status == "resolved"


# --- satisfaction ------------------------------------------------------------------------------------------


def test_a_guest_rates_once_through_the_signed_link_in_the_resolution_mail(app, web, agent, outbox):
    ticket = open_guest_ticket()
    desk.reply(actor=agent, ticket=ticket, body="Fixed it.", then_status="resolved")
    db.session.commit()
    mail = outbox.last()
    text = outbox.text(mail)
    rate_link = next(line for line in text.splitlines() if "/rate/" in line).strip()
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert client.get(rate_link).status_code == 302
    with recorded_events("ticket.rated") as seen:
        response = post_form(client, f"/support/t/{ticket.tracking_code}/rate", {"rating": "4", "comment": "Good"})
    assert response.status_code == 303
    ticket = fresh(ticket)
    assert (ticket.rating, ticket.rating_comment) == (4, "Good")
    assert [(e.type, e.source) for e in seen] == [("ticket.rated", ("ticket_rating", ticket.id))]
    again = client.get(f"/support/t/{ticket.tracking_code}/rate")
    assert "already been rated" in again.get_data(as_text=True)
    with pytest.raises(services.Conflict):
        services.rate_ticket(ticket=ticket, rating=1)
    assert fresh(ticket).rating == 4


def test_a_ticket_cannot_be_rated_before_it_is_resolved_nor_out_of_range(member, agent):
    ticket = open_member_ticket(member)
    with pytest.raises(services.Conflict):
        services.rate_ticket(ticket=ticket, rating=5)
    desk.change_status(actor=agent, ticket=ticket, status="resolved")
    with pytest.raises(services.ValidationFailed):
        services.rate_ticket(ticket=ticket, rating=6)
    assert ticket.rating is None


def test_members_are_notified_of_replies_and_status_changes_not_mailed(member, agent, outbox):
    from portal.notifications.models import Notification

    ticket = open_member_ticket(member)
    db.session.commit()
    mails = len(outbox.messages())
    desk.reply(actor=agent, ticket=ticket, body="On it", then_status="pending_customer")
    desk.change_status(actor=agent, ticket=ticket, status="open")
    db.session.commit()
    kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.member_id == member.id).order_by(Notification.id)
    ).all()
    assert kinds == ["ticket.agent_replied", "ticket.status_changed"]
    assert len(outbox.messages()) == mails


def test_the_customer_ticket_page_runs_a_fixed_number_of_queries(web, member, agent):
    ticket = open_member_ticket(member)
    for n in range(5):
        desk.reply(actor=agent, ticket=ticket, body=f"Reply {n}")
        services.add_customer_reply(ticket=ticket, actor=member, body=f"Answer {n}")
    sign_in(web, member)
    web.get(f"/support/t/{ticket.tracking_code}")
    with count_queries() as counter:
        response = web.get(f"/support/t/{ticket.tracking_code}")
    assert response.status_code == 200
    assert counter.count <= 8, counter


def test_flash_shows_the_tracking_code_after_opening(web):
    response = _open_as_guest(web)
    assert response.status_code == 303
    messages = [m for _c, m in flashes(web)]
    code = db.session.scalar(sa.select(Ticket.tracking_code))
    assert any(code in m for m in messages)


def test_a_rating_racing_another_is_refused_by_the_database_not_by_a_stale_read(member, agent):
    ticket = open_member_ticket(member)
    desk.change_status(actor=agent, ticket=ticket, status="resolved")
    db.session.flush()
    # Another request rates first; this session's object still says "not rated".
    db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(rating=3))
    assert ticket.rating is None
    with pytest.raises(services.Conflict):
        services.rate_ticket(ticket=ticket, rating=5)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).rating == 3
