"""The audit log's one writer: every moderator and admin action becomes an append-only entry."""

from __future__ import annotations

import json
from typing import Any

from flask import has_request_context, request

from portal.db import db
from portal.events import Event
from portal.moderation.models import AuditEntry


def _jsonable(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    # Round-trip through JSON so dates and other objects are stored as text, never refused.
    return json.loads(json.dumps(value, default=str))


def record(
    *,
    actor_id: int | None,
    action: str,
    object_kind: str | None = None,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Appends one entry; the IP is the current request's, when there is one."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action[:80],
        object_kind=object_kind,
        object_id=None if object_id is None else str(object_id),
        before=_jsonable(before),
        after=_jsonable(after),
        reason=(reason or "").strip() or None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def on_audit_logged(event: Event) -> None:
    """Subscriber of ``audit.logged``: other packages' moderator and admin actions, in their transaction."""
    attributes = event.attributes
    kind, object_id = event.source if event.source else (None, None)
    record(
        actor_id=event.member_id,
        action=str(attributes.get("action") or event.type),
        object_kind=kind,
        object_id=object_id,
        before=attributes.get("before"),
        after=attributes.get("after"),
        reason=attributes.get("reason"),
    )
