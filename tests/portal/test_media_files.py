"""The non-image upload path of portal/media.py: an allow-list checked on the bytes, a size limit."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale

from portal import media

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40
TEXT = "سلام، this is a plain note.\nSecond line.\n".encode()


@pytest.fixture(autouse=True)
def english(app):
    """The messages are checked in English (the club's default language is Persian)."""
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.mark.parametrize(
    ("data", "expected"),
    [(PDF, media.PDF), (ZIP, media.ZIP), (TEXT, media.TEXT), (b"\xef\xbb\xbfBOM text", media.TEXT)],
)
def test_accepted_types_are_recognised_by_their_bytes(data, expected):
    assert media.sniff_file_type(data) is expected


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program
        b"\x7fELF\x02\x01\x01\x00",  # a Linux program
        b"text with a \x00 NUL byte",
        b"\xff\xfe\x00\x00broken utf-8 \xc3",
        b"\x1b[31m terminal escapes",
    ],
)
def test_anything_else_is_refused_whatever_it_is_called(app, data):
    assert media.sniff_file_type(data) is None
    with pytest.raises(media.InvalidFile, match="This type of file is not accepted"):
        media.store_file(io.BytesIO(data), "tests")


def test_a_stored_file_gets_a_random_name_with_the_real_types_extension(app):
    stored = media.store_file(io.BytesIO(PDF), "tests")
    assert stored.key.startswith("tests/")
    assert stored.key.endswith(".pdf")
    assert stored.size == len(PDF)
    path = media.stored_path(stored.key)
    assert path is not None
    assert path.read_bytes() == PDF


def test_an_allow_list_can_be_narrowed(app):
    with pytest.raises(media.InvalidFile, match="Accepted: PDF"):
        media.store_file(ZIP, "tests", allowed=(media.PDF,))


def test_files_over_the_limit_and_empty_files_are_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(media.InvalidFile, match="too large"):
        media.store_file(io.BytesIO(TEXT * 10), "tests")
    with pytest.raises(media.InvalidFile, match="empty"):
        media.store_file(b"", "tests")


def test_stored_path_refuses_keys_outside_the_uploads_root(app):
    assert media.stored_path("../../etc/passwd") is None
    assert media.stored_path("tests/none.pdf") is None


def test_images_are_told_apart_from_documents():
    assert media.looks_like_image(b"\x89PNG\r\n\x1a\n....")
    assert media.looks_like_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    assert not media.looks_like_image(PDF)
