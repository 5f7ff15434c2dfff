"""The security baseline: CSRF on every form, CSP without inline code, cookie flags, rate limits, size limits."""

from __future__ import annotations

import io
import re
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa

from portal.accounts.models import Member
from portal.config import load_config
from portal.extensions import db
from tests.factories import PASSWORD, AdminFactory, MemberFactory, NotificationFactory
from tests.portal.web import csrf_token, make_client, sign_in, use_language

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)


@pytest.fixture
def web(app):
    return make_client(app)


def _member_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Member))


def _is_logged_in(client) -> bool:
    return 'data-authenticated="true"' in client.get("/").get_data(as_text=True)


def _per_minute(limit: str) -> int:
    match = re.match(r"\s*(\d+)\s*(?:per|/)\s*minute", limit)
    assert match, f"no per-minute limit first in {limit!r}"
    return int(match.group(1))


def _set_cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


def _cookie_flags(header: str) -> dict[str, str]:
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = next(iter(cookie.values()))
    return {key: morsel[key] for key in ("httponly", "samesite", "secure")}


def _assert_csrf_error_page(response) -> None:
    """The 400 error page, in Persian (these visitors chose no language)."""
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-page' in html
    assert '<html lang="fa" dir="rtl">' in html
    assert "۴۰۰" in html


# --- CSRF ----------------------------------------------------------------------------------------


def test_login_without_a_csrf_token_is_refused_and_does_not_log_in(web):
    MemberFactory(email="me@example.com")
    db.session.commit()
    response = web.post("/login", data={"email": "me@example.com", "password": PASSWORD})
    _assert_csrf_error_page(response)
    assert not _is_logged_in(web)


def test_login_with_a_forged_csrf_token_is_refused(web):
    MemberFactory(email="me@example.com")
    db.session.commit()
    response = web.post("/login", data={"csrf_token": "forged", "email": "me@example.com", "password": PASSWORD})
    _assert_csrf_error_page(response)
    assert not _is_logged_in(web)


def test_a_csrf_token_from_another_session_is_refused(app, web):
    MemberFactory(email="me@example.com")
    db.session.commit()
    someone_elses = csrf_token(make_client(app), "/login")
    response = web.post("/login", data={"csrf_token": someone_elses, "email": "me@example.com", "password": PASSWORD})
    _assert_csrf_error_page(response)
    assert not _is_logged_in(web)


def test_join_without_a_csrf_token_creates_nothing(web, outbox):
    response = web.post(
        "/join",
        data={
            "display_name": "X",
            "email": "x@example.com",
            "password": "long-enough-pw",
            "confirm": "long-enough-pw",
        },
    )
    _assert_csrf_error_page(response)
    assert _member_count() == 0
    assert outbox.messages() == []


def test_a_members_language_switch_without_a_csrf_token_changes_nothing(web):
    sign_in(web, MemberFactory(language="fa"))
    response = web.post("/lang", data={"lang": "en", "next": "/"})
    _assert_csrf_error_page(response)
    with web.session_transaction() as session:
        assert "lang" not in session
    assert '<html lang="fa" dir="rtl">' in web.get("/").get_data(as_text=True)


def test_a_cross_site_language_switch_changes_nothing(web):
    # Visitors who are not signed in switch without a token (cached pages carry none), so the
    # browser's word on where the form came from is what stops another site.
    for headers in ({"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        response = web.post("/lang", data={"lang": "en", "next": "/"}, headers=headers)
        assert response.status_code == 403, headers
    with web.session_transaction() as session:
        assert "lang" not in session
    assert '<html lang="fa" dir="rtl">' in web.get("/").get_data(as_text=True)


def test_logout_without_a_csrf_token_keeps_the_member_logged_in(web):
    sign_in(web, MemberFactory())
    _assert_csrf_error_page(web.post("/logout"))
    assert _is_logged_in(web)


def test_csrf_error_page_is_persian_by_default_and_english_when_chosen(web):
    persian = web.post("/logout").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in persian
    assert "۴۰۰" in persian
    use_language(web, "en")
    english = web.post("/logout").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english
    assert "Bad request" in english
    assert "The request was malformed or has expired." in english


@pytest.mark.parametrize(
    "path", ["/notifications/read-all", "/notifications/1/read", "/account/avatar/remove", "/verify/resend"]
)
def test_member_actions_need_a_csrf_token(web, path):
    member = MemberFactory()
    NotificationFactory(member_id=member.id)
    sign_in(web, member)
    assert web.post(path).status_code == 400


def test_admin_role_change_needs_a_csrf_token(web):
    admin = AdminFactory()
    member = MemberFactory()
    sign_in(web, admin)
    assert web.post(f"/admin/members/{member.id}/role", data={"role": "admin"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Member, member.id).role == "member"


def test_the_language_switch_refuses_an_unknown_language_and_foreign_next(web):
    token = csrf_token(web)
    assert web.post("/lang", data={"csrf_token": token, "lang": "xx"}).status_code == 400
    response = web.post("/lang", data={"csrf_token": token, "lang": "en", "next": "//evil.com/x"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    response = web.post("/lang", data={"csrf_token": token, "lang": "en", "next": "/members/1?tab=x"})
    assert response.headers["Location"] == "/members/1?tab=x"


# --- headers, CSP and inline code ---------------------------------------------------------------------


def _main_pages(app) -> list[tuple[str, str, object]]:
    """(label, path, client) for the main pages as a visitor, a member and an admin."""
    member = MemberFactory(bio="Bio", city="Tehran")
    NotificationFactory(member_id=member.id)
    admin = AdminFactory()
    visitor = make_client(app)
    member_client = make_client(app)
    sign_in(member_client, member)
    admin_client = make_client(app)
    sign_in(admin_client, admin)
    return [
        ("home", "/", visitor),
        ("login", "/login", visitor),
        ("join", "/join", visitor),
        ("forgot", "/password/forgot", visitor),
        ("reset", "/password/reset/anything", visitor),
        ("profile (public)", f"/members/{member.id}", visitor),
        ("not found", "/no-such-page", visitor),
        ("home (member)", "/", member_client),
        ("profile edit", "/account/profile", member_client),
        ("settings", "/account/settings", member_client),
        ("notifications", "/notifications/", member_client),
        ("bell", "/notifications/bell", member_client),
        ("admin members", "/admin/members", admin_client),
        ("admin organisations", "/admin/organisations", admin_client),
        ("forbidden", "/admin/members", member_client),
    ]


def test_pages_send_a_content_security_policy_without_unsafe_inline(app):
    for label, path, client in _main_pages(app):
        response = client.get(path)
        csp = response.headers.get("Content-Security-Policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
        assert directives.get("script-src") == ["'self'"], label
        assert directives.get("style-src") == ["'self'"], label
        assert directives.get("object-src") == ["'none'"], label
        assert directives.get("frame-ancestors") == ["'none'"], label
        assert "unsafe-inline" not in csp, label
        assert "unsafe-eval" not in csp, label


def test_pages_have_no_inline_scripts_event_handlers_or_style_attributes(app):
    for label, path, client in _main_pages(app):
        html = client.get(path).get_data(as_text=True)
        for attributes, body in SCRIPT_TAG.findall(html):
            assert re.search(r'\bsrc="/static/', attributes), f"{label}: a <script> without src"
            assert body.strip() == "", f"{label}: inline script code"
        assert not re.search(r"\sstyle\s*=", html), f"{label}: a style attribute (CSP forbids inline styles)"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{label}: an inline event handler"
        assert "javascript:" not in html, label


def test_every_response_carries_the_security_headers(app, web):
    for response in (web.get("/"), web.get("/no-such-page"), web.get("/healthz"), web.post("/logout")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # only when cookies are secure (HTTPS)


def test_static_assets_are_local_never_from_a_cdn(web):
    html = web.get("/").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url


# --- cookies ----------------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(web):
    response = web.get("/join?ref=ABCD2345")  # stores the code in the session
    headers = _set_cookie_headers(response, "session")
    assert headers, "the session cookie was not set"
    flags = _cookie_flags(headers[0])
    assert flags["httponly"] is True
    assert flags["samesite"] == "Lax"


def test_remember_cookie_is_httponly_and_samesite_lax(web):
    MemberFactory(email="me@example.com")
    db.session.commit()
    token = csrf_token(web, "/login")
    response = web.post(
        "/login", data={"csrf_token": token, "email": "me@example.com", "password": PASSWORD, "remember": "y"}
    )
    headers = _set_cookie_headers(response, "remember_token")
    assert headers
    flags = _cookie_flags(headers[0])
    assert flags["httponly"] is True
    assert flags["samesite"] == "Lax"


def test_production_settings_make_cookies_secure_and_need_a_secret_key():
    settings = load_config("production", {"SECRET_KEY": "a-real-secret"})
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production", {"SECRET_KEY": ""})


# --- rate limits ---------------------------------------------------------------------------------------------


def test_login_is_rate_limited_with_a_retry_after_header(app, web):
    allowed = _per_minute(app.config["LOGIN_RATE_LIMIT"])
    MemberFactory(email="me@example.com")
    db.session.commit()
    use_language(web, "en")
    token = csrf_token(web, "/login")
    data = {"csrf_token": token, "email": "me@example.com", "password": "wrong-password"}
    for attempt in range(allowed):
        assert web.post("/login", data=data).status_code == 422, f"attempt {attempt + 1} was limited"
    limited = web.post("/login", data={**data, "password": PASSWORD})  # even the right password now waits
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    html = limited.get_data(as_text=True)
    assert "Too many requests" in html
    assert 'class="error-page' in html
    assert not _is_logged_in(web)
    assert web.get("/login").status_code == 200  # only POSTs are counted


def test_sign_up_is_rate_limited(app, web):
    allowed = _per_minute(app.config["SIGNUP_RATE_LIMIT"])
    use_language(web, "en")
    token = csrf_token(web, "/join")
    data = {
        "csrf_token": token,
        "display_name": "X",
        "email": "x@example.com",
        "password": "long-enough-pw",
        "confirm": "does-not-match",
    }
    for attempt in range(allowed):
        assert web.post("/join", data=data).status_code == 422, f"attempt {attempt + 1} was limited"
    limited = web.post("/join", data={**data, "confirm": "long-enough-pw"})
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert "Too many requests" in limited.get_data(as_text=True)
    assert _member_count() == 0


def test_password_reset_requests_are_rate_limited(app, web, outbox):
    allowed = _per_minute(app.config["RESET_RATE_LIMIT"])
    token = csrf_token(web, "/password/forgot")
    for _ in range(allowed):
        assert web.post("/password/forgot", data={"csrf_token": token, "email": "a@example.com"}).status_code == 302
    assert web.post("/password/forgot", data={"csrf_token": token, "email": "a@example.com"}).status_code == 429


# --- request size ----------------------------------------------------------------------------------------


def test_a_request_body_over_the_limit_gets_the_413_page(app, web, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    use_language(web, "en")
    token = csrf_token(web, "/join")
    response = web.post(
        "/join",
        data={"csrf_token": token, "display_name": "x" * 5000, "email": "big@example.com"},
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Too large" in html
    assert 'class="error-page' in html
    assert _member_count() == 0


def test_an_avatar_upload_over_the_limit_gets_the_413_page(app, web, monkeypatch):
    sign_in(web, MemberFactory())
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    token = csrf_token(web, "/account/profile")
    response = web.post(
        "/account/avatar",
        data={"csrf_token": token, "avatar": (io.BytesIO(b"\xff" * 10_000), "big.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
