"""Ticket attachments are private: /media/ never serves them, only the ticket's access-checked route does."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa

from knowledge.tickets.models import TicketAttachment
from portal import media
from portal.extensions import db
from tests.knowledge.conftest import PDF_BYTES, png_bytes
from tests.portal.web import make_client, post_form, use_language


def _open_with_attachments(web):
    response = post_form(
        web,
        "/support/new",
        {
            "kind": "support",
            "subject": "Broken screen",
            "body": "Photo and invoice attached.",
            "email": "guest@example.com",
            "attachments": [(io.BytesIO(png_bytes()), "screen.png"), (io.BytesIO(PDF_BYTES), "invoice.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    return db.session.scalars(sa.select(TicketAttachment).order_by(TicketAttachment.id)).all()


def test_attachments_answer_404_on_the_public_media_route(web, app):
    items = _open_with_attachments(web)
    assert len(items) == 2
    stranger = make_client(app)
    for item in items:
        assert item.storage_key.startswith("private/tickets/")
        assert Path(app.config["UPLOADS_ROOT"], item.storage_key).is_file()  # stored, just not public
        assert media.stored_path(item.storage_key) is not None
        for client in (web, stranger):  # not even for the ticket's own customer
            assert client.get(f"/media/{item.storage_key}").status_code == 404
    thumb = items[0].storage_key.replace("_display.", "_thumb.")
    assert Path(app.config["UPLOADS_ROOT"], thumb).is_file()
    assert stranger.get(f"/media/{thumb}").status_code == 404


def test_spelling_the_key_differently_does_not_reach_a_private_file(web, app):
    key = _open_with_attachments(web)[1].storage_key
    rest = key.removeprefix("private/")
    for spelt in [f"./{key}", f"tickets/../{key}", f"private//{rest}", f"avatars/../private/{rest}"]:
        assert web.get(f"/media/{spelt}").status_code == 404, spelt


def test_the_ticket_route_serves_attachments_to_the_customer_only(web, app):
    items = _open_with_attachments(web)
    download = web.get(f"/support/attachments/{items[1].id}")
    assert download.data == PDF_BYTES
    download.close()
    stranger = make_client(app)
    use_language(stranger, "en")
    assert stranger.get(f"/support/attachments/{items[1].id}").status_code == 404


def test_public_uploads_are_still_served(web, app):
    stored = media.store_image(png_bytes(), media.AVATAR)
    response = web.get(f"/media/{stored.variants['thumb']}")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()
    assert media.public_path(stored.variants["thumb"]) is not None
    private = media.store_file(PDF_BYTES, "tests", private=True)
    assert private.key.startswith("private/tests/")
    assert media.public_path(private.key) is None
