"""Database kernel: declarative base with a naming convention, mixins, keyset pagination."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column  # noqa: F401

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model; one metadata with a stable naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


# Objects a migration creates on purpose outside the models (e.g. PostgreSQL's generated
# tsvector column and its GIN index for search), as "table.column" or an index name.
DATABASE_ONLY_OBJECTS = {"search_documents.tsv", "ix_search_documents_tsv"}


def include_in_autogenerate(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's ``include_object``: leaves the database-only objects out of model comparisons."""
    if type_ == "column":
        return f"{obj.table.name}.{name}" not in DATABASE_ONLY_OBJECTS
    return name not in DATABASE_ONLY_OBJECTS


def int_id(value: Any) -> int | None:
    """An integer primary key from an event source's id, or None when it cannot be one
    (PostgreSQL refuses to compare an integer column with text such as ``"load-1"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isdigit() else None


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (what every timestamp column stores)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use portal.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimestampMixin:
    """``created_at`` and ``updated_at`` columns kept by the database session."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL, a busy timeout, foreign keys and a larger page cache for SQLite; driver-level
    transactions off so SAVEPOINT works."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Up to 64 MB of pages per connection (the default is 2 MB): a batch of points touches the
    # ledger's, totals' and events' indexes all over, and re-reading them from the file cost a
    # fifth of a batch's time once a club has some history.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: sa.Connection) -> None:
    # pysqlite's own transaction handling is off (above); SQLAlchemy's docs recipe emits BEGIN itself.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_LOCK_OPTION) else "BEGIN")


WRITE_LOCK_OPTION = "portal_sqlite_write_lock"


def begin_writing(session: Any) -> None:
    """Ends the session's transaction and, on SQLite, starts the next one holding the write lock.

    A SQLite transaction that reads before it writes cannot write once another connection has
    committed since its first read (WAL mode answers SQLITE_BUSY at once; the busy timeout does
    not apply): two concurrent batches of points would collide and be refused. A writer that
    takes the lock first waits its turn instead. PostgreSQL's transactions are left as they are."""
    session.commit()
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={WRITE_LOCK_OPTION: True})


# --- keyset pagination -------------------------------------------------------------

T = TypeVar("T")


@dataclass
class KeysetPage(Generic[T]):
    """One page of a keyset-paginated listing; ``next_cursor`` is opaque and None at the end."""

    items: list[T]
    next_cursor: str | None


class InvalidCursor(ValueError):
    """The cursor given by the client cannot be decoded."""


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.astimezone(UTC).isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return datetime.fromisoformat(value["dt"])
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    """Turns the sort key of the last row into an opaque URL-safe string."""
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """Inverse of :func:`encode_cursor`; raises :class:`InvalidCursor` on anything malformed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(values, list) or len(values) != size:
        raise InvalidCursor(cursor)
    try:
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(cursor) from exc


def paginate_keyset(
    stmt: sa.Select,
    *,
    key: Sequence[sa.ColumnElement[Any]],
    cursor: str | None,
    limit: int,
    descending: bool = True,
    row_key: Any = None,
) -> KeysetPage[Any]:
    """Runs ``stmt`` ordered by ``key`` and returns one page after ``cursor``.

    ``key`` must be unique together (end it with the primary key). ``row_key`` maps a
    result row to the tuple of its key values; by default the key columns' names are
    read as attributes of the row's first entity.
    """
    if cursor:
        values = decode_cursor(cursor, len(key))
        after = sa.tuple_(*key) < sa.tuple_(*values) if descending else sa.tuple_(*key) > sa.tuple_(*values)
        stmt = stmt.where(after)
    order = [col.desc() for col in key] if descending else [col.asc() for col in key]
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        values = row_key(last) if row_key else [getattr(last, col.key) for col in key]
        next_cursor = encode_cursor(values)
    return KeysetPage(rows, next_cursor)
