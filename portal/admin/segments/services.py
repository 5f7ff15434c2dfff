"""Changing segments: create, update, delete, each recorded in the audit log (the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.accounts.models import Member
from portal.admin.segments import criteria as criteria_rules
from portal.admin.segments.models import Segment, new_version
from portal.admin.segments.queries import forget
from portal.db import db
from portal.errors import ValidationFailed
from portal.events import emit


def _texts(name_fa: str | None, name_en: str | None, description: str | None) -> tuple[str, str, str | None]:
    fa = " ".join((name_fa or "").split())
    en = " ".join((name_en or "").split())
    errors: dict[str, Any] = {}
    if not fa and not en:
        errors["name_fa"] = _l("Give the segment a name.")
    if len(fa) > 120:
        errors["name_fa"] = _l("The name is too long.")
    if len(en) > 120:
        errors["name_en"] = _l("The name is too long.")
    text = (description or "").strip() or None
    if text and len(text) > 2000:
        errors["description"] = _l("The description is too long.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    return fa or en, en or fa, text


def _snapshot(segment: Segment) -> dict[str, Any]:
    return {
        "name_fa": segment.name_fa,
        "name_en": segment.name_en,
        "description": segment.description,
        "criteria": segment.criteria,
    }


def _validate(
    name_fa: str | None, name_en: str | None, description: str | None, criteria: Mapping[str, Any]
) -> tuple[str, str, str | None, dict[str, Any]]:
    """Checks names and criteria together, so that a form shows every mistake at once."""
    fields: dict[str, Any] = {}
    texts: tuple[str, str, str | None] | None = None
    rules: dict[str, Any] | None = None
    try:
        texts = _texts(name_fa, name_en, description)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    try:
        rules = criteria_rules.normalise(criteria)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    if fields or texts is None or rules is None:
        raise ValidationFailed(next(iter(fields.values())), fields=fields)
    return (*texts, rules)


def create_segment(
    *,
    actor: Member | None,
    name_fa: str | None,
    name_en: str | None,
    description: str | None = None,
    criteria: Mapping[str, Any],
) -> Segment:
    fa, en, text, rules = _validate(name_fa, name_en, description, criteria)
    segment = Segment(
        name_fa=fa, name_en=en, description=text, criteria=rules, created_by_id=actor.id if actor else None
    )
    db.session.add(segment)
    db.session.flush()
    emit(
        "audit.logged",
        member_id=actor.id if actor else None,
        source=("segment", segment.id),
        attributes={"action": "admin.create_segment", "before": {}, "after": _snapshot(segment), "reason": ""},
    )
    return segment


def update_segment(
    segment: Segment,
    *,
    actor: Member | None,
    name_fa: str | None,
    name_en: str | None,
    description: str | None = None,
    criteria: Mapping[str, Any],
) -> Segment:
    fa, en, text, rules = _validate(name_fa, name_en, description, criteria)
    before = _snapshot(segment)
    segment.name_fa, segment.name_en, segment.description, segment.criteria = fa, en, text, rules
    segment.version = new_version()
    db.session.flush()
    forget(segment.id)
    emit(
        "audit.logged",
        member_id=actor.id if actor else None,
        source=("segment", segment.id),
        attributes={"action": "admin.update_segment", "before": before, "after": _snapshot(segment), "reason": ""},
    )
    return segment


def delete_segment(segment: Segment, *, actor: Member | None) -> None:
    before = _snapshot(segment)
    segment_id = segment.id
    db.session.delete(segment)
    db.session.flush()
    forget(segment_id)
    emit(
        "audit.logged",
        member_id=actor.id if actor else None,
        source=("segment", segment_id),
        attributes={"action": "admin.delete_segment", "before": before, "after": {}, "reason": ""},
    )
