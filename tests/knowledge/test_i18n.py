"""The help desk in Persian: notification texts in the reader's language, Persian pages and mail."""

from __future__ import annotations

from flask_babel import force_locale

from knowledge.tickets import notices
from portal.notifications.kinds import render_text
from tests.knowledge.conftest import open_guest_ticket
from tests.portal.web import make_client


def test_every_ticket_notification_kind_reads_in_english_and_persian(app):
    params = {"code": "BG-7KX4-9QT2", "status": "resolved"}
    with app.test_request_context():
        for kind in notices.KINDS:
            with force_locale("en"):
                english = render_text(kind, params)
            with force_locale("fa"):
                persian = render_text(kind, params)
            assert "BG-7KX4-9QT2" in english
            assert "BG-7KX4-9QT2" in persian
            assert english != persian, kind
        with force_locale("fa"):
            assert render_text("ticket.status_changed", params) == "وضعیت تیکت BG-7KX4-9QT2 شما اکنون: حل‌شده."


def test_the_new_ticket_page_is_persian_by_default(app):
    html = make_client(app).get("/support/new").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert "تیکت جدید" in html
    assert "موضوع" in html


def test_a_persian_guests_mail_is_in_persian(outbox):
    ticket = open_guest_ticket(language="fa")
    from portal.extensions import db

    db.session.commit()
    text = outbox.text(outbox.last())
    assert "کد پیگیری شما: " + ticket.tracking_code in text
