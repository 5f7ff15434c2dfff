"""Error pages: every status in Persian by default and in English when asked, JSON for APIs, no tracebacks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from portal.app import create_app
from portal.errors import ERROR_TITLES, NotFound, ValidationFailed
from portal.events import bus
from portal.extensions import db
from tests.conftest import test_settings as make_settings
from tests.factories import PASSWORD, MemberFactory
from tests.portal.web import csrf_token, make_client, sign_in, use_language

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _title(app: Flask, status: int, language: str) -> str:
    with app.test_request_context(), force_locale(language):
        return str(ERROR_TITLES[status])


def _assert_error_page(app: Flask, response: Any, status: int, language: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'class="error-page' in html
    assert f'<h1 class="h3">{_title(app, status, language)}</h1>' in html
    if language == "fa":
        assert '<html lang="fa" dir="rtl">' in html
        assert "bootstrap.rtl.min.css" in html
        assert str(status).translate(PERSIAN_DIGITS) in html
    else:
        assert '<html lang="en" dir="ltr">' in html
        assert f'aria-hidden="true">{status}</p>' in html


# Each trigger makes a request on ``client`` (with ``query`` appended) that fails with its status.


def _bad_request(app, client, query):
    token = csrf_token(client)
    return client.post(f"/lang{query}", data={"csrf_token": token, "lang": "klingon"})


def _csrf_failure(app, client, query):
    return client.post(f"/logout{query}")


def _forbidden(app, client, query):
    sign_in(client, MemberFactory(language=None))
    return client.get(f"/admin/members{query}")


def _not_found(app, client, query):
    return client.get(f"/no-such-page{query}")


def _method_not_allowed(app, client, query):
    return client.get(f"/logout{query}")


def _too_large(app, client, query):
    token = csrf_token(client)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        return client.post(f"/join{query}", data={"csrf_token": token, "display_name": "x" * 4000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_BYTES"]


def _too_many_requests(app, client, query):
    token = csrf_token(client, "/login")
    data = {"csrf_token": token, "email": "nobody@example.com", "password": PASSWORD}
    allowed = int(re.match(r"\d+", app.config["LOGIN_RATE_LIMIT"]).group(0))
    for _ in range(allowed):
        client.post("/login", data=data)
    return client.post(f"/login{query}", data=data)


TRIGGERS: dict[str, tuple[int, Callable[..., Any]]] = {
    "400 bad request": (400, _bad_request),
    "400 csrf": (400, _csrf_failure),
    "403": (403, _forbidden),
    "404": (404, _not_found),
    "405": (405, _method_not_allowed),
    "413": (413, _too_large),
    "429": (429, _too_many_requests),
}


@pytest.mark.parametrize("name", TRIGGERS)
def test_error_pages_are_persian_and_right_to_left_by_default(app, name):
    status, trigger = TRIGGERS[name]
    _assert_error_page(app, trigger(app, make_client(app), ""), status, "fa")


@pytest.mark.parametrize("name", TRIGGERS)
def test_error_pages_are_english_with_lang_en_in_the_address(app, name):
    status, trigger = TRIGGERS[name]
    _assert_error_page(app, trigger(app, make_client(app), "?lang=en"), status, "en")


@pytest.mark.parametrize("name", TRIGGERS)
def test_error_pages_are_english_when_the_session_language_is_english(app, name):
    status, trigger = TRIGGERS[name]
    client = make_client(app)
    use_language(client, "en")
    _assert_error_page(app, trigger(app, client, ""), status, "en")


def test_english_error_pages_explain_what_happened(app):
    client = make_client(app)
    html = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert "The page you asked for does not exist or was moved." in html
    assert 'href="/"' in html


def test_a_members_saved_language_decides_the_error_page(app):
    client = make_client(app)
    sign_in(client, MemberFactory(language="en"))
    _assert_error_page(app, client.get("/no-such-page"), 404, "en")


def test_unknown_member_profile_is_the_404_page(app):
    _assert_error_page(app, make_client(app).get("/members/424242"), 404, "fa")


# --- JSON errors -----------------------------------------------------------------------------------------


def test_api_paths_get_a_json_error_body(app):
    response = make_client(app).get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {
        "error": {"code": "404", "message": "The page you asked for does not exist or was moved.", "fields": {}}
    }


def test_clients_that_prefer_json_get_a_json_error_body(app):
    response = make_client(app).get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "404"


def test_a_csrf_failure_in_json_names_its_code(app):
    response = make_client(app).post("/logout", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_browsers_get_html_even_when_they_accept_json_too(app):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = make_client(app).get("/no-such-page", headers={"Accept": accept})
    assert response.mimetype == "text/html"


# --- unexpected errors and domain errors, on a separate app --------------------------------------------------


@pytest.fixture
def separate_app(tmp_path, database_url) -> Iterator[Flask]:
    """An app of its own, where unexpected exceptions are handled as in production."""
    saved = (
        {k: list(v) for k, v in bus._subscribers.items()},
        {k: list(v) for k, v in bus._effects.items()},
        dict(bus.effects_by_name),
        set(bus._own_only),
    )
    other = create_app(make_settings(tmp_path, database_url, PROPAGATE_TEST_ERRORS=False))

    @other.get("/boom")
    def boom() -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    @other.get("/api/v1/boom")
    def api_boom() -> Any:
        raise RuntimeError("secret internals")

    @other.route("/refuse", methods=["GET", "POST"])
    def refuse() -> Any:
        raise ValidationFailed("That will not do.", fields={"name": "required"})

    @other.get("/missing-thing")
    def missing_thing() -> Any:
        raise NotFound()

    other.config["WTF_CSRF_ENABLED"] = False  # these routes have no forms
    try:
        yield other
    finally:
        bus.clear()
        bus._subscribers.update(saved[0])
        bus._effects.update(saved[1])
        bus.effects_by_name.update(saved[2])
        bus._own_only.update(saved[3])
        with other.app_context():
            db.engines[None].dispose()


def test_an_unexpected_exception_shows_the_500_page_not_a_traceback(separate_app, caplog, monkeypatch):
    # Alembic's fileConfig (run by the migrated-schema fixture) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("portal.errors"), "disabled", False)
    response = make_client(separate_app).get("/boom")
    _assert_error_page(separate_app, response, 500, "fa")
    html = response.get_data(as_text=True)
    assert "Traceback" not in html
    assert "hunter2" not in html
    assert "RuntimeError" not in html
    assert any("unhandled error on GET /boom" in record.getMessage() for record in caplog.records)


def test_the_500_page_is_english_when_asked(separate_app):
    response = make_client(separate_app).get("/boom?lang=en")
    _assert_error_page(separate_app, response, 500, "en")
    assert "An unexpected error happened on our side." in response.get_data(as_text=True)


def test_an_unexpected_exception_under_the_api_is_a_json_500(separate_app):
    response = make_client(separate_app).get("/api/v1/boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "500"
    assert "secret" not in response.get_data(as_text=True)


def test_a_domain_error_on_a_page_shows_its_message_with_its_status(separate_app):
    client = make_client(separate_app)
    use_language(client, "en")
    response = client.get("/missing-thing")
    assert response.status_code == 404
    assert "We could not find what you were looking for." in response.get_data(as_text=True)


def test_a_domain_error_on_a_form_post_flashes_and_goes_back(separate_app):
    client = make_client(separate_app)
    response = client.post("/refuse", headers={"Referer": "http://localhost/somewhere"})
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/somewhere"
    with client.session_transaction() as session:
        assert session["_flashes"] == [("danger", "That will not do.")]


def test_a_domain_error_in_json_carries_its_fields(separate_app):
    response = make_client(separate_app).post("/refuse", headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json() == {
        "error": {"code": "validation_failed", "message": "That will not do.", "fields": {"name": "required"}}
    }


def test_api_errors_are_english_unless_the_client_asks_for_persian(app):
    response = make_client(app).get("/api/v1/nothing-here", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "صفحه‌ای که خواستید وجود ندارد یا جابه‌جا شده است."
