"""The demo club's forums (filled below)."""

from __future__ import annotations


def seed_forums() -> None:
    """Idempotent demo content."""
