"""Bulk SQL for SQLite and PostgreSQL: upserts that add, and IN over many values as one parameter."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import db


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def upsert(table: sa.Table) -> Any:
    """The dialect's INSERT construct that supports ``on_conflict_do_nothing/do_update``."""
    return (postgresql.insert if _dialect() == "postgresql" else sqlite.insert)(table)


def add_to(table: sa.Table, keys: list[str], rows: list[dict[str, Any]], column: str = "points") -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET column = column + excluded.column`` for many rows."""
    if not rows:
        return
    stmt = upsert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={column: getattr(table.c, column) + getattr(stmt.excluded, column)}
    )
    db.session.execute(stmt, rows)


def one_of(column: Any, values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """``column IN (values)`` sent as a single parameter (an array on PostgreSQL, JSON on SQLite):
    a batch asks about a thousand ids at once, and one bound value per id costs more than the query."""
    values = list(values)
    if _dialect() == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    listed = sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam(None, json.dumps(values))))
    return column.in_(listed.scalar_subquery())


def read(stmt: sa.Executable) -> sa.CursorResult[Any]:
    """Runs a select of columns as Core on the session's connection: the rows are plain, without
    the ORM's per-row processing, which cost more than the query for a batch's thousand rows.
    Pending ORM changes are flushed first, as ``session.execute`` would."""
    if db.session.autoflush:
        db.session.flush()
    return db.session.connection().execute(stmt)


def tuples(stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """Like :func:`read`, for a select of integer and text columns only: the driver's own tuples.

    SQLAlchemy's rows cost some 2 µs each to make and unpack, and a batch reads about ten thousand
    (its members' badges, balances and counts). Values of these types need no conversion; any other
    column (a date, a boolean on SQLite, an enum) would come back unconverted, so it is refused."""
    for column in stmt.selected_columns:
        if not isinstance(column.type, (sa.Integer, sa.String)) or isinstance(column.type, sa.Enum):
            raise TypeError(f"bulk.tuples reads integer and text columns only, not {column.type!r}")
    return _fetched(read(stmt))


def _fetched(result: sa.CursorResult[Any]) -> list[tuple[Any, ...]]:
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def rows_at(table: str, keys: list[str], wanted: Iterable[tuple[Any, ...]], columns: list[str]) -> list[Any]:
    """``columns`` of the rows whose ``keys`` equal one of the ``wanted`` tuples: an equality join
    with ``unnest`` of one array per key on PostgreSQL, with ``json_each(...)`` on SQLite.

    The join is on every key column, so PostgreSQL answers it with a hash join or primary-key
    probes. ``(a, b) IN (SELECT unnest(...), unnest(...))`` plus a filter on the other key columns
    let it pick a nested loop that compared every row with every wanted tuple when the table's
    statistics were stale (a freshly filled table, a new day's counters): 0.7 s for 1,000 tuples
    against 10,000 rows."""
    return _join_wanted(table, keys, wanted, ", ".join(f"t.{name}" for name in columns))


def counts_at(
    table: str, keys: list[str], wanted: Iterable[tuple[Any, ...]], counted: str = "*"
) -> dict[tuple[Any, ...], int]:
    """How many rows (``count(counted)``, ``counted`` naming the table ``t``) match each of the
    ``wanted`` key tuples; a tuple no row matches is left out.

    An index on the keys is probed once per wanted tuple, whatever the table's statistics say:
    on PostgreSQL the count is a ``LATERAL`` subquery per tuple (a join let it sort the whole
    table for a merge join when the table had never been analysed: 75 ms for 1,000 pairs against
    150,000 events, where the probes take 9), on SQLite the wanted tuples drive the join.
    ``a = ANY(…) AND b IN (…)`` probed the index once per combination of the two lists."""
    wanted = list(wanted)
    if not wanted:
        return {}
    if _dialect() == "postgresql":
        select, params = _unnest(table, keys, wanted)
        names = ", ".join(keys)
        matched = " AND ".join(f"t.{name} = v.{name}" for name in keys)
        sql = (
            f"SELECT {', '.join(f'v.{name}' for name in keys)}, c.n FROM ({select}) AS v ({names}) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT count({counted}) AS n FROM {table} AS t WHERE {matched}) AS c "
            "WHERE c.n > 0"
        )
        found = _fetched(db.session.connection().exec_driver_sql(sql, params))
    else:
        picked = f"{', '.join(f'v.{name}' for name in keys)}, count({counted})"
        found = _join_wanted(table, keys, wanted, picked, grouped=True)
    return {tuple(row[:-1]): row[-1] for row in found}


def _join_wanted(
    table: str, keys: list[str], wanted: Iterable[tuple[Any, ...]], picked: str, *, grouped: bool = False
) -> list[Any]:
    """``picked`` from ``table`` (``t``) joined with the ``wanted`` key tuples (``v``); ``grouped``
    (SQLite only): grouped by the wanted tuple."""
    wanted = list(wanted)
    if not wanted:
        return []
    # Table and column names are this package's constants, never input; values are parameters.
    if _dialect() == "postgresql":
        select, params = _unnest(table, keys, wanted)
        joined = " AND ".join(f"t.{name} = v.{name}" for name in keys)
        sql = f"SELECT {picked} FROM {table} AS t JOIN ({select}) AS v ({', '.join(keys)}) ON {joined}"  # noqa: S608
        return _fetched(db.session.connection().exec_driver_sql(sql, params))
    # The wanted list drives the join: one primary-key probe per tuple (``(keys) IN (SELECT …)``
    # probed only the key's first columns and filtered the rest).
    named = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(keys))
    joined = " AND ".join(f"t.{name} = v.{name}" for name in keys)
    group = f" GROUP BY {', '.join(f'v.{name}' for name in keys)}" if grouped else ""
    sql = (
        f"SELECT {picked} FROM (SELECT {named} FROM json_each(?)) AS v "  # noqa: S608
        f"CROSS JOIN {table} AS t ON {joined}{group}"
    )
    return _fetched(db.session.connection().exec_driver_sql(sql, (json.dumps(list(set(wanted))),)))


# --- driver-level writes -------------------------------------------------------------------------
# A batch writes thousands of rows; SQLAlchemy's per-row parameter processing would cost more than
# the database's own work, so the hot writes hand plain tuples to the driver's executemany.


def time_writer() -> Any:
    """A function that turns an aware datetime into what the driver stores (UTC text on SQLite, as
    SQLAlchemy writes it, so comparisons in SQL keep working)."""
    if _dialect() == "postgresql":
        return lambda value: value.astimezone(UTC) if value is not None else None
    return lambda value: value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if value is not None else None


def _placeholders(count: int) -> str:
    mark = "%s" if _dialect() == "postgresql" else "?"
    return "(" + ", ".join([mark] * count) + ")"


def _array_types(table: str, columns: list[str]) -> list[str]:
    """The PostgreSQL array type of each column (``integer[]``, ``varchar(60)[]``…), from the models."""
    key = (table, tuple(columns))
    if key not in _ARRAY_TYPES:
        dialect = postgresql.dialect()
        found = db.metadata.tables[table].c
        _ARRAY_TYPES[key] = [f"{found[name].type.compile(dialect=dialect)}[]" for name in columns]
    return _ARRAY_TYPES[key]


_ARRAY_TYPES: dict[tuple[str, tuple[str, ...]], list[str]] = {}


def _unnest(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> tuple[str, tuple[Any, ...]]:
    """``SELECT * FROM unnest(%s::t1[], %s::t2[], …)`` and its parameters: one array per column.

    PostgreSQL then plans and runs one statement for the whole batch, where an executemany runs
    one per row (a round trip and an executor start each)."""
    kinds = _array_types(table, columns)
    casts = ", ".join(f"%s::{kind}" for kind in kinds)
    arrays = tuple(_array_literal(values, kind) for values, kind in zip(zip(*rows, strict=True), kinds, strict=True))
    return f"SELECT * FROM unnest({casts})", arrays  # noqa: S608 - types from the models


_NULL = "\x00"  # stands for a missing value while the elements are joined: no text PostgreSQL keeps has one
_SEP = "\x00\x01"  # and this between elements, so that the whole array is escaped in one pass


def _joined(texts: list[str]) -> str:
    """``{"a","b \\"c\\"",NULL}`` from texts (``_NULL`` for a missing value): the elements are
    joined first and escaped together (backslashes and double quotes), then the separators and
    missing values are written out; neither marker holds a character the escaping touches."""
    joined = _SEP.join(texts)
    if "\\" in joined or '"' in joined:
        joined = joined.replace("\\", "\\\\").replace('"', '\\"')
    return ('{"' + joined.replace(_SEP, '","') + '"}').replace('"' + _NULL + '"', "NULL")


def _array_literal(values: tuple[Any, ...], kind: str) -> str:
    """A PostgreSQL array in its text form (``{1,NULL,3}``, ``{"a","b \\"c\\""}``), which the
    statement casts to the column's array type.

    psycopg adapts a list element by element in Python: 14 ms of CPU for the 22,000 values of a
    batch's ledger rows, where joining the text takes a few. Numbers and booleans are written
    bare; every other value is quoted, with backslashes and double quotes escaped, so no text
    can end an element or the array."""
    if kind.startswith(("INTEGER", "BIGINT", "SMALLINT")):
        if None not in values:
            return "{" + ",".join(map(str, map(int, values))) + "}"
        return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
    if kind.startswith("BOOLEAN"):
        return "{" + ",".join("NULL" if v is None else ("t" if v else "f") for v in values) + "}"
    if kind.startswith(("TIMESTAMP", "DATE")):
        # A batch's rows mostly share a few instants (its "now", the end of its window): each is
        # written out once.
        written: dict[Any, str] = {None: _NULL}
        texts = []
        for v in values:
            text = written.get(v)
            if text is None:
                text = written[v] = v if isinstance(v, str) else v.isoformat()
            texts.append(text)
        return _joined(texts)
    return _joined([_NULL if v is None else v if isinstance(v, str) else str(v) for v in values])


def insert_rows(table: str, columns: list[str], rows: list[tuple[Any, ...]], *, suffix: str = "") -> None:
    """``INSERT INTO table (columns) VALUES (...) suffix`` for many rows: one executemany on SQLite,
    one ``INSERT … SELECT FROM unnest(arrays)`` on PostgreSQL."""
    if not rows:
        return
    # Table and column names are this package's constants, never input; values are parameters.
    head = f"INSERT INTO {table} ({', '.join(columns)})"
    if _dialect() == "postgresql":
        select, params = _unnest(table, columns, rows)
        db.session.connection().exec_driver_sql(f"{head} {select} {suffix}", params)
    else:
        db.session.connection().exec_driver_sql(f"{head} VALUES {_placeholders(len(columns))} {suffix}", rows)


def insert_returning(
    table: str, columns: list[str], rows: list[tuple[Any, ...]], *, suffix: str, returning: str
) -> list[Any]:
    """A multi-row INSERT with RETURNING (executemany cannot return rows), 1,000 rows a statement:
    the returned values, or tuples of them when ``returning`` names several columns."""
    found: list[Any] = []
    head = f"INSERT INTO {table} ({', '.join(columns)})"
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        if _dialect() == "postgresql":
            select, flat = _unnest(table, columns, chunk)
            sql = f"{head} {select} {suffix} RETURNING {returning}"
        else:
            values = ", ".join([_placeholders(len(columns))] * len(chunk))
            sql = f"{head} VALUES {values} {suffix} RETURNING {returning}"
            flat = tuple(value for row in chunk for value in row)
        found.extend(
            row[0] if len(row) == 1 else tuple(row) for row in db.session.connection().exec_driver_sql(sql, flat)
        )
    return found


def add_rows(table: str, keys: list[str], column: str, rows: list[tuple[Any, ...]]) -> None:
    """Upserts ``keys + (column,)`` tuples, adding to ``column`` when the row exists (the rows' keys
    must be distinct: PostgreSQL refuses to update one row twice in a statement)."""
    insert_rows(
        table,
        [*keys, column],
        rows,
        suffix=f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {column} = {table}.{column} + excluded.{column}",
    )


def update_from_rows(
    table: str, key: str, columns: list[str], rows: list[tuple[Any, ...]], *, added: set[str] = frozenset()
) -> None:
    """Sets (or, for the ``added`` columns, adds to) ``columns`` of the rows whose ``key`` is the
    first value of each tuple: one ``UPDATE … FROM unnest(...)`` on PostgreSQL, an executemany on SQLite."""
    if not rows:
        return
    if _dialect() == "postgresql":
        select, params = _unnest(table, [key, *columns], rows)
        sets = ", ".join(f"{c} = {table}.{c} + v.{c}" if c in added else f"{c} = v.{c}" for c in columns)
        names = ", ".join([key, *columns])
        sql = f"UPDATE {table} SET {sets} FROM ({select}) AS v ({names}) WHERE {table}.{key} = v.{key}"  # noqa: S608
        db.session.connection().exec_driver_sql(sql, params)
        return
    sets = ", ".join(f"{c} = {c} + ?" if c in added else f"{c} = ?" for c in columns)
    sql = f"UPDATE {table} SET {sets} WHERE {key} = ?"  # noqa: S608
    db.session.connection().exec_driver_sql(sql, [(*row[1:], row[0]) for row in rows])
