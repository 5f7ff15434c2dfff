"""The demo seeder: an open contest with real generated photos and votes, loaded once."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from gamification.contests import demo
from gamification.contests.models import Contest, Entry, Phase, Vote
from portal.accounts import demo as accounts_demo
from portal.extensions import db


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_demo_seeds_a_voting_contest_and_an_open_one_once(app):
    accounts_demo.seed_accounts()
    demo.seed_contests()
    demo.seed_contests()
    contests = db.session.scalars(sa.select(Contest).order_by(Contest.id)).all()
    assert [c.phase() for c in contests] == [Phase.VOTING, Phase.SUBMISSIONS]
    assert _count(Entry) == 8
    assert _count(Vote) > 0
    entry = db.session.scalars(sa.select(Entry)).first()
    with Image.open(Path(app.config["UPLOADS_ROOT"]) / entry.image["display"]) as image:
        assert image.format == "JPEG"
        # a generated landscape, not noise: few distinct colours in a small sample
        assert len(set(image.resize((32, 32)).get_flattened_data())) < 600


def test_demo_images_are_pleasant_gradients():
    from io import BytesIO

    with Image.open(BytesIO(demo.landscape(3))) as image:
        top, bottom = image.getpixel((5, 2)), image.getpixel((5, image.height - 2))
    assert top != bottom
