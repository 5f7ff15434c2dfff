"""The demo club's moderation: a word filter, trust levels, a held referral sign-up and a moderator note."""

from __future__ import annotations

import click
import sqlalchemy as sa

from portal.accounts import services as account_services
from portal.db import db
from portal.moderation.models import ModeratorNote, TrustRecord, WordRule
from portal.moderation.services import notes, queue, trust, words

WORDS = [("کلاهبردار", "hold", None), ("قمار", "block", None), ("احمق", "replace", "***"), ("idiot", "replace", "***")]
TRUST = {
    "member@bashgah.example": 3,
    "reza@bashgah.example": 2,
    "niloofar@bashgah.example": 1,
    "john@bashgah.example": 1,
}


def seed_moderation() -> None:
    """Idempotent: does nothing when the demo word filter is already there."""
    if db.session.scalar(sa.select(WordRule.id).limit(1)):
        click.echo("moderation: demo data already present")
        return
    admin = account_services.member_by_email("admin@bashgah.example")
    moderator = account_services.member_by_email("moderator@bashgah.example")
    if admin is None or moderator is None:
        click.echo("moderation: no demo staff; skipped")
        return
    for word, action, replacement in WORDS:
        words.add_rule(actor=admin, word=word, action=action, replacement=replacement)
    for email, level in TRUST.items():
        member = account_services.member_by_email(email)
        if member is None:
            continue
        record = trust.record_for(member.id)
        record.level = level
        record.approved_posts = 5 * level
        record.days_visited = 10 * level
    ali = account_services.member_by_email("ali@bashgah.example")
    if ali is not None:
        # Invited with a referral code and joined minutes later: held for an admin to confirm.
        queue.open_item(
            kind="member", object_id=ali.id, reason="signup", author_id=ali.id, note="referral sign-up to confirm"
        )
        notes.add_note(actor=moderator, member=ali, text="Asked about bulk invites; keep an eye on referrals.")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(TrustRecord))
    note_count = db.session.scalar(sa.select(sa.func.count()).select_from(ModeratorNote))
    click.echo(f"moderation: {len(WORDS)} filter words, {count} trust records, {note_count} note(s), 1 held sign-up")
