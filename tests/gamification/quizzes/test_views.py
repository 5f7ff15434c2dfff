"""Quiz pages: taking an attempt without the answers ever reaching the browser, the server's timer,
double submissions, resuming, results, the leaderboard, admin building and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from gamification.quizzes.models import Attempt, AttemptAnswer, Question, QuestionBank, Quiz
from portal.db import utcnow
from portal.extensions import db
from tests.factories import AdminFactory, MemberFactory
from tests.gamification.quizzes.factories import loaded, make_quiz, right_option, wrong_option
from tests.helpers import count_queries
from tests.portal.web import csrf_token, flashes, fresh, make_client, post_form, recorded_events, sign_in, use_language

# Anything that could tell a right option from a wrong one, or give the explanation away.
MARKERS = re.compile(r"correct|is_correct|right answer|✓|because reason|explanation", re.IGNORECASE)


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


def _start(web, quiz) -> Attempt:
    token = csrf_token(web, f"/quizzes/{quiz.id}")
    response = web.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    attempt_id = int(re.search(r"/quizzes/attempts/(\d+)", response.headers["Location"]).group(1))
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def _assert_no_markers(html: str) -> None:
    found = MARKERS.findall(html)
    assert not found, found


def test_taking_a_quiz_one_question_per_page_never_shows_the_answers(web):
    quiz, questions = make_quiz(3)
    lookup = {q.id: q for q in questions}
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    served = []
    for number, question_id in enumerate(attempt.question_ids, start=1):
        page = web.get(f"/quizzes/attempts/{attempt.id}?q={number}")
        html = page.get_data(as_text=True)
        served.append(html)
        assert lookup[question_id].text in html
        # the options appear in the attempt's stored order
        positions = [html.index(f'id="o{oid}"') for oid in attempt.option_order[str(question_id)]]
        assert positions == sorted(positions)
        go = "finish" if number == len(attempt.question_ids) else "next"
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
        response = web.post(
            f"/quizzes/attempts/{attempt.id}/answer",
            data={
                "csrf_token": token.group(1) or token.group(2),
                "question_id": question_id,
                "number": number,
                "answer": right_option(lookup[question_id]),
                "go": go,
            },
        )
        assert response.status_code == 303
    for html in served:
        _assert_no_markers(html)
    result = web.get(f"/quizzes/attempts/{attempt.id}/result").get_data(as_text=True)
    assert 'data-testid="score">100%<' in result
    assert "Because reason 1." in result
    assert "Right answer" in result
    assert "Points earned: 55" in result


def test_all_on_one_page_is_submitted_at_once_and_shows_no_answers(web):
    quiz, questions = make_quiz(3, layout="all")
    lookup = {q.id: q for q in questions}
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    html = web.get(f"/quizzes/attempts/{attempt.id}").get_data(as_text=True)
    _assert_no_markers(html)
    assert all(lookup[qid].text in html for qid in attempt.question_ids)
    assert 'id="quiz-timer"' in html
    assert "js/quizzes.js" in html
    first, second, _third = attempt.question_ids
    data = {f"q{first}": right_option(lookup[first]), f"q{second}": wrong_option(lookup[second])}
    response = post_form(web, f"/quizzes/attempts/{attempt.id}/submit", data, page=f"/quizzes/attempts/{attempt.id}")
    assert response.status_code == 303
    attempt = fresh(attempt)
    assert (attempt.correct_count, attempt.total, attempt.score_percent) == (1, 3, 33)


def test_attempt_page_runs_a_fixed_number_of_queries(web):
    quiz, _ = make_quiz(8, layout="all")
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    url = f"/quizzes/attempts/{attempt.id}"
    web.get(url)
    with count_queries() as counter:
        assert web.get(url).status_code == 200
    assert counter.count <= 7, counter


def test_leaving_and_returning_offers_the_same_attempt(web):
    quiz, _ = make_quiz()
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    html = web.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert f'href="/quizzes/attempts/{attempt.id}" data-testid="resume"' in html
    assert _start(web, quiz).id == attempt.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1


def test_a_double_submission_is_counted_once(web):
    quiz, _ = make_quiz(2, layout="all")
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    page = f"/quizzes/attempts/{attempt.id}"
    token = csrf_token(web, page)
    with recorded_events("quiz.completed") as seen:
        first = web.post(f"/quizzes/attempts/{attempt.id}/submit", data={"csrf_token": token})
        second = web.post(f"/quizzes/attempts/{attempt.id}/submit", data={"csrf_token": token})
    assert first.status_code == second.status_code == 303
    assert len(seen) == 1
    assert ("info", "This attempt was already submitted; it was counted once.") in flashes(web)


def test_an_answer_to_a_question_not_in_the_attempt_is_refused(web):
    quiz, questions = make_quiz(5, draw=2)
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    outside = next(q for q in questions if q.id not in attempt.question_ids)
    response = post_form(
        web,
        f"/quizzes/attempts/{attempt.id}/answer",
        {"question_id": outside.id, "number": 1, "answer": right_option(outside), "go": "next"},
        page=f"/quizzes/attempts/{attempt.id}",
    )
    assert response.status_code == 303
    assert ("danger", "That question is not part of this attempt.") in flashes(web)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptAnswer)) == 0
    forged = post_form(
        web,
        f"/quizzes/attempts/{attempt.id}/submit",
        {f"q{outside.id}": right_option(outside)},
        page=f"/quizzes/attempts/{attempt.id}",
    )
    assert forged.status_code == 303
    assert fresh(attempt).submitted_at is None


def test_the_server_refuses_an_answer_after_the_deadline_and_scores_what_arrived(web):
    quiz, questions = make_quiz(2)
    lookup = {q.id: q for q in questions}
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    first, second = attempt.question_ids
    page = f"/quizzes/attempts/{attempt.id}"
    token = csrf_token(web, page)
    web.post(
        f"{page}/answer",
        data={
            "csrf_token": token,
            "question_id": first,
            "number": 1,
            "answer": right_option(lookup[first]),
            "go": "next",
        },
    )
    # The member's clock said there was time; the server's says otherwise.
    now = utcnow()
    db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id)
        .values(started_at=now - timedelta(seconds=90), deadline_at=now - timedelta(seconds=5))
    )
    db.session.execute(sa.update(AttemptAnswer).values(answered_at=now - timedelta(seconds=60)))
    db.session.commit()
    response = web.post(
        f"{page}/answer",
        data={
            "csrf_token": token,
            "question_id": second,
            "number": 2,
            "answer": right_option(lookup[second]),
            "go": "finish",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/result")
    attempt = fresh(attempt)
    assert attempt.is_submitted
    assert attempt.correct_count == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptAnswer)) == 1
    assert any("Time is up" in message for _c, message in flashes(web))


def test_opening_an_expired_attempt_scores_it(web):
    quiz, _ = make_quiz(2)
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    db.session.execute(
        sa.update(Attempt).where(Attempt.id == attempt.id).values(deadline_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    response = web.get(f"/quizzes/attempts/{attempt.id}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/result")
    assert fresh(attempt).score_percent == 0


def test_another_members_attempt_is_not_found(web):
    quiz, _ = make_quiz()
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    other = make_client(web.application)
    sign_in(other, MemberFactory())
    assert other.get(f"/quizzes/attempts/{attempt.id}").status_code == 404
    assert other.get(f"/quizzes/attempts/{attempt.id}/result").status_code == 404


def test_quiz_page_shows_the_leaderboard_and_the_persian_quiz_is_right_to_left(app):
    quiz, _ = make_quiz(2)
    quiz.language = "fa"
    quiz.title = "آزمون باشگاه"
    db.session.commit()
    client = make_client(app)
    use_language(client, "en")
    html = client.get("/quizzes").get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in html
    assert "آزمون باشگاه" in html
    assert "Nobody has finished this quiz yet." in client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)


# --- admin ------------------------------------------------------------------------------------


def test_admin_builds_a_bank_a_question_and_a_quiz_through_the_forms(web):
    sign_in(web, AdminFactory())
    response = post_form(web, "/admin/quizzes/banks", {"name": "General", "language": "en"}, page="/admin/quizzes")
    assert response.status_code == 303
    bank = db.session.scalar(sa.select(QuestionBank))
    page = f"/admin/quizzes/banks/{bank.id}"
    response = post_form(
        web, page,
        {"kind": "single", "text": "2 + 2?", "option1": "4", "correct1": "y", "option2": "5", "option3": "",
         "explanation": "Arithmetic.", "true_is_correct": "1"},
    )  # fmt: skip
    assert response.status_code == 303
    [question] = loaded(list(db.session.scalars(sa.select(Question))))
    assert sorted((o.text, o.is_correct) for o in question.options) == [("4", True), ("5", False)]
    bad = post_form(web, page, {"kind": "single", "text": "?", "option1": "a", "option2": "b", "true_is_correct": "1"})
    assert bad.status_code == 422
    assert "A single-choice question needs exactly one correct option." in bad.get_data(as_text=True)
    response = post_form(
        web, "/admin/quizzes/new",
        {"title": "Maths", "description": "", "bank_id": bank.id, "selection": "fixed", "draw_count": "1",
         "fixed_question_ids": [question.id], "time_limit_minutes": "5", "attempts_allowed": "2", "pass_percent": "50",
         "opens_at": "2030-01-01T10:00", "closes_at": "2030-01-02T10:00", "pass_points": "30",
         "points_per_correct": "0", "layout": "all"},
    )  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    quiz = db.session.scalar(sa.select(Quiz))
    assert (quiz.title, quiz.language, quiz.fixed_question_ids, quiz.time_limit_seconds) == (
        "Maths",
        "en",
        [question.id],
        300,
    )


@pytest.mark.parametrize("path", ["/admin/quizzes", "/admin/quizzes/new"])
def test_members_cannot_open_the_quiz_admin(web, path):
    sign_in(web, MemberFactory())
    assert web.get(path).status_code == 403


def test_cli_finish_expired_scores_abandoned_attempts(app):
    from gamification.quizzes import services

    quiz, _ = make_quiz(2)
    member = MemberFactory()
    services.start_attempt(actor=member, quiz=quiz, now=utcnow() - timedelta(hours=1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "quizzes", "finish-expired"])
    assert result.exit_code == 0, result.output
    assert "quizzes: 1 expired attempts scored" in result.output


def test_quiz_list_and_quiz_page_run_a_fixed_number_of_queries(web):
    from gamification.quizzes import services

    quiz, _questions = make_quiz(2, attempts_allowed=10)
    make_quiz(2)
    for _ in range(3):
        member = MemberFactory()
        attempt = services.start_attempt(actor=member, quiz=quiz)
        services.submit_attempt(actor=member, attempt=attempt)
    sign_in(web, MemberFactory())
    url = f"/quizzes/{quiz.id}"
    web.get(url)
    with count_queries() as listing:
        assert web.get("/quizzes").status_code == 200
    with count_queries() as page:
        assert web.get(url).status_code == 200
    assert listing.count <= 3, listing
    assert page.count <= 6, page  # member, quiz, own attempts, leaderboard, live session, bell


def test_finish_now_saves_the_chosen_answer_and_scores_the_attempt(web):
    quiz, questions = make_quiz(3)
    lookup = {q.id: q for q in questions}
    sign_in(web, MemberFactory())
    attempt = _start(web, quiz)
    first = attempt.question_ids[0]
    html = web.get(f"/quizzes/attempts/{attempt.id}?q=1").get_data(as_text=True)
    assert 'name="go" value="finish"' in html  # "Finish now" is offered before the last question
    response = post_form(
        web,
        f"/quizzes/attempts/{attempt.id}/answer",
        {"question_id": first, "number": 1, "answer": right_option(lookup[first]), "go": "finish"},
        page=f"/quizzes/attempts/{attempt.id}",
    )
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt.id}/result")
    attempt = fresh(attempt)
    assert (attempt.correct_count, attempt.total, attempt.score_percent) == (1, 3, 33)
