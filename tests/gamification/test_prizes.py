"""Contest and quiz points paid by the engine's default rules, end to end, and on its leaderboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from gamification.contests import services as contests
from gamification.engine import demo as engine_demo
from gamification.engine import queries as engine_queries
from gamification.engine.describe import describe
from gamification.engine.models import PointEntry, Rule
from gamification.quizzes import services as quizzes
from portal.db import utcnow
from portal.extensions import db
from tests.factories import MemberFactory
from tests.gamification.contests.factories import ContestFactory, jpeg
from tests.gamification.quizzes.factories import make_quiz, right_option, wrong_option


@pytest.fixture(autouse=True)
def default_rules(app):
    """The engine's default catalogue, as a new club gets it; no global daily cap."""
    saved = app.config["POINTS_DAILY_COMMUNITY_CAP"]
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = 5
    engine_demo.seed_rules_tiers_badges()
    yield
    app.config["POINTS_DAILY_COMMUNITY_CAP"] = saved


def _points(member_id: int) -> int:
    return engine_queries.balance_of(member_id)[0]


def _awards(member_id: int) -> list[tuple[str, int]]:
    rows = db.session.execute(
        sa.select(PointEntry.rule_code, PointEntry.amount)
        .where(PointEntry.member_id == member_id, PointEntry.amount != 0)
        .order_by(PointEntry.id)
    )
    return [(code, amount) for code, amount in rows]


def _move_to(contest, phase: str) -> None:
    now = utcnow()
    if phase == "voting":
        contest.submissions_close_at = now - timedelta(minutes=2)
        contest.voting_open_at = now - timedelta(minutes=1)
    else:  # ended
        contest.voting_close_at = now - timedelta(seconds=1)
    db.session.flush()


def test_closing_a_contest_pays_prizes_and_every_entrant_their_participation_points():
    contest = ContestFactory(
        phase="submissions",
        participation_points=15,
        prizes=[{"points": 250, "reward": "Mug"}, {"points": 120, "reward": ""}],
    )
    first, second, third = (MemberFactory() for _ in range(3))
    entries = {
        m.id: contests.enter_contest(actor=m, contest=contest, stream=jpeg(), caption="x")
        for m in (first, second, third)
    }
    # Participation is paid at entry, whatever the member's tier or the day's community cap.
    assert [_points(m.id) for m in (first, second, third)] == [15, 15, 15]
    _move_to(contest, "voting")
    voters = [MemberFactory() for _ in range(3)]
    for voter in voters:
        contests.cast_vote(actor=voter, entry=entries[first.id])
    contests.cast_vote(actor=MemberFactory(), entry=entries[second.id])
    _move_to(contest, "ended")
    assert contests.close_contest(contest.id) is True
    assert contests.close_contest(contest.id) is False  # nothing paid twice
    assert _awards(first.id) == [("contest-entry", 15), ("contest-won", 250)]
    assert _awards(second.id) == [("contest-entry", 15), ("contest-won", 120)]
    assert _awards(third.id) == [("contest-entry", 15)]
    board = {member_id: points for member_id, _name, points, _tier in engine_queries.leaderboard("all", limit=100)}
    assert board[first.id] == 265
    assert board[second.id] == 135
    assert board[third.id] == 15
    assert engine_queries.rank_of(first.id) == (1, 265)


def test_a_hidden_entry_gives_its_participation_points_back_and_a_restored_one_earns_them_again():
    contest = ContestFactory(phase="submissions", participation_points=15)
    member = MemberFactory()
    entry = contests.enter_contest(actor=member, contest=contest, stream=jpeg())
    assert _points(member.id) == 15
    contests.set_entry_status(actor=None, entry=entry, status=contests.EntryStatus.HIDDEN)
    assert _points(member.id) == 0
    contests.set_entry_status(actor=None, entry=entry, status=contests.EntryStatus.VISIBLE)
    assert _points(member.id) == 15


def test_passing_a_quiz_pays_its_pass_points_and_per_answer_points_once():
    quiz, questions = make_quiz(4, pass_points=40, points_per_correct=5, attempts_allowed=2)
    lookup = {q.id: q for q in questions}
    member = MemberFactory()
    for _ in range(2):
        attempt = quizzes.start_attempt(actor=member, quiz=quiz)
        for index, question_id in enumerate(attempt.question_ids):
            pick = right_option if index < 3 else wrong_option
            quizzes.answer_question(
                actor=member, attempt=attempt, question_id=question_id, option_ids=[pick(lookup[question_id])]
            )
        quizzes.submit_attempt(actor=member, attempt=attempt)
    assert sorted(_awards(member.id)) == [("quiz-completed", 15), ("quiz-passed", 40)]
    assert _points(member.id) == 55
    assert engine_queries.rank_of(member.id) == (1, 55)


def test_a_failed_quiz_pays_only_its_correct_answers():
    quiz, questions = make_quiz(4, pass_percent=75, pass_points=40, points_per_correct=0)
    member = MemberFactory()
    attempt = quizzes.start_attempt(actor=member, quiz=quiz)
    lookup = {q.id: q for q in questions}
    for question_id in attempt.question_ids:
        quizzes.answer_question(
            actor=member, attempt=attempt, question_id=question_id, option_ids=[wrong_option(lookup[question_id])]
        )
    quizzes.submit_attempt(actor=member, attempt=attempt)
    assert _awards(member.id) == []


def test_the_amount_rule_reads_as_paying_the_stated_points():
    rule = db.session.scalar(sa.select(Rule).where(Rule.code == "contest-won"))
    assert (rule.points, rule.amount_unit, rule.apply_multiplier, rule.community) == (1, 1, False, False)
    assert "as many points as the event's amount" in describe(rule)
