"""Entering with real files: the bytes are checked, bombs and huge files refused, EXIF never kept."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from gamification.contests.models import Entry
from portal.extensions import db
from tests.factories import MemberFactory
from tests.gamification.contests.factories import ContestFactory, jpeg
from tests.portal.web import csrf_token, flashes, make_client, recorded_events, sign_in, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def contest():
    return ContestFactory(entries_per_member=3)


def _enter(web, contest, payload: bytes, filename="photo.jpg", caption="Mine"):
    token = csrf_token(web, f"/contests/{contest.id}")
    return web.post(
        f"/contests/{contest.id}/enter",
        data={"csrf_token": token, "photo": (io.BytesIO(payload), filename), "caption": caption},
        content_type="multipart/form-data",
    )


def _entries() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Entry))


def _stored(app) -> list[Path]:
    root = Path(app.config["UPLOADS_ROOT"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_real_photo_is_stored_as_a_display_size_and_a_thumbnail(web, app, contest):
    sign_in(web, MemberFactory())
    response = _enter(web, contest, jpeg((2400, 1600)))
    assert response.status_code == 303
    assert ("success", "Thank you! Your photo is in the gallery.") in flashes(web)
    entry = db.session.scalar(sa.select(Entry))
    root = Path(app.config["UPLOADS_ROOT"])
    with Image.open(root / entry.image["display"]) as display, Image.open(root / entry.image["thumb"]) as thumb:
        assert display.size == (1600, 1067)
        assert display.format == "JPEG"
        assert max(thumb.size) == 480
    assert (entry.width, entry.height) == (2400, 1600)


def test_a_text_file_named_jpg_is_refused(web, app, contest):
    sign_in(web, MemberFactory())
    response = _enter(web, contest, b"this is not an image, just words" * 10, filename="holiday.jpg")
    assert response.status_code == 303
    assert ("danger", "The file is not a valid image.") in flashes(web)
    assert _entries() == 0
    assert _stored(app) == []


def test_a_decompression_bomb_is_refused_before_it_is_decoded(web, app, contest):
    # 8000×5000 = 40 megapixels of one colour compresses to a few kilobytes.
    out = io.BytesIO()
    Image.new("1", (8000, 5000)).save(out, "PNG", optimize=True)
    bomb = out.getvalue()
    assert len(bomb) < 10_000
    sign_in(web, MemberFactory())
    response = _enter(web, contest, bomb, filename="tiny.png")
    assert response.status_code == 303
    [(category, message)] = flashes(web)
    assert category == "danger"
    assert "8000×5000 pixels" in message
    assert "megapixels" in message
    assert _entries() == 0
    assert _stored(app) == []


def test_a_file_over_the_size_limit_is_refused(web, app, contest, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 200_000)
    sign_in(web, MemberFactory())
    big = jpeg((600, 400)) + b"\0" * 250_000  # a valid JPEG padded past the limit
    response = _enter(web, contest, big)
    assert response.status_code == 303
    assert any("too large" in message for _c, message in flashes(web))
    assert _entries() == 0
    assert _stored(app) == []


def test_a_request_bigger_than_the_server_accepts_gets_a_413_page(web, app, contest, monkeypatch):
    sign_in(web, MemberFactory())
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = _enter(web, contest, b"\xff" * 10_000)
    assert response.status_code == 413
    assert _entries() == 0


def test_gps_exif_is_not_in_the_stored_file(web, app, contest):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (35.0, 41.0, 0.0), 3: "E", 4: (51.0, 25.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 80, 40)).save(out, "JPEG", exif=exif)
    original = out.getvalue()
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get_ifd(0x8825)  # the upload really carries a location
    sign_in(web, MemberFactory())
    assert _enter(web, contest, original).status_code == 303
    entry = db.session.scalar(sa.select(Entry))
    root = Path(app.config["UPLOADS_ROOT"])
    for key in entry.image.values():
        data = (root / key).read_bytes()
        assert b"Exif" not in data
        assert b"PhoneMaker" not in data
        with Image.open(root / key) as stored:
            assert len(stored.getexif()) == 0
            assert "exif" not in stored.info


def test_sending_the_same_entry_twice_keeps_one_entry_and_pays_participation_once(web, app):
    contest = ContestFactory(entries_per_member=1, participation_points=10)
    member = MemberFactory()
    sign_in(web, member)
    photo = jpeg((800, 600))
    with recorded_events("contest.*") as seen:
        assert _enter(web, contest, photo).status_code == 303
        assert _enter(web, contest, photo).status_code == 303
    assert flashes(web)[-1] == ("danger", "You have already sent your entry to this contest.")
    assert _entries() == 1
    assert len(_stored(app)) == 2  # one display size and one thumbnail: the refused copy was never stored
    assert [(e.type, e.member_id) for e in seen] == [("contest.entered", member.id)]
