"""Fixtures of the knowledge tests: clients in English, staff accounts, image and document bytes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from knowledge.tickets import services
from portal import search
from tests.factories import AdminFactory, AgentFactory, MemberFactory
from tests.portal.web import make_client, use_language


@pytest.fixture(autouse=True)
def search_index(app, tmp_path):
    """Each test indexes into its own Whoosh directory, so the database rollback and the index agree."""
    previous = app.config["SEARCH_INDEX_DIR"]
    app.config["SEARCH_INDEX_DIR"] = str(tmp_path / "search")
    yield tmp_path / "search"
    search.close_backends()
    app.config["SEARCH_INDEX_DIR"] = previous


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def other_web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def member():
    return MemberFactory(display_name="Maryam", language="en")


@pytest.fixture
def agent():
    return AgentFactory(display_name="Sara Agent", language="en")


@pytest.fixture
def admin():
    return AdminFactory(display_name="Boss", language="en")


def png_bytes(size: tuple[int, int] = (40, 30), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def open_member_ticket(member: Any, **overrides: Any):
    data = {"kind": "support", "subject": "Printer is broken", "body": "It does not print.", "language": "en"}
    data.update(overrides)
    return services.open_ticket(actor=member, **data)


def open_guest_ticket(email: str = "guest@example.com", **overrides: Any):
    data = {"kind": "support", "subject": "Where is my order", "body": "It is late.", "language": "en"}
    data.update(overrides)
    return services.open_ticket(actor=None, email=email, **data)
