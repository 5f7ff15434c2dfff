"""Concurrent API calls against real PostgreSQL: racing upserts of one external_id never answer 500."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.accounts.models import Member, Organisation
from portal.api import services
from portal.api.models import ApiKey
from portal.app import create_app
from portal.events import bus
from portal.extensions import db
from portal.moderation.models import AuditEntry
from tests.conftest import test_settings as make_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def live_app(tmp_path, database_url) -> Iterator[Flask]:
    """An app whose requests commit for real, each on its own connection (the test transaction is bypassed)."""
    saved_bus = (
        {k: list(v) for k, v in bus._subscribers.items()},
        {k: list(v) for k, v in bus._effects.items()},
        dict(bus.effects_by_name),
    )
    bound_session = db.session
    db.session = db._make_scoped_session({})
    other = create_app(make_settings(tmp_path, database_url, API_RATE_LIMIT="10000 per minute"))
    try:
        yield other
    finally:
        with other.app_context():
            db.session.execute(sa.delete(Member).where(Member.external_id.like("race-%")))
            db.session.execute(sa.delete(Organisation).where(Organisation.name.like("Race %")))
            racer_keys = sa.select(ApiKey.id).where(ApiKey.name == "Racer")
            # The audit log refuses ORM deletes; this test's own committed entries go by plain SQL.
            db.session.execute(
                sa.delete(AuditEntry.__table__).where(
                    AuditEntry.__table__.c.object_kind == "api_key",
                    AuditEntry.__table__.c.object_id.in_(sa.select(sa.cast(racer_keys.subquery().c.id, sa.String))),
                )
            )
            db.session.execute(sa.delete(ApiKey).where(ApiKey.name == "Racer"))
            db.session.commit()
            db.session.remove()
            db.engines[None].dispose()
        db.session = bound_session
        bus.clear()
        bus._subscribers.update(saved_bus[0])
        bus._effects.update(saved_bus[1])
        bus.effects_by_name.update(saved_bus[2])


def test_racing_upserts_of_one_external_id_make_one_member_and_no_500(live_app):
    with live_app.app_context():
        key = services.create_api_key(actor=None, name="Racer", scopes=["members:write"]).plaintext
        db.session.commit()
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def call(i: int) -> None:
        client = live_app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/members",
            json={"external_id": "race-1", "email": "race1@example.com", "organisation": "Race Org"},
            headers={"Authorization": f"Bearer {key}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 10
    assert 500 not in statuses
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Member.external_id == "race-1")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(Organisation.name == "Race Org")) == 1
        db.session.remove()
