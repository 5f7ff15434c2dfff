"""POST /api/v1/members (create or update by external_id), GET /api/v1/members/{ref} and GET /api/v1/me."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gamification.engine import services as engine_services
from portal.accounts.models import Member, Organisation
from portal.api import toolkit
from portal.extensions import db
from tests.api.conftest import bearer
from tests.factories import AdminFactory, MemberFactory, OrganisationFactory
from tests.helpers import count_queries
from tests.portal.web import fresh, recorded_events, sign_in

STANDING = {"points", "qualifying_points", "tier", "next_tier", "points_to_next_tier", "badges"}


@pytest.fixture
def writer(make_key):
    return bearer(make_key("members:write", "members:read"))


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_new_external_id_creates_the_member_and_its_organisation(web, writer):
    with recorded_events() as events:
        response = web.post(
            "/api/v1/members",
            json={
                "external_id": "crm-1",
                "email": " Sara@Example.com ",
                "phone": "۰۹۱۲۱۲۳۴۵۶۷",
                "name": "سارا",
                "city": "Tehran",
                "job_title": "Buyer",
                "organisation": "Acme Co",
            },
            headers=writer,
        )
    assert response.status_code == 201
    body = response.get_json()
    assert body["external_id"] == "crm-1"
    assert body["email"] == "sara@example.com"
    assert body["phone"] == "09121234567"
    assert body["name"] == "سارا"
    assert body["organisation"]["name"] == "Acme Co"
    assert set(body) >= STANDING
    member = db.session.get(Member, body["id"])
    assert member.signup_source == "api"
    assert member.organisation_id == db.session.scalar(sa.select(Organisation.id).where(Organisation.name == "Acme Co"))
    assert {"member.registered", "organisation.created", "profile.updated"} <= {e.type for e in events}


def test_the_same_external_id_updates_only_the_fields_sent(web, writer):
    organisation = OrganisationFactory(name="Existing Org")
    db.session.commit()
    web.post(
        "/api/v1/members", json={"external_id": "crm-2", "email": "a@example.com", "city": "Shiraz"}, headers=writer
    )
    response = web.post(
        "/api/v1/members",
        json={"external_id": "crm-2", "job_title": "CTO", "organisation": "Existing Org"},
        headers=writer,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["city"] == "Shiraz"
    assert body["job_title"] == "CTO"
    assert body["organisation"] == {"id": organisation.id, "name": "Existing Org"}
    assert _count(Member) == 1
    assert _count(Organisation) == 1


def test_a_member_created_by_the_api_cannot_log_in_until_it_sets_a_password(web, writer):
    from portal.accounts.services import InvalidCredentials, authenticate

    web.post("/api/v1/members", json={"external_id": "crm-3", "email": "p@example.com"}, headers=writer)
    with pytest.raises(InvalidCredentials):
        authenticate("p@example.com", "!api")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"external_id": "x"}, {"email": "required"}),
        ({"external_id": "x", "email": "not-an-email"}, {"email": "invalid"}),
        ({"external_id": "x", "email": "e@example.com", "phone": "12"}, {"phone": "invalid"}),
        ({"external_id": "  ", "email": "e@example.com"}, {"external_id": "required"}),
        ({"email": "e@example.com"}, {"external_id": "required"}),
    ],
)
def test_invalid_members_are_422_with_fields_and_nothing_is_written(web, writer, body, fields):
    response = web.post("/api/v1/members", json=body, headers=writer)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == fields
    assert _count(Member) == 0


def test_an_email_of_another_member_is_a_409_conflict(web, writer):
    MemberFactory(email="taken@example.com")
    db.session.commit()
    response = web.post("/api/v1/members", json={"external_id": "crm-4", "email": "taken@example.com"}, headers=writer)
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"email": "taken"}
    assert _count(Member) == 1


def test_a_member_is_read_by_id_the_same_as_created(web, writer):
    created = web.post("/api/v1/members", json={"external_id": "shop 77", "email": "r@example.com"}, headers=writer)
    by_id = web.get(f"/api/v1/members/{created.get_json()['id']}", headers=writer)
    assert by_id.status_code == 200
    assert by_id.get_json() == created.get_json()
    assert web.get("/api/v1/members/ext:shop%2077", headers=writer).get_json()["id"] == by_id.get_json()["id"]


def test_a_member_read_by_external_id(web, writer):
    created = web.post("/api/v1/members", json={"external_id": "pos-9", "email": "q@example.com"}, headers=writer)
    body = web.get("/api/v1/members/ext:pos-9", headers=writer).get_json()
    assert body["id"] == created.get_json()["id"]


def test_a_new_members_standing_comes_from_the_engine(web, writer):
    member = MemberFactory()
    db.session.commit()
    body = web.get(f"/api/v1/members/{member.id}", headers=writer).get_json()
    assert {key: body[key] for key in STANDING} == {
        "points": 0,
        "qualifying_points": 0,
        "tier": None,
        "next_tier": None,
        "points_to_next_tier": None,
        "badges": [],
    }


def test_the_member_answer_carries_the_engines_points(web, writer):
    member = MemberFactory()
    engine_services.adjust_points(actor=AdminFactory(), member_id=member.id, points=120, reason="welcome gift")
    db.session.commit()
    body = web.get(f"/api/v1/members/{member.id}", headers=writer).get_json()
    assert body["points"] == 120


def test_a_registered_provider_fills_the_standing(web, writer):
    member = MemberFactory()
    db.session.commit()

    def standing(member_id: int) -> dict:
        return {"points": member_id * 10, "tier": "gold", "badges": [{"code": "first-post", "name": "First post"}]}

    engine_providers = list(toolkit._member_field_providers)
    toolkit.clear_member_fields()
    toolkit.register_member_fields(standing)
    try:
        body = web.get(f"/api/v1/members/{member.id}", headers=writer).get_json()
    finally:
        toolkit.clear_member_fields()
        for provider in engine_providers:
            toolkit.register_member_fields(provider)
    assert body["points"] == member.id * 10
    assert body["tier"] == "gold"
    assert body["badges"] == [{"code": "first-post", "name": "First post"}]


def test_reading_a_member_takes_few_queries(web, writer):
    member = MemberFactory(organisation=OrganisationFactory())
    db.session.commit()
    web.get(f"/api/v1/members/{member.id}", headers=writer)  # the key's last use is recorded once a minute
    with count_queries() as counter:
        assert web.get(f"/api/v1/members/{member.id}", headers=writer).status_code == 200
    # key, member, organisation; then the engine: the balance row, the tier ladder, the badges.
    assert counter.count <= 6, counter


def test_me_answers_the_logged_in_member(web):
    member = MemberFactory(city="Yazd")
    sign_in(web, member)
    body = web.get("/api/v1/me").get_json()
    assert body["id"] == member.id
    assert body["city"] == "Yazd"
    assert set(body) >= STANDING


def test_me_without_a_session_is_401_and_with_a_key_is_403(web, make_key):
    assert web.get("/api/v1/me").status_code == 401
    assert web.get("/api/v1/me", headers=bearer(make_key("members:read"))).status_code == 403


def test_an_update_with_nothing_changed_emits_nothing(web, writer):
    body = {"external_id": "crm-5", "email": "same@example.com", "city": "Qom"}
    web.post("/api/v1/members", json=body, headers=writer)
    with recorded_events() as events:
        response = web.post("/api/v1/members", json=body, headers=writer)
    assert response.status_code == 200
    assert [e.type for e in events] == []
    member = db.session.scalar(sa.select(Member).where(Member.external_id == "crm-5"))
    assert fresh(member).city == "Qom"
