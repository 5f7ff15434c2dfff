"""INSERT … ON CONFLICT for SQLite and PostgreSQL (both spell it the same; SQLAlchemy has one per dialect)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import db


def upsert(table: sa.Table) -> Any:
    """The dialect's INSERT construct that supports ``on_conflict_do_nothing/do_update``."""
    name = db.session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def add_to(table: sa.Table, keys: list[str], rows: list[dict[str, Any]], column: str = "points") -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET column = column + excluded.column`` for many rows."""
    if not rows:
        return
    stmt = upsert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={column: getattr(table.c, column) + getattr(stmt.excluded, column)}
    )
    db.session.execute(stmt, rows)
