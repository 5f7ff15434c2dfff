"""Factories for contests: a contest in a chosen phase, entries with real images, votes."""

from __future__ import annotations

import io
from datetime import timedelta

import factory
from PIL import Image

from gamification.contests.models import Contest, Entry, Vote
from portal.db import utcnow
from tests.factories import BaseFactory

WINDOWS = {
    # phase: (submissions open, submissions close, voting open, voting close), in days from now
    "upcoming": (1, 2, 2, 3),
    "submissions": (-1, 1, 1, 2),
    "review": (-2, -1, 1, 2),
    "voting": (-2, -1, -1, 1),
    "ended": (-3, -2, -2, -1),
}


def windows(phase: str) -> dict:
    now = utcnow()
    a, b, c, d = WINDOWS[phase]
    return {
        "submissions_open_at": now + timedelta(days=a),
        "submissions_close_at": now + timedelta(days=b),
        "voting_open_at": now + timedelta(days=c),
        "voting_close_at": now + timedelta(days=d),
    }


def jpeg(size=(640, 480), color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


class ContestFactory(BaseFactory):
    """Pass ``phase=`` (see WINDOWS) to place the windows around now."""

    class Meta:
        model = Contest
        exclude = ("phase",)

    phase = "submissions"
    title_fa = factory.Sequence(lambda n: f"مسابقه {n}")
    title_en = factory.Sequence(lambda n: f"Contest {n}")
    theme_fa = "طبیعت"
    theme_en = "Nature"
    rules = "Be kind."
    prizes = factory.LazyFunction(lambda: [{"points": 100, "reward": "Mug"}, {"points": 50, "reward": ""}])
    participation_points = 10
    entries_per_member = 1
    voting_mode = "single"
    premoderate = False
    hide_counts = False
    submissions_open_at = factory.LazyAttribute(lambda o: windows(o.phase)["submissions_open_at"])
    submissions_close_at = factory.LazyAttribute(lambda o: windows(o.phase)["submissions_close_at"])
    voting_open_at = factory.LazyAttribute(lambda o: windows(o.phase)["voting_open_at"])
    voting_close_at = factory.LazyAttribute(lambda o: windows(o.phase)["voting_close_at"])


class EntryFactory(BaseFactory):
    """Pass ``contest_id`` and ``member_id``; the image keys need not exist on disk."""

    class Meta:
        model = Entry

    caption = factory.Sequence(lambda n: f"Photo {n}")
    image = factory.Sequence(lambda n: {"display": f"contests/x{n}_display.jpg", "thumb": f"contests/x{n}_thumb.jpg"})
    width = 640
    height = 480
    status = "visible"


class VoteFactory(BaseFactory):
    class Meta:
        model = Vote

    stars = 1
    ballot = 0
