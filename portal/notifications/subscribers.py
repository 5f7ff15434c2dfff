"""Account events that become notifications (in the same transaction as the change)."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import Member
from portal.db import db
from portal.events import Event
from portal.notifications.services import notify


def on_role_changed(event: Event) -> None:
    notify(event.member_id, "account.role_changed", {"role": event.attributes["new"]})


def on_verified(event: Event) -> None:
    name = db.session.scalar(sa.select(Member.display_name).where(Member.id == event.member_id))
    notify(event.member_id, "account.welcome", {"name": name}, url="/account/profile")


def on_email_changed(event: Event) -> None:
    notify(event.member_id, "account.email_changed")


def on_password_changed(event: Event) -> None:
    notify(event.member_id, "account.password_changed")


def on_notification_requested(event: Event) -> None:
    """Packages that may not import notifications (moderation) ask for one with ``notification.requested``."""
    attributes = event.attributes
    if event.member_id is not None and attributes.get("kind"):
        notify(event.member_id, attributes["kind"], attributes.get("params") or {}, url=attributes.get("url"))


SUBSCRIPTIONS = {
    "notification.requested": on_notification_requested,
    "member.role_changed": on_role_changed,
    "member.verified": on_verified,
    "member.email_changed": on_email_changed,
    "member.password_changed": on_password_changed,
}
