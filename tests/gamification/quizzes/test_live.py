"""Live quiz events: questions pushed over Socket.IO without their answers, answers on the server's
clock and counted once, the reveal with the scoreboard, and who may host."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from gamification.quizzes import live
from gamification.quizzes.models import LiveAnswer, LiveStatus
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db, socketio
from tests.factories import AdminFactory, MemberFactory
from tests.gamification.quizzes.factories import loaded, make_quiz, right_option, wrong_option
from tests.portal.web import csrf_token, make_client, sign_in, use_language


def _session(n=3):
    quiz, questions = make_quiz(n)
    admin = AdminFactory()
    session = live.start_live(actor=admin, quiz=quiz, seconds_per_question=20)
    return admin, session, {q.id: q for q in questions}


def test_only_admins_host_a_live_quiz():
    quiz, _ = make_quiz(2)
    with pytest.raises(NotAllowed):
        live.start_live(actor=MemberFactory(), quiz=quiz)


def test_a_pushed_question_carries_no_answer_until_the_reveal():
    admin, session, questions = _session()
    live.next_question(actor=admin, session=session)
    state = live.state(session)
    assert state["status"] == "question"
    assert state["index"] == 0
    assert "right_ids" not in state
    assert "scoreboard" not in state
    assert all(set(option) == {"id", "text"} for option in state["question"]["options"])
    assert [o["id"] for o in state["question"]["options"]] == session.option_order[str(session.question_ids[0])]
    live.reveal(actor=admin, session=session)
    question = questions[session.question_ids[0]]
    assert live.state(session)["right_ids"] == [right_option(question)]


def test_answers_count_once_and_only_in_time_for_the_open_question():
    admin, session, questions = _session()
    live.next_question(actor=admin, session=session)
    player = MemberFactory()
    current = questions[session.current_question_id]
    record = live.answer(actor=player, session=session, question_id=current.id, option_ids=[right_option(current)])
    assert record.is_correct
    with pytest.raises(Conflict, match="first answer counts"):
        live.answer(actor=player, session=session, question_id=current.id, option_ids=[wrong_option(current)])
    other = next(q for qid, q in questions.items() if qid != current.id)
    with pytest.raises(Conflict, match="no longer open"):
        live.answer(actor=MemberFactory(), session=session, question_id=other.id, option_ids=[right_option(other)])
    with pytest.raises(ValidationFailed):
        live.answer(actor=MemberFactory(), session=session, question_id=current.id, option_ids=[right_option(other)])
    late = session.question_started_at + timedelta(seconds=25)
    with pytest.raises(Conflict, match="Time is up"):
        live.answer(
            actor=MemberFactory(), session=session, question_id=current.id, option_ids=[right_option(current)], now=late
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveAnswer)) == 1


def test_scoreboard_ranks_right_answers_then_speed_and_the_session_finishes():
    admin, session, questions = _session(2)
    quick, slow, wrong = (
        MemberFactory(display_name="Quick"),
        MemberFactory(display_name="Slow"),
        MemberFactory(display_name="Wrong"),
    )
    for _ in range(2):
        live.next_question(actor=admin, session=session)
        current = questions[session.current_question_id]
        start = session.question_started_at
        live.answer(
            actor=quick,
            session=session,
            question_id=current.id,
            option_ids=[right_option(current)],
            now=start + timedelta(seconds=1),
        )
        live.answer(
            actor=slow,
            session=session,
            question_id=current.id,
            option_ids=[right_option(current)],
            now=start + timedelta(seconds=9),
        )
        live.answer(actor=wrong, session=session, question_id=current.id, option_ids=[wrong_option(current)], now=start)
        live.reveal(actor=admin, session=session)
    board = live.scoreboard(session.id)
    assert [(row["name"], row["right"]) for row in board] == [("Quick", 2), ("Slow", 2), ("Wrong", 0)]
    live.next_question(actor=admin, session=session)
    assert session.status == LiveStatus.FINISHED
    assert session.finished_at is not None
    with pytest.raises(Conflict):
        live.next_question(actor=admin, session=session)


def test_players_get_the_question_pushed_over_socketio_without_answers(app):
    quiz, questions = make_quiz(2)
    lookup = {q.id: q for q in loaded(questions)}
    admin = AdminFactory()
    session = live.start_live(actor=admin, quiz=quiz)
    db.session.commit()
    browser = make_client(app)
    use_language(browser, "en")
    sign_in(browser, MemberFactory())
    page = browser.get(f"/quizzes/live/{session.id}").get_data(as_text=True)
    assert "js/live_quiz.js" in page
    socket = socketio.test_client(app, flask_test_client=browser)
    socket.emit("live_quiz.join", {"session": session.id})
    joined = [m for m in socket.get_received() if m["name"] == "live_quiz.state"]
    assert joined
    assert joined[-1]["args"][0]["status"] == "waiting"
    live.next_question(actor=admin, session=session)
    db.session.commit()
    pushed = [m["args"][0] for m in socket.get_received() if m["name"] == "live_quiz.state"]
    assert pushed
    assert pushed[-1]["status"] == "question"
    assert "right_ids" not in pushed[-1]
    assert "correct" not in str(pushed[-1]).lower()
    current = lookup[pushed[-1]["question"]["id"]]
    token = csrf_token(browser, f"/quizzes/live/{session.id}")
    response = browser.post(
        f"/quizzes/live/{session.id}/answer",
        json={"question": current.id, "options": [right_option(current)]},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.get_json()["ok"] is True
    again = browser.post(
        f"/quizzes/live/{session.id}/answer",
        json={"question": current.id, "options": [right_option(current)]},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "You have already answered this question; the first answer counts."
    assert [m["args"][0]["count"] for m in socket.get_received() if m["name"] == "live_quiz.answers"] == [1]
    socket.disconnect()


def test_members_cannot_open_the_host_page_or_step_the_quiz(app):
    quiz, _ = make_quiz(2)
    session = live.start_live(actor=AdminFactory(), quiz=quiz)
    db.session.commit()
    browser = make_client(app)
    sign_in(browser, MemberFactory())
    assert browser.get(f"/quizzes/live/{session.id}/host").status_code == 403
    token = csrf_token(browser, f"/quizzes/live/{session.id}")
    assert browser.post(f"/quizzes/live/{session.id}/next", data={"csrf_token": token}).status_code == 403


def test_admin_starts_and_steps_a_live_quiz_from_the_pages(app):
    quiz, _ = make_quiz(2)
    browser = make_client(app)
    use_language(browser, "en")
    sign_in(browser, AdminFactory())
    token = csrf_token(browser, f"/quizzes/{quiz.id}")
    response = browser.post(f"/admin/quizzes/{quiz.id}/live", data={"csrf_token": token})
    assert response.status_code == 303
    host = response.headers["Location"]
    session_id = int(host.split("/")[-2])
    assert browser.post(f"/quizzes/live/{session_id}/next", data={"csrf_token": token}).status_code == 303
    html = browser.get(host).get_data(as_text=True)
    assert 'data-testid="status">question<' in html
    assert "Reveal the answer" in html
    detail = browser.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert 'data-testid="join-live"' in detail
