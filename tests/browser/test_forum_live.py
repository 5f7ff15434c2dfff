"""In a real browser: two members read the same topic and see each other's replies appear without reloading.

The application runs as its own process (``live_server``, SQLite, thread jobs as in production);
the members, a forum and a topic are created in that server's database by a short script, then
everything else happens through the pages: the reply form, the live Socket.IO push, the fetched
fragment, the live reply count and the topic list's "new topics" bar.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import LiveServer

PASSWORD = "forum-live-password"
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa(number: int) -> str:
    """A count as the Persian (default language) page writes it."""
    return str(number).translate(PERSIAN_DIGITS)


SEED = """
import sys
from forums import services
from forums.models import Category
from portal.accounts import services as accounts
from portal.db import db
from portal.moderation.models import TrustRecord
from wsgi import app

password = sys.argv[1]
with app.app_context():
    ana = accounts.create_member_cli(email="ana@example.com", password=password, display_name="Ana", role="member")
    bob = accounts.create_member_cli(email="bob@example.com", password=password, display_name="Bob", role="member")
    # Members the club already trusts: their posts are not held for review, their allowance is open.
    for member in (ana, bob):
        db.session.add(TrustRecord(member_id=member.id, level=4, locked=True, approved_posts=10))
    db.session.flush()
    category = Category(name="Live talk", description="", allowed_roles=[], position=1)
    db.session.add(category)
    db.session.flush()
    topic = services.create_topic(actor=ana, category=category, title="Watching together", body="Opening post")
    db.session.commit()
    print(category.id, topic.id)
"""


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> dict[str, int]:
    out = live_server.run_python(SEED, PASSWORD)
    category_id, topic_id = (int(part) for part in out.split()[-2:])
    return {"category": category_id, "topic": topic_id}


def _member_page(browser, server: LiveServer, email: str):
    context = browser.new_context(base_url=server.url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.console_errors = errors  # type: ignore[attr-defined]
    return context, page


def _open_topic(page, topic_id: int) -> None:
    page.goto(f"/forums/t/{topic_id}")
    from playwright.sync_api import expect

    expect(page.locator("body")).to_have_attribute("data-live", "connected")


def _post_reply(page, text: str) -> None:
    """Types a reply into the topic page's form and presses "Post reply", as a member would."""
    form = page.locator("form[action$='/reply']")
    form.locator("textarea[name=body]").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/reply")) as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status in (200, 303), answer.value.status
    page.wait_for_load_state()


def test_two_members_see_each_others_replies_live(browser, live_server: LiveServer, seeded, artifacts: Path):
    from playwright.sync_api import expect

    topic_id = seeded["topic"]
    ana_context, ana = _member_page(browser, live_server, "ana@example.com")
    bob_context, bob = _member_page(browser, live_server, "bob@example.com")
    try:
        _open_topic(ana, topic_id)
        _open_topic(bob, topic_id)
        bob_url = bob.url
        expect(bob.locator("#topic-reply-count")).to_have_text(fa(0))
        # The page's own marker: a reload would lose it, so its survival proves no navigation happened.
        bob.evaluate("document.body.dataset.sameDocument = 'yes'")

        # Ana replies through the form; Bob sees the reply arrive without reloading.
        _post_reply(ana, "Ana says hello live")
        expect(ana.locator(".forum-post", has_text="Ana says hello live")).to_be_visible()
        expect(bob.locator(".forum-post", has_text="Ana says hello live")).to_be_visible()
        expect(bob.locator("#topic-reply-count")).to_have_text(fa(1))
        assert bob.url == bob_url
        expect(bob.locator("body")).to_have_attribute("data-same-document", "yes")
        bob.screenshot(path=str(artifacts / "forum-live-bob.png"), full_page=True)

        # Bob answers; Ana (now on the page the form brought her to) sees it arrive the same way.
        ana.evaluate("document.body.dataset.sameDocument = 'yes'")
        _post_reply(bob, "Bob answers live")
        expect(bob.locator(".forum-post", has_text="Bob answers live")).to_be_visible()
        expect(ana.locator(".forum-post", has_text="Bob answers live")).to_be_visible()
        expect(ana.locator("#topic-reply-count")).to_have_text(fa(2))
        expect(ana.locator("body")).to_have_attribute("data-same-document", "yes")
        # Each post shows once, in order, on both pages.
        for page in (ana, bob):
            texts = page.locator(".forum-post .forum-post-body").all_inner_texts()
            assert [t.strip() for t in texts] == ["Opening post", "Ana says hello live", "Bob answers live"]
        ana.screenshot(path=str(artifacts / "forum-live-ana.png"), full_page=True)
        assert ana.console_errors == []  # type: ignore[attr-defined]
        assert bob.console_errors == []  # type: ignore[attr-defined]
    finally:
        ana_context.close()
        bob_context.close()


def test_topic_list_shows_new_topics_bar_and_live_counts(browser, live_server: LiveServer, seeded):
    from playwright.sync_api import expect

    category_id, topic_id = seeded["category"], seeded["topic"]
    ana_context, ana = _member_page(browser, live_server, "ana@example.com")
    bob_context, bob = _member_page(browser, live_server, "bob@example.com")
    try:
        bob.goto(f"/forums/c/{category_id}")
        expect(bob.locator("body")).to_have_attribute("data-live", "connected")
        count = bob.locator(f'.forum-reply-count[data-topic-id="{topic_id}"]')
        before = int(count.inner_text().strip().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
        bob.evaluate("document.body.dataset.sameDocument = 'yes'")

        # A reply elsewhere raises the count in the list.
        ana.goto(f"/forums/t/{topic_id}")
        _post_reply(ana, "One more reply")
        expect(count).to_have_text(fa(before + 1))

        # A new topic shows the bar; following it reloads the list with the topic in it.
        ana.goto(f"/forums/c/{category_id}/new")
        ana.fill("input[name=title]", "A brand new topic")
        ana.fill("textarea[name=body]", "Fresh")
        ana.locator("main form button[type=submit]").last.click()
        ana.wait_for_url(lambda url: "/new" not in url)
        expect(bob.locator("#new-topics-bar")).to_be_visible()
        expect(bob.locator("#new-topics-link")).to_contain_text(fa(1))
        expect(bob.locator("body")).to_have_attribute("data-same-document", "yes")
        bob.locator("#new-topics-link").click()
        expect(bob.locator("main", has_text="A brand new topic")).to_be_visible()
    finally:
        ana_context.close()
        bob_context.close()
