"""``portal api-key create|list|revoke`` and ``portal webhooks retry``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.api import services
from portal.api.models import ApiKey
from portal.extensions import db
from tests.api.conftest import bearer
from tests.factories import MemberFactory
from tests.portal.web import recorded_events


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=["portal", *args])
        db.session.expire_all()
        return result

    return invoke


@pytest.mark.parametrize(
    "scope_args",
    [
        ["--scopes", "events:write,members:read"],
        ["--scopes", "events:write members:read"],
        ["--scopes", "events:write", "--scopes", "members:read"],
    ],
)
def test_create_prints_a_key_that_works_once_with_its_scopes(cli, web, scope_args):
    with recorded_events("audit.logged") as events:
        result = cli("api-key", "create", "Shop", *scope_args)
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    key = db.session.scalars(sa.select(ApiKey)).one()
    assert key.scopes == ["events:write", "members:read"]
    assert key.name == "Shop"
    assert events[0].attributes["action"] == "api.key_created"
    member = MemberFactory()
    db.session.commit()
    assert web.get(f"/api/v1/members/{member.id}", headers=bearer(plaintext)).status_code == 200


def test_create_refuses_unknown_or_missing_scopes(cli):
    assert cli("api-key", "create", "Shop", "--scopes", "root").exit_code == 1
    assert cli("api-key", "create", "Shop").exit_code == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_list_shows_prefixes_never_keys_and_revoke_by_prefix_stops_the_key(cli, web):
    created = services.create_api_key(actor=None, name="POS", scopes=["members:read"])
    db.session.commit()
    listing = cli("api-key", "list").output
    assert created.key.prefix in listing
    assert created.plaintext not in listing
    result = cli("api-key", "revoke", created.key.prefix)
    assert result.exit_code == 0, result.output
    assert db.session.get(ApiKey, created.key.id).revoked_at is not None
    assert web.get("/api/v1/members/1", headers=bearer(created.plaintext)).status_code == 401
    assert "revoked" in cli("api-key", "list").output


def test_revoke_of_an_unknown_key_fails_cleanly(cli):
    result = cli("api-key", "revoke", "bgk_nothing")
    assert result.exit_code == 1
    assert "no single key" in result.output


def test_webhooks_retry_reports_what_it_tried(cli):
    result = cli("webhooks", "retry")
    assert result.exit_code == 0
    assert "0 deliveries tried" in result.output
