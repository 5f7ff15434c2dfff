"""Profiles: completion, editing, avatars served safely, and who sees what on the public profile page."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from portal.extensions import db
from tests.factories import AdminFactory, AgentFactory, MemberFactory, ModeratorFactory, OrganisationFactory
from tests.helpers import count_queries
from tests.portal.web import csrf_token, flashes, fresh, make_client, post_form, recorded_events, sign_in, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


def _jpeg(size=(800, 600), color=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def _upload(web, payload: bytes, filename="me.jpg"):
    token = csrf_token(web, "/account/profile")
    return web.post(
        "/account/avatar",
        data={"csrf_token": token, "avatar": (io.BytesIO(payload), filename)},
        content_type="multipart/form-data",
    )


def _stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOADS_ROOT"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _profile_fields(**overrides):
    data = {
        "display_name": "Reza Karimi",
        "bio": "I build things.",
        "city": "Tehran",
        "job_title": "Engineer",
        "phone": "۰۹۱۲۰۰۰۰۰۰۰",
        "organisation_id": "0",
        "language": "en",
    }
    data.update(overrides)
    return data


# --- completion shown on the edit page --------------------------------------------------------


def test_profile_page_shows_the_completion_percent_and_the_missing_fields(web):
    sign_in(web, MemberFactory(city="Tehran", bio="Hi"))
    html = web.get("/account/profile").get_data(as_text=True)
    assert re.search(r'data-testid="completion-percent">33%<', html)
    missing = re.findall(r'class="[^"]*missing-field[^"]*" data-field="(\w+)"', html)
    assert missing == ["avatar", "job_title", "organisation", "phone"]
    assert "Job title" in html


def test_complete_profile_says_so_instead_of_listing_missing_fields(web):
    member = MemberFactory(
        bio="Hi",
        city="Tehran",
        job_title="Engineer",
        phone="09120000000",
        organisation_id=OrganisationFactory().id,
        avatar={"thumb": "avatars/x_thumb.jpg", "display": "avatars/x_display.jpg"},
    )
    sign_in(web, member)
    html = web.get("/account/profile").get_data(as_text=True)
    assert 'data-testid="completion-percent">100%<' in html
    assert "Your profile is complete." in html
    assert "missing-field" not in html


def test_completion_percent_uses_persian_digits_in_persian(web):
    sign_in(web, MemberFactory(city="Tehran", bio="Hi", language="fa"))
    html = web.get("/account/profile").get_data(as_text=True)
    assert 'data-testid="completion-percent">۳۳%<' in html


def test_profile_page_shows_the_members_referral_code_and_invite_link(web):
    member = MemberFactory(referral_code="MYCD2345")
    sign_in(web, member)
    html = web.get("/account/profile").get_data(as_text=True)
    assert 'data-testid="referral-code">MYCD2345<' in html
    assert "http://localhost/join?ref=MYCD2345" in html


# --- editing ------------------------------------------------------------------------------------


def test_update_profile_saves_every_field_with_the_organisation_and_language(web):
    organisation = OrganisationFactory(name="Pars Co")
    member = MemberFactory(language="fa")
    sign_in(web, member)
    page = web.get("/account/profile").get_data(as_text=True)
    assert f'<option value="{organisation.id}">Pars Co</option>' in page
    response = post_form(web, "/account/profile", _profile_fields(organisation_id=str(organisation.id), language="en"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    member = fresh(member)
    assert member.display_name == "Reza Karimi"
    assert (member.bio, member.city, member.job_title) == ("I build things.", "Tehran", "Engineer")
    assert member.phone == "09120000000"
    assert member.organisation_id == organisation.id
    assert member.language == "en"
    with web.session_transaction() as session:
        assert session["lang"] == "en"
    assert "Your profile has been saved." in web.get("/account/profile").get_data(as_text=True)


def test_choosing_no_organisation_clears_it(web):
    member = MemberFactory(organisation_id=OrganisationFactory().id)
    sign_in(web, member)
    assert post_form(web, "/account/profile", _profile_fields(organisation_id="0")).status_code == 302
    assert fresh(member).organisation_id is None


def test_an_organisation_that_is_not_offered_is_refused(web):
    member = MemberFactory()
    sign_in(web, member)
    response = post_form(web, "/account/profile", _profile_fields(organisation_id="9999"))
    assert response.status_code == 422
    assert fresh(member).display_name != "Reza Karimi"


def test_a_phone_used_by_another_member_is_refused_next_to_the_field(web):
    MemberFactory(phone="09120000000")
    member = MemberFactory()
    sign_in(web, member)
    response = post_form(web, "/account/profile", _profile_fields(phone="09120000000"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="phone-errors">\s*<div>An account with this phone number already exists.</div>', html)
    assert fresh(member).phone is None


def test_blank_display_name_is_refused(web):
    member = MemberFactory(display_name="Keep Me")
    sign_in(web, member)
    response = post_form(web, "/account/profile", _profile_fields(display_name=""))
    assert response.status_code == 422
    assert fresh(member).display_name == "Keep Me"


def test_profile_completed_is_emitted_once_through_the_edit_page(web):
    organisation = OrganisationFactory()
    member = MemberFactory(avatar={"thumb": "avatars/x_thumb.jpg", "display": "avatars/x_display.jpg"})
    sign_in(web, member)
    full = _profile_fields(organisation_id=str(organisation.id))
    with recorded_events("profile.completed") as completed:
        post_form(web, "/account/profile", full)
        post_form(web, "/account/profile", {**full, "city": "Shiraz"})
    assert [(e.member_id, e.attributes["completion"]) for e in completed] == [(member.id, 100)]


def test_editing_the_profile_needs_a_login(web):
    response = web.get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- avatars -----------------------------------------------------------------------------------


def test_avatar_upload_stores_reencoded_variants_served_with_nosniff(app, web):
    member = MemberFactory()
    sign_in(web, member)
    response = _upload(web, _jpeg())
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/profile"
    assert ("success", "Your profile picture has been updated.") in flashes(web)
    avatar = fresh(member).avatar
    assert set(avatar) == {"display", "thumb"}
    root = Path(app.config["UPLOADS_ROOT"])
    for key in avatar.values():
        assert (root / key).is_file()
    assert len(_stored_files(app)) == 2
    with Image.open(root / avatar["thumb"]) as thumb:
        assert thumb.size == (96, 96)
    served = web.get(f"/media/{avatar['thumb']}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data == (root / avatar["thumb"]).read_bytes()
    served.close()
    assert f"/media/{avatar['display']}" in web.get(f"/members/{member.id}").get_data(as_text=True)


def test_a_new_avatar_replaces_the_old_files(app, web):
    member = MemberFactory()
    sign_in(web, member)
    _upload(web, _jpeg(color=(1, 2, 3)))
    first = fresh(member).avatar
    _upload(web, _jpeg(color=(9, 9, 9)))
    second = fresh(member).avatar
    assert first != second
    root = Path(app.config["UPLOADS_ROOT"])
    assert not any((root / key).exists() for key in first.values())
    assert sorted(_stored_files(app)) == sorted(root / key for key in second.values())


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(app, web):
    member = MemberFactory()
    sign_in(web, member)
    response = _upload(web, b"<?php echo 'not an image'; ?>", filename="shell.jpg")
    assert response.status_code == 303
    assert ("danger", "The file is not a valid image.") in flashes(web)
    assert fresh(member).avatar is None
    assert _stored_files(app) == []


def test_an_upload_without_a_file_is_refused(app, web):
    sign_in(web, MemberFactory())
    token = csrf_token(web, "/account/profile")
    response = web.post("/account/avatar", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 303
    assert ("danger", "Choose an image file.") in flashes(web)
    assert _stored_files(app) == []


def test_removing_the_avatar_deletes_its_files(app, web):
    member = MemberFactory()
    sign_in(web, member)
    _upload(web, _jpeg())
    assert len(_stored_files(app)) == 2
    response = post_form(web, "/account/avatar/remove", {}, page="/account/profile")
    assert response.status_code == 303
    assert fresh(member).avatar is None
    assert _stored_files(app) == []


def test_media_outside_the_uploads_root_is_not_served(web):
    assert web.get("/media/../../portal/config.py").status_code == 404
    assert web.get("/media/avatars/missing.jpg").status_code == 404


# --- the public profile page -----------------------------------------------------------------------


def test_public_profile_shows_the_name_and_details_but_not_the_email_to_visitors(web):
    organisation = OrganisationFactory(name="Caspian Trading")
    member = MemberFactory(
        display_name="Emma Clarke",
        email="emma@example.com",
        city="Rasht",
        job_title="Buyer",
        bio="Hello there",
        organisation_id=organisation.id,
    )
    db.session.commit()
    response = web.get(f"/members/{member.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("Emma Clarke", "Caspian Trading", "Rasht", "Buyer", "Hello there"):
        assert text in html
    assert "emma@example.com" not in html
    assert "Profile completion" not in html


def test_other_members_do_not_see_the_email(app):
    member = MemberFactory(email="emma@example.com")
    client = make_client(app)
    sign_in(client, MemberFactory())
    assert "emma@example.com" not in client.get(f"/members/{member.id}").get_data(as_text=True)


@pytest.mark.parametrize("staff_factory", [ModeratorFactory, AgentFactory, AdminFactory])
def test_staff_see_the_email(app, staff_factory):
    member = MemberFactory(email="emma@example.com")
    client = make_client(app)
    sign_in(client, staff_factory())
    assert "emma@example.com" in client.get(f"/members/{member.id}").get_data(as_text=True)


def test_members_see_their_own_email_and_completion(web):
    member = MemberFactory(email="emma@example.com")
    sign_in(web, member)
    html = web.get(f"/members/{member.id}").get_data(as_text=True)
    assert "emma@example.com" in html
    assert "Profile completion" in html
    assert 'href="/account/profile"' in html


def test_staff_get_a_role_badge_on_their_profile(web):
    moderator = ModeratorFactory()
    db.session.commit()
    assert "Moderator</span>" in web.get(f"/members/{moderator.id}").get_data(as_text=True)


def test_unknown_or_disabled_member_profile_is_404(web):
    disabled = MemberFactory(is_disabled=True)
    db.session.commit()
    assert web.get("/members/987654").status_code == 404
    assert web.get(f"/members/{disabled.id}").status_code == 404


def test_public_profile_runs_a_constant_number_of_queries(app):
    organisation = OrganisationFactory()
    member = MemberFactory(organisation_id=organisation.id, city="Tehran")
    viewer = AdminFactory()
    client = make_client(app)
    sign_in(client, viewer)

    def queries_for_profile() -> int:
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            assert client.get(f"/members/{member.id}").status_code == 200
        return counter.count

    client.get(f"/members/{member.id}")  # warm up
    MemberFactory.create_batch(4, organisation_id=organisation.id)
    few = queries_for_profile()
    MemberFactory.create_batch(35, organisation_id=organisation.id)
    many = queries_for_profile()
    assert few == many
    assert few <= 5  # the viewer, the member with its organisation, the bell count, points/tier/badges
