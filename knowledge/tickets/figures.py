"""Desk figures: open tickets, median first-response and resolution times, SLA breach rate, CSAT, deflections."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from knowledge.tickets import queries
from knowledge.tickets.labels import KIND_LABELS
from knowledge.tickets.models import ACTIVE_STATUSES, Ticket
from portal.accounts.models import Member
from portal.db import db, utcnow


@dataclass
class FigureRow:
    """The figures of one group of tickets (all, one agent, one kind)."""

    label: str
    tickets: int = 0
    open: int = 0
    median_first_response_hours: float | None = None
    median_resolution_hours: float | None = None
    breach_rate: float | None = None  # percent of tickets with an SLA target missed
    csat: float | None = None  # average rating 1–5
    ratings: int = 0


@dataclass
class DeskFigures:
    overall: FigureRow
    per_agent: list[FigureRow]
    per_kind: list[FigureRow]
    deflections: int
    since: datetime
    chart: dict[str, Any] = field(default_factory=dict)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def _row(label: str, rows: list[Any]) -> FigureRow:
    first = [_hours(r.first_response_at - r.created_at) for r in rows if r.first_response_at]
    resolved = [_hours(r.resolved_at - r.created_at) for r in rows if r.resolved_at]
    ratings = [r.rating for r in rows if r.rating]
    breached = [r for r in rows if r.first_response_breached or r.resolution_breached]
    return FigureRow(
        label=label,
        tickets=len(rows),
        open=sum(1 for r in rows if r.status in ACTIVE_STATUSES),
        median_first_response_hours=round(median(first), 1) if first else None,
        median_resolution_hours=round(median(resolved), 1) if resolved else None,
        breach_rate=round(100 * len(breached) / len(rows), 1) if rows else None,
        csat=round(sum(ratings) / len(ratings), 2) if ratings else None,
        ratings=len(ratings),
    )


def desk_figures(actor: Member, *, language: str, days: int = 90) -> DeskFigures:
    """Figures over the tickets opened in the last ``days`` that the actor may see (one query, plus names)."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        sa.select(
            Ticket.kind,
            Ticket.status,
            Ticket.assignee_id,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
            Ticket.first_response_breached,
            Ticket.resolution_breached,
            Ticket.rating,
        ).where(queries.visibility(actor), Ticket.merged_into_id.is_(None), Ticket.created_at >= since)
    ).all()
    names = {a.id: a.display_name for a in queries.agents()}
    by_agent: dict[int | None, list[Any]] = defaultdict(list)
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_agent[row.assignee_id].append(row)
        by_kind[row.kind].append(row)
    per_agent = [
        _row(names.get(agent_id, _("Unassigned")) if agent_id else _("Unassigned"), group)
        for agent_id, group in sorted(by_agent.items(), key=lambda item: names.get(item[0] or 0, "~"))
    ]
    per_kind = [_row(str(KIND_LABELS[kind]), by_kind[kind]) for kind in KIND_LABELS if kind in by_kind]
    chart = {
        "agents": {
            "labels": [r.label for r in per_agent],
            "median_first_response": [r.median_first_response_hours for r in per_agent],
            "median_resolution": [r.median_resolution_hours for r in per_agent],
            "csat": [r.csat for r in per_agent],
        },
        "kinds": {
            "labels": [r.label for r in per_kind],
            "open": [r.open for r in per_kind],
            "breach_rate": [r.breach_rate for r in per_kind],
        },
        "titles": {
            "median_first_response": _("Median first response (hours)"),
            "median_resolution": _("Median resolution (hours)"),
            "csat": _("Satisfaction (1–5)"),
            "open": _("Open tickets"),
            "breach_rate": _("SLA breach rate (%)"),
        },
        "language": language,
    }
    return DeskFigures(
        overall=_row(_("All tickets"), list(rows)),
        per_agent=per_agent,
        per_kind=per_kind,
        deflections=queries.deflection_count(since),
        since=since,
        chart=chart,
    )
