"""The demo club's people: one account per role, Persian and English members, organisations."""

from __future__ import annotations

import click

from portal.accounts import services
from portal.accounts.models import Member
from portal.db import db

DEMO_PASSWORD = "bashgah-demo"

STAFF = [
    ("admin@bashgah.example", "مدیر باشگاه", "admin", "fa"),
    ("moderator@bashgah.example", "ناظر تالار", "moderator", "fa"),
    ("agent@bashgah.example", "Sara Support", "agent", "en"),
    ("agent2@bashgah.example", "رضا پشتیبان", "agent", "fa"),
    ("member@bashgah.example", "مریم احمدی", "member", "fa"),
]

ORGANISATIONS = [
    ("شرکت فناوری پارس", "10101234567", "تهران"),
    ("Caspian Trading Co.", "10107654321", "Rasht"),
    ("کارگاه صنایع دستی اصفهان", "10105550000", "اصفهان"),
]

MEMBERS = [
    ("reza@bashgah.example", "رضا کریمی", "تهران", "مهندس نرم‌افزار", 0, "fa"),
    ("niloofar@bashgah.example", "نیلوفر رحیمی", "شیراز", "طراح گرافیک", None, "fa"),
    ("ali@bashgah.example", "علی حسینی", "مشهد", "حسابدار", 0, "fa"),
    ("zahra@bashgah.example", "زهرا موسوی", "اصفهان", "مدیر فروش", 2, "fa"),
    ("hamed@bashgah.example", "حامد نوری", "تبریز", "پزشک", None, "fa"),
    ("fatemeh@bashgah.example", "فاطمه صادقی", "کرج", "معلم", None, "fa"),
    ("john@bashgah.example", "John Miller", "Rasht", "Buyer", 1, "en"),
    ("emma@bashgah.example", "Emma Clarke", "Tehran", "Product manager", 1, "en"),
    ("omid@bashgah.example", "Omid Tehrani", "Karaj", "Photographer", None, "en"),
    ("sima@bashgah.example", "سیما جعفری", "قم", "دانشجو", None, "fa"),
]


def seed_accounts() -> None:
    """Creates the demo people; safe to run on a database that already has them."""
    if db.session.scalar(db.select(Member.id).where(Member.email == STAFF[0][0])):
        click.echo("accounts: demo accounts already present")
        return
    organisations = [
        services.create_organisation(actor=None, name=name, national_id=nid, city=city)
        for name, nid, city in ORGANISATIONS
    ]
    for email, name, role, language in STAFF:
        member = services.create_member_cli(email=email, password=DEMO_PASSWORD, display_name=name, role=role)
        member.language = language
    referrer = services.member_by_email("member@bashgah.example")
    for index, (email, name, city, job, org_index, language) in enumerate(MEMBERS):
        member = services.register_member(
            email=email,
            password=DEMO_PASSWORD,
            display_name=name,
            language=language,
            referral_code=referrer.referral_code if index < 3 else None,
            source="demo",
            verified=True,
        )
        member.city = city
        member.job_title = job
        member.bio = f"{name}، عضو باشگاه از {city}." if language == "fa" else f"{name}, a club member from {city}."
        if org_index is not None:
            member.organisation_id = organisations[org_index].id
    click.echo(f"accounts: {len(STAFF) + len(MEMBERS)} people, {len(ORGANISATIONS)} organisations")
