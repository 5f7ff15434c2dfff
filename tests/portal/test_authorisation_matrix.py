"""Every route of the app × every role → the expected outcome. A route missing from the table fails the test.

Add one line per new endpoint: ``"endpoint": (method, path, anonymous, member, moderator, agent, admin)``.
In the path, ``{member}`` becomes a real member's id; other ids may point at nothing (the
view is then reached and answers 404, which still proves the role got in). Outcomes:

* ``O`` — reached and answered 2xx/3xx (not a redirect to the login page);
* ``R`` — reached: anything but a login redirect, 401 or 403 (bad or missing input may give 400/404/422);
* ``L`` — sent to log in; ``D`` — denied (403).

POSTs are sent with CSRF checks off and no data: the question is who gets in, not what they send.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import AdminFactory, AgentFactory, MemberFactory, ModeratorFactory
from tests.portal.web import make_client, sign_in

ROLES = ("anonymous", "member", "moderator", "agent", "admin")
FACTORIES = {"member": MemberFactory, "moderator": ModeratorFactory, "agent": AgentFactory, "admin": AdminFactory}

# fmt: off
MATRIX: dict[str, tuple[str, str, str, str, str, str, str]] = {
    # endpoint                       method  path                                        anon member mod  agent admin
    "static":                        ("GET",  "/static/css/app.css",                      "O", "O", "O", "O", "O"),
    "home.index":                    ("GET",  "/",                                        "O", "O", "O", "O", "O"),
    "home.health":                   ("GET",  "/healthz",                                 "O", "O", "O", "O", "O"),
    "home.media_file":               ("GET",  "/media/missing.webp",                      "R", "R", "R", "R", "R"),
    "home.switch_language":          ("POST", "/lang",                                    "R", "R", "R", "R", "R"),
    "accounts.join":                 ("GET",  "/join",                                    "O", "O", "O", "O", "O"),
    "accounts.signup_alias":         ("GET",  "/signup",                                  "O", "O", "O", "O", "O"),
    "accounts.login":                ("GET",  "/login",                                   "O", "O", "O", "O", "O"),
    "accounts.logout":               ("POST", "/logout",                                  "O", "O", "O", "O", "O"),
    "accounts.forgot_password":      ("GET",  "/password/forgot",                         "O", "O", "O", "O", "O"),
    "accounts.reset_password":       ("GET",  "/password/reset/not-a-token",              "O", "O", "O", "O", "O"),
    "accounts.verify_email":         ("GET",  "/verify/not-a-token",                      "R", "R", "R", "R", "R"),
    "accounts.confirm_email_change": ("GET",  "/account/email/confirm/not-a-token",       "R", "R", "R", "R", "R"),
    "accounts.resend_verification":  ("POST", "/verify/resend",                           "L", "O", "O", "O", "O"),
    "accounts.settings":             ("GET",  "/account/settings",                        "L", "O", "O", "O", "O"),
    "accounts.change_password":      ("POST", "/account/password",                        "L", "R", "R", "R", "R"),
    "accounts.change_email":         ("POST", "/account/email",                           "L", "R", "R", "R", "R"),
    "accounts.profile_edit":         ("GET",  "/account/profile",                         "L", "O", "O", "O", "O"),
    "accounts.avatar_upload":        ("POST", "/account/avatar",                          "L", "O", "O", "O", "O"),
    "accounts.avatar_remove":        ("POST", "/account/avatar/remove",                   "L", "O", "O", "O", "O"),
    "accounts.profile":              ("GET",  "/members/{member}",                        "O", "O", "O", "O", "O"),
    "notifications.index":           ("GET",  "/notifications/",                          "L", "O", "O", "O", "O"),
    "notifications.bell":            ("GET",  "/notifications/bell",                      "L", "O", "O", "O", "O"),
    "notifications.read":            ("POST", "/notifications/987654/read",               "L", "O", "O", "O", "O"),
    "notifications.read_all":        ("POST", "/notifications/read-all",                  "L", "O", "O", "O", "O"),
    "admin.index":                   ("GET",  "/admin/",                                  "L", "D", "D", "D", "O"),
    "admin.members":                 ("GET",  "/admin/members",                           "L", "D", "D", "D", "O"),
    "admin.organisations":           ("GET",  "/admin/organisations",                     "L", "D", "D", "D", "O"),
    "admin.change_role":             ("POST", "/admin/members/{member}/role",             "L", "D", "D", "D", "R"),
    "moderation.flag":               ("POST", "/moderation/flag/post/987654",             "L", "R", "R", "R", "R"),
    "moderation.warning":            ("GET",  "/moderation/warnings/987654",              "L", "R", "R", "R", "R"),
    "moderation.acknowledge":        ("POST", "/moderation/warnings/987654/acknowledge",  "L", "R", "R", "R", "R"),
    "moderation.queue_index":        ("GET",  "/moderation/",                             "L", "D", "O", "D", "O"),
    "moderation.queue_count":        ("GET",  "/moderation/queue/count",                  "L", "D", "O", "D", "O"),
    "moderation.resolve":            ("POST", "/moderation/queue/987654/approve",         "L", "D", "R", "D", "R"),
    "moderation.audit":              ("GET",  "/moderation/audit",                        "L", "D", "O", "D", "O"),
    "moderation.audit_csv":          ("GET",  "/moderation/audit.csv",                    "L", "D", "O", "D", "O"),
    "moderation.dossier":            ("GET",  "/moderation/members/{member}",             "L", "D", "O", "D", "O"),
    "moderation.add_note":           ("POST", "/moderation/members/{member}/notes",       "L", "D", "R", "D", "R"),
    "moderation.sanction":           ("POST", "/moderation/members/{member}/sanctions",   "L", "D", "R", "D", "R"),
    "moderation.set_trust":          ("POST", "/moderation/members/{member}/trust",       "L", "D", "R", "D", "R"),
    "moderation.lift":               ("POST", "/moderation/sanctions/987654/lift",        "L", "D", "R", "D", "R"),
    "moderation.word_rules":         ("GET",  "/moderation/words",                        "L", "D", "D", "D", "O"),
    "moderation.delete_word":        ("POST", "/moderation/words/987654/delete",          "L", "D", "D", "D", "R"),
}
# fmt: on


def test_every_route_of_the_app_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - MATRIX.keys())
    stale = sorted(MATRIX.keys() - endpoints)
    assert not missing, f"add these endpoints to MATRIX in {__file__}: {missing}"
    assert not stale, f"these endpoints no longer exist; remove them from MATRIX: {stale}"


def _outcome(response: Any) -> str:
    status = response.status_code
    if status in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "L"
    if status in (401, 403):
        return "D"
    if status >= 500:
        return "500"
    return "O" if status < 400 else "R"


def _matches(expected: str, actual: str) -> bool:
    return actual == expected or (expected == "R" and actual == "O")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_the_matrix_says(app, role):
    target = MemberFactory()
    person = FACTORIES[role]() if role != "anonymous" else None
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["PROPAGATE_TEST_ERRORS"] = False
    wrong = []
    try:
        for endpoint, (method, path, *expected_by_role) in MATRIX.items():
            client = make_client(app)
            if person is not None:
                sign_in(client, person)
            url = path.format(member=target.id)
            response = client.open(url, method=method, data={} if method == "POST" else None)
            response.close()  # file responses (static, media) hold their file open until closed
            expected = expected_by_role[ROLES.index(role)]
            actual = _outcome(response)
            if not _matches(expected, actual):
                wrong.append(f"{endpoint} {method} {url}: expected {expected}, got {actual} ({response.status_code})")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
        app.config["PROPAGATE_TEST_ERRORS"] = True
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
