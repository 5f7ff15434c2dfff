"""The demo club's segments: a few saved filters an admin would start from."""

from __future__ import annotations

import click
import sqlalchemy as sa

from portal.accounts.models import Organisation
from portal.admin.segments import registry, services
from portal.admin.segments.models import Segment
from portal.db import db

# fa name, en name, description, criteria (organisation names are looked up)
DEMO_SEGMENTS = [
    (
        "اعضای معرفی‌شده",
        "Referred members",
        "اعضایی که با دعوت یک عضو دیگر پیوسته‌اند.",
        {"referred": True, "roles": ["member"]},
    ),
    (
        "اعضای تهران و شرکت فناوری پارس",
        "Tehran members and Pars Technology",
        "اعضای ساکن تهران که در شرکت فناوری پارس کار می‌کنند.",
        {"cities": ["تهران", "Tehran"], "organisation_names": ["شرکت فناوری پارس"]},
    ),
    (
        "کم‌فعال‌ها",
        "Quiet members",
        "اعضایی که ۳۰ روز است سر نزده‌اند، برای کارزار بازگشت.",
        {"inactive_for_days": 30, "roles": ["member"]},
    ),
]
TIERED = ("اعضای نقره‌ای و بالاتر", "Silver and above", "همه‌ی اعضایی که به یکی از سطح‌ها رسیده‌اند.")


def seed_segments() -> None:
    """Creates the demo segments that are missing (by English name)."""
    have = set(db.session.scalars(sa.select(Segment.name_en)))
    added = 0
    for fa, en, description, criteria in DEMO_SEGMENTS:
        if en in have:
            continue
        rules = dict(criteria)
        names = rules.pop("organisation_names", None)
        if names:
            rules["organisation_ids"] = list(
                db.session.scalars(sa.select(Organisation.id).where(Organisation.name.in_(names)))
            )
            if not rules["organisation_ids"]:
                continue
        services.create_segment(actor=None, name_fa=fa, name_en=en, description=description, criteria=rules)
        added += 1
    tiers = [code for code, _name in registry.tier_choices()]
    if TIERED[1] not in have and tiers:
        services.create_segment(
            actor=None, name_fa=TIERED[0], name_en=TIERED[1], description=TIERED[2], criteria={"tiers": tiers}
        )
        added += 1
    click.echo(f"segments: {added} added")
