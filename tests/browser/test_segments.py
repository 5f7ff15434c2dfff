"""In a real browser: an admin builds a segment with the keyboard, watches the live count, saves and exports it.

The server is its own process on a migrated SQLite file; the people are made with the
``flask portal user create`` command, and the admin then works in Persian (right to left)
on a phone-sized screen.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.live import LiveServer

PASSWORD = "browser-test-password"


def test_admin_builds_a_segment_with_a_live_count_on_a_phone(browser, live_server: LiveServer, artifacts: Path):
    from playwright.sync_api import expect

    for email, role in (
        ("seg-admin@example.com", "admin"),
        ("seg-a@example.com", "member"),
        ("seg-b@example.com", "moderator"),
    ):
        live_server.flask("portal", "user", "create", email, "--role", role, "--password", PASSWORD)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.fill("#email", "seg-admin@example.com")
        page.fill("#password", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda url: "/login" not in url)

        page.goto("/admin/segments/new")
        assert page.get_attribute("html", "dir") == "rtl"
        preview = page.locator('[data-testid="preview-count"]')
        expect(preview).to_contain_text("۳")  # everyone: the admin and the two others

        # Only the keyboard: from the Persian name field, Tab through to the role checkboxes.
        page.focus("#f-name_fa")
        page.keyboard.type("ناظران")
        page.keyboard.press("Tab")
        expect(page.locator("#f-name_en")).to_be_focused()
        page.keyboard.type("Moderators")
        page.keyboard.press("Tab")
        expect(page.locator("#f-description")).to_be_focused()
        for _ in range(3):  # member, moderator checkboxes follow
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "f-role-moderator":
                break
        expect(page.locator("#f-role-moderator")).to_be_focused()
        page.keyboard.press("Space")
        expect(preview).to_contain_text("۱")  # the debounced preview counts the moderator only
        page.screenshot(path=str(artifacts / "segments-form-fa-phone.png"), full_page=True)

        page.fill("#f-active_within_days", "x")
        expect(page.locator('[data-testid="preview-problem"]')).to_be_visible()
        page.fill("#f-active_within_days", "")
        expect(preview).to_contain_text("۱")

        page.locator("#segment-form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/admin/segments/\d+$"))
        expect(page.locator('[data-testid="segment-members"]')).to_contain_text("seg-b@example.com")
        expect(page.locator('[data-testid="segment-members"]')).not_to_contain_text("seg-a@example.com")
        with page.expect_download() as download:
            page.locator("a[href$='members.csv']").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert "seg-b@example.com" in text
        assert "seg-a@example.com" not in text
    finally:
        context.close()
