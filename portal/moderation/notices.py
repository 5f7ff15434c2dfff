"""How moderation's notifications read; registered with the notifications package by the composition root.

Moderation may not import ``portal.notifications``: it asks for a notification by emitting
``notification.requested`` (see :func:`request_notification`), and the notifications
package stores it in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.events import emit

ACTION_NAMES = {
    "approve": _l("approved"),
    "hide": _l("hidden"),
    "restore": _l("restored"),
    "edit": _l("edited"),
    "delete": _l("deleted"),
    "lock": _l("locked"),
    "pin": _l("pinned"),
    "move": _l("moved"),
    "merge": _l("merged"),
}
SANCTION_NAMES = {
    "warning": _l("a warning"),
    "suspension": _l("a suspension from posting"),
    "ban": _l("a ban"),
    "silence": _l("a silence in one category"),
}


def request_notification(member_id: int | None, kind: str, params: dict[str, Any], url: str | None = None) -> None:
    """Asks for an in-app notification in the current transaction (the notifications package stores it)."""
    if member_id is None:
        return
    emit(
        "notification.requested",
        member_id=member_id,
        source=("notification", kind),
        attributes={"kind": kind, "params": params, "url": url},
    )


def _action(params: dict[str, Any]) -> str:
    return str(ACTION_NAMES.get(params["action"], params["action"]))


def _flag_resolved(params: dict[str, Any]) -> str:
    if params.get("agreed"):
        return _(
            "Thank you: a moderator agreed with your flag on “%(title)s” and it was %(action)s.",
            title=params["title"],
            action=_action(params),
        )
    return _("A moderator reviewed your flag on “%(title)s” and left it as it was.", title=params["title"])


def _content_actioned(params: dict[str, Any]) -> str:
    return _(
        "A moderator %(action)s your content “%(title)s”. Reason: %(reason)s",
        action=_action(params),
        title=params["title"],
        reason=params.get("reason") or "—",
    )


def _sanctioned(params: dict[str, Any]) -> str:
    return _(
        "You have received %(sanction)s. Reason: %(reason)s",
        sanction=SANCTION_NAMES.get(params["sanction"], params["sanction"]),
        reason=params.get("reason") or "—",
    )


def _sanction_lifted(params: dict[str, Any]) -> str:
    return _(
        "A moderator lifted %(sanction)s early.", sanction=SANCTION_NAMES.get(params["sanction"], params["sanction"])
    )


KINDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "moderation.flag_resolved": _flag_resolved,
    "moderation.content_actioned": _content_actioned,
    "moderation.sanctioned": _sanctioned,
    "moderation.sanction_lifted": _sanction_lifted,
}
