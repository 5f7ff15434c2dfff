"""The database kernel: SQLite settings, UTC timestamps and keyset pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.db import InvalidCursor, UTCDateTime, decode_cursor, encode_cursor, paginate_keyset
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import MemberFactory, NotificationFactory

T0 = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_foreign_keys_and_a_64_mb_page_cache(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings; this run is on PostgreSQL")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -65536  # in KiB


def test_timestamps_are_stored_in_utc_and_read_back_timezone_aware():
    member = MemberFactory()
    tehran = T0.astimezone(ZoneInfo("Asia/Tehran"))  # 15:30+03:30, the same instant
    notification = NotificationFactory(member_id=member.id, created_at=tehran)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Notification, notification.id).created_at
    assert stored == T0
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="naive datetimes"):
        UTCDateTime().process_bind_param(datetime(2024, 1, 1), db.engine.dialect)


def _page_ids(page) -> list[int]:
    return [n.id for n in page.items]


def test_keyset_pages_walk_every_row_once_in_order_even_with_equal_sort_values():
    member = MemberFactory()
    # Three rows share each timestamp: the id breaks the tie, so no row is skipped or repeated.
    for minute in range(4):
        for _ in range(3):
            NotificationFactory(member_id=member.id, created_at=T0 + timedelta(minutes=minute))
    stmt = sa.select(Notification).where(Notification.member_id == member.id)
    key = [Notification.created_at, Notification.id]
    expected = list(db.session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc())).all())
    seen, cursor, pages = [], None, 0
    while True:
        page = paginate_keyset(stmt, key=key, cursor=cursor, limit=5)
        seen.extend(page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [n.id for n in seen] == [n.id for n in expected]
    assert pages == 3  # 5 + 5 + 2


def test_keyset_pages_ascending():
    member = MemberFactory()
    rows = [NotificationFactory(member_id=member.id, created_at=T0 + timedelta(minutes=m)) for m in range(3)]
    stmt = sa.select(Notification).where(Notification.member_id == member.id)
    key = [Notification.created_at, Notification.id]
    first = paginate_keyset(stmt, key=key, cursor=None, limit=2, descending=False)
    second = paginate_keyset(stmt, key=key, cursor=first.next_cursor, limit=2, descending=False)
    assert _page_ids(first) == [rows[0].id, rows[1].id]
    assert _page_ids(second) == [rows[2].id]
    assert second.next_cursor is None


def test_a_cursor_round_trips_timestamps_and_ids():
    cursor = encode_cursor([T0, 42])
    assert "=" not in cursor  # safe in a URL as it is
    assert decode_cursor(cursor, 2) == [T0, 42]


@pytest.mark.parametrize("broken", ["", "not base64 at all!", encode_cursor([1]), encode_cursor([{"dt": "x"}, 1])])
def test_a_broken_cursor_is_refused_with_invalid_cursor(broken):
    with pytest.raises(InvalidCursor):
        decode_cursor(broken, 2)
