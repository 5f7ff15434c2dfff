"""Contest rules in the services: phases, set-up checks, entering, voting, closing and moderation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from gamification.contests import policies, services
from gamification.contests.models import Entry, EntryStatus, Phase, Vote
from gamification.contests.moderation import entry_moderation
from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import AdminFactory, MemberFactory
from tests.gamification.contests.factories import ContestFactory, EntryFactory, VoteFactory, jpeg, windows
from tests.portal.web import recorded_events


def _data(**overrides) -> services.ContestData:
    values = {
        "title_fa": "عکس‌های شهر",
        "title_en": "City photos",
        "theme_fa": "شهر در شب",
        "theme_en": "The city at night",
        **windows("submissions"),
    }
    values.update(overrides)
    return services.ContestData(**values)


# --- phases and set-up ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "expected"),
    [("upcoming", Phase.UPCOMING), ("submissions", Phase.SUBMISSIONS), ("review", Phase.REVIEW),
     ("voting", Phase.VOTING), ("ended", Phase.CLOSED)],
)  # fmt: skip
def test_phase_follows_from_the_windows(phase, expected):
    assert ContestFactory(phase=phase).phase() == expected


def test_admin_creates_a_contest_and_the_action_is_audited():
    admin = AdminFactory()
    with recorded_events("audit.logged") as seen:
        contest = services.create_contest(
            actor=admin, data=_data(prizes=[{"points": 100, "reward": " Mug "}, {"points": 0, "reward": ""}])
        )
    assert contest.id
    assert contest.title("en") == "City photos"
    assert contest.title("fa") == "عکس‌های شهر"
    assert contest.prizes == [{"points": 100, "reward": "Mug"}]  # the empty trailing rank is no prize
    assert seen[0].attributes["action"] == "contests.create"
    assert seen[0].source == ("contest", contest.id)
    assert seen[0].member_id == admin.id


def test_a_member_cannot_create_a_contest():
    with pytest.raises(NotAllowed):
        services.create_contest(actor=MemberFactory(), data=_data())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title_en": "  "}, "title_en"),
        ({"voting_mode": "plurality"}, "voting_mode"),
        ({"entries_per_member": 0}, "entries_per_member"),
        ({"min_tier_to_enter": "gold"}, "min_tier_to_enter"),
    ],
)
def test_invalid_contest_settings_are_refused_with_the_field_named(overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        services.create_contest(actor=AdminFactory(), data=_data(**overrides))
    assert field in caught.value.fields


def test_windows_must_follow_each_other():
    now = utcnow()
    with pytest.raises(ValidationFailed) as caught:
        services.create_contest(
            actor=AdminFactory(),
            data=_data(
                submissions_open_at=now,
                submissions_close_at=now + timedelta(days=2),
                voting_open_at=now + timedelta(days=1),
                voting_close_at=now + timedelta(days=3),
            ),
        )
    assert "voting_open_at" in caught.value.fields


def test_a_closed_contest_cannot_be_edited():
    contest = ContestFactory(phase="ended", closed_at=utcnow())
    with pytest.raises(Conflict):
        services.update_contest(actor=AdminFactory(), contest=contest, data=_data())


# --- tiers -------------------------------------------------------------------------------------


def test_minimum_tier_rule_orders_tiers_lowest_first():
    order = ["silver", "gold", "platinum"]
    assert policies.meets_tier(None, None, order)
    assert policies.meets_tier("gold", "gold", order)
    assert policies.meets_tier("platinum", "gold", order)
    assert not policies.meets_tier("silver", "gold", order)
    assert not policies.meets_tier(None, "gold", order)
    assert not policies.meets_tier("gold", "removed-tier", order)  # an unknown tier opens nothing


def test_a_tier_restricted_contest_refuses_members_without_that_tier():
    contest = ContestFactory(min_tier_to_enter="gold", min_tier_to_vote="gold")
    member = MemberFactory()
    with pytest.raises(NotAllowed, match="higher tier"):
        services.enter_contest(actor=member, contest=contest, stream=jpeg())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0


# --- entering ----------------------------------------------------------------------------------


def test_entering_stores_the_photo_and_emits_contest_entered_with_the_prize_points():
    contest = ContestFactory(participation_points=15)
    member = MemberFactory()
    with recorded_events("contest.*") as seen:
        entry = services.enter_contest(actor=member, contest=contest, stream=jpeg(), caption="  Dawn  ")
    assert entry.status == EntryStatus.VISIBLE
    assert entry.caption == "Dawn"
    assert set(entry.image) == {"display", "thumb"}
    assert [(e.type, e.member_id, e.source) for e in seen] == [
        ("contest.entered", member.id, ("contest_entry", entry.id))
    ]
    assert seen[0].attributes == {"contest_id": contest.id, "entry_id": entry.id, "points": 15}


@pytest.mark.parametrize(("phase", "message"), [("upcoming", "not opened yet"), ("voting", "are closed")])
def test_entering_outside_the_submission_window_is_refused(phase, message):
    with pytest.raises(Conflict, match=message):
        services.enter_contest(actor=MemberFactory(), contest=ContestFactory(phase=phase), stream=jpeg())


def test_the_entries_per_member_limit_holds():
    contest = ContestFactory(entries_per_member=2)
    member = MemberFactory()
    services.enter_contest(actor=member, contest=contest, stream=jpeg())
    services.enter_contest(actor=member, contest=contest, stream=jpeg())
    with pytest.raises(Conflict, match="2 entries"):
        services.enter_contest(actor=member, contest=contest, stream=jpeg())
    assert services.entries_used(contest.id, member.id) == 2


def test_an_unverified_member_cannot_enter():
    with pytest.raises(NotAllowed):
        services.enter_contest(actor=MemberFactory(email_verified_at=None), contest=ContestFactory(), stream=jpeg())


def test_premoderated_entries_are_held_and_paid_only_when_approved():
    contest = ContestFactory(premoderate=True)
    member = MemberFactory()
    with recorded_events("contest.*") as seen:
        entry = services.enter_contest(actor=member, contest=contest, stream=jpeg())
    assert entry.status == EntryStatus.PENDING
    assert seen == []
    with recorded_events("*") as seen:
        services.approve_entry(actor=AdminFactory(), entry=entry)
    assert entry.status == EntryStatus.VISIBLE
    assert [e.type for e in seen] == ["contest.entered", "audit.logged"]
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member.id)).all()
    assert kinds == ["contest.entry_approved"]
    with pytest.raises(Conflict):
        services.approve_entry(actor=AdminFactory(), entry=entry)  # approving twice pays nothing twice


def test_a_rejected_entry_is_hidden_and_never_paid():
    entry = EntryFactory(contest_id=ContestFactory(premoderate=True).id, member_id=MemberFactory().id, status="pending")
    with recorded_events("contest.*") as seen:
        services.reject_entry(actor=AdminFactory(), entry=entry, reason="blurry")
    assert entry.status == EntryStatus.HIDDEN
    assert seen == []


# --- voting ------------------------------------------------------------------------------------


def _voting(**kwargs):
    contest = ContestFactory(phase="voting", **kwargs)
    a = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    b = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    return contest, a, b


def _votes(contest_id):
    return db.session.execute(
        sa.select(Vote.voter_id, Vote.entry_id, Vote.stars).where(Vote.contest_id == contest_id).order_by(Vote.id)
    ).all()


def test_single_mode_keeps_one_vote_per_voter_and_moves_it_when_changed():
    contest, a, b = _voting()
    voter = MemberFactory()
    with recorded_events("contest.voted") as seen:
        services.cast_vote(actor=voter, entry=a)
        services.cast_vote(actor=voter, entry=a)  # a double click
        services.cast_vote(actor=voter, entry=b)  # a change of mind
    assert _votes(contest.id) == [(voter.id, b.id, 1)]
    assert len(seen) == 1  # the vote is one vote, however often it moves


def test_star_mode_keeps_one_rating_per_entry_and_updates_it():
    contest, a, b = _voting(voting_mode="stars")
    voter = MemberFactory()
    services.cast_vote(actor=voter, entry=a, stars=3)
    services.cast_vote(actor=voter, entry=b, stars=5)
    services.cast_vote(actor=voter, entry=a, stars=4)
    assert _votes(contest.id) == [(voter.id, a.id, 4), (voter.id, b.id, 5)]
    with pytest.raises(ValidationFailed):
        services.cast_vote(actor=voter, entry=a, stars=6)


def test_nobody_votes_for_their_own_photo():
    contest, a, _b = _voting()
    author = db.session.get(type(MemberFactory()), a.member_id)
    with pytest.raises(NotAllowed, match="your own photo"):
        services.cast_vote(actor=author, entry=a)
    assert _votes(contest.id) == []


def test_a_vote_after_the_window_is_refused_with_a_clear_message():
    contest, a, _b = _voting()
    contest.voting_close_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(Conflict, match="Voting for this contest has closed"):
        services.cast_vote(actor=MemberFactory(), entry=a)
    assert _votes(contest.id) == []


def test_a_hidden_entry_cannot_be_voted_for():
    _contest, a, _b = _voting()
    a.status = "hidden"
    with pytest.raises(Exception, match="could not find"):
        services.cast_vote(actor=MemberFactory(), entry=a)


# --- closing -----------------------------------------------------------------------------------


def _ended_with_votes(scores: dict[str, int], mode="single", prizes=None):
    contest = ContestFactory(phase="ended", voting_mode=mode, prizes=prizes or [{"points": 100}, {"points": 50}])
    entries = {}
    for name in scores:
        entries[name] = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    for name, count in scores.items():
        for _ in range(count):
            voter = MemberFactory()
            VoteFactory(
                contest_id=contest.id,
                entry_id=entries[name].id,
                voter_id=voter.id,
                ballot=0 if mode == "single" else entries[name].id,
            )
    return contest, entries


def test_closing_ranks_by_score_then_votes_then_earlier_entry_and_pays_the_winners():
    contest, entries = _ended_with_votes({"early": 2, "late": 2, "top": 3, "none": 0})
    # "early" and "late" tie on score and votes: the earlier entry wins the tie.
    entries["late"].created_at = entries["early"].created_at + timedelta(minutes=1)
    with recorded_events("contest.won") as seen:
        assert services.close_contest(contest.id) is True
    ranks = {name: e.final_rank for name, e in entries.items()}
    assert ranks == {"top": 1, "early": 2, "late": 3, "none": 4}
    assert (entries["top"].final_score, entries["top"].final_votes) == (3, 3)
    assert [(e.member_id, e.source, e.attributes["rank"], e.attributes["points"]) for e in seen] == [
        (entries["top"].member_id, ("contest_win", entries["top"].id), 1, 100),
        (entries["early"].member_id, ("contest_win", entries["early"].id), 2, 50),
    ]
    assert contest.closed_at is not None
    winner_kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.member_id == entries["top"].member_id).order_by(Notification.id)
    ).all()
    assert winner_kinds == ["contest.won", "contest.results"]
    loser_kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.member_id == entries["none"].member_id)
    ).all()
    assert loser_kinds == ["contest.results"]


def test_star_contests_rank_by_total_stars():
    contest = ContestFactory(phase="ended", voting_mode="stars", prizes=[{"points": 10}])
    a = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    b = EntryFactory(contest_id=contest.id, member_id=MemberFactory().id)
    VoteFactory(contest_id=contest.id, entry_id=a.id, voter_id=MemberFactory().id, ballot=a.id, stars=5)
    for _ in range(2):
        VoteFactory(contest_id=contest.id, entry_id=b.id, voter_id=MemberFactory().id, ballot=b.id, stars=3)
    services.close_contest(contest.id)
    assert (b.final_rank, b.final_score, b.final_votes) == (1, 6, 2)
    assert (a.final_rank, a.final_score) == (2, 5)


def test_closing_twice_pays_and_notifies_nothing_twice():
    contest, _entries = _ended_with_votes({"a": 1, "b": 0})
    with recorded_events("contest.*") as seen:
        assert services.close_contest(contest.id) is True
        assert services.close_contest(contest.id) is False
    assert [e.type for e in seen] == ["contest.won", "contest.closed"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 3


def test_a_contest_still_voting_is_not_closed():
    contest, _a, _b = _voting()
    assert services.close_contest(contest.id) is False
    assert contest.closed_at is None
    assert contest.id not in services.due_contest_ids()


def test_no_votes_means_no_winners():
    contest, _entries = _ended_with_votes({"a": 0, "b": 0})
    with recorded_events("contest.won") as seen:
        services.close_contest(contest.id)
    assert seen == []


# --- moderation adapter -----------------------------------------------------------------------


def test_hiding_an_entry_reverses_its_participation_with_the_same_source_and_restoring_repays():
    entry = EntryFactory(contest_id=ContestFactory().id, member_id=MemberFactory().id)
    moderator = AdminFactory()
    assert entry_moderation.load(entry.id) is entry
    assert entry_moderation.is_visible(entry)
    with recorded_events("*") as seen:
        entry_moderation.hide(entry, actor=moderator, reason="spam")
    assert not entry_moderation.is_visible(entry)
    assert [(e.type, e.source) for e in seen] == [
        ("contest.removed", ("contest_entry", entry.id)),
        ("audit.logged", ("contest_entry", entry.id)),
    ]
    assert seen[1].attributes["reason"] == "spam"
    with recorded_events("contest.*") as seen:
        entry_moderation.restore(entry, actor=moderator, reason="ok")
    assert [(e.type, e.source) for e in seen] == [("contest.entered", ("contest_entry", entry.id))]
    entry_moderation.delete(entry, actor=moderator, reason="gone")
    assert entry_moderation.load(entry.id) is None
    assert entry_moderation.author_id(entry) == entry.member_id
    assert entry_moderation.url(entry).endswith(f"#entry-{entry.id}")
    assert "<img" in entry_moderation.excerpt_html(entry)
