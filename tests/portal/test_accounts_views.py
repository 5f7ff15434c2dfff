"""Request tests of the account pages: join, verification, login and logout, password reset, settings."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.models import Member
from portal.accounts.services import member_by_email
from portal.accounts.tokens import make_token
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import PASSWORD, MemberFactory
from tests.helpers import link_in
from tests.portal.web import csrf_token, flashes, fresh, make_client, post_form, sign_in, use_language

NEW_PASSWORD = "a-brand-new-password"


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


def _join(client, *, page="/join", **fields):
    data = {
        "display_name": "Sara Karimi",
        "email": "sara@example.com",
        "phone": "",
        "password": "long-enough-pw",
        "confirm": "long-enough-pw",
        "referral_code": "",
    }
    data.update(fields)
    return post_form(client, "/join", data, page=page)


def _login(client, email, password, *, remember=False, path="/login"):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return post_form(client, path, data, page="/login")


def _member_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Member))


def _is_logged_in(client) -> bool:
    return 'data-authenticated="true"' in client.get("/").get_data(as_text=True)


def _token_of(link: str) -> str:
    return link.rsplit("/", 1)[-1]


# --- join and verification -----------------------------------------------------------------


def test_join_page_renders_the_form_with_a_csrf_token(web):
    response = web.get("/join")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="csrf_token"' in html
    assert 'name="referral_code"' in html


def test_join_creates_the_member_logs_them_in_and_mails_a_verification_link(web, outbox):
    response = _join(web, email="Sara@Example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    member = member_by_email("sara@example.com")
    assert member is not None
    assert member.display_name == "Sara Karimi"
    assert member.signup_source == "web"
    assert member.signup_ip == "127.0.0.1"
    assert member.language == "en"  # the language the visitor was browsing in
    assert not member.is_verified
    assert _is_logged_in(web)
    message = outbox.last()
    assert message["To"] == "sara@example.com"
    assert link_in(outbox.text(message)).startswith("http://localhost/verify/")


def test_following_the_verification_link_verifies_and_welcomes_the_member(web, outbox):
    _join(web)
    link = link_in(outbox.text(outbox.last()))
    response = web.get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"  # the member is still logged in
    member = fresh(member_by_email("sara@example.com"))
    assert member.is_verified
    welcome = db.session.scalars(sa.select(Notification).where(Notification.member_id == member.id)).all()
    assert [(n.kind, n.params) for n in welcome] == [("account.welcome", {"name": "Sara Karimi"})]
    assert "Thank you, your email address is confirmed." in web.get("/").get_data(as_text=True)


def test_verification_link_works_for_a_visitor_who_is_not_logged_in(app, web, outbox):
    _join(web)
    link = link_in(outbox.text(outbox.last()))
    stranger = make_client(app)
    response = stranger.get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert fresh(member_by_email("sara@example.com")).is_verified


def test_tampered_verification_link_is_refused_with_400(web, outbox):
    _join(web)
    link = link_in(outbox.text(outbox.last()))
    response = web.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert response.status_code == 400
    assert "This confirmation link is not valid." in response.get_data(as_text=True)
    assert not fresh(member_by_email("sara@example.com")).is_verified
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_expired_verification_link_is_refused_with_400(app, web, outbox, monkeypatch):
    _join(web)
    link = link_in(outbox.text(outbox.last()))
    monkeypatch.setitem(app.config, "VERIFY_TOKEN_MAX_AGE", -1)
    response = web.get(link)
    assert response.status_code == 400
    assert "This confirmation link has expired." in response.get_data(as_text=True)
    assert not fresh(member_by_email("sara@example.com")).is_verified


def test_resend_verification_mails_a_new_link(web, outbox):
    member = MemberFactory(email_verified_at=None)
    sign_in(web, member)
    response = post_form(web, "/verify/resend", {"next": "/account/settings"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/settings"
    assert outbox.last()["To"] == member.email
    assert web.get(link_in(outbox.text(outbox.last()))).status_code == 302
    assert fresh(member).is_verified


def test_join_with_ref_link_remembers_the_code_and_uses_it_when_the_field_is_left_empty(web):
    referrer = MemberFactory(referral_code="FRND2345")
    db.session.commit()
    page = web.get("/join?ref=FRND2345").get_data(as_text=True)
    assert 'value="FRND2345"' in page  # prefilled
    with web.session_transaction() as session:
        assert session["ref"] == "FRND2345"
    response = _join(web, page="/join", referral_code="")
    assert response.status_code == 302
    member = member_by_email("sara@example.com")
    assert member.referred_by_id == referrer.id
    assert member.signup_source == "referral"
    with web.session_transaction() as session:
        assert "ref" not in session


def test_signup_alias_keeps_the_referral_code(web):
    response = web.get("/signup?ref=FRND2345")
    assert response.status_code == 302
    assert response.headers["Location"] == "/join?ref=FRND2345"


def test_join_with_an_unknown_referral_code_shows_a_form_error_and_creates_nothing(web, outbox):
    response = _join(web, referral_code="NOPE2345")
    assert response.status_code == 422
    assert "This referral code is not valid." in response.get_data(as_text=True)
    assert _member_count() == 0
    assert outbox.messages() == []
    assert not _is_logged_in(web)


def test_unknown_code_from_a_ref_link_is_refused_too(web):
    web.get("/join?ref=NOPE2345")
    response = _join(web, referral_code="")
    assert response.status_code == 422
    assert "This referral code is not valid." in response.get_data(as_text=True)
    assert _member_count() == 0


def test_join_with_an_email_in_use_in_another_case_is_refused(web, outbox):
    MemberFactory(email="sara@example.com")
    db.session.commit()
    response = _join(web, email="SARA@example.com")
    assert response.status_code == 422
    assert "An account with this email already exists." in response.get_data(as_text=True)
    assert _member_count() == 1
    assert outbox.messages() == []


def test_join_with_a_phone_in_use_is_refused(web):
    MemberFactory(phone="09123456789")
    db.session.commit()
    response = _join(web, phone="۰۹۱۲۳۴۵۶۷۸۹")
    assert response.status_code == 422
    assert "An account with this phone number already exists." in response.get_data(as_text=True)
    assert _member_count() == 1


def test_join_stores_a_phone_typed_in_persian_digits_in_ascii(web):
    _join(web, phone="۰۹۱۲ ۳۴۵ ۶۷۸۹")
    assert member_by_email("sara@example.com").phone == "09123456789"


def test_join_refuses_mismatched_or_short_passwords(web):
    response = _join(web, password="long-enough-pw", confirm="something-else")
    assert response.status_code == 422
    assert "The passwords do not match." in response.get_data(as_text=True)
    response = _join(web, password="short", confirm="short")
    assert response.status_code == 422
    assert "At least 8 characters." in response.get_data(as_text=True)
    assert _member_count() == 0


def test_join_page_redirects_a_logged_in_member_home(web):
    sign_in(web, MemberFactory())
    response = web.get("/join")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- login and logout -----------------------------------------------------------------------


def test_login_with_the_right_password_logs_in_and_follows_a_local_next(web):
    member = MemberFactory(email="me@example.com", language="en")
    db.session.commit()
    response = _login(web, "ME@example.com", PASSWORD, path="/login?next=/account/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/settings"
    assert web.get("/account/settings").status_code == 200
    assert fresh(member).last_seen_at is not None


def test_login_restores_the_members_saved_language(app):
    member = MemberFactory(email="fa@example.com", language="fa")
    db.session.commit()
    client = make_client(app)
    use_language(client, "en")
    _login(client, "fa@example.com", PASSWORD)
    with client.session_transaction() as session:
        assert session["lang"] == "fa"
    assert fresh(member).language == "fa"


def test_wrong_password_and_unknown_email_get_the_same_message_and_422(web):
    MemberFactory(email="me@example.com")
    db.session.commit()
    wrong = _login(web, "me@example.com", "not-the-password")
    unknown = _login(web, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 422
    message = "The email or password is not correct."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert not _is_logged_in(web)


def test_disabled_account_is_refused_at_login(web):
    MemberFactory(email="off@example.com", is_disabled=True)
    db.session.commit()
    response = _login(web, "off@example.com", PASSWORD)
    assert response.status_code == 422
    assert "This account is disabled." in response.get_data(as_text=True)
    assert not _is_logged_in(web)


def test_a_disabled_member_with_a_session_is_treated_as_logged_out(web):
    member = MemberFactory(is_disabled=True)
    sign_in(web, member)
    assert web.get("/account/settings").status_code == 302


def test_remember_me_sets_a_remember_cookie(web):
    MemberFactory(email="me@example.com")
    db.session.commit()
    _login(web, "me@example.com", PASSWORD, remember=True)
    cookie = web.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.http_only


def test_without_remember_me_no_remember_cookie_is_set(web):
    MemberFactory(email="me@example.com")
    db.session.commit()
    response = _login(web, "me@example.com", PASSWORD)
    assert response.status_code == 302
    assert web.get_cookie("remember_token") is None


@pytest.mark.parametrize(
    "target", ["//evil.com", "http://evil.com", "https://evil.com/login", "\\\\evil.com", "javascript:alert(1)"]
)
def test_login_never_redirects_to_another_site(web, target):
    MemberFactory(email="me@example.com")
    db.session.commit()
    response = _login(web, "me@example.com", PASSWORD, path=f"/login?next={quote(target)}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_next_with_a_backslash_stays_on_this_site(web):
    # Browsers read "/\\evil.com" as "//evil.com"; the backslash must not reach the Location raw.
    MemberFactory(email="me@example.com")
    db.session.commit()
    response = _login(web, "me@example.com", PASSWORD, path="/login?next=" + quote("/\\evil.com"))
    location = response.headers["Location"]
    assert location.startswith("/")
    assert not location.startswith("//")
    assert "\\" not in location
    assert urlsplit(location).netloc == ""


def test_login_page_of_a_logged_in_member_redirects_to_next(web):
    sign_in(web, MemberFactory())
    response = web.get("/login?next=/notifications/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications/"


def test_passwords_are_stored_as_argon2id_hashes(web):
    _join(web)
    assert member_by_email("sara@example.com").password_hash.startswith("$argon2id$")


def test_logout_ends_the_session(web):
    sign_in(web, MemberFactory())
    assert web.get("/account/settings").status_code == 200
    response = post_form(web, "/logout", {}, page="/")
    assert response.status_code == 302
    assert web.get("/account/settings").status_code == 302
    assert not _is_logged_in(web)


def test_logout_needs_post(web):
    sign_in(web, MemberFactory())
    assert web.get("/logout").status_code == 405
    assert _is_logged_in(web)


def test_pages_for_members_send_visitors_to_log_in(web):
    response = web.get("/account/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# --- password reset ------------------------------------------------------------------------


def test_forgot_password_says_the_same_for_known_and_unknown_addresses(web, outbox):
    MemberFactory(email="me@example.com")
    db.session.commit()
    unknown = post_form(web, "/password/forgot", {"email": "nobody@example.com"})
    unknown_flashes = flashes(web)
    assert outbox.messages() == []
    web.get("/")  # show (and so clear) the flash
    known = post_form(web, "/password/forgot", {"email": "me@example.com"})
    assert unknown.status_code == known.status_code == 302
    assert unknown.headers["Location"] == known.headers["Location"] == "/login"
    assert unknown_flashes == flashes(web)
    assert len(outbox.messages()) == 1
    assert outbox.last()["To"] == "me@example.com"


def _reset_link(web, outbox, email="me@example.com"):
    post_form(web, "/password/forgot", {"email": email})
    return link_in(outbox.text(outbox.last()))


def test_reset_link_changes_the_password_once(web, outbox):
    MemberFactory(email="me@example.com")
    db.session.commit()
    link = _reset_link(web, outbox)
    assert web.get(link).status_code == 200
    response = post_form(web, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert _login(web, "me@example.com", NEW_PASSWORD).status_code == 302
    post_form(web, "/logout", {})
    again = post_form(web, link, {"password": "yet-another-password", "confirm": "yet-another-password"})
    assert again.status_code == 400
    assert "This reset link has already been used or is not valid." in again.get_data(as_text=True)
    assert _login(web, "me@example.com", "yet-another-password").status_code == 422


def test_expired_reset_link_is_refused(app, web, outbox, monkeypatch):
    member = MemberFactory(email="me@example.com")
    db.session.commit()
    old_hash = member.password_hash
    link = _reset_link(web, outbox)
    monkeypatch.setitem(app.config, "RESET_TOKEN_MAX_AGE", -1)
    response = post_form(web, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "This reset link has expired. Ask for a new one." in response.get_data(as_text=True)
    assert fresh(member).password_hash == old_hash


def test_forged_reset_link_is_refused(web):
    member = MemberFactory()
    db.session.commit()
    forged = make_token("verify", {"id": member.id, "h": member.password_hash[-16:]})
    response = post_form(web, f"/password/reset/{forged}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "This reset link is not valid." in response.get_data(as_text=True)


def test_reset_refuses_a_too_short_password(web, outbox):
    member = MemberFactory(email="me@example.com")
    db.session.commit()
    old_hash = member.password_hash
    link = _reset_link(web, outbox)
    response = post_form(web, link, {"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "At least 8 characters." in response.get_data(as_text=True)
    assert fresh(member).password_hash == old_hash


# --- settings: password and email ----------------------------------------------------------------


def _change_password(web, current, new, confirm=None):
    token = csrf_token(web, "/account/settings")
    return web.post(
        "/account/password",
        data={"pw-csrf_token": token, "pw-current_password": current, "pw-password": new, "pw-confirm": confirm or new},
    )


def _change_email(web, email, password):
    token = csrf_token(web, "/account/settings")
    return web.post(
        "/account/email", data={"email-csrf_token": token, "email-email": email, "email-password": password}
    )


def test_change_password_with_the_right_current_password(web):
    member = MemberFactory()
    sign_in(web, member)
    response = _change_password(web, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/settings"
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member.id)).all()
    assert kinds == ["account.password_changed"]
    post_form(web, "/logout", {})
    assert _login(web, member.email, NEW_PASSWORD).status_code == 302


def test_change_password_with_a_wrong_current_password_is_refused(web):
    member = MemberFactory()
    sign_in(web, member)
    old_hash = member.password_hash
    response = _change_password(web, "not-my-password", NEW_PASSWORD)
    assert response.status_code == 422
    assert "Your current password is not correct." in response.get_data(as_text=True)
    assert fresh(member).password_hash == old_hash


def test_change_email_mails_the_new_address_and_changes_it_only_after_the_link(web, outbox):
    member = MemberFactory(email="old@example.com")
    sign_in(web, member)
    response = _change_email(web, "New@Example.com", PASSWORD)
    assert response.status_code == 302
    assert fresh(member).email == "old@example.com"
    message = outbox.last()
    assert message["To"] == "new@example.com"
    link = link_in(outbox.text(message))
    assert "/account/email/confirm/" in link
    confirmed = web.get(link)
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == "/account/settings"
    member = fresh(member)
    assert member.email == "new@example.com"
    assert member.is_verified
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member.id)).all()
    assert kinds == ["account.email_changed"]


def test_change_email_to_a_taken_address_is_refused(web, outbox):
    member = MemberFactory(email="me@example.com")
    MemberFactory(email="taken@example.com")
    sign_in(web, member)
    response = _change_email(web, "taken@example.com", PASSWORD)
    assert response.status_code == 422
    assert "An account with this email already exists." in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_change_email_needs_the_current_password(web, outbox):
    member = MemberFactory(email="me@example.com")
    sign_in(web, member)
    response = _change_email(web, "new@example.com", "not-my-password")
    assert response.status_code == 422
    assert "Your current password is not correct." in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_tampered_email_change_link_is_refused(web):
    member = MemberFactory(email="me@example.com")
    sign_in(web, member)
    token = make_token("email", {"id": member.id, "email": "evil@example.com"})
    response = web.get(f"/account/email/confirm/{token[:-2]}xx")
    assert response.status_code == 400
    assert "This confirmation link is not valid or has expired." in response.get_data(as_text=True)
    assert fresh(member).email == "me@example.com"
