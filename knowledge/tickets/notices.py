"""The help desk's notification kinds (stored as kind + params, read in the reader's language)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from knowledge.tickets.labels import STATUS_LABELS
from portal.notifications.kinds import register_kind


def _agent_replied(p: dict[str, Any]) -> str:
    return _("Support replied to your ticket %(code)s.", code=p["code"])


def _status_changed(p: dict[str, Any]) -> str:
    return _("Your ticket %(code)s is now: %(status)s.", code=p["code"], status=STATUS_LABELS.get(p["status"], ""))


def _customer_replied(p: dict[str, Any]) -> str:
    return _("The customer replied to ticket %(code)s.", code=p["code"])


def _assigned(p: dict[str, Any]) -> str:
    return _("Ticket %(code)s was assigned to you.", code=p["code"])


def _sla_warning(p: dict[str, Any]) -> str:
    return _("Ticket %(code)s is close to its SLA deadline.", code=p["code"])


def _sla_breached(p: dict[str, Any]) -> str:
    return _("Ticket %(code)s has missed its SLA target.", code=p["code"])


def _resolved(p: dict[str, Any]) -> str:
    return _("Your ticket %(code)s was resolved. How did we do? Rate the support.", code=p["code"])


KINDS = {
    "ticket.agent_replied": _agent_replied,
    "ticket.status_changed": _status_changed,
    "ticket.customer_replied": _customer_replied,
    "ticket.assigned": _assigned,
    "ticket.sla_warning": _sla_warning,
    "ticket.sla_breached": _sla_breached,
    "ticket.resolved": _resolved,
}

for _kind, _render in KINDS.items():
    register_kind(_kind, _render)
