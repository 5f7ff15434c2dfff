"""Racing real requests or services against PostgreSQL, where the database must hold the line.

Ordinary tests run inside one rolled-back transaction, which concurrent work cannot see.
These helpers step outside it:

``committing_app(tmp_path, database_url, cleanup=..., **settings)``
    A second app whose sessions commit for real, each request or thread on its own connection;
    the test's own session and the event bus are put back afterwards, and ``cleanup()`` runs
    in the new app's context to delete what the test committed.

``at_once(count, work, app=None)``
    Runs ``work(i)`` in ``count`` threads released together by a barrier and returns, per
    thread, what it returned or the exception it raised. With ``app``, each thread works in its
    own app context and session and commits at the end (rolling back on an exception).

``forget_api_keys(name)``
    Deletes the API keys of that name and the audit rows their creation wrote (the audit log
    refuses ORM deletes, so those go by plain SQL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from portal.api.models import ApiKey
from portal.app import create_app
from portal.events import bus
from portal.extensions import db
from portal.moderation.models import AuditEntry
from tests.conftest import test_settings


@contextmanager
def committing_app(
    tmp_path: Path, database_url: str, *, cleanup: Callable[[], None], **settings: Any
) -> Iterator[Flask]:
    saved_bus = (
        {k: list(v) for k, v in bus._subscribers.items()},
        {k: list(v) for k, v in bus._effects.items()},
        dict(bus.effects_by_name),
        set(bus._own_only),
    )
    bound_session = db.session
    db.session = db._make_scoped_session({})
    app = create_app(test_settings(tmp_path, database_url, **settings))
    try:
        yield app
    finally:
        with app.app_context():
            cleanup()
            db.session.commit()
            db.session.remove()
            db.engines[None].dispose()
        db.session = bound_session
        bus.clear()
        bus._subscribers.update(saved_bus[0])
        bus._effects.update(saved_bus[1])
        bus.effects_by_name.update(saved_bus[2])
        bus._own_only.update(saved_bus[3])


def at_once(count: int, work: Callable[[int], Any], *, app: Flask | None = None, timeout: float = 120) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        if app is None:
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
            except Exception as exc:  # reported by the test, not swallowed
                results[i] = exc
            return
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
                db.session.commit()
            except Exception as exc:  # reported by the test, not swallowed
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def forget_api_keys(name: str) -> None:
    key_ids = sa.select(sa.cast(ApiKey.id, sa.String)).where(ApiKey.name == name)
    audit = AuditEntry.__table__
    db.session.execute(sa.delete(audit).where(audit.c.object_kind == "api_key", audit.c.object_id.in_(key_ids)))
    db.session.execute(sa.delete(ApiKey).where(ApiKey.name == name))
