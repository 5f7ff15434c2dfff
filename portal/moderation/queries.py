"""Read-only selects of moderation: the queue, the audit log (search, pages, export), dossiers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal.accounts.models import Member
from portal.db import KeysetPage, db, paginate_keyset
from portal.moderation import registry
from portal.moderation.models import AuditEntry, Flag, ModeratorNote, QueueItem, QueueState, Sanction, TrustRecord


def queue_page(
    *, kind: str | None = None, reason: str | None = None, cursor: str | None = None, limit: int = 20
) -> KeysetPage[QueueItem]:
    """Pending items, oldest first."""
    stmt = sa.select(QueueItem).options(joinedload(QueueItem.author)).where(QueueItem.state == QueueState.PENDING)
    if kind:
        stmt = stmt.where(QueueItem.kind == kind)
    if reason:
        stmt = stmt.where(QueueItem.reason == reason)
    return paginate_keyset(stmt, key=[QueueItem.created_at, QueueItem.id], cursor=cursor, limit=limit, descending=False)


def queue_cards(items: list[QueueItem]) -> list[tuple[QueueItem, Any, Any]]:
    """Each item with its adapter and object (None when gone), loaded in one batch per kind."""
    ids_by_kind: dict[str, list[int]] = {}
    for item in items:
        ids_by_kind.setdefault(item.kind, []).append(item.object_id)
    objects = {kind: registry.load_many(kind, ids) for kind, ids in ids_by_kind.items()}
    return [(item, registry.get(item.kind), objects[item.kind].get(item.object_id)) for item in items]


def queue_reasons() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(QueueItem.reason)
            .where(QueueItem.state == QueueState.PENDING)
            .distinct()
            .order_by(QueueItem.reason)
        )
    )


@dataclass
class AuthorHistory:
    """What a moderator wants to know about an author at a glance."""

    level: int = 0
    flags_against: int = 0
    removed: int = 0
    sanctions: int = 0


def author_histories(author_ids: list[int]) -> dict[int, AuthorHistory]:
    """Trust level, flags against, removed items and sanctions of several authors, in four queries."""
    ids = sorted({i for i in author_ids if i})
    histories = {i: AuthorHistory() for i in ids}
    if not ids:
        return histories
    for member_id, level in db.session.execute(
        sa.select(TrustRecord.member_id, TrustRecord.level).where(TrustRecord.member_id.in_(ids))
    ):
        histories[member_id].level = level
    for member_id, n in db.session.execute(
        sa.select(Flag.author_id, sa.func.count()).where(Flag.author_id.in_(ids)).group_by(Flag.author_id)
    ):
        histories[member_id].flags_against = n
    for member_id, n in db.session.execute(
        sa.select(QueueItem.author_id, sa.func.count())
        .where(QueueItem.author_id.in_(ids), QueueItem.state.in_([QueueState.HIDDEN, QueueState.DELETED]))
        .group_by(QueueItem.author_id)
    ):
        histories[member_id].removed = n
    for member_id, n in db.session.execute(
        sa.select(Sanction.member_id, sa.func.count()).where(Sanction.member_id.in_(ids)).group_by(Sanction.member_id)
    ):
        histories[member_id].sanctions = n
    return histories


def flags_for_items(item_ids: list[int]) -> dict[int, list[Flag]]:
    found: dict[int, list[Flag]] = {i: [] for i in item_ids}
    if not item_ids:
        return found
    stmt = sa.select(Flag).options(joinedload(Flag.flagger)).where(Flag.queue_item_id.in_(item_ids)).order_by(Flag.id)
    for flag in db.session.scalars(stmt):
        found[flag.queue_item_id].append(flag)  # type: ignore[index]
    return found


# --- audit log -----------------------------------------------------------------------------------------


@dataclass
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_kind: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict[str, Any]:
        args = {
            "actor": self.actor,
            "action": self.action,
            "object_kind": self.object_kind,
            "object_id": self.object_id,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in args.items() if v}


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def _audit_select(flt: AuditFilter) -> sa.Select:
    stmt = sa.select(AuditEntry)
    if flt.actor:
        if flt.actor.isdigit():
            stmt = stmt.where(AuditEntry.actor_id == int(flt.actor))
        else:
            pattern = f"%{flt.actor.lower()}%"
            actors = sa.select(Member.id).where(
                sa.or_(sa.func.lower(Member.display_name).like(pattern), Member.email.like(pattern))
            )
            stmt = stmt.where(AuditEntry.actor_id.in_(actors))
    if flt.action:
        stmt = stmt.where(AuditEntry.action.like(f"{flt.action}%"))
    if flt.object_kind:
        stmt = stmt.where(AuditEntry.object_kind == flt.object_kind)
    if flt.object_id:
        stmt = stmt.where(AuditEntry.object_id == flt.object_id)
    if flt.date_from:
        stmt = stmt.where(AuditEntry.created_at >= _local_midnight(flt.date_from))
    if flt.date_to:
        stmt = stmt.where(AuditEntry.created_at < _local_midnight(flt.date_to + timedelta(days=1)))
    return stmt


def audit_page(flt: AuditFilter, cursor: str | None = None, limit: int = 50) -> KeysetPage[AuditEntry]:
    """Newest first."""
    stmt = _audit_select(flt).options(joinedload(AuditEntry.actor))
    return paginate_keyset(stmt, key=[AuditEntry.id], cursor=cursor, limit=limit)


def audit_rows(flt: AuditFilter, batch: int = 500) -> Iterator[tuple[AuditEntry, str | None]]:
    """Every matching entry with its actor's name, newest first, fetched in batches (for the CSV export)."""
    stmt = (
        _audit_select(flt)
        .add_columns(Member.display_name)
        .outerjoin(Member, Member.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc())
        .execution_options(yield_per=batch)
    )
    yield from db.session.execute(stmt)


# --- dossier ---------------------------------------------------------------------------------------------


@dataclass
class Dossier:
    member: Member
    trust: TrustRecord | None
    posts: list[tuple[Any, Any]] = field(default_factory=list)  # (adapter, obj)
    flags_against: list[Flag] = field(default_factory=list)
    flags_by: list[Flag] = field(default_factory=list)
    sanctions: list[Sanction] = field(default_factory=list)
    notes: list[ModeratorNote] = field(default_factory=list)
    referrer: Member | None = None


def dossier(member_id: int, limit: int = 20) -> Dossier | None:
    member = db.session.get(Member, member_id)
    if member is None:
        return None
    result = Dossier(member=member, trust=db.session.get(TrustRecord, member_id))
    for adapter in registry.adapters():
        if registry.supports(adapter, "by_author"):
            result.posts.extend((adapter, obj) for obj in adapter.by_author(member_id, limit))
    result.flags_against = list(
        db.session.scalars(
            sa.select(Flag)
            .options(joinedload(Flag.flagger))
            .where(Flag.author_id == member_id)
            .order_by(Flag.id.desc())
            .limit(limit)
        )
    )
    result.flags_by = list(
        db.session.scalars(sa.select(Flag).where(Flag.flagger_id == member_id).order_by(Flag.id.desc()).limit(limit))
    )
    result.sanctions = list(
        db.session.scalars(sa.select(Sanction).where(Sanction.member_id == member_id).order_by(Sanction.id.desc()))
    )
    result.notes = list(
        db.session.scalars(
            sa.select(ModeratorNote)
            .options(joinedload(ModeratorNote.author))
            .where(ModeratorNote.member_id == member_id)
            .order_by(ModeratorNote.id.desc())
        )
    )
    if member.referred_by_id:
        result.referrer = db.session.get(Member, member.referred_by_id)
    return result
