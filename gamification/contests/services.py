"""The writers of contests: set-up, entering, moderation of entries, voting and closing.

Points are never awarded here: the engine pays for the events emitted
(``contest.entered``, ``contest.voted``, ``contest.won``; ``contest.removed``
reverses an entry's participation points with the same source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from gamification.contests import (
    kinds,  # noqa: F401 - registers the notification kinds
    policies,
)
from gamification.contests.models import Contest, Entry, EntryStatus, Phase, Vote, VotingMode
from gamification.engine.queries import tier_choices, tier_code_of
from portal import media
from portal.accounts.models import Member
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit
from portal.notifications.services import notify

# Display size and thumbnail for the gallery and its lightbox.
CONTEST_IMAGE = media.ImageSpec("contests", {"display": (1600, 1600), "thumb": (480, 480)})
MAX_PRIZES = 3


def contest_path(contest_id: int) -> str:
    return f"/contests/{contest_id}"


def _tier_order() -> list[str]:
    return [code for code, _name in tier_choices()]


def _audit(actor: Member | None, kind: str, object_id: int, action: str, **attributes: Any) -> None:
    emit(
        "audit.logged",
        member_id=actor.id if actor else None,
        source=(kind, object_id),
        attributes={"action": action, **attributes},
    )


# --- set-up ------------------------------------------------------------------------------


@dataclass
class ContestData:
    """What the admin form sends; validated by :func:`_validate`."""

    title_fa: str
    title_en: str
    theme_fa: str
    theme_en: str
    submissions_open_at: datetime
    submissions_close_at: datetime
    voting_open_at: datetime
    voting_close_at: datetime
    rules: str = ""
    prizes: list[dict[str, Any]] = field(default_factory=list)
    participation_points: int = 0
    entries_per_member: int = 1
    voting_mode: str = VotingMode.SINGLE.value
    min_tier_to_enter: str | None = None
    min_tier_to_vote: str | None = None
    premoderate: bool = False
    hide_counts: bool = True

    def snapshot(self) -> dict[str, Any]:
        return {
            key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in self.__dict__.items()
        }


def _validate(data: ContestData) -> None:
    for name in ("title_fa", "title_en", "theme_fa", "theme_en"):
        if not (getattr(data, name) or "").strip():
            raise ValidationFailed(
                _l("Please fill in the title and theme in both languages."), fields={name: "required"}
            )
    if not data.submissions_open_at < data.submissions_close_at:
        raise ValidationFailed(
            _l("Submissions must close after they open."), fields={"submissions_close_at": "before_open"}
        )
    if data.voting_open_at < data.submissions_close_at:
        raise ValidationFailed(
            _l("Voting cannot open before submissions close."), fields={"voting_open_at": "before_submissions"}
        )
    if not data.voting_open_at < data.voting_close_at:
        raise ValidationFailed(_l("Voting must close after it opens."), fields={"voting_close_at": "before_open"})
    if data.voting_mode not in {mode.value for mode in VotingMode}:
        raise ValidationFailed(_l("Choose a voting mode."), fields={"voting_mode": "unknown"})
    if not 1 <= data.entries_per_member <= 20:
        raise ValidationFailed(
            _l("Entries per member must be between 1 and 20."), fields={"entries_per_member": "range"}
        )
    if data.participation_points < 0 or any(int(p.get("points") or 0) < 0 for p in data.prizes):
        raise ValidationFailed(_l("Points cannot be negative."), fields={"prizes": "negative"})
    known = set(_tier_order())
    for name in ("min_tier_to_enter", "min_tier_to_vote"):
        value = getattr(data, name)
        if value and value not in known:
            raise ValidationFailed(_l("Choose a tier from the list."), fields={name: "unknown"})


def _clean_prizes(prizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for prize in prizes[:MAX_PRIZES]:
        points = int(prize.get("points") or 0)
        reward = (prize.get("reward") or "").strip()[:200]
        cleaned.append({"points": points, "reward": reward})
    while cleaned and not cleaned[-1]["points"] and not cleaned[-1]["reward"]:
        cleaned.pop()  # trailing empty ranks are not prizes
    return cleaned


def _apply(contest: Contest, data: ContestData) -> None:
    contest.title_fa = data.title_fa.strip()
    contest.title_en = data.title_en.strip()
    contest.theme_fa = data.theme_fa.strip()
    contest.theme_en = data.theme_en.strip()
    contest.rules = data.rules or ""
    contest.prizes = _clean_prizes(data.prizes)
    contest.participation_points = data.participation_points
    contest.submissions_open_at = data.submissions_open_at
    contest.submissions_close_at = data.submissions_close_at
    contest.voting_open_at = data.voting_open_at
    contest.voting_close_at = data.voting_close_at
    contest.entries_per_member = data.entries_per_member
    contest.voting_mode = data.voting_mode
    contest.min_tier_to_enter = data.min_tier_to_enter or None
    contest.min_tier_to_vote = data.min_tier_to_vote or None
    contest.premoderate = data.premoderate
    contest.hide_counts = data.hide_counts


def create_contest(*, actor: Member | None, data: ContestData) -> Contest:
    """A new contest; ``actor`` None is the demo seeder or the CLI."""
    if actor is not None and not policies.can_manage(actor):
        raise NotAllowed()
    _validate(data)
    contest = Contest(created_by_id=actor.id if actor else None)
    _apply(contest, data)
    db.session.add(contest)
    db.session.flush()
    _audit(actor, "contest", contest.id, "contests.create", before={}, after=data.snapshot())
    return contest


def update_contest(*, actor: Member, contest: Contest, data: ContestData) -> Contest:
    """Edits a contest; once it has closed its results are final and it cannot change."""
    if not policies.can_manage(actor):
        raise NotAllowed()
    if contest.is_final:
        raise Conflict(_l("This contest has closed; its results are final."))
    if contest.voting_mode != data.voting_mode and db.session.scalar(
        sa.select(Vote.id).where(Vote.contest_id == contest.id).limit(1)
    ):
        raise ValidationFailed(
            _l("The voting mode cannot change once votes have been cast."), fields={"voting_mode": "locked"}
        )
    _validate(data)
    before = ContestData(
        **{name: getattr(contest, name) for name in ContestData.__dataclass_fields__ if hasattr(contest, name)}
    ).snapshot()
    _apply(contest, data)
    _audit(actor, "contest", contest.id, "contests.update", before=before, after=data.snapshot())
    return contest


# --- entering ------------------------------------------------------------------------------


def _locked_contest(contest_id: int) -> Contest:
    """The contest row, locked so that concurrent entries or closings of it run one at a time."""
    contest = db.session.scalar(
        sa.select(Contest).where(Contest.id == contest_id).with_for_update().execution_options(populate_existing=True)
    )
    if contest is None:
        raise NotFound()
    return contest


def entries_used(contest_id: int, member_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Entry)
            .where(Entry.contest_id == contest_id, Entry.member_id == member_id, Entry.status != EntryStatus.DELETED)
        )
        or 0
    )


def _entered_event(entry: Entry, contest: Contest) -> None:
    emit(
        "contest.entered",
        member_id=entry.member_id,
        source=("contest_entry", entry.id),
        attributes={"contest_id": contest.id, "entry_id": entry.id, "points": contest.participation_points},
    )


def _removed_event(entry: Entry) -> None:
    emit(
        "contest.removed",
        member_id=entry.member_id,
        source=("contest_entry", entry.id),
        attributes={"contest_id": entry.contest_id, "entry_id": entry.id},
    )


def enter_contest(*, actor: Member, contest: Contest, stream: IO[bytes] | bytes, caption: str = "") -> Entry:
    """Stores the photo through the shared pipeline and adds the entry (held if pre-moderated).

    Participation is paid at entry: ``contest.entered`` is emitted when the entry becomes
    visible (at once, or when a moderator approves it).
    """
    contest = _locked_contest(contest.id)
    phase = contest.phase()
    if phase != Phase.SUBMISSIONS:
        raise Conflict(
            _l("Submissions for this contest have not opened yet.")
            if phase == Phase.UPCOMING
            else _l("Submissions for this contest are closed.")
        )
    if not policies.can_enter(actor, contest, member_tier=tier_code_of(actor.id), tier_order=_tier_order()):
        raise NotAllowed(_l("This contest is open to members of a higher tier only."))
    if entries_used(contest.id, actor.id) >= contest.entries_per_member:
        raise Conflict(
            _l("You have already sent the %(n)s entries this contest allows.", n=contest.entries_per_member)
            if contest.entries_per_member > 1
            else _l("You have already sent your entry to this contest.")
        )
    caption = (caption or "").strip()
    if len(caption) > 300:
        raise ValidationFailed(_l("The caption can be at most 300 characters."), fields={"caption": "too_long"})
    stored = media.store_image(stream, CONTEST_IMAGE)
    entry = Entry(
        contest_id=contest.id,
        member_id=actor.id,
        caption=caption,
        image=stored.variants,
        width=stored.width,
        height=stored.height,
        status=EntryStatus.PENDING if contest.premoderate else EntryStatus.VISIBLE,
    )
    db.session.add(entry)
    db.session.flush()
    if entry.is_visible:
        _entered_event(entry, contest)
    return entry


def approve_entry(*, actor: Member, entry: Entry) -> Entry:
    """Shows a held entry; its participation is paid now."""
    if not policies.can_manage(actor):
        raise NotAllowed()
    if entry.status != EntryStatus.PENDING:
        raise Conflict(_l("This entry is not waiting for approval."))
    contest = db.session.get(Contest, entry.contest_id)
    entry.status = EntryStatus.VISIBLE
    _entered_event(entry, contest)
    _audit(
        actor,
        "contest_entry",
        entry.id,
        "contests.approve_entry",
        before={"status": "pending"},
        after={"status": "visible"},
    )
    notify(entry.member_id, "contest.entry_approved", _title_params(contest), url=contest_path(contest.id))
    return entry


def reject_entry(*, actor: Member, entry: Entry, reason: str = "") -> Entry:
    if not policies.can_manage(actor):
        raise NotAllowed()
    if entry.status != EntryStatus.PENDING:
        raise Conflict(_l("This entry is not waiting for approval."))
    contest = db.session.get(Contest, entry.contest_id)
    entry.status = EntryStatus.HIDDEN
    _audit(
        actor, "contest_entry", entry.id, "contests.reject_entry",
        before={"status": "pending"}, after={"status": "hidden"}, reason=reason,
    )  # fmt: skip
    notify(entry.member_id, "contest.entry_rejected", _title_params(contest), url=contest_path(contest.id))
    return entry


def set_entry_status(*, actor: Member | None, entry: Entry, status: EntryStatus, reason: str = "") -> Entry:
    """Moderation's hide / restore / hold / delete of an entry, with its points following it."""
    before = entry.status
    if before == status:
        return entry
    entry.status = status
    if before == EntryStatus.VISIBLE:
        _removed_event(entry)
    elif status == EntryStatus.VISIBLE:
        _entered_event(entry, db.session.get(Contest, entry.contest_id))
    if actor is not None:
        _audit(
            actor, "contest_entry", entry.id, f"contests.entry_{status.value}",
            before={"status": before}, after={"status": status.value}, reason=reason,
        )  # fmt: skip
    return entry


def _title_params(contest: Contest) -> dict[str, Any]:
    return {"contest_id": contest.id, "title_fa": contest.title_fa, "title_en": contest.title_en}


# --- voting --------------------------------------------------------------------------------


def cast_vote(*, actor: Member, entry: Entry, stars: int = 1) -> Vote:
    """Records (or changes) the member's vote under the contest's rule, until voting closes.

    Single-vote contests keep one row per voter, moved to the newly chosen entry; star
    contests keep one row per voter and entry. The unique ballot key makes a double
    click or a race count once.
    """
    contest = db.session.get(Contest, entry.contest_id)
    phase = contest.phase()
    if phase != Phase.VOTING:
        raise Conflict(
            _l("Voting for this contest has closed; your vote was not counted.")
            if phase == Phase.CLOSED
            else _l("Voting for this contest has not opened yet.")
        )
    if not policies.may_vote_in(actor, contest, member_tier=tier_code_of(actor.id), tier_order=_tier_order()):
        raise NotAllowed(_l("Voting in this contest is open to members of a higher tier only."))
    if entry.member_id == actor.id:
        raise NotAllowed(_l("You cannot vote for your own photo."))
    if not policies.can_vote_for(actor, entry):
        raise NotFound()
    single = contest.voting_mode == VotingMode.SINGLE
    if single:
        stars = 1
    elif not (isinstance(stars, int) and 1 <= stars <= 5):
        raise ValidationFailed(_l("Choose from one to five stars."), fields={"stars": "range"})
    ballot = 0 if single else entry.id
    key = (Vote.contest_id == contest.id, Vote.voter_id == actor.id, Vote.ballot == ballot)
    vote = db.session.scalar(sa.select(Vote).where(*key))
    if vote is None:
        try:
            with db.session.begin_nested():
                vote = Vote(contest_id=contest.id, entry_id=entry.id, voter_id=actor.id, ballot=ballot, stars=stars)
                db.session.add(vote)
        except sa.exc.IntegrityError:
            # Another request of the same voter got there first: change that vote instead.
            vote = db.session.scalar(sa.select(Vote).where(*key))
        else:
            emit(
                "contest.voted",
                member_id=actor.id,
                source=("contest_vote", vote.id),
                attributes={"contest_id": contest.id, "entry_id": entry.id, "entry_author_id": entry.member_id},
            )
            return vote
    vote.entry_id = entry.id
    vote.stars = stars
    return vote


def withdraw_vote(*, actor: Member, entry: Entry) -> None:
    """Takes the member's vote on ``entry`` back, while voting is open."""
    contest = db.session.get(Contest, entry.contest_id)
    if contest.phase() != Phase.VOTING:
        raise Conflict(_l("Voting for this contest has closed; your vote was not counted."))
    db.session.execute(
        sa.delete(Vote).where(Vote.contest_id == contest.id, Vote.voter_id == actor.id, Vote.entry_id == entry.id)
    )


# --- closing -------------------------------------------------------------------------------

TIE_BREAK = _l("Equal scores are decided by the number of votes, then by the earlier entry.")


def _tally(contest: Contest) -> list[tuple[Entry, int, int]]:
    """Every visible entry with its score and vote count, best first by the stated tie-break:
    higher score, then more votes, then the earlier entry (and its id, to be total)."""
    votes = (
        sa.select(Vote.entry_id, sa.func.count().label("n"), sa.func.sum(Vote.stars).label("stars"))
        .where(Vote.contest_id == contest.id)
        .group_by(Vote.entry_id)
        .subquery()
    )
    n = sa.func.coalesce(votes.c.n, 0)
    stars = sa.func.coalesce(votes.c.stars, 0)
    score = n if contest.voting_mode == VotingMode.SINGLE else stars
    rows = db.session.execute(
        sa.select(Entry, score, n)
        .outerjoin(votes, votes.c.entry_id == Entry.id)
        .where(Entry.contest_id == contest.id, Entry.status == EntryStatus.VISIBLE)
        .order_by(score.desc(), n.desc(), Entry.created_at, Entry.id)
    )
    return [(entry, int(s), int(c)) for entry, s, c in rows]


def close_contest(contest_id: int, *, now: datetime | None = None) -> bool:
    """Computes and stores the final results of one contest whose voting has ended.

    Returns False when there is nothing to do (not due, or already closed), so running
    it twice pays nothing twice; the events also carry sources the engine pays once.
    """
    contest = _locked_contest(contest_id)
    now = now or utcnow()
    if contest.closed_at is not None or now < contest.voting_close_at:
        return False
    ranked = _tally(contest)
    winners: list[tuple[Entry, int]] = []
    for rank, (entry, score, count) in enumerate(ranked, start=1):
        entry.final_rank, entry.final_score, entry.final_votes = rank, score, count
        if score > 0 and contest.prize_for(rank) is not None:
            winners.append((entry, rank))
    contest.closed_at = now
    params = _title_params(contest)
    for entry, rank in winners:
        prize = contest.prize_for(rank) or {}
        emit(
            "contest.won",
            member_id=entry.member_id,
            source=("contest_win", entry.id),
            attributes={
                "contest_id": contest.id,
                "entry_id": entry.id,
                "rank": rank,
                "points": prize.get("points", 0),
                "reward": prize.get("reward", ""),
            },
        )
        notify(entry.member_id, "contest.won", {**params, "rank": rank}, url=contest_path(contest.id))
    entrants = {entry.member_id for entry, _score, _count in ranked}
    for member_id in sorted(entrants):
        notify(member_id, "contest.results", params, url=contest_path(contest.id))
    emit("contest.closed", source=("contest", contest.id), attributes={"winners": [e.member_id for e, _r in winners]})
    return True


def due_contest_ids(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Contest.id)
            .where(Contest.closed_at.is_(None), Contest.voting_close_at <= now)
            .order_by(Contest.voting_close_at)
        )
    )
