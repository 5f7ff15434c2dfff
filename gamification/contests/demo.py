"""Demo contests: one open for voting with photos and votes, one open for entries; idempotent."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import click
import sqlalchemy as sa
from PIL import Image, ImageDraw

from gamification.contests import services
from gamification.contests.models import Contest
from portal.accounts.models import Member
from portal.db import db, utcnow

DEMO_TITLE_EN = "Autumn colours"
PALETTES = [
    ((255, 183, 77), (230, 81, 0)),
    ((129, 212, 250), (2, 119, 189)),
    ((206, 147, 216), (106, 27, 154)),
    ((165, 214, 167), (46, 125, 50)),
    ((255, 204, 188), (216, 67, 21)),
    ((179, 229, 252), (40, 53, 147)),
]
CAPTIONS = [
    "غروب پاییزی در دربند",
    "Morning mist over the lake",
    "کوه‌های البرز",
    "Sunset in Kish",
    "جاده‌ی شمال",
    "Quiet hills",
]


def landscape(seed: int, size: tuple[int, int] = (1200, 800)) -> bytes:
    """A pleasant generated landscape: a sky gradient, a sun and layered hills (JPEG bytes)."""
    rng = random.Random(seed)
    top, bottom = PALETTES[seed % len(PALETTES)]
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    sun_x, sun_y, radius = rng.randint(200, width - 200), rng.randint(120, height // 2), rng.randint(50, 110)
    draw.ellipse([sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius], fill=(255, 241, 200))
    for layer in range(3):
        shade = 40 + layer * 35
        base = height * (0.55 + layer * 0.15)
        points = [(0, height)]
        for x in range(0, width + 100, 100):
            points.append((x, base - rng.randint(0, 140 - layer * 30)))
        points.append((width, height))
        draw.polygon(points, fill=(shade // 2, shade, shade // 2 + 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _data(title_fa: str, title_en: str, theme_fa: str, theme_en: str, *, mode: str) -> services.ContestData:
    now = utcnow()
    return services.ContestData(
        title_fa=title_fa,
        title_en=title_en,
        theme_fa=theme_fa,
        theme_en=theme_en,
        rules="* عکس باید کار خودتان باشد.\n* Your own photo, taken this year.\n* No watermarks or frames.",
        prizes=[
            {"points": 300, "reward": "کارت هدیه ۵۰۰ هزار تومانی"},
            {"points": 150, "reward": ""},
            {"points": 75, "reward": ""},
        ],
        participation_points=20,
        submissions_open_at=now - timedelta(days=1),
        submissions_close_at=now + timedelta(days=7),
        voting_open_at=now + timedelta(days=7),
        voting_close_at=now + timedelta(days=14),
        entries_per_member=2,
        voting_mode=mode,
        hide_counts=mode == "single",
    )


def seed_contests() -> None:
    """Creates the demo contests once (the English title marks them)."""
    if db.session.scalar(sa.select(Contest.id).where(Contest.title_en == DEMO_TITLE_EN)):
        click.echo("contests: demo contests already present")
        return
    members = list(
        db.session.scalars(
            sa.select(Member).where(Member.role == "member", Member.email_verified_at.is_not(None)).order_by(Member.id)
        )
    )
    voting = services.create_contest(
        actor=None,
        data=_data(
            "رنگ‌های پاییز", DEMO_TITLE_EN, "پاییز در شهر و طبیعت", "Autumn in the city and in nature", mode="single"
        ),
    )
    entries = []
    for index, member in enumerate(members[:6]):
        entries.append(
            services.enter_contest(
                actor=member, contest=voting, stream=landscape(index), caption=CAPTIONS[index % len(CAPTIONS)]
            )
        )
    # Move the first contest on to its voting phase, so the demo shows voting at once.
    now = utcnow()
    voting.submissions_close_at = now - timedelta(minutes=5)
    voting.voting_open_at = now - timedelta(minutes=5)
    voting.voting_close_at = now + timedelta(days=5)
    for index, voter in enumerate(members):
        candidates = [e for e in entries if e.member_id != voter.id]
        if candidates and index % 3 != 2:
            services.cast_vote(actor=voter, entry=candidates[index % len(candidates)])
    open_contest = services.create_contest(
        actor=None, data=_data("آسمان شب", "Night sky", "ستاره‌ها و نورهای شهر", "Stars and city lights", mode="stars")
    )
    for index, member in enumerate(members[6:8]):
        services.enter_contest(actor=member, contest=open_contest, stream=landscape(10 + index), caption="")
    click.echo(f"contests: 2 contests, {len(entries) + 2} photos")
