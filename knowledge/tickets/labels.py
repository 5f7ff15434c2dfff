"""How the help desk's states read to people, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {"support": _l("Support request"), "complaint": _l("Complaint"), "suggestion": _l("Suggestion")}
STATUS_LABELS = {
    "new": _l("New"),
    "open": _l("Open"),
    "pending_customer": _l("Waiting for the customer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
SLA_LABELS = {"breached": _l("Breached"), "at_risk": _l("At risk"), "ok": _l("On time"), "paused": _l("Paused")}
TIMELINE_LABELS = {
    "created": _l("Ticket opened"),
    "customer_replied": _l("Customer replied"),
    "replied": _l("Agent replied"),
    "first_response": _l("First response given"),
    "note_added": _l("Internal note added"),
    "status_changed": _l("Status changed"),
    "priority_changed": _l("Priority changed"),
    "assigned": _l("Assignment changed"),
    "merged_into": _l("Merged into another ticket"),
    "merged_from": _l("Another ticket was merged into this one"),
    "reopened": _l("Reopened by the customer's reply"),
    "rated": _l("Customer rated the support"),
    "sla_warning": _l("SLA warning sent"),
    "sla_breached": _l("SLA target missed"),
    "auto_closed": _l("Closed automatically"),
}
