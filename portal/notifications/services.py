"""The writers of notifications: create one (pushed live after commit), mark as read."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from portal import bulk, events, jobs, realtime
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.notifications.kinds import render_text
from portal.notifications.models import Notification


def unread_count(member_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.member_id == member_id, Notification.read_at.is_(None))
        )
        or 0
    )


def notify(member_id: int, kind: str, params: dict[str, Any] | None = None, url: str | None = None) -> Notification:
    """Stores an in-app notification; the member's open pages get it live once the transaction commits."""
    notification = Notification(member_id=member_id, kind=kind, params=dict(params or {}), url=url)
    db.session.add(notification)
    db.session.flush()
    events.after_commit(push_notification, notification.id)
    return notification


def notify_many(items: list[tuple[int, str, dict[str, Any], str | None]]) -> None:
    """Stores many notifications (member_id, kind, params, url) with one statement, for batch writers
    such as the points engine; each is pushed live after commit like :func:`notify`'s.

    The rows go to the driver as plain tuples (``portal.bulk``): an ORM insert of a batch's
    hundreds of badge notifications spent more on binding parameters than the database on them."""
    if not items:
        return
    created = bulk.time_writer()(utcnow())
    rows = [(m, k, json.dumps(dict(p or {})), u, created) for m, k, p, u in items]
    columns = ["member_id", "kind", "params", "url", "created_at"]
    ids = bulk.insert_returning(Notification.__tablename__, columns, rows, suffix="", returning="id")
    events.after_commit(push_notifications, ids)


@jobs.job
def push_notifications(notification_ids: list[int]) -> None:
    """Pushes several stored notifications (one job and two queries for a whole batch)."""
    table = Notification.__table__
    rows = db.session.execute(
        sa.select(table.c.id, table.c.member_id, table.c.kind, table.c.params, table.c.url, Member.language)
        .join(Member, Member.id == table.c.member_id)
        .where(bulk.one_of(table.c.id, notification_ids))
        .order_by(table.c.id)
    ).all()
    unread = dict(
        db.session.execute(
            sa.select(Notification.member_id, sa.func.count())
            .where(bulk.one_of(Notification.member_id, {row.member_id for row in rows}), Notification.read_at.is_(None))
            .group_by(Notification.member_id)
        ).all()
    )
    # One locale switch per language, not per notification, and each text rendered once per
    # language: a batch's hundreds of notifications are mostly the same few badges.
    default = current_app.config["DEFAULT_LANGUAGE"]
    by_language: dict[str, list[Any]] = {}
    for row in rows:
        by_language.setdefault(row.language or default, []).append(row)
    texts: dict[int, str] = {}
    for language, group in by_language.items():
        rendered: dict[tuple[str, str], str] = {}
        with force_locale(language):
            for row in group:
                key = (row.kind, json.dumps(row.params, sort_keys=True))
                if key not in rendered:
                    rendered[key] = render_text(row.kind, dict(row.params or {}))
                texts[row.id] = rendered[key]
    for row in rows:
        realtime.emit_to_member(
            row.member_id,
            "notification",
            {"id": row.id, "text": texts[row.id], "url": row.url, "unread": unread.get(row.member_id, 0)},
        )


@jobs.job
def push_notification(notification_id: int) -> None:
    """Emits the notification and the new unread count to the member's room, in their language."""
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        return
    language = db.session.scalar(sa.select(Member.language).where(Member.id == notification.member_id))
    with force_locale(language or current_app.config["DEFAULT_LANGUAGE"]):
        text = render_text(notification.kind, notification.params)
    realtime.emit_to_member(
        notification.member_id,
        "notification",
        {"id": notification.id, "text": text, "url": notification.url, "unread": unread_count(notification.member_id)},
    )


def mark_read(member: Member, notification_id: int) -> Notification | None:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.member_id != member.id:
        return None
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(member: Member) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.member_id == member.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
