"""Read-only selects for contests: listings, the fairly ordered gallery, scores and one's own votes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from math import ceil

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from gamification.contests.models import Contest, Entry, EntryStatus, Vote, VotingMode
from portal.accounts.models import Member
from portal.db import db

GALLERY_PAGE_SIZE = 24


@dataclass
class GalleryPage:
    entries: list[Entry]
    page: int
    pages: int
    total: int
    scores: dict[int, tuple[int, int]]  # entry id -> (score, votes); empty when hidden


def list_contests() -> list[Contest]:
    """Every contest, the ones closing soonest first and the closed ones after them."""
    return list(
        db.session.scalars(
            sa.select(Contest).order_by(Contest.closed_at.is_not(None), Contest.voting_close_at.desc(), Contest.id)
        )
    )


def shuffle_key(viewer_key: str, contest_id: int, entry_id: int) -> str:
    """A stable pseudo-random position: the same viewer sees the same order on every page."""
    return hashlib.sha256(f"{viewer_key}:{contest_id}:{entry_id}".encode()).hexdigest()


def _scores(contest: Contest, entry_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not entry_ids:
        return {}
    rows = db.session.execute(
        sa.select(Vote.entry_id, sa.func.count(), sa.func.sum(Vote.stars))
        .where(Vote.entry_id.in_(entry_ids))
        .group_by(Vote.entry_id)
    )
    single = contest.voting_mode == VotingMode.SINGLE
    found = {entry_id: (int(n) if single else int(stars or 0), int(n)) for entry_id, n, stars in rows}
    return {entry_id: found.get(entry_id, (0, 0)) for entry_id in entry_ids}


def gallery(contest: Contest, *, viewer_key: str, page: int = 1, show_scores: bool = False) -> GalleryPage:
    """The visible entries: by final rank once results are final, otherwise shuffled per viewer."""
    page = max(page, 1)
    visible = (Entry.contest_id == contest.id, Entry.status == EntryStatus.VISIBLE)
    if contest.is_final:
        ids = list(db.session.scalars(sa.select(Entry.id).where(*visible).order_by(Entry.final_rank, Entry.id)))
    else:
        ids = sorted(
            db.session.scalars(sa.select(Entry.id).where(*visible)),
            key=lambda entry_id: shuffle_key(viewer_key, contest.id, entry_id),
        )
    total = len(ids)
    pages = max(ceil(total / GALLERY_PAGE_SIZE), 1)
    page_ids = ids[(page - 1) * GALLERY_PAGE_SIZE : page * GALLERY_PAGE_SIZE]
    by_id = {
        entry.id: entry
        for entry in db.session.scalars(
            sa.select(Entry).options(joinedload(Entry.member)).where(Entry.id.in_(page_ids))
        )
    }  # fmt: skip
    entries = [by_id[entry_id] for entry_id in page_ids if entry_id in by_id]
    if contest.is_final:
        scores = {e.id: (e.final_score or 0, e.final_votes or 0) for e in entries}
    else:
        scores = _scores(contest, page_ids) if show_scores else {}
    return GalleryPage(entries, page, pages, total, scores)


def my_votes(contest_id: int, voter_id: int) -> dict[int, int]:
    """entry id -> stars of the viewer's votes in this contest (never anyone else's)."""
    return dict(
        db.session.execute(
            sa.select(Vote.entry_id, Vote.stars).where(Vote.contest_id == contest_id, Vote.voter_id == voter_id)
        ).all()
    )


def member_entries(contest_id: int, member_id: int) -> list[Entry]:
    return list(
        db.session.scalars(
            sa.select(Entry)
            .where(Entry.contest_id == contest_id, Entry.member_id == member_id, Entry.status != EntryStatus.DELETED)
            .order_by(Entry.id)
        )
    )


def winners(contest: Contest) -> list[Entry]:
    """The ranked entries that took a prize (final results only)."""
    if not contest.is_final:
        return []
    return list(
        db.session.scalars(
            sa.select(Entry)
            .options(joinedload(Entry.member))
            .where(
                Entry.contest_id == contest.id,
                Entry.status == EntryStatus.VISIBLE,
                Entry.final_rank <= len(contest.prizes or []),
                Entry.final_score > 0,
            )
            .order_by(Entry.final_rank)
        )
    )


def entries_for_review(contest_id: int) -> list[Entry]:
    """Every entry of a contest for its admin page, held ones first."""
    return list(
        db.session.scalars(
            sa.select(Entry)
            .options(joinedload(Entry.member))
            .where(Entry.contest_id == contest_id, Entry.status != EntryStatus.DELETED)
            .order_by((Entry.status == EntryStatus.PENDING).desc(), Entry.id)
        )
    )


def entry_counts(contest_ids: list[int]) -> dict[int, int]:
    if not contest_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Entry.contest_id, sa.func.count())
            .where(Entry.contest_id.in_(contest_ids), Entry.status == EntryStatus.VISIBLE)
            .group_by(Entry.contest_id)
        ).all()
    )


def votes_for_audit(contest_id: int) -> list[tuple[Vote, Entry, str]]:
    """Every vote of a contest with its entry and the voter's name, for admins only (never shown publicly)."""
    return [
        (vote, entry, voter_name)
        for vote, entry, voter_name in db.session.execute(
            sa.select(Vote, Entry, Member.display_name)
            .join(Entry, Entry.id == Vote.entry_id)
            .join(Member, Member.id == Vote.voter_id)
            .where(Vote.contest_id == contest_id)
            .order_by(Vote.id)
        )
    ]
