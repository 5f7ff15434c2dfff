"""What segments know of the points engine, filled by the composition root.

``portal.admin`` imports only the kernel and accounts; tier, points and purchase criteria are
SQL conditions the engine's ``queries`` build, registered here by ``portal/app.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

# (member id column, **criteria) -> SQL conditions over that column; keyword arguments:
# tiers, spendable_min, spendable_max, qualifying_min, qualifying_max,
# purchases_days, purchases_min_count, purchases_min_amount (each None when unused).
EngineConditions = Callable[..., list[sa.ColumnElement[bool]]]


@dataclass(frozen=True)
class Engine:
    conditions: EngineConditions
    tier_choices: Callable[[], list[tuple[str, str]]]


_engine: list[Engine] = []


def register_engine(*, conditions: EngineConditions, tier_choices: Callable[[], list[tuple[str, str]]]) -> None:
    _engine[:] = [Engine(conditions=conditions, tier_choices=tier_choices)]


def clear() -> None:
    _engine.clear()


def engine() -> Engine | None:
    return _engine[0] if _engine else None


def tier_choices() -> list[tuple[str, str]]:
    found = engine()
    return found.tier_choices() if found else []


def engine_conditions(member_id: Any, **criteria: Any) -> list[sa.ColumnElement[bool]]:
    found = engine()
    if found is None:
        return []
    return found.conditions(member_id, **criteria)
