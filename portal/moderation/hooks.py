"""Slots the composition root fills with other packages' contributions (moderation imports none of them)."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

# The member's points history for the dossier, as HTML (the gamification engine provides it).
PointsHistoryProvider = Callable[[int], Markup]
_points_history: PointsHistoryProvider | None = None


def set_points_history_provider(provider: PointsHistoryProvider | None) -> None:
    """Called by ``portal/app.py`` with the engine's renderer of a member's points history."""
    global _points_history
    _points_history = provider


def points_history(member_id: int) -> Markup:
    """The provider's HTML, or nothing until one is registered."""
    return _points_history(member_id) if _points_history is not None else Markup("")
