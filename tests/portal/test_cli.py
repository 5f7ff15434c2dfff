"""The ``portal`` command group: creating users, changing roles and loading the demo club."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts import demo, services
from portal.accounts.models import Member, Organisation
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import AdminFactory, MemberFactory


@pytest.fixture(autouse=True)
def english_messages(app):
    """These tests read the English source messages; the club's default language is Persian."""
    with force_locale("en"):
        yield


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=["portal", *args])
        db.session.expire_all()
        return result

    return invoke


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_user_create_makes_a_verified_admin_who_can_log_in(cli):
    result = cli("user", "create", "Boss@Example.com", "--role", "admin", "--password", "long-enough-pw")
    assert result.exit_code == 0, result.output
    member = services.member_by_email("boss@example.com")
    assert member is not None
    assert (member.role, member.is_verified, member.signup_source) == ("admin", True, "cli")
    assert member.display_name == "Boss"
    assert f"created boss@example.com (id {member.id}, role admin)" in result.output
    assert "password:" not in result.output
    assert services.authenticate("boss@example.com", "long-enough-pw") is member


def test_user_create_without_a_password_prints_a_generated_one(cli):
    result = cli("user", "create", "agent@example.com", "--role", "agent", "--name", "Sara Support")
    assert result.exit_code == 0, result.output
    password = result.output.split("password: ", 1)[1].strip()
    member = services.authenticate("agent@example.com", password)
    assert (member.display_name, member.role) == ("Sara Support", "agent")


def test_user_create_with_a_taken_email_fails_cleanly(cli):
    MemberFactory(email="taken@example.com")
    db.session.commit()
    result = cli("user", "create", "TAKEN@example.com", "--password", "long-enough-pw")
    assert result.exit_code == 1
    assert "Error: An account with this email already exists." in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _count(Member) == 1


def test_user_create_with_a_short_password_fails_cleanly(cli):
    result = cli("user", "create", "new@example.com", "--password", "short")
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output
    assert services.member_by_email("new@example.com") is None


def test_user_create_refuses_an_unknown_role(cli):
    result = cli("user", "create", "new@example.com", "--role", "overlord", "--password", "long-enough-pw")
    assert result.exit_code == 2
    assert services.member_by_email("new@example.com") is None


def test_user_set_role_changes_the_role_and_notifies(cli):
    member = MemberFactory(email="mod@example.com")
    db.session.commit()
    result = cli("user", "set-role", "MOD@example.com", "moderator")
    assert result.exit_code == 0, result.output
    assert "mod@example.com is now moderator" in result.output
    assert db.session.get(Member, member.id).role == "moderator"
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member.id)).all()
    assert kinds == ["account.role_changed"]


def test_user_set_role_for_an_unknown_email_fails_cleanly(cli):
    result = cli("user", "set-role", "nobody@example.com", "admin")
    assert result.exit_code == 1
    assert "no account with email nobody@example.com" in result.output


def test_user_set_role_will_not_demote_the_last_admin(cli):
    admin = AdminFactory(email="only@example.com")
    db.session.commit()
    result = cli("user", "set-role", "only@example.com", "member")
    assert result.exit_code == 1
    assert "The club needs at least one admin." in result.output
    assert db.session.get(Member, admin.id).role == "admin"


def test_seed_demo_if_empty_creates_the_demo_club_with_one_account_per_role(cli):
    result = cli("seed-demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "demo: done" in result.output
    assert _count(Member) == len(demo.STAFF) + len(demo.MEMBERS)
    assert _count(Organisation) == len(demo.ORGANISATIONS)
    roles = dict(db.session.execute(sa.select(Member.email, Member.role)).all())
    for email, _name, role, _language in demo.STAFF:
        assert roles[email] == role
    assert set(roles.values()) == {"member", "moderator", "agent", "admin"}
    staff = services.authenticate("admin@bashgah.example", demo.DEMO_PASSWORD)
    assert staff.is_verified
    referrer = services.member_by_email("member@bashgah.example")
    referred = db.session.scalars(sa.select(Member.email).where(Member.referred_by_id == referrer.id)).all()
    assert sorted(referred) == ["ali@bashgah.example", "niloofar@bashgah.example", "reza@bashgah.example"]
    assert services.member_by_email("john@bashgah.example").language == "en"


def test_seed_demo_twice_does_not_duplicate_anyone(cli):
    assert cli("seed-demo", "--if-empty").exit_code == 0
    members, organisations = _count(Member), _count(Organisation)
    again = cli("seed-demo", "--if-empty")
    assert again.exit_code == 0
    assert "already has members" in again.output
    forced = cli("seed-demo")
    assert forced.exit_code == 0, forced.output
    assert "already present" in forced.output
    assert (_count(Member), _count(Organisation)) == (members, organisations)


def test_seed_demo_if_empty_leaves_a_database_with_members_alone(cli):
    MemberFactory()
    db.session.commit()
    result = cli("seed-demo", "--if-empty")
    assert result.exit_code == 0
    assert "nothing loaded" in result.output
    assert _count(Member) == 1
