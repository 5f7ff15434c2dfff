"""The email digest: forum notifications a member has not read yet, gathered into one mail per period."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from forums.models import DigestFrequency, DigestPreference
from forums.notices import KINDS
from portal import jobs
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.mail import send_mail
from portal.notifications.kinds import render_text
from portal.notifications.models import Notification

PERIODS = {DigestFrequency.DAILY.value: timedelta(days=1), DigestFrequency.WEEKLY.value: timedelta(days=7)}
MAX_ITEMS = 50


def send_digests(now: datetime | None = None) -> int:
    """Mails every member whose digest is due and who has something new; returns how many were sent."""
    now = now or utcnow()
    base = current_app.config["BASE_URL"].rstrip("/")
    sent = 0
    due = db.session.execute(
        sa.select(DigestPreference, Member)
        .join(Member, Member.id == DigestPreference.member_id)
        .where(DigestPreference.frequency.in_(list(PERIODS)), Member.is_disabled.is_(False))
    ).all()
    for preference, member in due:
        since = preference.last_sent_at
        if since is not None and now - since < PERIODS[preference.frequency]:
            continue
        stmt = (
            sa.select(Notification)
            .where(
                Notification.member_id == member.id,
                Notification.kind.in_(KINDS),
                Notification.read_at.is_(None),
            )
            .order_by(Notification.id)
            .limit(MAX_ITEMS)
        )
        if since is not None:
            stmt = stmt.where(Notification.created_at > since)
        notifications = list(db.session.scalars(stmt))
        preference.last_sent_at = now
        if not notifications:
            continue
        with force_locale(member.language or current_app.config["DEFAULT_LANGUAGE"]):
            items = [
                {"text": render_text(n.kind, n.params), "link": f"{base}{n.url}" if n.url else base}
                for n in notifications
            ]
            text = render_template(
                "forums/email/digest.txt", member=member, items=items, settings_link=f"{base}/forums/preferences"
            )
            subject = _("%(site)s: your forum digest", site=current_app.config["SITE_NAME"])
        send_mail(member.email, subject, text)
        sent += 1
    return sent


@jobs.job
def digest_job() -> int:
    """Run this periodically (hourly is enough): it sends only the digests that are due."""
    sent = send_digests()
    db.session.commit()
    return sent
