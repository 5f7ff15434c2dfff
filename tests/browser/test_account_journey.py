"""A visitor's first visit in a real browser: sign up, confirm the email, log out and in, switch language."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.live import LiveServer, link_in_mail


@pytest.fixture
def page(browser, live_server: LiveServer):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


def _layout(page) -> tuple[str | None, str | None, str]:
    """The html element's lang and dir, and the direction the body is actually laid out in."""
    return (
        page.get_attribute("html", "lang"),
        page.get_attribute("html", "dir"),
        page.evaluate("getComputedStyle(document.body).direction"),
    )


def _log_out(page) -> None:
    page.click("#account-menu")
    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_selector("a[href='/login']")


def test_sign_up_confirm_log_out_log_in_and_switch_language(page, live_server: LiveServer, artifacts: Path):
    address = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    password = "browser-test-password"

    # A visitor lands on the Persian, right-to-left home page.
    page.goto("/")
    assert _layout(page) == ("fa", "rtl", "rtl")
    page.screenshot(path=str(artifacts / "01-home-fa.png"), full_page=True)

    # Sign up through the form.
    page.click("a[href='/join']")
    page.fill("input[name=display_name]", "Browser Tester")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", password)
    page.fill("input[name=confirm]", password)
    page.screenshot(path=str(artifacts / "02-join-filled.png"), full_page=True)
    with page.expect_navigation():
        page.click("form[action='/join'] button[type=submit]")
    assert page.url.endswith("/account/profile")
    assert page.is_visible("#account-menu")  # signed in straight away

    # Confirm the email address from the mail the file backend wrote.
    link = link_in_mail(live_server.wait_for_mail(address)[-1])
    assert link.startswith(live_server.url + "/verify/")
    page.goto(link)
    assert page.locator(".alert-success").count() >= 1
    page.screenshot(path=str(artifacts / "03-email-confirmed.png"), full_page=True)

    # Log out, then back in.
    _log_out(page)
    assert not page.is_visible("#account-menu")
    page.click("a[href='/login']")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert page.is_visible("#account-menu")
    assert "/login" not in page.url
    page.screenshot(path=str(artifacts / "04-logged-in-fa.png"), full_page=True)

    # Switch to English: the whole layout flips to left-to-right.
    with page.expect_navigation():
        page.click("[data-testid=switch-en]")
    assert _layout(page) == ("en", "ltr", "ltr")
    assert page.is_visible("[data-testid=switch-fa]")
    page.screenshot(path=str(artifacts / "05-english-ltr.png"), full_page=True)

    # The choice is saved on the account: after logging out and in again it is still English.
    _log_out(page)
    page.goto("/login")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert _layout(page) == ("en", "ltr", "ltr")

    # And back to Persian.
    with page.expect_navigation():
        page.click("[data-testid=switch-fa]")
    assert _layout(page) == ("fa", "rtl", "rtl")
    page.screenshot(path=str(artifacts / "06-persian-rtl.png"), full_page=True)
