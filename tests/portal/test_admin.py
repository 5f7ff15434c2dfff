"""Admin pages: only admins get in, role changes (never the last admin), organisations, the member list."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.accounts.models import Organisation
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import AdminFactory, AgentFactory, MemberFactory, ModeratorFactory, OrganisationFactory
from tests.helpers import count_queries
from tests.portal.web import csrf_token, flashes, fresh, make_client, post_form, sign_in, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def admin_web(web):
    admin = AdminFactory(display_name="Head Admin", email="admin@example.com")
    sign_in(web, admin)
    web.admin = admin
    return web


def _set_role(client, member_id, role, query=""):
    token = csrf_token(client, "/")
    return client.post(f"/admin/members/{member_id}/role{query}", data={"csrf_token": token, "role": role})


def _listed_emails(html: str) -> list[str]:
    return re.findall(r'<td dir="ltr">([^<\s]+@[^<\s]+)', html)


# --- who may enter ------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [MemberFactory, ModeratorFactory, AgentFactory])
def test_non_admins_get_403_on_the_admin_pages(web, factory):
    sign_in(web, factory())
    for path in ("/admin/", "/admin/members", "/admin/organisations"):
        assert web.get(path).status_code == 403


@pytest.mark.parametrize("factory", [MemberFactory, ModeratorFactory, AgentFactory])
def test_non_admins_cannot_change_roles(web, factory):
    actor = factory()
    target = MemberFactory()
    sign_in(web, actor)
    response = _set_role(web, target.id, "admin")
    assert response.status_code == 403
    assert fresh(target).role == "member"
    assert fresh(actor).role == actor.role
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


@pytest.mark.parametrize("factory", [MemberFactory, ModeratorFactory, AgentFactory])
def test_non_admins_cannot_create_organisations(web, factory):
    sign_in(web, factory())
    response = post_form(web, "/admin/organisations", {"name": "Sneaky"}, page="/")
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_visitors_are_sent_to_log_in(web):
    response = web.get("/admin/members")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_admin_link_in_the_navbar_only_for_admins(app, admin_web):
    assert 'href="/admin/members"' in admin_web.get("/").get_data(as_text=True)
    member_web = make_client(app)
    sign_in(member_web, ModeratorFactory())
    assert 'href="/admin/members"' not in member_web.get("/").get_data(as_text=True)


def test_admin_index_redirects_to_members(admin_web):
    response = admin_web.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/members"


# --- roles -------------------------------------------------------------------------------------------


def test_admin_changes_a_role_and_the_member_gets_a_notification(admin_web):
    member = MemberFactory(display_name="Reza")
    db.session.commit()
    response = _set_role(admin_web, member.id, "moderator", query="?q=reza")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/members?q=reza"
    assert ("success", "Reza's role has been changed.") in flashes(admin_web)
    assert fresh(member).role == "moderator"
    notes = db.session.scalars(sa.select(Notification).where(Notification.member_id == member.id)).all()
    assert [(n.kind, n.params) for n in notes] == [("account.role_changed", {"role": "moderator"})]


def test_the_last_admin_cannot_demote_themselves(admin_web):
    response = _set_role(admin_web, admin_web.admin.id, "member")
    assert response.status_code == 303
    assert ("danger", "The club needs at least one admin.") in flashes(admin_web)
    assert fresh(admin_web.admin).role == "admin"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_an_admin_can_be_demoted_while_another_admin_remains(admin_web):
    other = AdminFactory()
    db.session.commit()
    _set_role(admin_web, other.id, "agent")
    assert fresh(other).role == "agent"


def test_an_unknown_role_is_refused(admin_web):
    member = MemberFactory()
    db.session.commit()
    response = _set_role(admin_web, member.id, "overlord")
    assert response.status_code == 303
    assert ("danger", "Choose a valid role.") in flashes(admin_web)
    assert fresh(member).role == "member"


def test_changing_the_role_of_an_unknown_member_is_404(admin_web):
    assert _set_role(admin_web, 987654, "admin").status_code == 404


# --- organisations --------------------------------------------------------------------------------------


def test_admin_creates_an_organisation(admin_web):
    response = post_form(
        admin_web, "/admin/organisations", {"name": "Pars Co", "national_id": "۱۰۱۰۱۲۳۴۵۶۷", "city": "Tehran"}
    )
    assert response.status_code == 303
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Pars Co"))
    assert (organisation.national_id, organisation.city) == ("10101234567", "Tehran")
    page = admin_web.get("/admin/organisations").get_data(as_text=True)
    assert "The organisation has been created." in page
    assert "Pars Co" in page


def test_a_duplicate_organisation_is_refused(admin_web):
    OrganisationFactory(name="Pars Co")
    db.session.commit()
    response = post_form(admin_web, "/admin/organisations", {"name": "Pars Co"})
    assert response.status_code == 422
    assert "An organisation with this name already exists." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1


def test_an_organisation_needs_a_name(admin_web):
    response = post_form(admin_web, "/admin/organisations", {"name": ""})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_organisations_are_listed_by_name_with_their_member_counts(admin_web):
    busy = OrganisationFactory(name="Busy Co")
    OrganisationFactory(name="Alone Co")
    MemberFactory.create_batch(3, organisation_id=busy.id)
    db.session.commit()
    html = admin_web.get("/admin/organisations").get_data(as_text=True)
    rows = re.findall(r'<tr><td dir="auto">([^<]+)</td>.*?<td>([^<]+)</td></tr>', html)
    assert rows == [("Alone Co", "0"), ("Busy Co", "3")]


# --- the member list ----------------------------------------------------------------------------------------


def test_member_list_shows_members_newest_first_with_their_organisation(admin_web):
    organisation = OrganisationFactory(name="Caspian")
    MemberFactory(email="old@example.com", organisation_id=organisation.id)
    MemberFactory(email="new@example.com", email_verified_at=None)
    db.session.commit()
    html = admin_web.get("/admin/members").get_data(as_text=True)
    assert _listed_emails(html) == ["new@example.com", "old@example.com", "admin@example.com"]
    assert "Caspian" in html
    assert "not confirmed" in html


def test_member_list_filters_by_name_or_email(admin_web):
    MemberFactory(display_name="Niloofar Rahimi", email="nr@example.com")
    MemberFactory(display_name="Ali", email="ali.niloofar@example.com")
    MemberFactory(display_name="Omid", email="omid@example.com")
    db.session.commit()
    html = admin_web.get("/admin/members?q=NILOO").get_data(as_text=True)
    assert sorted(_listed_emails(html)) == ["ali.niloofar@example.com", "nr@example.com"]
    assert 'value="NILOO"' in html
    assert _listed_emails(admin_web.get("/admin/members?q=nobody-at-all").get_data(as_text=True)) == []


def test_member_list_filters_by_role(admin_web):
    ModeratorFactory(email="mod@example.com")
    AgentFactory(email="agent@example.com")
    MemberFactory(email="plain@example.com")
    db.session.commit()
    html = admin_web.get("/admin/members?role=moderator").get_data(as_text=True)
    assert _listed_emails(html) == ["mod@example.com"]
    assert '<option value="moderator" selected>' in html
    everyone = admin_web.get("/admin/members?role=bogus").get_data(as_text=True)
    assert len(_listed_emails(everyone)) == 4


def test_member_list_paginates_with_a_cursor(admin_web):
    MemberFactory.create_batch(55, display_name="Paged")
    db.session.commit()
    first = admin_web.get("/admin/members?q=paged").get_data(as_text=True)
    assert len(_listed_emails(first)) == 50
    link = re.search(r'href="(/admin/members\?[^"]*cursor=[^"]+)"', first)
    assert link
    second = admin_web.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert len(_listed_emails(second)) == 5
    assert not set(_listed_emails(first)) & set(_listed_emails(second))
    assert not re.search(r'href="/admin/members\?[^"]*cursor=', second)  # no "next page" on the last page


def test_a_broken_cursor_is_a_400(admin_web):
    assert admin_web.get("/admin/members?cursor=%%%not-a-cursor").status_code == 400


def test_member_list_runs_a_constant_number_of_queries(admin_web):
    def queries_for_list() -> int:
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            assert admin_web.get("/admin/members").status_code == 200
        return counter.count

    admin_web.get("/admin/members")  # warm up
    for _ in range(5):
        MemberFactory(organisation_id=OrganisationFactory().id)
    few = queries_for_list()
    for _ in range(35):
        MemberFactory(organisation_id=OrganisationFactory().id)
    many = queries_for_list()
    assert few == many, f"5 members: {few} queries, 40 members: {many} queries"
    assert few <= 4
