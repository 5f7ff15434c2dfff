"""The help desk in a real browser: a guest's ticket from opening to rating, and an agent's day at the desk.

Guest path: an editor publishes an article, which is suggested while the guest types a
subject; the guest opens a ticket anyway, reads the tracking code from the mail file, follows it
with code and email in a fresh browser, an agent resolves it, and the guest rates it through
the signed link of the resolution mail. Agent path: an agent logs in, finds the ticket in the
inbox, answers with a canned reply, adds an internal note the customer never sees, changes the
status, and the customer's next reply appears in the agent's open page without a reload.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest

from tests.browser.helpers import wait_until
from tests.live import LiveServer, csrf_of, link_in_mail, web_session

CODE = re.compile(r"BG-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")
AGENT_PASSWORD = "desk-agent-password"


@pytest.fixture
def new_page(browser, live_server: LiveServer):
    """Opens pages in fresh browser contexts (separate cookies: separate people), in English."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/")
        with page.expect_navigation():
            page.click("[data-testid=switch-en]")
        return page

    yield open_page
    for context in contexts:
        context.close()


def _create_agent(server: LiveServer, name: str) -> str:
    """An agent account made the way an administrator would: the app's CLI, on the server's database."""
    email = f"agent-{uuid.uuid4().hex[:8]}@example.com"
    server.flask("portal", "user", "create", email, "--role", "agent", "--name", name, "--password", AGENT_PASSWORD)
    return email


def _rating_link(server: LiveServer, email: str, code: str, timeout: float = 30) -> str:
    """The signed rating link of the resolution mail, once that mail has been written."""
    deadline = time.monotonic() + timeout
    while True:
        links = [link_in_mail(m) for m in server.mails() if m["To"] == email]
        rating = [link for link in links if f"/support/t/{code}/rate/" in link]
        if rating:
            return rating[-1]
        assert time.monotonic() < deadline, f"no rating link among {links}"
        time.sleep(0.2)


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", AGENT_PASSWORD)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert "/login" not in page.url


def _open_ticket(page, *, subject: str, body: str, email: str) -> None:
    page.goto("/support/new")
    page.select_option("select[name=kind]", "complaint")
    page.fill("input[name=subject]", subject)
    page.fill("textarea[name=body]", body)
    page.fill("input[name=email]", email)
    page.fill("input[name=name]", "Guest Sam")
    with page.expect_navigation():
        page.click("form[action='/support/new'] button[type=submit]")


def _code_from_mail(server: LiveServer, email: str) -> str:
    message = server.wait_for_mail(email)[0]
    text = next(p.get_payload(decode=True).decode() for p in message.walk() if p.get_content_type() == "text/plain")
    match = CODE.search(text)
    assert match, text
    return match.group(0)


def _set_status(page, status: str) -> None:
    page.select_option("form[action$='/status'] select[name=status]", status)
    with page.expect_navigation():
        page.click("form[action$='/status'] button[type=submit]")


def _publish_article(page, *, title: str, body: str) -> None:
    """An editor writes a knowledge-base article and publishes it (it joins the shared search)."""
    page.goto("/kb/manage/categories")
    slug = f"appliances-{uuid.uuid4().hex[:6]}"
    page.fill("input[name=name_fa]", "لوازم خانگی")
    page.fill("input[name=name_en]", "Appliances")
    page.fill("input[name=slug]", slug)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    page.goto("/kb/manage/new")
    page.fill("input[name=title]", title)
    page.select_option("select[name=category_id]", label="Appliances")
    page.select_option("select[name=language]", "en")
    page.fill("textarea[name=body]", body)
    with page.expect_navigation():
        page.click("form[action='/kb/manage/new'] button[type=submit]")
    with page.expect_navigation():
        page.click("button[name=action][value=publish]")
    assert page.locator("button[name=action][value=unpublish]").count() == 1


def test_a_guest_opens_follows_and_rates_a_ticket(new_page, live_server: LiveServer, artifacts: Path):
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    agent = new_page()
    _log_in(agent, _create_agent(live_server, "Resolving Agent"))
    _publish_article(agent, title="Fixing a leaking kettle", body="Tighten the base ring of the kettle.")

    # While the guest types the subject, the matching article is suggested (htmx, the shared search).
    guest = new_page()
    guest.goto("/support/new")
    guest.locator("input[name=subject]").press_sequentially("kettle leaks", delay=60)
    guest.wait_for_selector("[data-testid=kb-suggestions] >> text=Fixing a leaking kettle")
    guest.screenshot(path=str(artifacts / "desk-00-guest-suggestion.png"), full_page=True)
    _open_ticket(guest, subject="Kettle leaks", body="It leaks from the bottom.", email=email)
    shown = guest.inner_text("[data-testid=tracking-code]")
    guest.screenshot(path=str(artifacts / "desk-01-guest-ticket-open.png"), full_page=True)

    # The tracking code arrives by mail (the file backend) and is the one on screen.
    code = _code_from_mail(live_server, email)
    assert code == shown

    # Another browser (no session): follow the ticket with the code and the email.
    follower = new_page()
    follower.goto("/support/track")
    follower.fill("input[name=code]", code.lower().replace("-", " "))  # typed loosely
    follower.fill("input[name=email]", email.upper())
    with follower.expect_navigation():
        follower.click("form[action='/support/track'] button[type=submit]")
    assert follower.url.endswith(f"/support/t/{code}")
    assert follower.inner_text("[data-testid=status]") == "New"
    assert "It leaks from the bottom." in follower.content()

    # A wrong email reveals nothing.
    stranger = new_page()
    stranger.goto("/support/track")
    stranger.fill("input[name=code]", code)
    stranger.fill("input[name=email]", "someone-else@example.com")
    stranger.click("form[action='/support/track'] button[type=submit]")
    stranger.wait_for_selector(".alert-danger")
    assert "Kettle leaks" not in stranger.content()

    # The agent resolves it at the desk.
    agent.goto(f"/desk/t/{code}")
    agent.fill("form[action$='/reply'] textarea[name=body]", "We sent you a new kettle.")
    agent.select_option("form[action$='/reply'] select[name=then_status]", "resolved")
    with agent.expect_navigation():
        agent.click("form[action$='/reply'] button[type=submit]")
    assert "We sent you a new kettle." in agent.inner_text("#desk-conversation")

    # The resolution mail carries a signed rating link; the guest rates through it, once.
    # The agent's answer and the resolution may leave as separate mails, in either order of arrival.
    link = _rating_link(live_server, email, code)
    rater = new_page()
    rater.goto(link)
    assert rater.url.endswith(f"/support/t/{code}/rate")
    rater.check("input[name=rating][value='5']")
    rater.fill("textarea[name=comment]", "Quick and kind.")
    rater.screenshot(path=str(artifacts / "desk-02-guest-rating.png"), full_page=True)
    with rater.expect_navigation():
        rater.click("form[action$='/rate'] button[type=submit]")
    assert rater.url.endswith(f"/support/t/{code}")
    assert "You rated the support 5 of 5" in rater.content()
    assert rater.inner_text("[data-testid=status]") == "Resolved"
    rater.goto(link)  # the link cannot rate twice
    assert rater.locator("form[action$='/rate']").count() == 0
    assert "already been rated" in rater.content()

    agent.goto(f"/desk/t/{code}")
    assert "Quick and kind." in agent.content()


def test_an_agent_answers_with_a_canned_reply_notes_and_sees_the_customer_reply_live(
    new_page, live_server: LiveServer, artifacts: Path
):
    email = f"customer-{uuid.uuid4().hex[:8]}@example.com"
    # The customer, a plain HTTP client that keeps its cookies (like a second browser).
    customer = web_session()
    home = customer.get(live_server.url + "/", timeout=30).text
    customer.post(live_server.url + "/lang", data={"csrf_token": csrf_of(home), "lang": "en"}, timeout=30)
    form = customer.get(live_server.url + "/support/new", timeout=30).text
    opened = customer.post(
        live_server.url + "/support/new",
        data={
            "csrf_token": csrf_of(form),
            "kind": "support",
            "subject": "Card declined",
            "body": "My card is declined at checkout.",
            "email": email,
            "name": "Nadia",
        },
        timeout=30,
    )
    assert opened.status_code == 200
    code = CODE.search(opened.url).group(0)

    agent = new_page()
    _log_in(agent, _create_agent(live_server, "Desk Agent"))

    # A canned reply with placeholders.
    agent.goto("/desk/canned")
    agent.fill("input[name=title]", "Greeting")
    agent.fill("textarea[name=body]", "Hello {name}, we are looking at {tracking_code}.")
    with agent.expect_navigation():
        agent.click("form.card button[type=submit]")

    # The ticket is in the inbox.
    agent.goto("/desk/")
    row = agent.locator(f"tr[data-code='{code}']")
    assert "Card declined" in row.inner_text()
    agent.screenshot(path=str(artifacts / "desk-03-inbox.png"), full_page=True)
    with agent.expect_navigation():
        row.locator("a").first.click()
    assert agent.url.endswith(f"/desk/t/{code}")

    # Answer with the canned reply, filled in for this customer and ticket.
    with agent.expect_navigation():
        agent.click("text=Greeting")
    reply_box = agent.locator("form[action$='/reply'] textarea[name=body]")
    assert reply_box.input_value() == f"Hello Nadia, we are looking at {code}."
    with agent.expect_navigation():
        agent.click("form[action$='/reply'] button[type=submit]")
    assert f"Hello Nadia, we are looking at {code}." in agent.inner_text("#desk-conversation")

    # An internal note: on the desk, never on the customer's page.
    agent.fill("form[action$='/note'] textarea[name=body]", "Checked the payment gateway logs.")
    with agent.expect_navigation():
        agent.click("form[action$='/note'] button[type=submit]")
    assert agent.locator(".ticket-note", has_text="Checked the payment gateway logs.").count() == 1
    customer_page = customer.get(f"{live_server.url}/support/t/{code}", timeout=30).text
    assert f"we are looking at {code}" in customer_page
    assert "payment gateway logs" not in customer_page

    # Waiting on the customer.
    _set_status(agent, "pending_customer")
    assert agent.locator("select[name=status]").input_value() == "pending_customer"
    wait_until(agent, "document.body.dataset.live === 'connected'")

    # The customer replies; it appears in the agent's open page without a reload.
    page_text = customer.get(f"{live_server.url}/support/t/{code}", timeout=30).text
    sent = customer.post(
        f"{live_server.url}/support/t/{code}/reply",
        data={"csrf_token": csrf_of(page_text), "body": "It works again with another card."},
        timeout=30,
    )
    assert sent.status_code == 200
    agent.wait_for_selector("#desk-conversation >> text=It works again with another card.", timeout=30_000)
    assert agent.is_visible("#desk-live")
    agent.screenshot(path=str(artifacts / "desk-04-live-reply.png"), full_page=True)
    agent.reload()
    assert agent.locator("select[name=status]").input_value() == "open"  # the reply took it off hold
