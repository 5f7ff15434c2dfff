"""Read-only selects for members and organisations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.accounts.models import Member, Organisation
from portal.db import KeysetPage, db, paginate_keyset


def member_with_organisation(member_id: int) -> Member | None:
    return db.session.scalar(sa.select(Member).options(joinedload(Member.organisation)).where(Member.id == member_id))


def list_members(
    *, search: str | None = None, role: str | None = None, cursor: str | None = None, limit: int = 50
) -> KeysetPage[Member]:
    """Newest first, optionally filtered by a name/email fragment and a role."""
    stmt = sa.select(Member).options(joinedload(Member.organisation))
    if search:
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Member.display_name).like(pattern), Member.email.like(pattern)))
    if role:
        stmt = stmt.where(Member.role == role)
    return paginate_keyset(stmt, key=[Member.id], cursor=cursor, limit=limit)


def count_members() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Member)) or 0


def list_organisations() -> list[tuple[Organisation, int]]:
    """Every organisation with its member count, by name."""
    counts = (
        sa.select(Member.organisation_id, sa.func.count().label("n"))
        .where(Member.organisation_id.is_not(None))
        .group_by(Member.organisation_id)
        .subquery()
    )
    stmt = (
        sa.select(Organisation, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organisation_id == Organisation.id)
        .order_by(Organisation.name)
    )
    return [(org, n) for org, n in db.session.execute(stmt)]


def organisation_choices() -> list[tuple[int, str]]:
    return [
        (org_id, name)
        for org_id, name in db.session.execute(
            sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
        )
    ]
