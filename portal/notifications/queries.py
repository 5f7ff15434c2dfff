"""Read-only selects for notifications."""

from __future__ import annotations

import sqlalchemy as sa

from portal.db import KeysetPage, db, paginate_keyset
from portal.notifications.models import Notification


def latest(member_id: int, limit: int = 8) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.member_id == member_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def page(member_id: int, cursor: str | None, limit: int = 30) -> KeysetPage[Notification]:
    stmt = sa.select(Notification).where(Notification.member_id == member_id)
    return paginate_keyset(stmt, key=[Notification.id], cursor=cursor, limit=limit)
