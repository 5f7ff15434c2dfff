"""Concurrent API calls against real PostgreSQL: racing upserts of one external_id never answer 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.accounts.models import Member, Organisation
from portal.api import services
from portal.extensions import db
from tests.concurrency import at_once, committing_app, forget_api_keys

pytestmark = pytest.mark.postgres


@pytest.fixture
def live_app(tmp_path, database_url) -> Iterator[Flask]:
    def cleanup() -> None:
        db.session.execute(sa.delete(Member).where(Member.external_id.like("race-%")))
        db.session.execute(sa.delete(Organisation).where(Organisation.name.like("Race %")))
        forget_api_keys("Racer")

    with committing_app(tmp_path, database_url, cleanup=cleanup, API_RATE_LIMIT="10000 per minute") as app:
        yield app


def test_racing_upserts_of_one_external_id_make_one_member_and_no_500(live_app):
    with live_app.app_context():
        key = services.create_api_key(actor=None, name="Racer", scopes=["members:write"]).plaintext
        db.session.commit()

    def call(i: int) -> int:
        response = live_app.test_client().post(
            "/api/v1/members",
            json={"external_id": "race-1", "email": "race1@example.com", "organisation": "Race Org"},
            headers={"Authorization": f"Bearer {key}"},
        )
        return response.status_code

    statuses = at_once(10, call)
    assert len(statuses) == 10
    assert 500 not in statuses
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Member.external_id == "race-1")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(Organisation.name == "Race Org")) == 1
        db.session.remove()
