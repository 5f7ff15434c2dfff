"""The /api/v1 plumbing: who may call (key, scope, session), the error bodies, pagination, rate limits."""

from __future__ import annotations

import pytest

from portal.api import services
from portal.api.models import ApiKey
from portal.extensions import db
from tests.api.conftest import bearer
from tests.factories import MemberFactory
from tests.portal.web import fresh, sign_in


def _error(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


# --- the authentication matrix ---------------------------------------------------------------------------


def test_no_key_is_401_with_a_bearer_challenge(web):
    response = web.get("/api/v1/members/1")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_error_messages_are_english_unless_the_client_asks_for_persian(app):
    from tests.portal.web import make_client

    response = make_client(app).get("/api/v1/members/1", headers={"Authorization": "Bearer nope"})
    assert response.get_json()["error"]["message"] == "This API key is not valid or has been revoked."
    persian = make_client(app).get(
        "/api/v1/members/1", headers={"Authorization": "Bearer nope", "Accept-Language": "fa-IR,fa;q=0.9"}
    )
    assert persian.get_json()["error"]["message"] == "این کلید API معتبر نیست یا باطل شده است."
    chosen = make_client(app).get("/api/v1/members/1?lang=fa", headers={"Authorization": "Bearer nope"})
    assert chosen.get_json()["error"]["message"] == "این کلید API معتبر نیست یا باطل شده است."


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Basic dXNlcjpwYXNz", "bgk_raw-key-without-scheme"])
def test_a_wrong_or_malformed_key_is_401(web, header):
    response = web.get("/api/v1/members/1", headers={"Authorization": header})
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_a_revoked_key_is_401(web, make_key):
    key = make_key("members:read")
    member = MemberFactory()
    db.session.commit()
    assert web.get(f"/api/v1/members/{member.id}", headers=bearer(key)).status_code == 200
    services.revoke_api_key(actor=None, key=services.key_by_plaintext(key))
    db.session.commit()
    response = web.get(f"/api/v1/members/{member.id}", headers=bearer(key))
    assert response.status_code == 401
    assert "revoked" in _error(response)["message"]


def test_a_key_without_the_scope_is_403_naming_it(web, make_key):
    key = make_key("events:write")
    response = web.get("/api/v1/members/1", headers=bearer(key))
    assert response.status_code == 403
    error = _error(response)
    assert error["code"] == "missing_scope"
    assert error["fields"] == {"scopes": "members:read"}


def test_a_key_with_the_scope_gets_in_and_its_use_is_recorded(web, make_key):
    key = make_key("members:read")
    member = MemberFactory()
    db.session.commit()
    response = web.get(f"/api/v1/members/{member.id}", headers=bearer(key))
    assert response.status_code == 200
    assert response.get_json()["id"] == member.id
    stored = fresh(services.key_by_plaintext(key))
    assert stored.last_used_at is not None


def test_only_the_hash_of_a_key_is_stored(make_key):
    key = make_key("members:read")
    stored = db.session.scalars(db.select(ApiKey)).one()
    assert key not in (stored.key_hash, stored.prefix)
    assert stored.key_hash == services.hash_key(key)
    assert key.startswith(stored.prefix)


def test_a_session_reads_its_own_member_but_not_others(web):
    me = MemberFactory()
    other = MemberFactory()
    sign_in(web, me)
    assert web.get(f"/api/v1/members/{me.id}").status_code == 200
    response = web.get(f"/api/v1/members/{other.id}")
    assert response.status_code == 403
    assert _error(response)["code"] == "forbidden"


def test_a_session_cannot_use_key_only_endpoints(web):
    sign_in(web, MemberFactory())
    response = web.post("/api/v1/members", json={"external_id": "x", "email": "x@example.com"})
    assert response.status_code == 401


def test_bearer_calls_need_no_csrf_token(web, make_key):
    key = make_key("members:write")
    response = web.post("/api/v1/members", json={"external_id": "c-1", "email": "c1@example.com"}, headers=bearer(key))
    assert response.status_code == 201


# --- error bodies for bad input -------------------------------------------------------------------------


def test_malformed_json_is_400_and_writes_nothing(web, make_key):
    key = make_key("members:write")
    response = web.post(
        "/api/v1/members", data=b'{"external_id": "a",', content_type="application/json", headers=bearer(key)
    )
    assert response.status_code == 400
    assert _error(response)["fields"] == {"body": "malformed_json"}
    assert db.session.scalar(db.select(db.func.count()).select_from(MemberFactory._meta.model)) == 0


@pytest.mark.parametrize("raw", [b"", b"NaN", b"\xff\xfe", b"[" * 100_000])
def test_bodies_that_are_not_json_are_400(web, make_key, raw):
    key = make_key("members:write")
    response = web.post("/api/v1/members", data=raw, content_type="application/json", headers=bearer(key))
    assert response.status_code == 400
    assert _error(response)["code"] == "bad_request"


def test_wrong_types_and_unknown_fields_are_422_naming_each_field(web, make_key):
    key = make_key("members:write")
    response = web.post(
        "/api/v1/members",
        json={"external_id": 42, "email": ["a"], "city": "x" * 101, "nickname": "z"},
        headers=bearer(key),
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_failed"
    assert error["fields"] == {
        "external_id": "wrong_type",
        "email": "wrong_type",
        "city": "too_long",
        "nickname": "unknown_field",
    }


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"7", b"null"])
def test_a_body_that_is_not_an_object_is_422(web, make_key, body):
    key = make_key("members:write")
    response = web.post("/api/v1/members", data=body, content_type="application/json", headers=bearer(key))
    assert response.status_code == 422
    assert "body" in _error(response)["fields"]


def test_text_no_database_can_hold_is_refused(web, make_key):
    key = make_key("members:write")
    response = web.post(
        "/api/v1/members", json={"external_id": "nul\u0000", "email": "n@example.com"}, headers=bearer(key)
    )
    assert response.status_code == 422
    assert _error(response)["fields"] == {"external_id": "invalid"}


def test_a_body_over_the_limit_is_413(app, web, make_key):
    key = make_key("members:write")
    app.config["API_MAX_BODY_BYTES"] = 1000
    try:
        response = web.post(
            "/api/v1/members",
            json={"external_id": "big", "email": "b@example.com", "city": "x" * 5000},
            headers=bearer(key),
        )
    finally:
        app.config["API_MAX_BODY_BYTES"] = 2 * 1024 * 1024
    assert response.status_code == 413
    assert _error(response)["code"] == "413"


@pytest.mark.parametrize("ref", ["999999", "ext:nobody", "abc", "99999999999999999999", "-1"])
def test_an_unknown_member_ref_is_404_member_not_found(web, make_key, ref):
    key = make_key("members:read")
    response = web.get(f"/api/v1/members/{ref}", headers=bearer(key))
    assert response.status_code == 404
    assert _error(response)["code"] == "member_not_found"


def test_an_unknown_api_path_and_a_wrong_method_answer_json(web, make_key):
    key = make_key("members:read")
    assert _error(web.get("/api/v1/nothing", headers=bearer(key)))["code"] == "404"
    response = web.put("/api/v1/members", headers=bearer(key))
    assert response.status_code == 405
    assert _error(response)["code"] == "405"


# --- pagination ----------------------------------------------------------------------------------------


def _subscribe(n: int) -> None:
    for i in range(n):
        services.create_webhook(actor=None, url=f"https://example.com/hook/{i}", events=["*"])
    db.session.commit()


def test_pages_follow_their_cursors_to_the_end_without_repeats(web, make_key):
    key = make_key("webhooks:admin")
    _subscribe(7)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        body = web.get(f"/api/v1/webhooks{query}", headers=bearer(key)).get_json()
        assert set(body) == {"items", "next_cursor"}
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "limit=-5", "cursor=%E2%9C%93", "cursor=zzz"])
def test_bad_limits_and_cursors_are_400(web, make_key, query):
    key = make_key("webhooks:admin")
    _subscribe(1)
    response = web.get(f"/api/v1/webhooks?{query}", headers=bearer(key))
    assert response.status_code == 400
    assert set(_error(response)["fields"]) <= {"limit", "cursor"}


# --- rate limits --------------------------------------------------------------------------------------------


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(app, web, make_key):
    first = make_key("members:read", name="First")
    second = make_key("members:read", name="Second")
    member = MemberFactory()
    db.session.commit()
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [web.get(f"/api/v1/members/{member.id}", headers=bearer(first)).status_code for _ in range(3)]
        limited = web.get(f"/api/v1/members/{member.id}", headers=bearer(first))
        other_key = web.get(f"/api/v1/members/{member.id}", headers=bearer(second))
    finally:
        app.config["API_RATE_LIMIT"] = "600 per minute"
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert _error(limited)["code"] == "429"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert other_key.status_code == 200
