"""Benchmark data of the shell: organisations, members (Persian and English) and their notifications."""

from __future__ import annotations

import sqlalchemy as sa

from bench.registry import BENCH_PASSWORD, Context, Target, generator, targets
from portal.accounts.models import Member, Organisation
from portal.accounts.services import hash_password
from portal.db import db, utcnow
from portal.notifications.models import Notification

CITIES = ["تهران", "شیراز", "اصفهان", "تبریز", "مشهد", "Rasht", "Karaj"]
JOBS = ["مهندس", "طراح", "حسابدار", "پزشک", "معلم", "Buyer", "Product manager"]
NOTIFICATIONS_PER_MEMBER = 5


@generator("accounts", order=10)
def members_and_notifications(ctx: Context) -> None:
    count = ctx.sizes.members
    organisations = max(1, count // 50)
    db.session.execute(sa.insert(Organisation), [{"name": f"Organisation {n}"} for n in range(organisations)])
    org_ids = list(db.session.scalars(sa.select(Organisation.id).order_by(Organisation.id)))
    password_hash = hash_password(BENCH_PASSWORD)  # argon2 is slow on purpose: hash once, share it
    now = utcnow()
    rows = []
    for n in range(count):
        persian = n % 3 != 0
        rows.append(
            {
                "email": f"bench{n}@bench.example",
                "display_name": f"عضو {n}" if persian else f"Member {n}",
                "password_hash": password_hash,
                "referral_code": f"B{n:07d}",
                "role": "member",
                "language": "fa" if persian else "en",
                "city": ctx.rng.choice(CITIES),
                "job_title": ctx.rng.choice(JOBS),
                "bio": "A member generated for the benchmark.",
                "organisation_id": ctx.rng.choice(org_ids),
                "email_verified_at": now,
                "signup_source": "bench",
            }
        )
    db.session.execute(sa.insert(Member), rows)
    member_ids = list(db.session.scalars(sa.select(Member.id).order_by(Member.id)))
    notifications = [
        {"member_id": member_id, "kind": "account.welcome", "params": {"name": "Bench"}, "url": "/account/profile"}
        for member_id in member_ids
        for _ in range(NOTIFICATIONS_PER_MEMBER)
    ]
    db.session.execute(sa.insert(Notification), notifications)
    ctx.ids["members"] = member_ids
    ctx.ids["organisations"] = org_ids
    ctx.notes["login_email"] = "bench0@bench.example"


@targets
def account_pages(ctx: Context) -> list[Target]:
    member_ids = ctx.ids.get("members") or [1]
    return [
        Target("/healthz"),
        Target("/"),
        Target("/login"),
        Target(f"/members/{member_ids[len(member_ids) // 2]}"),
        Target("/", login=True),
        Target("/notifications/", login=True),
    ]
