"""Read-only questions other packages may ask the engine (ARCHITECTURE: features read tiers here)."""

from __future__ import annotations


def tier_code_of(member_id: int) -> str | None:
    """The code of the member's current tier (e.g. ``"gold"``), or None when they have none yet."""
    return None


def tier_choices() -> list[tuple[str, str]]:
    """The tiers as (code, name in the current language), lowest first, for restriction forms."""
    return []
