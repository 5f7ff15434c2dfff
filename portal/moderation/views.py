"""Moderation pages: review queue, flags, audit log and its CSV, word filter, dossiers, sanctions, warnings."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.access import role_required
from portal.accounts.models import Member
from portal.db import InvalidCursor, db, utcnow
from portal.errors import DomainError
from portal.moderation import hooks, queries, registry
from portal.moderation.forms import FlagForm, LiftForm, NoteForm, ResolveForm, SanctionForm, TrustLevelForm, WordForm
from portal.moderation.models import Sanction, SanctionKind, WordRule
from portal.moderation.services import flags, notes, queue, sanctions, trust, words
from portal.moderation.services.queue import AlreadyResolved

bp = Blueprint("moderation", __name__, url_prefix="/moderation")
STAFF = ("moderator", "admin")
# Pages a member with an unread warning may still open.
WARNING_EXEMPT = {
    "static",
    "moderation.warning",
    "moderation.acknowledge",
    "accounts.logout",
    "home.switch_language",
    "home.media_file",
    "home.health",
}


@bp.context_processor
def labels() -> dict[str, Any]:
    return {
        "queue_reason_labels": queue.REASON_LABELS,
        "flag_reason_labels": flags.REASON_LABELS,
        "sanction_labels": sanctions.KIND_LABELS,
    }


@bp.before_app_request
def member_gates() -> Any:
    """Counts the day's visit (once per session and day) and sends a warned member to read the warning."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    today = utcnow().date().isoformat()
    if session.get("visit_day") != today:
        trust.record_visit(current_user.id)
        db.session.commit()
        session["visit_day"] = today
    page_view = request.method == "GET" and "HX-Request" not in request.headers and not request.path.startswith("/api/")
    if current_user.warning_pending and page_view and request.endpoint not in WARNING_EXEMPT:
        warning = sanctions.pending_warning(current_user.id)
        if warning is not None:
            return redirect(url_for("moderation.warning", sanction_id=warning.id))
    return None


def _back(default: str) -> str:
    """Where to return after a POST: the form's ``next`` or the referring page, only on this site."""
    target = request.form.get("next") or request.referrer or ""
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return default
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return default
    return path + (f"?{parts.query}" if parts.query else "")


# --- flags ------------------------------------------------------------------------------------------------


@bp.post("/flag/<kind>/<int:object_id>")
@login_required
def flag(kind: str, object_id: int) -> Any:
    form = FlagForm()
    htmx = request.headers.get("HX-Request") == "true"
    if not form.validate_on_submit():
        message, ok = _("Choose a reason for the flag."), False
    else:
        try:
            flags.flag_content(
                actor=current_user, kind=kind, object_id=object_id, reason=form.reason.data, text=form.text.data
            )
        except DomainError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            message, ok = str(exc.message), False
        else:
            db.session.commit()
            message, ok = _("Thank you. The moderators will look at it."), True
    if htmx:
        return render_template("moderation/_flag_result.html", message=message, ok=ok), 200 if ok else 422
    flash(message, "success" if ok else "danger")
    return redirect(_back("/"), code=303)


# --- the queue ----------------------------------------------------------------------------------------------


@bp.get("/")
@role_required(*STAFF)
def queue_index() -> Any:
    kind = request.args.get("kind") or None
    reason = request.args.get("reason") or None
    try:
        page = queries.queue_page(kind=kind, reason=reason, cursor=request.args.get("cursor"))
    except InvalidCursor:
        abort(400)
    return render_template(
        "moderation/queue.html",
        page=page,
        cards=queries.queue_cards(page.items),
        histories=queries.author_histories([item.author_id for item in page.items]),
        flags_by_item=queries.flags_for_items([item.id for item in page.items]),
        kinds=registry.kinds(),
        reasons=queries.queue_reasons(),
        kind=kind,
        reason=reason,
        supports=registry.supports,
        pending=queue.pending_count(),
    )


@bp.get("/queue/count")
@role_required(*STAFF)
def queue_count() -> Any:
    return render_template("moderation/_queue_count.html", count=queue.pending_count())


@bp.post("/queue/<int:item_id>/<action>")
@role_required(*STAFF)
def resolve(item_id: int, action: str) -> Any:
    form = ResolveForm()
    if not form.validate_on_submit():
        flash(_("The form was not valid; please try again."), "danger")
        return redirect(url_for("moderation.queue_index"), code=303)
    try:
        queue.resolve_item(
            actor=current_user,
            item_id=item_id,
            action=action,
            reason=form.reason.data or "",
            new_text=form.new_text.data,
            target_id=form.target_id.data,
        )
    except AlreadyResolved as exc:
        db.session.rollback()
        flash(str(exc.message), "warning")
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("Done."), "success")
    return redirect(_back(url_for("moderation.queue_index")), code=303)


# --- audit log ------------------------------------------------------------------------------------------------


def _audit_filter() -> queries.AuditFilter:
    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    return queries.AuditFilter(
        actor=request.args.get("actor", "").strip(),
        action=request.args.get("action", "").strip(),
        object_kind=request.args.get("object_kind", "").strip(),
        object_id=request.args.get("object_id", "").strip(),
        date_from=day("from"),
        date_to=day("to"),
    )


@bp.get("/audit")
@role_required(*STAFF)
def audit() -> Any:
    flt = _audit_filter()
    try:
        page = queries.audit_page(flt, cursor=request.args.get("cursor"))
    except InvalidCursor:
        abort(400)
    return render_template("moderation/audit.html", page=page, flt=flt)


CSV_COLUMNS = [
    "id",
    "created_at",
    "actor_id",
    "actor",
    "action",
    "object_kind",
    "object_id",
    "before",
    "after",
    "reason",
    "ip",
]


@bp.get("/audit.csv")
@role_required(*STAFF)
def audit_csv() -> Any:
    flt = _audit_filter()

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for entry, actor_name in queries.audit_rows(flt):
            writer.writerow(
                [
                    entry.id,
                    entry.created_at.isoformat(),
                    entry.actor_id or "",
                    actor_name or "",
                    entry.action,
                    entry.object_kind or "",
                    entry.object_id or "",
                    json.dumps(entry.before, ensure_ascii=False) if entry.before is not None else "",
                    json.dumps(entry.after, ensure_ascii=False) if entry.after is not None else "",
                    entry.reason or "",
                    entry.ip or "",
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=audit-{utcnow():%Y%m%d}.csv"
    return response


# --- word filter -----------------------------------------------------------------------------------------------


@bp.route("/words", methods=["GET", "POST"])
@role_required("admin")
def word_rules() -> Any:
    form = WordForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                words.add_rule(
                    actor=current_user, word=form.word.data, action=form.action.data, replacement=form.replacement.data
                )
            except DomainError as exc:
                db.session.rollback()
                form.word.errors = [*form.word.errors, str(exc.message)]
            else:
                db.session.commit()
                flash(_("The word has been added to the filter."), "success")
                return redirect(url_for("moderation.word_rules"), code=303)
        status = 422
    rules = db.session.scalars(db.select(WordRule).order_by(WordRule.word)).all()
    return render_template("moderation/words.html", form=form, rules=rules), status


@bp.post("/words/<int:rule_id>/delete")
@role_required("admin")
def delete_word(rule_id: int) -> Any:
    form = LiftForm()
    if form.validate_on_submit():
        try:
            words.delete_rule(actor=current_user, rule_id=rule_id)
        except DomainError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            flash(str(exc.message), "danger")
        else:
            db.session.commit()
            flash(_("The word has been removed from the filter."), "success")
    return redirect(url_for("moderation.word_rules"), code=303)


# --- dossier, notes, sanctions, trust -----------------------------------------------------------------------------


@bp.get("/members/<int:member_id>")
@role_required(*STAFF)
def dossier(member_id: int) -> Any:
    found = queries.dossier(member_id)
    if found is None:
        abort(404)
    return render_template(
        "moderation/dossier.html",
        d=found,
        note_form=NoteForm(),
        sanction_form=SanctionForm(),
        lift_form=LiftForm(),
        trust_form=TrustLevelForm(level=str(found.trust.level if found.trust else 0)),
        points_history=hooks.points_history(member_id),
        now=utcnow(),
    )


def _member_or_404(member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    return member


def _run(action: Any, success: str, member_id: int) -> Any:
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("moderation.dossier", member_id=member_id), code=303)


@bp.post("/members/<int:member_id>/notes")
@role_required(*STAFF)
def add_note(member_id: int) -> Any:
    member = _member_or_404(member_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("The note is empty."), "danger")
        return redirect(url_for("moderation.dossier", member_id=member_id), code=303)
    return _run(
        lambda: notes.add_note(actor=current_user, member=member, text=form.text.data),
        _("The note has been saved."),
        member_id,
    )


@bp.post("/members/<int:member_id>/sanctions")
@role_required(*STAFF)
def sanction(member_id: int) -> Any:
    member = _member_or_404(member_id)
    form = SanctionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(url_for("moderation.dossier", member_id=member_id), code=303)
    return _run(
        lambda: sanctions.issue_sanction(
            actor=current_user,
            member=member,
            kind=form.kind.data,
            reason=form.reason.data,
            days=form.days.data,
            category_id=form.category_id.data,
        ),
        _("The sanction has been recorded and the member told."),
        member_id,
    )


@bp.post("/sanctions/<int:sanction_id>/lift")
@role_required(*STAFF)
def lift(sanction_id: int) -> Any:
    found = db.session.get(Sanction, sanction_id)
    if found is None:
        abort(404)
    form = LiftForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(
        lambda: sanctions.lift_sanction(actor=current_user, sanction_id=sanction_id, reason=form.reason.data or ""),
        _("The sanction has been lifted."),
        found.member_id,
    )


@bp.post("/members/<int:member_id>/trust")
@role_required(*STAFF)
def set_trust(member_id: int) -> Any:
    member = _member_or_404(member_id)
    form = TrustLevelForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(
        lambda: trust.set_level(
            actor=current_user, member=member, level=int(form.level.data), reason=form.reason.data or ""
        ),
        _("The trust level has been set."),
        member_id,
    )


# --- the member's side of a warning ---------------------------------------------------------------------------


@bp.get("/warnings/<int:sanction_id>")
@login_required
def warning(sanction_id: int) -> Any:
    found = db.session.get(Sanction, sanction_id)
    if found is None or found.member_id != current_user.id or found.kind != SanctionKind.WARNING:
        abort(404)
    return render_template("moderation/warning.html", warning=found, form=LiftForm())


@bp.post("/warnings/<int:sanction_id>/acknowledge")
@login_required
def acknowledge(sanction_id: int) -> Any:
    form = LiftForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        sanctions.acknowledge_warning(member=current_user, sanction_id=sanction_id)
    except DomainError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(_("Thank you for reading the warning."), "info")
    return redirect(url_for("home.index"), code=303)
