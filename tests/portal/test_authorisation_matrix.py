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
    "admin_segments.index":          ("GET",  "/admin/segments/",                         "L", "D", "D", "D", "O"),
    "admin_segments.create":         ("GET",  "/admin/segments/new",                      "L", "D", "D", "D", "O"),
    "admin_segments.preview":        ("POST", "/admin/segments/preview",                  "L", "D", "D", "D", "O"),
    "admin_segments.members":        ("GET",  "/admin/segments/987654",                   "L", "D", "D", "D", "R"),
    "admin_segments.edit":           ("GET",  "/admin/segments/987654/edit",              "L", "D", "D", "D", "R"),
    "admin_segments.delete":         ("POST", "/admin/segments/987654/delete",            "L", "D", "D", "D", "R"),
    "admin_segments.export":         ("GET",  "/admin/segments/987654/members.csv",       "L", "D", "D", "D", "R"),
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
    "api.create_webhook":            ("POST", "/api/v1/webhooks",                          "D", "D", "D", "D", "D"),
    "api.delete_webhook":            ("DELETE", "/api/v1/webhooks/987654",                   "D", "D", "D", "D", "D"),
    "api.delete_webhook_by_query":   ("DELETE", "/api/v1/webhooks",                          "D", "D", "D", "D", "D"),
    "api.get_me":                    ("GET",  "/api/v1/me",                                "D", "O", "O", "O", "O"),
    "api.get_member":                ("GET",  "/api/v1/members/x",                         "D", "R", "R", "R", "R"),
    "api.get_ticket":                ("GET",  "/api/v1/tickets/BG-2222-2222",              "R", "R", "R", "R", "R"),
    "api.list_webhooks":             ("GET",  "/api/v1/webhooks",                          "D", "D", "D", "D", "D"),
    "api.openapi_document":          ("GET",  "/api/v1/openapi.json",                      "O", "O", "O", "O", "O"),
    "api.open_ticket":               ("POST", "/api/v1/tickets",                           "R", "R", "R", "R", "R"),
    "api.upsert_member":             ("POST", "/api/v1/members",                           "D", "D", "D", "D", "D"),
    "api.record_event":              ("POST", "/api/v1/events",                            "D", "D", "D", "D", "D"),
    "api.record_events":             ("POST", "/api/v1/events/batch",                      "D", "D", "D", "D", "D"),
    "api.member_ledger":             ("GET",  "/api/v1/members/x/ledger",                  "D", "R", "R", "R", "R"),
    "api.leaderboard":               ("GET",  "/api/v1/leaderboard",                       "D", "O", "O", "O", "O"),
    "api_admin.api_keys":            ("GET",  "/admin/integration/keys",                   "L", "D", "D", "D", "O"),
    "api_admin.delete_webhook":      ("POST", "/admin/integration/webhooks/987654/delete", "L", "D", "D", "D", "R"),
    "api_admin.deliveries":          ("GET",  "/admin/integration/webhooks/deliveries",    "L", "D", "D", "D", "O"),
    "api_admin.redeliver":           ("POST", "/admin/integration/webhooks/deliveries/987654/redeliver", "L", "D", "D", "D", "R"),  # noqa: E501
    "api_admin.revoke_key":          ("POST", "/admin/integration/keys/987654/revoke",     "L", "D", "D", "D", "R"),
    "api_admin.webhooks":            ("GET",  "/admin/integration/webhooks",               "L", "D", "D", "D", "O"),
    "contests.admin_edit":           ("GET",  "/admin/contests/987654/edit",               "L", "D", "D", "D", "R"),
    "contests.admin_entries":        ("GET",  "/admin/contests/987654/entries",            "L", "D", "D", "D", "R"),
    "contests.admin_list":           ("GET",  "/admin/contests",                           "L", "D", "D", "D", "O"),
    "contests.admin_review":         ("POST", "/admin/contests/987654/entries/987654/review", "L", "D", "D", "D", "R"),
    "contests.admin_votes_csv":      ("GET",  "/admin/contests/987654/votes.csv",          "L", "D", "D", "D", "R"),
    "contests.detail":               ("GET",  "/contests/987654",                          "R", "R", "R", "R", "R"),
    "contests.enter":                ("POST", "/contests/987654/enter",                    "L", "R", "R", "R", "R"),
    "contests.index":                ("GET",  "/contests",                                 "O", "O", "O", "O", "O"),
    "contests.unvote":               ("POST", "/contests/987654/entries/987654/unvote",    "L", "R", "R", "R", "R"),
    "contests.vote":                 ("POST", "/contests/987654/entries/987654/vote",      "L", "R", "R", "R", "R"),
    "desk.assign":                   ("POST", "/desk/t/x/assign",                          "L", "D", "D", "R", "R"),
    "desk.canned":                   ("GET",  "/desk/canned",                              "L", "D", "D", "O", "O"),
    "desk.figures_page":             ("GET",  "/desk/figures",                             "L", "D", "D", "O", "O"),
    "desk.inbox":                    ("GET",  "/desk/",                                    "L", "D", "D", "O", "O"),
    "desk.kb_search":                ("GET",  "/desk/kb-search",                           "L", "D", "D", "O", "O"),
    "desk.merge":                    ("POST", "/desk/t/x/merge",                           "L", "D", "D", "R", "R"),
    "desk.note":                     ("POST", "/desk/t/x/note",                            "L", "D", "D", "R", "R"),
    "desk.priority":                 ("POST", "/desk/t/x/priority",                        "L", "D", "D", "R", "R"),
    "desk.reply":                    ("POST", "/desk/t/x/reply",                           "L", "D", "D", "R", "R"),
    "desk.sla_settings":             ("GET",  "/desk/sla",                                 "L", "D", "D", "D", "O"),
    "desk.status":                   ("POST", "/desk/t/x/status",                          "L", "D", "D", "R", "R"),
    "desk.teams":                    ("GET",  "/desk/teams/987654",                        "L", "D", "D", "D", "R"),
    "desk.ticket":                   ("GET",  "/desk/t/x",                                 "L", "D", "D", "R", "R"),
    "engine.adjust":                 ("GET",  "/admin/points/adjust",                      "L", "D", "D", "D", "O"),
    "engine.badge_toggle":           ("POST", "/admin/points/badges/987654/toggle",        "L", "D", "D", "D", "R"),
    "engine.badges":                 ("GET",  "/admin/points/badges",                      "L", "D", "D", "D", "O"),
    "engine.badge_edit":             ("GET",  "/admin/points/badges/new",                  "L", "D", "D", "D", "O"),
    "engine.held_referrals":         ("GET",  "/admin/points/referrals",                   "L", "D", "D", "D", "O"),
    "engine.leaderboard":            ("GET",  "/leaderboard",                              "O", "O", "O", "O", "O"),
    "engine.my_points":              ("GET",  "/points",                                   "L", "O", "O", "O", "O"),
    "engine.rule_edit":              ("GET",  "/admin/points/rules/987654",                "L", "D", "D", "D", "R"),
    "engine.rule_preview":           ("POST", "/admin/points/rules/preview",               "L", "D", "D", "D", "O"),
    "engine.rule_simulate":          ("POST", "/admin/points/rules/simulate",              "L", "D", "D", "D", "O"),
    "engine.rules":                  ("GET",  "/admin/points/rules",                       "L", "D", "D", "D", "O"),
    "engine.tiers":                  ("GET",  "/admin/points/tiers",                       "L", "D", "D", "D", "O"),
    "engine.tier_new":               ("GET",  "/admin/points/tiers/new",                   "L", "D", "D", "D", "O"),
    "forums.category":               ("GET",  "/forums/c/987654",                          "R", "R", "R", "R", "R"),
    "forums.delete":                 ("POST", "/forums/p/987654/delete",                   "L", "R", "R", "R", "R"),
    "forums.edit":                   ("GET",  "/forums/p/987654/edit",                     "L", "R", "R", "R", "R"),
    "forums.first_unread":           ("GET",  "/forums/t/987654/unread",                   "R", "R", "R", "R", "R"),
    "forums.follow_category":        ("POST", "/forums/c/987654/follow",                   "L", "R", "R", "R", "R"),
    "forums.follow_topic":           ("POST", "/forums/t/987654/follow",                   "L", "R", "R", "R", "R"),
    "forums.index":                  ("GET",  "/forums/",                                  "O", "O", "O", "O", "O"),
    "forums.latest":                 ("GET",  "/forums/latest",                            "O", "O", "O", "O", "O"),
    "forums.like":                   ("POST", "/forums/p/987654/like",                     "L", "R", "R", "R", "R"),
    "forums.likers":                 ("GET",  "/forums/p/987654/likers",                   "R", "R", "R", "R", "R"),
    "forums.moderate_post":          ("POST", "/forums/p/987654/moderate",                 "L", "R", "R", "R", "R"),
    "forums.moderate_topic":         ("POST", "/forums/t/987654/moderate",                 "L", "R", "R", "R", "R"),
    "forums.new_category":           ("GET",  "/forums/categories/new",                    "L", "D", "D", "D", "O"),
    "forums.new_topic":              ("GET",  "/forums/c/987654/new",                      "L", "R", "R", "R", "R"),
    "forums.post":                   ("GET",  "/forums/p/987654",                          "R", "R", "R", "R", "R"),
    "forums.post_fragment":          ("GET",  "/forums/p/987654/fragment",                 "R", "R", "R", "R", "R"),
    "forums.preferences":            ("GET",  "/forums/preferences",                       "L", "O", "O", "O", "O"),
    "forums.reply":                  ("GET",  "/forums/t/987654/reply",                    "L", "R", "R", "R", "R"),
    "forums.revisions":              ("GET",  "/forums/p/987654/revisions",                "L", "R", "R", "R", "R"),
    "forums.topic":                  ("GET",  "/forums/t/987654",                          "R", "R", "R", "R", "R"),
    "forums.upload":                 ("POST", "/forums/uploads",                           "L", "O", "O", "O", "O"),
    "forums.vote":                   ("POST", "/forums/t/987654/vote",                     "L", "R", "R", "R", "R"),
    "kb.article":                    ("GET",  "/kb/a/987654/x",                            "R", "R", "R", "R", "R"),
    "kb.categories":                 ("GET",  "/kb/manage/categories",                     "L", "D", "D", "O", "O"),
    "kb.category":                   ("GET",  "/kb/c/x",                                   "R", "R", "R", "R", "R"),
    "kb.edit_article":               ("GET",  "/kb/manage/987654/edit",                    "L", "D", "D", "R", "R"),
    "kb.index":                      ("GET",  "/kb/",                                      "O", "O", "O", "O", "O"),
    "kb.manage":                     ("GET",  "/kb/manage",                                "L", "D", "D", "O", "O"),
    "kb.new_article":                ("GET",  "/kb/manage/new",                            "L", "D", "D", "O", "O"),
    "kb.publish":                    ("POST", "/kb/manage/987654/publish",                 "L", "D", "D", "R", "R"),
    "kb.vote":                       ("POST", "/kb/a/987654/vote",                         "R", "R", "R", "R", "R"),
    "quizzes.admin_archive_question":("POST", "/admin/quizzes/questions/987654/archive",   "L", "D", "D", "D", "R"),
    "quizzes.admin_bank":            ("GET",  "/admin/quizzes/banks/987654",               "L", "D", "D", "D", "R"),
    "quizzes.admin_create_bank":     ("POST", "/admin/quizzes/banks",                      "L", "D", "D", "D", "O"),
    "quizzes.admin_edit":            ("GET",  "/admin/quizzes/987654/edit",                "L", "D", "D", "D", "R"),
    "quizzes.admin_index":           ("GET",  "/admin/quizzes",                            "L", "D", "D", "D", "O"),
    "quizzes.answer":                ("POST", "/quizzes/attempts/987654/answer",           "L", "R", "R", "R", "R"),
    "quizzes.attempt":               ("GET",  "/quizzes/attempts/987654",                  "L", "R", "R", "R", "R"),
    "quizzes.detail":                ("GET",  "/quizzes/987654",                           "R", "R", "R", "R", "R"),
    "quizzes.index":                 ("GET",  "/quizzes",                                  "O", "O", "O", "O", "O"),
    "quizzes.live_answer":           ("POST", "/quizzes/live/987654/answer",               "L", "R", "R", "R", "R"),
    "quizzes.live_host":             ("GET",  "/quizzes/live/987654/host",                 "L", "D", "D", "D", "R"),
    "quizzes.live_play":             ("GET",  "/quizzes/live/987654",                      "L", "R", "R", "R", "R"),
    "quizzes.live_start":            ("POST", "/admin/quizzes/987654/live",                "L", "D", "D", "D", "R"),
    "quizzes.result":                ("GET",  "/quizzes/attempts/987654/result",           "L", "R", "R", "R", "R"),
    "quizzes.start":                 ("POST", "/quizzes/987654/start",                     "L", "R", "R", "R", "R"),
    "quizzes.submit":                ("POST", "/quizzes/attempts/987654/submit",           "L", "R", "R", "R", "R"),
    "search.index":                  ("GET",  "/search/",                                  "O", "O", "O", "O", "O"),
    "tickets.attachment":            ("GET",  "/support/attachments/987654",               "R", "R", "R", "R", "R"),
    "tickets.follow_link":           ("GET",  "/support/t/x/link/x",                       "R", "R", "R", "R", "R"),
    "tickets.index":                 ("GET",  "/support/",                                 "O", "O", "O", "O", "O"),
    "tickets.mine":                  ("GET",  "/support/tickets",                          "L", "O", "O", "O", "O"),
    "tickets.new":                   ("GET",  "/support/new",                              "O", "O", "O", "O", "O"),
    "tickets.open_suggestion":       ("GET",  "/support/suggested/987654",                 "R", "R", "R", "R", "R"),
    "tickets.rate":                  ("GET",  "/support/t/x/rate",                         "R", "R", "R", "R", "R"),
    "tickets.rate_link":             ("GET",  "/support/t/x/rate/x",                       "R", "R", "R", "R", "R"),
    "tickets.reply":                 ("POST", "/support/t/x/reply",                        "R", "R", "R", "R", "R"),
    "tickets.show":                  ("GET",  "/support/t/x",                              "R", "R", "R", "R", "R"),
    "tickets.suggest":               ("GET",  "/support/suggest",                          "O", "O", "O", "O", "O"),
    "tickets.track":                 ("GET",  "/support/track",                            "O", "O", "O", "O", "O"),
    "engine.review_referral":       ("POST", "/admin/points/referrals/987654/approve",   "L", "D", "D", "D", "R"),
    "quizzes.live_step":            ("POST", "/quizzes/live/987654/next",                "L", "D", "D", "D", "R"),
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
