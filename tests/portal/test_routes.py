"""Every route the app registers answers an anonymous request, and each role's, without a server error.

The rules are read from ``app.url_map`` at run time, so every package's new routes are walked
without editing this file. URL parts get plausible dummy values by converter; a POST-only
(or PUT/PATCH/DELETE) rule is called with and without a CSRF token and an empty body.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.factories import MemberFactory
from tests.portal.web import csrf_token, make_client, sign_in

# endpoint -> why it cannot be called this way. Keep it short; every entry needs its reason.
SKIP: dict[str, str] = {}

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _dummy(rule: Rule, name: str, converter: Any, ids: dict[str, int]) -> Any:
    kind = type(converter).__name__
    if kind == "IntegerConverter":
        return ids.get(name, ids["default"])
    if kind == "FloatConverter":
        return 1.5
    if kind == "UUIDConverter":
        return uuid.UUID(int=1)
    if kind == "AnyConverter":
        return sorted(converter.items)[0]
    if kind == "PathConverter":
        return "nothing/here.txt"
    return "dummy-value"


def _walk(app: Flask, ids: dict[str, int]) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every callable rule."""
    adapter = app.url_map.bind("localhost")
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        values = {name: _dummy(rule, name, conv, ids) for name, conv in rule._converters.items()}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = adapter.build(rule.endpoint, values, method=method)
            calls.append((method, url, rule.endpoint))
    return calls


def _request(client, method: str, url: str, *, with_csrf: bool):
    if method == "GET":
        return client.get(url)
    data = {"csrf_token": csrf_token(client)} if with_csrf else {}
    return client.open(url, method=method, data=data)


def _server_errors(app: Flask, ids: dict[str, int], prepare) -> list[str]:
    failures = []
    for method, url, endpoint in _walk(app, ids):
        variants = (False, True) if method in BODY_METHODS else (False,)
        for with_csrf in variants:
            client = prepare()
            response = _request(client, method, url, with_csrf=with_csrf)
            label = f"{method} {url} ({endpoint}{', with CSRF' if with_csrf else ''})"
            if not 200 <= response.status_code < 500:
                failures.append(f"{label}: {response.status_code}")
    return failures


@pytest.fixture
def ids() -> dict[str, int]:
    """Real ids where a URL names a member, so that the happy path is walked as well as the 404."""
    member = MemberFactory()
    return {"default": member.id, "member_id": member.id}


def test_the_walk_finds_the_routes_of_the_app(app, ids):
    endpoints = {endpoint for _, _, endpoint in _walk(app, ids)}
    assert {"home.index", "accounts.join", "accounts.login", "notifications.index", "admin.index"} <= endpoints
    assert set(SKIP) <= {rule.endpoint for rule in app.url_map.iter_rules()}, "a skipped endpoint no longer exists"


def test_every_route_answers_an_anonymous_request_without_a_server_error(app, ids):
    failures = _server_errors(app, ids, lambda: make_client(app))
    assert failures == [], "routes that answered 5xx or something odd:\n" + "\n".join(failures)


@pytest.mark.parametrize("role", ["member", "moderator", "agent", "admin"])
def test_every_route_answers_every_role_without_a_server_error(app, ids, role):
    member = MemberFactory(role=role)

    def signed_in():
        # A fresh signed-in client per request: a walked POST /logout must not change the next call.
        client = make_client(app)
        sign_in(client, member)
        return client

    failures = _server_errors(app, ids, signed_in)
    assert failures == [], "routes that answered 5xx or something odd:\n" + "\n".join(failures)


def test_anonymous_pages_that_need_a_login_send_the_visitor_to_log_in(app, ids):
    client = make_client(app)
    for path in ("/account/settings", "/notifications/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path
