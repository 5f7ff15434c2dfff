"""The moderation adapter for contest entries; portal/app.py registers it with moderation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from gamification.contests import services
from gamification.contests.models import Entry, EntryStatus
from portal.db import db, int_id


class EntryModeration:
    """Hiding or deleting an entry emits ``contest.removed`` (its participation points are
    reversed, same source as ``contest.entered``); restoring emits ``contest.entered`` again."""

    kind = "contest_entry"
    label = _l("Contest photo")

    def load(self, id: int) -> Entry | None:
        key = int_id(id)
        entry = db.session.get(Entry, key) if key is not None else None
        return None if entry is None or entry.status == EntryStatus.DELETED else entry

    def load_many(self, ids: list[int]) -> dict[int, Entry]:
        entries = db.session.scalars(sa.select(Entry).where(Entry.id.in_(ids), Entry.status != EntryStatus.DELETED))
        return {entry.id: entry for entry in entries}

    def author_id(self, obj: Entry) -> int | None:
        return obj.member_id

    def title(self, obj: Entry) -> str:
        return obj.caption or str(_l("Contest photo"))

    def excerpt_html(self, obj: Entry) -> Markup:
        return Markup('<img src="/media/{}" alt="{}" class="img-thumbnail" width="160" loading="lazy">').format(
            obj.image_key("thumb"), obj.caption
        )

    def url(self, obj: Entry) -> str:
        return f"{services.contest_path(obj.contest_id)}#entry-{obj.id}"

    def is_visible(self, obj: Entry) -> bool:
        return obj.status == EntryStatus.VISIBLE

    def hide(self, obj: Entry, *, actor: Any, reason: str = "") -> None:
        services.set_entry_status(actor=actor, entry=obj, status=EntryStatus.HIDDEN, reason=reason)

    def restore(self, obj: Entry, *, actor: Any, reason: str = "") -> None:
        services.set_entry_status(actor=actor, entry=obj, status=EntryStatus.VISIBLE, reason=reason)

    def hold(self, obj: Entry) -> None:
        services.set_entry_status(actor=None, entry=obj, status=EntryStatus.PENDING)

    def delete(self, obj: Entry, *, actor: Any, reason: str = "") -> None:
        services.set_entry_status(actor=actor, entry=obj, status=EntryStatus.DELETED, reason=reason)


entry_moderation = EntryModeration()
ADAPTERS = [entry_moderation]
