"""The agents' desk: the inbox, a ticket's full view and its actions, canned replies, teams, SLA, figures."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from knowledge.kb import queries as kb_queries
from knowledge.tickets import desk, figures, policies, queries, sla
from knowledge.tickets.codes import normalise_code
from knowledge.tickets.forms import (
    AgentReplyForm,
    AssignForm,
    CannedForm,
    HolidayForm,
    MergeForm,
    NoteForm,
    PriorityForm,
    SlaForm,
    StatusForm,
    TeamForm,
)
from knowledge.tickets.labels import SLA_LABELS, TIMELINE_LABELS
from knowledge.tickets.models import KINDS, PRIORITIES, STATUSES, CannedReply, SupportHoliday, SupportTeam, Ticket
from portal.accounts.access import role_required
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.i18n import current_language

bp = Blueprint("desk", __name__, url_prefix="/desk")
STAFF = policies.STAFF_ROLES


def _warning() -> timedelta:
    return timedelta(minutes=current_app.config["SUPPORT_SLA_WARNING_MINUTES"])


def _ticket(code: str) -> Ticket:
    """The ticket if this agent may open it; a private team's ticket answers like a missing one."""
    canonical = normalise_code(code)
    ticket = queries.ticket_by_code(canonical) if canonical else None
    if ticket is None:
        abort(404)
    try:
        desk.require_access(current_user, ticket)
    except DomainError:
        abort(404)
    return ticket


def _back(ticket: Ticket) -> Any:
    return redirect(url_for("desk.ticket", code=ticket.tracking_code), code=303)


def _commit_or_flash(action: Any, success: str) -> bool:
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return False
    db.session.commit()
    flash(success, "success")
    return True


def _flash_form_errors(form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "danger")


@bp.app_context_processor
def desk_labels() -> dict[str, Any]:
    return {"sla_labels": SLA_LABELS, "timeline_labels": TIMELINE_LABELS}


@bp.get("/")
@role_required(*STAFF)
def inbox() -> Any:
    args = request.args
    status = args.get("status", "active")
    assignee = args.get("assignee", "")
    team = args.get("team", "")
    filters = queries.InboxFilters(
        status=status if status in {"active", "", *STATUSES} else "active",
        kind=args.get("kind", "") if args.get("kind") in KINDS else "",
        priority=args.get("priority", "") if args.get("priority") in PRIORITIES else "",
        assignee=assignee if assignee in {"", "me", "none"} or assignee.isdigit() else "",
        team=team if team == "none" or team.isdigit() else "",
        sla=args.get("sla", "") if args.get("sla") in sla.SLA_STATES else "",
        q=args.get("q", "")[:100],
    )
    now = utcnow()
    box = queries.inbox(current_user, filters, now, _warning())
    return render_template(
        "knowledge/desk/inbox.html",
        box=box,
        filters=filters,
        states={t.id: sla.state(t, now) for t in box.tickets},
        agents=queries.agents(),
        teams=queries.teams(),
        kinds=KINDS,
        statuses=STATUSES,
        priorities=PRIORITIES,
    )


@bp.get("/t/<code>")
@role_required(*STAFF)
def ticket(code: str) -> Any:
    found = _ticket(code)
    assign_form = AssignForm()
    agents = queries.agents()
    teams = queries.teams()
    assign_form.assignee_id.choices = [
        SelectChoice(0, _("Nobody")),
        *(SelectChoice(a.id, a.display_name) for a in agents),
    ]
    assign_form.team_id.choices = [SelectChoice(0, _("No team")), *(SelectChoice(t.id, t.name) for t in teams)]
    assign_form.assignee_id.data = found.assignee_id or 0
    assign_form.team_id.data = found.team_id or 0
    status_form = StatusForm(status=found.status)
    priority_form = PriorityForm(priority=found.priority)
    reply_form = AgentReplyForm()
    canned_id = request.args.get("canned", type=int)
    if canned_id:
        canned = db.session.get(CannedReply, canned_id)
        if canned is not None:
            reply_form.body.data = desk.fill_canned(canned, found)
    return render_template(
        "knowledge/desk/ticket.html",
        ticket=found,
        messages=queries.thread(found.id, include_internal=True),
        timeline=queries.timeline(found.id),
        sla_state=sla.state(found, utcnow()),
        reply_form=reply_form,
        note_form=NoteForm(),
        status_form=status_form,
        priority_form=priority_form,
        assign_form=assign_form,
        merge_form=MergeForm(),
        canned_replies=queries.canned_replies(),
        customer_email=desk.customer_email(found),
        customer_name=desk.customer_name(found),
    )


@bp.get("/kb-search")
@role_required(*STAFF)
def kb_search() -> Any:
    """htmx: KB articles matching the words typed, as checkboxes to link in the reply."""
    text = request.args.get("q", "")[:200]
    articles = kb_queries.suggest(text, None, limit=8) if len(text.strip()) >= 2 else []
    return render_template("knowledge/desk/_kb_choices.html", articles=articles)


@bp.post("/t/<code>/reply")
@role_required(*STAFF)
def reply(code: str) -> Any:
    found = _ticket(code)
    form = AgentReplyForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(found)
    uploads = [(f.filename, f.stream) for f in (form.attachments.data or []) if f and f.filename]
    _commit_or_flash(
        lambda: desk.reply(
            actor=current_user,
            ticket=found,
            body=form.body.data,
            uploads=uploads,
            kb_article_ids=form.kb_articles.data or [],
            then_status=form.then_status.data or None,
        ),
        _("Your reply has been sent to the customer."),
    )
    return _back(found)


@bp.post("/t/<code>/note")
@role_required(*STAFF)
def note(code: str) -> Any:
    found = _ticket(code)
    form = NoteForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(found)
    _commit_or_flash(lambda: desk.add_note(actor=current_user, ticket=found, body=form.body.data), _("Note added."))
    return _back(found)


@bp.post("/t/<code>/status")
@role_required(*STAFF)
def status(code: str) -> Any:
    found = _ticket(code)
    form = StatusForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(found)
    _commit_or_flash(
        lambda: desk.change_status(actor=current_user, ticket=found, status=form.status.data), _("Status changed.")
    )
    return _back(found)


@bp.post("/t/<code>/priority")
@role_required(*STAFF)
def priority(code: str) -> Any:
    found = _ticket(code)
    form = PriorityForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(found)
    _commit_or_flash(
        lambda: desk.change_priority(actor=current_user, ticket=found, priority=form.priority.data),
        _("Priority changed."),
    )
    return _back(found)


@bp.post("/t/<code>/assign")
@role_required(*STAFF)
def assign(code: str) -> Any:
    found = _ticket(code)
    form = AssignForm()
    form.assignee_id.choices = [SelectChoice(0, ""), *(SelectChoice(a.id, a.display_name) for a in queries.agents())]
    form.team_id.choices = [SelectChoice(0, ""), *(SelectChoice(t.id, t.name) for t in queries.teams())]
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(found)
    _commit_or_flash(
        lambda: desk.assign(
            actor=current_user,
            ticket=found,
            assignee_id=form.assignee_id.data or None,
            team_id=form.team_id.data or None,
        ),
        _("Assignment saved."),
    )
    return _back(found)


@bp.post("/t/<code>/merge")
@role_required(*STAFF)
def merge(code: str) -> Any:
    found = _ticket(code)
    form = MergeForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(found)
    target_code = normalise_code(form.into_code.data)
    target = queries.ticket_by_code(target_code) if target_code else None
    if target is None:
        flash(_("There is no ticket with that tracking code."), "danger")
        return _back(found)
    try:
        desk.require_access(current_user, target)
    except DomainError:
        flash(_("There is no ticket with that tracking code."), "danger")
        return _back(found)
    if _commit_or_flash(
        lambda: desk.merge(actor=current_user, ticket=found, into=target),
        _("Merged into %(code)s.", code=target.tracking_code),
    ):
        return _back(target)
    return _back(found)


@bp.route("/canned", methods=["GET", "POST"])
@role_required(*STAFF)
def canned() -> Any:
    form = CannedForm()
    if request.method == "POST":
        if form.validate_on_submit() and _commit_or_flash(
            lambda: desk.create_canned(actor=current_user, title=form.title.data, body=form.body.data),
            _("Canned reply saved."),
        ):
            return redirect(url_for("desk.canned"), code=303)
        return render_template("knowledge/desk/canned.html", form=form, replies=queries.canned_replies()), 422
    return render_template("knowledge/desk/canned.html", form=form, replies=queries.canned_replies())


def _team_form(formdata: Any = None, team: SupportTeam | None = None) -> TeamForm:
    form = TeamForm(formdata=formdata)
    form.member_ids.choices = [SelectChoice(a.id, a.display_name) for a in queries.agents()]
    if formdata is None and team is not None:
        form.name.data = team.name
        form.is_private.data = team.is_private
        form.round_robin.data = team.round_robin
        form.kinds.data = [k for k in KINDS if team.handles(k)]
        form.member_ids.data = [m.id for m in team.members]
    return form


@bp.route("/teams", methods=["GET", "POST"])
@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@role_required("admin")
def teams(team_id: int | None = None) -> Any:
    all_teams = queries.teams()
    team = next((t for t in all_teams if t.id == team_id), None) if team_id else None
    if team_id and team is None:
        abort(404)
    form = _team_form(request.form if request.method == "POST" else None, team)
    if request.method == "POST":
        if form.validate_on_submit() and _commit_or_flash(
            lambda: desk.save_team(
                actor=current_user,
                name=form.name.data,
                is_private=form.is_private.data,
                round_robin=form.round_robin.data,
                kinds=form.kinds.data or [],
                member_ids=form.member_ids.data or [],
                team=team,
            ),
            _("Team saved."),
        ):
            return redirect(url_for("desk.teams"), code=303)
        return render_template("knowledge/desk/teams.html", form=form, teams=all_teams, team=team), 422
    return render_template("knowledge/desk/teams.html", form=form, teams=all_teams, team=team)


@bp.route("/sla", methods=["GET", "POST"])
@role_required("admin")
def sla_settings() -> Any:
    form = SlaForm(prefix="sla")
    holiday_form = HolidayForm(prefix="holiday")
    status = 200
    if request.method == "POST":
        if request.form.get("which") == "holiday":
            if holiday_form.validate_on_submit() and _commit_or_flash(
                lambda: desk.add_holiday(actor=current_user, day=holiday_form.day.data, name=holiday_form.name.data),
                _("Holiday added."),
            ):
                return redirect(url_for("desk.sla_settings"), code=303)
        elif form.validate_on_submit() and _commit_or_flash(
            lambda: desk.set_sla_policy(
                actor=current_user,
                priority=form.priority.data,
                first_response_minutes=form.first_response_minutes.data,
                resolution_minutes=form.resolution_minutes.data,
            ),
            _("SLA policy saved."),
        ):
            return redirect(url_for("desk.sla_settings"), code=303)
        status = 422
    holidays = db.session.scalars(db.select(SupportHoliday).order_by(SupportHoliday.day)).all()
    return render_template(
        "knowledge/desk/sla.html",
        form=form,
        holiday_form=holiday_form,
        policies=[(p, *sla.targets(p)) for p in PRIORITIES],
        holidays=holidays,
        week=current_app.config["SUPPORT_WEEK"],
    ), status


@bp.get("/figures")
@role_required(*STAFF)
def figures_page() -> Any:
    data = figures.desk_figures(current_user, language=current_language())
    # Inside a <script type="application/json">, "<" must not appear raw (a name could hold "</script>").
    chart_json = json.dumps(data.chart, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return render_template("knowledge/desk/figures.html", data=data, chart_json=chart_json.replace("&", "\\u0026"))
