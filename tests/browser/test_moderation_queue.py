"""In a real browser: a member's flag raises the moderator's queue count live, and the keyboard resolves it.

The application runs as its own server process on a migrated SQLite file (a free port,
stopped at the end). The first test flags a member account, the content kind moderation
registers itself; the second flags a forum post through the button on the topic page, and
the moderator's decision takes back the points the post and its like had earned.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_python

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser-test-pw"


# Two rules, a topic, and the author's reply liked once: written before the server starts.
FORUM_SETUP = """
import json
import sqlalchemy as sa
from wsgi import app
from forums import services, social
from forums.models import Category
from gamification.engine.models import Rule
from portal.accounts.models import Member
from portal.extensions import db
from portal.moderation.settings import gates_lifted

with app.app_context(), gates_lifted(app):
    def member(email):
        return db.session.scalar(sa.select(Member).where(Member.email == email))
    for code, event_type, points in (("reply", "post.created", 10), ("liked", "like.received", 3)):
        db.session.add(Rule(code=code, name_fa=code, name_en=code, event_type=event_type, points=points,
                            feeds="both", is_active=True, community=True, apply_multiplier=True))
    category = Category(name="Photography", description="Cameras and lenses", position=1, allowed_roles=[])
    db.session.add(category)
    db.session.flush()
    topic = services.create_topic(actor=member("liker@example.com"), category=category, title="Best lens",
                                  body="Which lens do you use most?")
    post = services.reply(actor=member("author@example.com"), topic=topic, body="Buy cheap lenses at my shop")
    social.like_post(actor=member("liker@example.com"), post=post)
    db.session.commit()
    print(json.dumps({"topic": topic.id, "post": post.id}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict[str, str], *args: str) -> str:
    return run_python("-m", "flask", "--app", "wsgi", *args, env=env, check=True).stdout


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (/usr/bin/chromium)")
    pytest.importorskip("playwright")
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'live.db'}",
        "PORTAL_UPLOADS_ROOT": str(tmp / "uploads"),
        "PORTAL_SEARCH_INDEX_DIR": str(tmp / "search"),
        "PORTAL_MAIL_BACKEND": "file",
        "PORTAL_MAIL_FILE_DIR": str(tmp / "mail"),
        "PORTAL_SMS_BACKEND": "file",
        "PORTAL_SMS_FILE_DIR": str(tmp / "sms"),
        "PORTAL_REDIS_URL": "",
        "PORTAL_DEFAULT_LANGUAGE": "en",
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    _flask(env, "db", "upgrade")
    ids = {}
    for email, role in (
        ("mod@example.com", "moderator"),
        ("flagger@example.com", "member"),
        ("spammer@example.com", "member"),
        ("author@example.com", "member"),
        ("liker@example.com", "member"),
    ):
        out = _flask(env, "portal", "user", "create", email, "--role", role, "--password", PASSWORD)
        ids[email] = re.search(r"id (\d+)", out).group(1)
    forum = json.loads(run_python("-c", FORUM_SETUP, env=env, check=True).stdout.strip().splitlines()[-1])
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start: " + (tmp / "server.log").read_text())
        yield {"base": base, **ids, **forum}
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _log_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_a_flag_raises_the_count_live_and_the_keyboard_hides_the_item(live_server, artifacts):
    from playwright.sync_api import expect, sync_playwright

    base = live_server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            moderator = browser.new_context().new_page()
            _log_in(moderator, base, "mod@example.com")
            moderator.goto(base + "/moderation/")
            expect(moderator.locator('[data-testid="queue-empty"]')).to_be_visible()
            expect(moderator.locator("body")).to_have_attribute("data-live", "connected")
            badge = moderator.locator("#mod-queue-count")
            expect(badge).to_have_attribute("data-count", "0")

            member = browser.new_context().new_page()
            _log_in(member, base, "flagger@example.com")
            token = member.locator('meta[name="csrf-token"]').get_attribute("content")
            answer = member.request.post(
                f"{base}/moderation/flag/member/{live_server['spammer@example.com']}",
                form={"csrf_token": token, "reason": "spam"},
                headers={"HX-Request": "true", "X-CSRFToken": token},
            )
            assert answer.status == 200, answer.text()

            # No reload: the count arrives over Socket.IO.
            expect(badge).to_have_attribute("data-count", "1")
            expect(badge).to_be_visible()

            moderator.reload()
            expect(moderator.locator(".queue-item")).to_have_count(1)
            moderator.keyboard.press("?")
            expect(moderator.locator("#queue-help")).to_be_visible()
            moderator.keyboard.press("j")
            expect(moderator.locator(".queue-item").first).to_have_class(re.compile("queue-item-current"))
            moderator.screenshot(path=str(artifacts / "moderation-queue.png"), full_page=True)
            moderator.keyboard.press("h")
            moderator.wait_for_load_state()
            expect(moderator.locator('[data-testid="queue-empty"]')).to_be_visible()
            expect(moderator.locator("#mod-queue-count")).to_have_attribute("data-count", "0")
        finally:
            browser.close()


def _points(page, base: str) -> str:
    page.goto(base + "/points")
    return page.locator('[data-testid="spendable"]').inner_text().strip()


def test_a_flagged_forum_post_hidden_from_the_queue_takes_back_its_points(live_server, artifacts):
    from playwright.sync_api import expect, sync_playwright

    base, post_id = live_server["base"], live_server["post"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            author = browser.new_context().new_page()
            _log_in(author, base, "author@example.com")
            assert _points(author, base) == "13", "the reply (10) and its like (3)"

            moderator = browser.new_context().new_page()
            _log_in(moderator, base, "mod@example.com")
            moderator.goto(base + "/moderation/")
            expect(moderator.locator("body")).to_have_attribute("data-live", "connected")
            badge = moderator.locator("#mod-queue-count")
            before = int(badge.get_attribute("data-count") or 0)

            member = browser.new_context().new_page()
            _log_in(member, base, "flagger@example.com")
            member.goto(f"{base}/forums/t/{live_server['topic']}")
            flag = member.locator(f"#flag-post-{post_id}")
            flag.locator("summary").click()
            flag.locator("input[value=spam]").check()
            flag.get_by_role("button", name="Send the flag").click()
            expect(member.locator(f"#flag-post-{post_id}-result")).to_contain_text("moderators will look at it")

            # No reload: the count arrives over Socket.IO.
            expect(badge).to_have_attribute("data-count", str(before + 1))

            moderator.reload()
            card = moderator.locator(".queue-item", has_text="Buy cheap lenses")
            expect(card).to_have_count(1)
            moderator.screenshot(path=str(artifacts / "moderation-queue-post.png"), full_page=True)
            card.get_by_role("button", name="Hide").click()
            moderator.wait_for_load_state()
            expect(moderator.locator(".queue-item", has_text="Buy cheap lenses")).to_have_count(0)
            expect(badge).to_have_attribute("data-count", str(before))

            assert _points(author, base) == "0", "hiding took back what the post and its like earned"
        finally:
            browser.close()
