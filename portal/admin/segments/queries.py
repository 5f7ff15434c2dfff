"""Reading segments: their members as one SQL query, counts, membership, choices for other packages.

``contains`` and ``choices`` are the interface other packages use (wired by ``portal/app.py``):
``contains(segment_id, member_id) -> bool`` and ``choices() -> list[(id, localized name)]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.accounts.models import Member, Organisation
from portal.admin.segments.criteria import conditions
from portal.admin.segments.models import Segment
from portal.db import KeysetPage, db, paginate_keyset, utcnow
from portal.i18n import current_language

PAGE_SIZE = 50

# segment id -> (version, criteria): what ``contains`` needs without reading the criteria each time.
_known: dict[int, tuple[str, dict[str, Any]]] = {}


def _criteria_of(segment: Segment | Mapping[str, Any]) -> Mapping[str, Any]:
    return segment.criteria or {} if isinstance(segment, Segment) else segment


def member_query(segment: Segment | Mapping[str, Any], *, now: datetime | None = None) -> sa.Select[tuple[Member]]:
    """The segment's members as one SELECT (criteria as conditions and subqueries, no loop over members)."""
    return sa.select(Member).where(*conditions(_criteria_of(segment), now or utcnow()))


def count(segment: Segment | Mapping[str, Any]) -> int:
    """How many members the segment holds now (one query)."""
    stmt = sa.select(sa.func.count(Member.id)).where(*conditions(_criteria_of(segment), utcnow()))
    return db.session.scalar(stmt) or 0


def contains(segment_id: int, member_id: int) -> bool:
    """Whether the member is in the segment now; False when the segment does not exist.

    One query: the segment's version is read together with the membership test built from the
    criteria this process last saw; only when the segment changed since are they read again.
    """
    known = _known.get(segment_id)
    if known is not None:
        version, criteria = known
        member_in = sa.select(Member.id).where(Member.id == member_id, *conditions(criteria, utcnow())).exists()
        row = db.session.execute(sa.select(Segment.version, member_in).where(Segment.id == segment_id)).first()
        if row is None:
            _known.pop(segment_id, None)
            return False
        if row[0] == version:
            return bool(row[1])
    row = db.session.execute(sa.select(Segment.version, Segment.criteria).where(Segment.id == segment_id)).first()
    if row is None:
        return False
    _known[segment_id] = (row[0], dict(row[1] or {}))
    return contains(segment_id, member_id)


def forget(segment_id: int | None = None) -> None:
    """Drops what ``contains`` remembers (all of it when no id is given)."""
    if segment_id is None:
        _known.clear()
    else:
        _known.pop(segment_id, None)


def choices() -> list[tuple[int, str]]:
    """Every segment as (id, name in the current language), by name, for forms of other packages."""
    column = Segment.name_en if current_language() == "en" else Segment.name_fa
    rows = db.session.execute(sa.select(Segment.id, column).order_by(column, Segment.id))
    return [(segment_id, name) for segment_id, name in rows]


def get(segment_id: int) -> Segment | None:
    return db.session.get(Segment, segment_id)


def list_with_counts() -> list[tuple[Segment, int]]:
    """Every segment with its member count now, newest first: two queries, whatever the number of segments."""
    segments = list(db.session.scalars(sa.select(Segment).order_by(Segment.id.desc())))
    if not segments:
        return []
    now = utcnow()
    counts = db.session.execute(
        sa.select(
            *[
                sa.select(sa.func.count(Member.id)).where(*conditions(s.criteria or {}, now)).scalar_subquery()
                for s in segments
            ]
        )
    ).one()
    return list(zip(segments, [n or 0 for n in counts], strict=True))


def members_page(segment: Segment, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> KeysetPage[Member]:
    """One page of the segment's members by member number (keyset; raises ``InvalidCursor``)."""
    stmt = member_query(segment).options(joinedload(Member.organisation))
    return paginate_keyset(stmt, key=[Member.id], cursor=cursor, limit=limit, descending=False)


EXPORT_COLUMNS = ("id", "display_name", "email", "phone", "city", "organisation", "role", "joined_at", "last_seen_at")


def export_rows(segment: Segment) -> Iterator[tuple[Any, ...]]:
    """The segment's members for the CSV export, streamed in chunks from one query."""
    members = member_query(segment).subquery()
    stmt = (
        sa.select(
            members.c.id,
            members.c.display_name,
            members.c.email,
            members.c.phone,
            members.c.city,
            Organisation.name,
            members.c.role,
            members.c.created_at,
            members.c.last_seen_at,
        )
        .outerjoin(Organisation, Organisation.id == members.c.organisation_id)
        .order_by(members.c.id)
        .execution_options(yield_per=500)
    )
    for row in db.session.execute(stmt):
        yield tuple(row)
