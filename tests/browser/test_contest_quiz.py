"""Contests and quizzes in a real browser: enter with a photo, vote as another member, take a quiz; on a phone too."""

from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.browser.helpers import wait_until
from tests.live import LiveServer

PASSWORD = "browser-test-password"
PHONE = {"width": 390, "height": 844}


# Run inside the server's environment (its database), as the CLI would: members, a contest
# open for entries (voting opens later), and a quiz open now. Prints the ids as JSON.
SETUP = """
import json, sys
from datetime import timedelta
from wsgi import app
from portal.db import db, utcnow
from portal.accounts import services as accounts
from gamification.contests import services as contests
from gamification.engine import demo as engine
from gamification.quizzes import services as quizzes

tag, password = sys.argv[1], sys.argv[2]
with app.app_context():
    engine.seed_rules_tiers_badges()
    ids = {}
    for who in ("alice", "bob", "carol"):
        member = accounts.create_member_cli(
            email=f"{who}-{tag}@example.com", password=password, display_name=f"{who.title()} {tag}", role="member"
        )
        member.language = "en"
        ids[who] = member.id
    now = utcnow()
    contest = contests.create_contest(actor=None, data=contests.ContestData(
        title_fa="عکس مرورگر", title_en=f"Browser photos {tag}", theme_fa="آسمان", theme_en="The sky",
        prizes=[{"points": 100, "reward": ""}], participation_points=10,
        submissions_open_at=now - timedelta(hours=1), submissions_close_at=now + timedelta(hours=1),
        voting_open_at=now + timedelta(hours=1), voting_close_at=now + timedelta(days=2),
        voting_mode="single", hide_counts=False,
    ))
    bank = quizzes.create_bank(actor=None, name=f"Bank {tag}", language="en")
    for n in (1, 2, 3):
        quizzes.add_question(
            actor=None, bank=bank, kind="single", text=f"Question number {n}?",
            options=[(f"right {n}", True), (f"wrong {n} a", False), (f"wrong {n} b", False)],
            explanation=f"Because of reason {n}.",
        )
    quiz = quizzes.create_quiz(actor=None, data=quizzes.QuizData(
        title=f"Browser quiz {tag}", bank_id=bank.id, selection="draw", draw_count=3, time_limit_seconds=600,
        attempts_allowed=2, pass_percent=60, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
        pass_points=40, points_per_correct=0, layout="one",
    ))
    db.session.commit()
    print(json.dumps({**ids, "contest": contest.id, "quiz": quiz.id}))
"""

# Moves the contest from submissions on to voting (as time would).
OPEN_VOTING = """
import sys
from datetime import timedelta
from wsgi import app
from portal.db import db, utcnow
from gamification.contests.models import Contest

with app.app_context():
    contest = db.session.get(Contest, int(sys.argv[1]))
    now = utcnow()
    contest.submissions_close_at = now - timedelta(minutes=2)
    contest.voting_open_at = now - timedelta(minutes=1)
    db.session.commit()
"""


def _photo(path: Path) -> Path:
    """A real JPEG: a gradient sky with a sun, made with Pillow."""
    image = Image.new("RGB", (1200, 800))
    draw = ImageDraw.Draw(image)
    for y in range(800):
        draw.line([(0, y), (1200, y)], fill=(40 + y // 8, 90 + y // 10, 200 - y // 8))
    draw.ellipse([500, 200, 700, 400], fill=(255, 230, 150))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture(scope="module")
def club(live_server: LiveServer) -> dict[str, object]:
    tag = uuid.uuid4().hex[:6]
    ids = json.loads(live_server.run_python(SETUP, tag, PASSWORD).strip().splitlines()[-1])
    return {**ids, "tag": tag}


def _member_page(browser, server: LiveServer, club, who: str, viewport=None):
    context = browser.new_context(base_url=server.url, viewport=viewport or {"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", f"{who}-{club['tag']}@example.com")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert "/login" not in page.url
    assert page.locator("#account-menu").count() == 1  # signed in (folded into the menu on a phone)
    return context, page


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_enter_a_contest_then_vote_as_another_member(browser, live_server: LiveServer, club, tmp_path, artifacts):
    contest_url = f"/contests/{club['contest']}"

    # Alice enters with a real photo and a caption.
    alice_context, alice = _member_page(browser, live_server, club, "alice")
    alice.goto(contest_url)
    alice.set_input_files("input[name=photo]", str(_photo(tmp_path / "sky.jpg")))
    alice.fill("input[name=caption]", "Evening sky over the hills")
    with alice.expect_navigation():
        alice.click(f"form[action='{contest_url}/enter'] button[type=submit]")
    assert "Thank you! Your photo is in the gallery." in alice.inner_text(".alert-success")
    card = alice.locator("figure.entry-card")
    assert card.count() == 1
    assert "Evening sky over the hills" in card.inner_text()
    # The thumbnail is the stored, re-encoded image, and it loads.
    assert alice.evaluate("document.querySelector('img.entry-thumb').complete")
    wait_until(alice, "document.querySelector('img.entry-thumb').naturalWidth > 0")
    alice.screenshot(path=str(artifacts / "contest-01-entered.png"), full_page=True)

    live_server.run_python(OPEN_VOTING, str(club["contest"]))

    # Alice sees her own photo during voting, marked as hers, with no vote button.
    alice.goto(contest_url)
    assert "Your photo" in card.inner_text()
    assert card.locator("button", has_text="Vote for this photo").count() == 0

    # Bob, in his own browser, opens the gallery and votes for Alice's photo.
    bob_context, bob = _member_page(browser, live_server, club, "bob")
    bob.goto(contest_url)
    bob_card = bob.locator("figure.entry-card")
    assert "Evening sky over the hills" in bob_card.inner_text()
    # The lightbox opens on the photo.
    bob.click("a.lightbox-link")
    bob.wait_for_selector("#lightbox.show")
    assert bob.get_attribute("#lightbox-image", "src").startswith("/media/")
    bob.click("#lightbox .btn-close")
    bob.wait_for_selector("#lightbox.show", state="detached")
    with bob.expect_navigation():
        bob_card.locator("button", has_text="Vote for this photo").click()
    assert "Your vote has been saved." in bob.inner_text(".alert-success")
    assert bob.locator("[data-testid=my-vote]").count() == 1
    assert "Score 1 from 1 votes" in bob.locator("figure.entry-card").inner_text()
    bob.screenshot(path=str(artifacts / "contest-02-voted.png"), full_page=True)
    bob_context.close()
    alice_context.close()

    # On a phone, the gallery fits the screen width.
    phone_context, phone = _member_page(browser, live_server, club, "carol", viewport=PHONE)
    phone.goto(contest_url)
    assert phone.locator("figure.entry-card").count() == 1
    assert _no_horizontal_scroll(phone)
    phone.screenshot(path=str(artifacts / "contest-03-phone.png"), full_page=True)
    phone_context.close()


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_take_a_quiz_with_the_timer_shown(browser, live_server: LiveServer, club, viewport, artifacts):
    who = "carol" if viewport is None else "bob"
    context, page = _member_page(browser, live_server, club, who, viewport=viewport)
    page.goto(f"/quizzes/{club['quiz']}")
    with page.expect_navigation():
        page.click("[data-testid=start]")
    for n in range(1, 4):
        # The timer counts down from the server's deadline (10 minutes).
        wait_until(page, "/^\\d+:\\d\\d$/.test(document.getElementById('quiz-timer-value').textContent)")
        assert page.is_visible("#quiz-timer")
        minutes = int(page.inner_text("#quiz-timer-value").split(":")[0])
        assert 8 <= minutes <= 10
        assert page.locator(".quiz-question").count() == 1
        if viewport is not None:
            assert _no_horizontal_scroll(page)
        if n == 1:
            page.screenshot(path=str(artifacts / f"quiz-01-question-{who}.png"), full_page=True)
        # Two right answers and a wrong one: 67% passes the 60% mark.
        text = page.inner_text(".quiz-question-text")
        number = re.search(r"Question number (\d)\?", text).group(1)
        answer = f"right {number}" if n < 3 else f"wrong {number} a"
        page.get_by_label(answer, exact=True).check()
        button = "Save and next" if n < 3 else "Save and finish"
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()
    assert "/result" in page.url
    assert page.inner_text("[data-testid=score]") == "67%"
    assert page.inner_text("[data-testid=verdict]") == "Passed"
    assert "Points earned: 40" in page.inner_text("[data-testid=points]")
    explanations = page.locator(".quiz-explanation").all_inner_texts()
    assert sorted(explanations) == [f"Because of reason {n}." for n in (1, 2, 3)]
    assert page.locator(".quiz-option-wrong").count() == 1
    if viewport is not None:
        assert _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / f"quiz-02-result-{who}.png"), full_page=True)
    context.close()
