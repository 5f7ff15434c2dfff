"""Contest pages: listing, the fair gallery, hidden counts, voting by form, admin set-up and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from gamification.contests.models import Contest, Entry, Vote
from portal.db import utcnow
from portal.extensions import db
from tests.factories import AdminFactory, MemberFactory
from tests.gamification.contests.factories import ContestFactory, EntryFactory, VoteFactory
from tests.helpers import count_queries
from tests.portal.web import (
    csrf_token,
    flashes,
    fresh,
    make_client,
    post_form,
    recorded_events,
    sign_in,
    use_language,
)


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


def _gallery_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<figure class="card h-100 mb-0 entry-card" data-entry-id="(\d+)"', html)]


def _voting_contest(n=8, **kwargs):
    contest = ContestFactory(phase="voting", **kwargs)
    entries = [EntryFactory(contest_id=contest.id, member_id=MemberFactory().id) for _ in range(n)]
    return contest, entries


def test_contest_list_shows_every_contest_with_its_phase(web):
    ContestFactory(title_en="Spring", phase="submissions")
    ContestFactory(title_en="Winter", phase="voting")
    db.session.commit()
    html = web.get("/contests").get_data(as_text=True)
    assert "Spring" in html
    assert "Winter" in html
    assert 'data-phase="submissions"' in html
    assert 'data-phase="voting"' in html


def test_contest_page_is_persian_with_the_persian_title(app):
    client = make_client(app)
    use_language(client, "fa")
    contest = ContestFactory(title_fa="رنگ‌های پاییز")
    db.session.commit()
    html = client.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "رنگ‌های پاییز" in html


def test_gallery_page_runs_a_fixed_number_of_queries(web):
    contest, _entries = _voting_contest(n=12)
    url = f"/contests/{contest.id}"
    sign_in(web, MemberFactory())
    web.get(url)
    with count_queries() as counter:
        response = web.get(url)
    assert response.status_code == 200
    # Two of these read the tiers (the engine's tier list and the viewer's tier) for the eligibility rule.
    assert counter.count <= 10, counter
    EntryFactory.create_batch(10, contest_id=contest.id, member_id=MemberFactory().id)
    db.session.commit()
    with count_queries() as more:
        web.get(url)
    assert more.count == counter.count, more  # no query per entry


def test_gallery_is_shuffled_per_viewer_and_stable_for_each(app):
    contest, entries = _voting_contest(n=10)
    first, second = make_client(app), make_client(app)
    sign_in(first, MemberFactory())
    sign_in(second, MemberFactory())
    order_a = _gallery_ids(first.get(f"/contests/{contest.id}").get_data(as_text=True))
    order_b = _gallery_ids(second.get(f"/contests/{contest.id}").get_data(as_text=True))
    assert sorted(order_a) == sorted(e.id for e in entries)
    assert order_a != order_b
    assert _gallery_ids(first.get(f"/contests/{contest.id}").get_data(as_text=True)) == order_a


def test_after_closing_the_gallery_is_in_rank_order_with_results(web):
    contest = ContestFactory(phase="ended", closed_at=utcnow())
    entries = [EntryFactory(contest_id=contest.id, member_id=MemberFactory().id, final_rank=rank, final_score=10 - rank,
                            final_votes=10 - rank) for rank in (3, 1, 2)]  # fmt: skip
    db.session.commit()
    html = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert _gallery_ids(html) == [entries[1].id, entries[2].id, entries[0].id]
    assert 'data-testid="results"' in html
    assert "Place 1" in html
    assert "Equal scores are decided by the number of votes, then by the earlier entry." in html


def test_counts_are_hidden_during_voting_when_the_admin_chose_so(web):
    contest, entries = _voting_contest(n=2, hide_counts=True)
    VoteFactory(contest_id=contest.id, entry_id=entries[0].id, voter_id=MemberFactory().id)
    db.session.commit()
    html = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert 'data-testid="score"' not in html
    assert "Vote counts are hidden until voting closes." in html
    contest.hide_counts = False
    db.session.commit()
    html = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert "Score 1 from 1 votes" in html


def test_a_member_votes_through_the_page_and_sees_their_vote(web):
    contest, entries = _voting_contest(n=2)
    voter = MemberFactory()
    sign_in(web, voter)
    token = csrf_token(web, f"/contests/{contest.id}")
    response = web.post(f"/contests/{contest.id}/entries/{entries[0].id}/vote", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#entry-{entries[0].id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(Vote.voter_id == voter.id)) == 1
    html = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert 'data-testid="my-vote"' in html


def test_a_double_click_on_vote_keeps_one_vote_and_pays_the_voter_once(web):
    contest, entries = _voting_contest(n=2)
    voter = MemberFactory()
    sign_in(web, voter)
    token = csrf_token(web, f"/contests/{contest.id}")
    with recorded_events("contest.voted") as seen:
        for _ in range(2):
            response = web.post(f"/contests/{contest.id}/entries/{entries[0].id}/vote", data={"csrf_token": token})
            assert response.status_code == 303
    assert db.session.scalars(sa.select(Vote.entry_id).where(Vote.voter_id == voter.id)).all() == [entries[0].id]
    assert [e.member_id for e in seen] == [voter.id]


def test_own_photo_has_no_vote_button_and_a_forged_vote_is_refused(web):
    contest, entries = _voting_contest(n=2)
    author = db.session.get(type(MemberFactory()), entries[0].member_id)
    sign_in(web, author)
    html = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert f"/entries/{entries[0].id}/vote" not in html
    assert f"/entries/{entries[1].id}/vote" in html
    token = csrf_token(web, f"/contests/{contest.id}")
    web.post(f"/contests/{contest.id}/entries/{entries[0].id}/vote", data={"csrf_token": token})
    assert ("danger", "You cannot vote for your own photo.") in flashes(web)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_a_vote_after_the_window_gets_a_clear_message_and_counts_nothing(web):
    contest, entries = _voting_contest(n=2)
    sign_in(web, MemberFactory())
    token = csrf_token(web, f"/contests/{contest.id}")
    contest.voting_close_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = web.post(f"/contests/{contest.id}/entries/{entries[1].id}/vote", data={"csrf_token": token})
    assert response.status_code == 303
    assert ("danger", "Voting for this contest has closed; your vote was not counted.") in flashes(web)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_star_ratings_out_of_range_are_refused(web):
    contest, entries = _voting_contest(n=2, voting_mode="stars")
    sign_in(web, MemberFactory())
    token = csrf_token(web, f"/contests/{contest.id}")
    web.post(f"/contests/{contest.id}/entries/{entries[1].id}/vote", data={"csrf_token": token, "stars": "9"})
    assert ("danger", "Choose from one to five stars.") in flashes(web)
    web.post(f"/contests/{contest.id}/entries/{entries[1].id}/vote", data={"csrf_token": token, "stars": "4"})
    assert db.session.scalars(sa.select(Vote.stars)).all() == [4]


def test_gallery_has_a_lightbox_without_inline_scripts(web):
    contest, _entries = _voting_contest(n=2)
    db.session.commit()
    html = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert 'id="lightbox"' in html
    assert "js/contests.js" in html
    assert 'class="lightbox-link"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html


def test_entering_form_is_shown_during_submissions(web):
    contest = ContestFactory()
    sign_in(web, MemberFactory())
    html = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert f'action="/contests/{contest.id}/enter"' in html
    assert 'enctype="multipart/form-data"' in html


# --- admin -------------------------------------------------------------------------------------


def _form(**overrides):
    data = {
        "title_fa": "گل‌ها",
        "title_en": "Flowers",
        "theme_fa": "گل‌های بهاری",
        "theme_en": "Spring flowers",
        "rules": "**Own** photos only.",
        "prize1_points": "200",
        "prize1_reward": "A camera bag",
        "prize2_points": "100",
        "prize3_points": "",
        "participation_points": "10",
        "submissions_open_at": "2030-03-01T09:00",
        "submissions_close_at": "2030-03-10T09:00",
        "voting_open_at": "2030-03-10T09:00",
        "voting_close_at": "2030-03-20T21:00",
        "entries_per_member": "2",
        "voting_mode": "stars",
        "min_tier_to_enter": "",
        "min_tier_to_vote": "",
        "premoderate": "y",
        "hide_counts": "y",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_contest_through_the_form(web):
    sign_in(web, AdminFactory())
    response = post_form(web, "/admin/contests/new", _form())
    assert response.status_code == 303
    contest = db.session.scalar(sa.select(Contest))
    assert (contest.title_en, contest.voting_mode, contest.premoderate, contest.entries_per_member) == (
        "Flowers", "stars", True, 2,
    )  # fmt: skip
    assert contest.prizes == [{"points": 200, "reward": "A camera bag"}, {"points": 100, "reward": ""}]
    # 09:00 in Tehran (UTC+3:30) is 05:30 UTC.
    assert contest.submissions_open_at.isoformat() == "2030-03-01T05:30:00+00:00"
    page = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert "<strong>Own</strong>" in page


def test_admin_form_shows_the_window_error_next_to_the_field(web):
    sign_in(web, AdminFactory())
    response = post_form(web, "/admin/contests/new", _form(voting_open_at="2030-03-05T09:00"))
    assert response.status_code == 422
    assert re.search(
        r'id="voting_open_at-errors">\s*<div>Voting cannot open before submissions close.',
        response.get_data(as_text=True),
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contest)) == 0


def test_admin_edits_a_contest_with_its_values_prefilled(web):
    contest = ContestFactory(title_en="Old")
    sign_in(web, AdminFactory())
    page = web.get(f"/admin/contests/{contest.id}/edit").get_data(as_text=True)
    assert 'value="Old"' in page
    assert post_form(web, f"/admin/contests/{contest.id}/edit", _form(title_en="New")).status_code == 303
    assert fresh(contest).title_en == "New"


@pytest.mark.parametrize("path", ["/admin/contests", "/admin/contests/new"])
def test_members_cannot_open_the_contest_admin(web, path):
    sign_in(web, MemberFactory())
    assert web.get(path).status_code == 403


def test_admin_approves_a_held_entry(web):
    contest = ContestFactory(premoderate=True)
    entry = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id, status="pending")
    sign_in(web, AdminFactory())
    page = f"/admin/contests/{contest.id}/entries"
    response = post_form(
        web, f"/admin/contests/{contest.id}/entries/{entry.id}/review", {"decision": "approve"}, page=page
    )
    assert response.status_code == 303
    assert fresh(entry).status == "visible"


# --- closing from the command line -------------------------------------------------------------


def test_cli_close_due_closes_ended_contests_once(app):
    contest = ContestFactory(phase="ended")
    entry = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    VoteFactory(contest_id=contest.id, entry_id=entry.id, voter_id=MemberFactory().id)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "contests", "close-due"])
    assert result.exit_code == 0, result.output
    assert "contests: 1 closed" in result.output
    again = runner.invoke(args=["portal", "contests", "close-due"])
    assert "contests: 0 closed" in again.output
    db.session.expire_all()
    assert db.session.get(Entry, entry.id).final_rank == 1


def test_admins_can_download_who_voted_what_and_members_cannot(web):
    contest, entries = _voting_contest(n=2)
    voter = MemberFactory(display_name="Voter One")
    VoteFactory(contest_id=contest.id, entry_id=entries[1].id, voter_id=voter.id)
    sign_in(web, MemberFactory())
    assert web.get(f"/admin/contests/{contest.id}/votes.csv").status_code == 403
    page = web.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert "Voter One" not in page
    sign_in(web, AdminFactory())
    response = web.get(f"/admin/contests/{contest.id}/votes.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("vote_id,entry_id,entry_author_id,voter_id,voter_name,stars")
    assert f",{entries[1].id},{entries[1].member_id},{voter.id},Voter One,1," in lines[1]


def test_contest_list_runs_a_fixed_number_of_queries(web):
    for phase in ("submissions", "voting", "ended"):
        contest = ContestFactory(phase=phase)
        EntryFactory.create_batch(3, contest_id=contest.id, member_id=MemberFactory().id)
    db.session.commit()
    web.get("/contests")
    with count_queries() as counter:
        assert web.get("/contests").status_code == 200
    assert counter.count <= 2, counter


def test_a_persian_member_reads_the_refusal_in_persian(app):
    contest, entries = _voting_contest(n=2)
    client = make_client(app)
    sign_in(client, MemberFactory(language="fa"))
    token = csrf_token(client, f"/contests/{contest.id}")
    contest.voting_close_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    client.post(f"/contests/{contest.id}/entries/{entries[0].id}/vote", data={"csrf_token": token})
    assert ("danger", "رأی‌گیری این مسابقه تمام شده است؛ رأی شما ثبت نشد.") in flashes(client)
