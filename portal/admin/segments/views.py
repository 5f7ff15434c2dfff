"""Segment pages (admins only): the list with counts, the form with a live count, members, CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.accounts.access import role_required
from portal.accounts.forms import RoleForm
from portal.accounts.queries import organisation_choices
from portal.admin.segments import queries, registry, services
from portal.admin.segments.criteria import normalise
from portal.admin.segments.models import Segment
from portal.db import InvalidCursor, db, utcnow
from portal.errors import ValidationFailed
from portal.i18n import current_language

bp = Blueprint("admin_segments", __name__, url_prefix="/admin/segments")

LIST_FIELDS = ("tiers", "roles", "organisation_ids")
NUMBER_FIELDS = (
    "spendable_min",
    "spendable_max",
    "qualifying_min",
    "qualifying_max",
    "active_within_days",
    "inactive_for_days",
    "purchases_days",
    "purchases_min_count",
    "purchases_min_amount",
)


def _criteria_from(form: MultiDict[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {name: form.getlist(name) for name in LIST_FIELDS}
    for name in (*NUMBER_FIELDS, "cities", "referred", "referrer"):
        raw[name] = form.get(name, "")
    return raw


def _values_of(segment: Segment | None) -> dict[str, Any]:
    """What the form shows for a saved segment (the same names the form posts)."""
    if segment is None:
        return {"name_fa": "", "name_en": "", "description": ""}
    criteria = segment.criteria or {}
    values: dict[str, Any] = {
        "name_fa": segment.name_fa,
        "name_en": segment.name_en,
        "description": segment.description or "",
        "tiers": criteria.get("tiers", []),
        "roles": criteria.get("roles", []),
        "organisation_ids": [str(i) for i in criteria.get("organisation_ids", [])],
        "cities": "، ".join(criteria.get("cities", []))
        if current_language() == "fa"
        else ", ".join(criteria.get("cities", [])),
        "referred": {True: "yes", False: "no"}.get(criteria.get("referred"), ""),
        "referrer": str(criteria["referrer_id"]) if "referrer_id" in criteria else "",
    }
    for name in NUMBER_FIELDS:
        values[name] = "" if criteria.get(name) is None else str(criteria[name])
    return values


def _posted_values(form: MultiDict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.getlist(name) for name in LIST_FIELDS}
    for name in (*NUMBER_FIELDS, "cities", "referred", "referrer", "name_fa", "name_en", "description"):
        values[name] = form.get(name, "")
    return values


def _render_form(segment: Segment | None, values: dict[str, Any], errors: dict[str, Any], status: int = 200) -> Any:
    preview: int | None
    try:
        preview = queries.count(normalise(_criteria_from(MultiDict(_flatten(values)))))
    except ValidationFailed:
        preview = None
    return (
        render_template(
            "admin/segments/form.html",
            segment=segment,
            values=values,
            errors=errors,
            preview=preview,
            tiers=registry.tier_choices(),
            engine=registry.engine() is not None,
            roles=[(choice.value, choice.label) for choice in RoleForm().role.choices],
            organisations=organisation_choices(),
        ),
        status,
    )


def _flatten(values: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if isinstance(value, list):
            pairs.extend((name, str(v)) for v in value)
        else:
            pairs.append((name, str(value)))
    return pairs


def _segment_or_404(segment_id: int) -> Segment:
    segment = queries.get(segment_id)
    if segment is None:
        abort(404)
    return segment


@bp.get("/")
@role_required("admin")
def index() -> Any:
    return render_template("admin/segments/index.html", segments=queries.list_with_counts())


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin")
def create() -> Any:
    if request.method == "GET":
        return _render_form(None, _values_of(None), {})
    try:
        segment = services.create_segment(
            actor=current_user,
            name_fa=request.form.get("name_fa"),
            name_en=request.form.get("name_en"),
            description=request.form.get("description"),
            criteria=_criteria_from(request.form),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_form(None, _posted_values(request.form), exc.fields, 422)
    db.session.commit()
    flash(_("The segment has been saved."), "success")
    return redirect(url_for("admin_segments.members", segment_id=segment.id), code=303)


@bp.route("/<int:segment_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit(segment_id: int) -> Any:
    segment = _segment_or_404(segment_id)
    if request.method == "GET":
        return _render_form(segment, _values_of(segment), {})
    try:
        services.update_segment(
            segment,
            actor=current_user,
            name_fa=request.form.get("name_fa"),
            name_en=request.form.get("name_en"),
            description=request.form.get("description"),
            criteria=_criteria_from(request.form),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_form(_segment_or_404(segment_id), _posted_values(request.form), exc.fields, 422)
    db.session.commit()
    flash(_("The segment has been saved."), "success")
    return redirect(url_for("admin_segments.members", segment_id=segment_id), code=303)


@bp.post("/preview")
@role_required("admin")
def preview() -> Any:
    """The live count while the form is edited (an htmx fragment); nothing is saved."""
    try:
        number: int | None = queries.count(normalise(_criteria_from(request.form)))
        problem = None
    except ValidationFailed as exc:
        number, problem = None, exc.message
    return render_template("admin/segments/_preview.html", preview=number, problem=problem)


@bp.post("/<int:segment_id>/delete")
@role_required("admin")
def delete(segment_id: int) -> Any:
    segment = _segment_or_404(segment_id)
    services.delete_segment(segment, actor=current_user)
    db.session.commit()
    flash(_("The segment has been deleted."), "success")
    return redirect(url_for("admin_segments.index"), code=303)


@bp.get("/<int:segment_id>")
@role_required("admin")
def members(segment_id: int) -> Any:
    segment = _segment_or_404(segment_id)
    try:
        page = queries.members_page(segment, cursor=request.args.get("cursor"))
    except InvalidCursor:
        abort(400)
    return render_template("admin/segments/members.html", segment=segment, page=page, total=queries.count(segment))


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/<int:segment_id>/members.csv")
@role_required("admin")
def export(segment_id: int) -> Any:
    segment = _segment_or_404(segment_id)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # spreadsheets then read the Persian text as UTF-8
        writer.writerow(queries.EXPORT_COLUMNS)
        for number, row in enumerate(queries.export_rows(segment), start=1):
            writer.writerow([_cell(v) for v in row])
            if number % 200 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate(0)
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=segment-{segment.id}-{utcnow():%Y%m%d}.csv"
    return response
