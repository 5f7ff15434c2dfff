"""Who may run, enter and vote in a contest; pure functions of the actor, the contest and the tiers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gamification.contests.models import Contest, Entry, EntryStatus, Phase
from portal.accounts.models import Role

# Member segments come from outside this package: the composition root registers a predicate
# ``contains(segment_id, member_id) -> bool`` and ``choices() -> [(segment_id, name)]``.
_audience: dict[str, Callable[..., Any]] = {}


def register_audience(contains: Callable[[int, int], bool], choices: Callable[[], list[tuple[int, str]]]) -> None:
    """Lets contests be restricted to a member segment (called once, by the composition root)."""
    _audience["contains"] = contains
    _audience["choices"] = choices


def unregister_audience() -> None:
    _audience.clear()


def audience_choices() -> list[tuple[int, str]]:
    """The segments an admin may pick, or [] when no segment provider is registered."""
    choices = _audience.get("choices")
    return list(choices()) if choices else []


def in_segment(segment_id: int | None, member_id: int) -> bool:
    """True when no segment is required or the member is in it; a segment that cannot be
    checked (no provider registered) lets nobody in, so a restriction never silently opens."""
    if segment_id is None:
        return True
    contains = _audience.get("contains")
    return bool(contains and contains(segment_id, member_id))


def _member(actor: Any) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False) and not getattr(actor, "is_disabled", False))


def can_manage(actor: Any) -> bool:
    return _member(actor) and actor.role == Role.ADMIN


def meets_tier(member_tier: str | None, required: str | None, tier_order: Sequence[str]) -> bool:
    """True when no tier is required, or the member's tier is the required one or above it.

    ``tier_order`` lists tier codes lowest first (``tier_choices``); an unknown required tier
    lets nobody in, so a removed tier never opens a restricted contest to everyone.
    """
    if not required:
        return True
    if member_tier is None or required not in tier_order or member_tier not in tier_order:
        return False
    return tier_order.index(member_tier) >= tier_order.index(required)


def can_enter(actor: Any, contest: Contest, *, member_tier: str | None, tier_order: Sequence[str]) -> bool:
    return (
        _member(actor)
        and actor.is_verified
        and contest.phase() == Phase.SUBMISSIONS
        and meets_tier(member_tier, contest.min_tier_to_enter, tier_order)
        and in_segment(contest.enter_segment_id, actor.id)
    )


def may_vote_in(actor: Any, contest: Contest, *, member_tier: str | None, tier_order: Sequence[str]) -> bool:
    """Eligible to vote at all (phase aside): a verified member of the required tier."""
    return (
        _member(actor)
        and actor.is_verified
        and meets_tier(member_tier, contest.min_tier_to_vote, tier_order)
        and in_segment(contest.vote_segment_id, actor.id)
    )


def can_vote_for(actor: Any, entry: Entry) -> bool:
    """Never for one's own photo, and only for an entry that is shown."""
    return _member(actor) and entry.member_id != actor.id and entry.status == EntryStatus.VISIBLE


def counts_visible(contest: Contest) -> bool:
    """Scores are shown, unless the admin chose to hide them while voting is on."""
    return contest.phase() != Phase.VOTING or not contest.hide_counts
