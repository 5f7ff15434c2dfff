"""Test helpers: counting SQL queries, reading links out of mail, running this Python in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event

from portal.config import ROOT
from portal.extensions import db


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"{self.count} queries:\n" + "\n".join(self.statements)


@contextmanager
def count_queries(engine: sa.Engine | None = None) -> Iterator[QueryCounter]:
    """Counts the SQL statements sent while the block runs (savepoint bookkeeping excluded)."""
    counter = QueryCounter()
    target = engine or db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        text = statement.strip().upper()
        if not text.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO", "BEGIN", "PRAGMA")):
            counter.statements.append(statement)

    event.listen(target, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(target, "before_cursor_execute", before)


def link_in(text: str) -> str:
    """The first http(s) link in a mail body."""
    match = re.search(r"https?://\S+", text)
    assert match, f"no link in: {text!r}"
    return match.group(0)


def run_python(*args: str, env: dict[str, str], check: bool = False) -> subprocess.CompletedProcess[str]:
    """This interpreter with ``args`` (``-m module …``, ``-c script``) in the project's root, in
    ``env``, its output captured as text (two minutes at most)."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=check
    )
