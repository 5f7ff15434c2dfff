"""The customer's help-desk pages: open a ticket (with KB suggestions), follow it, reply, rate it."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from knowledge.kb import queries as kb_queries
from knowledge.tickets import policies, queries, services
from knowledge.tickets.codes import normalise_code
from knowledge.tickets.forms import NewTicketForm, RateForm, ReplyForm, TrackForm
from knowledge.tickets.labels import KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS
from knowledge.tickets.models import Ticket
from knowledge.tickets.tokens import InvalidTicketLink, read_link_token
from portal import media
from portal.db import db
from portal.errors import DomainError
from portal.extensions import limiter
from portal.i18n import current_language
from portal.sanitize import render_markdown

bp = Blueprint("tickets", __name__, url_prefix="/support")
ACCESS_KEY = "ticket_access"
SUGGESTION_KEY = "kb_suggestion_tokens"
MAX_REMEMBERED = 20


@bp.app_context_processor
def ticket_labels() -> dict[str, Any]:
    return {
        "ticket_kind_labels": KIND_LABELS,
        "ticket_status_labels": STATUS_LABELS,
        "ticket_priority_labels": PRIORITY_LABELS,
        "render_markdown": render_markdown,
    }


def _rate(name: str) -> Any:
    return lambda: current_app.config[name]


def grant_access(ticket: Ticket) -> None:
    """Remembers in the visitor's session that they proved they may see this ticket."""
    granted = [i for i in session.get(ACCESS_KEY, []) if i != ticket.id]
    session[ACCESS_KEY] = [*granted[-(MAX_REMEMBERED - 1) :], ticket.id]


def has_access(ticket: Ticket) -> bool:
    return policies.is_owner(current_user, ticket) or ticket.id in session.get(ACCESS_KEY, [])


def _ticket_for_customer(code: str) -> Ticket:
    """The ticket if the visitor may see it; otherwise the same answer whether it exists or not."""
    canonical = normalise_code(code)
    if canonical is None:
        abort(404)
    ticket = queries.ticket_by_code(canonical)
    if ticket is not None and not has_access(ticket) and policies.is_desk_staff(current_user):
        abort(redirect(url_for("desk.ticket", code=canonical)))  # the desk decides what an agent may see
    if ticket is None or not has_access(ticket):
        abort(redirect(url_for("tickets.track", code=canonical)))
    return ticket


def _uploads(field: Any) -> list[tuple[str, Any]]:
    return [(f.filename, f.stream) for f in (field.data or []) if f and f.filename]


def _form_error(form: Any, exc: DomainError) -> None:
    for name in exc.fields:
        if hasattr(form, name):
            getattr(form, name).errors = [*getattr(form, name).errors, str(exc.message)]
            return
    flash(str(exc.message), "danger")


@bp.get("/")
def index() -> Any:
    return render_template("knowledge/tickets/index.html")


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(_rate("TICKET_TRACK_RATE_LIMIT"), methods=["POST"])
def new() -> Any:
    form = NewTicketForm()
    if request.method == "GET" and request.args.get("kind") in KIND_LABELS:
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        try:
            ticket = services.open_ticket(
                actor=current_user,
                kind=form.kind.data,
                subject=form.subject.data,
                body=form.body.data,
                email=form.email.data,
                name=form.name.data,
                language=current_language(),
                uploads=_uploads(form.attachments),
                suggestion_tokens=session.get(SUGGESTION_KEY, []),
            )
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
        else:
            db.session.commit()
            session.pop(SUGGESTION_KEY, None)
            grant_access(ticket)
            flash(
                _(
                    "Your ticket is open. Its tracking code is %(code)s; we also sent it by email.",
                    code=ticket.tracking_code,
                ),
                "success",
            )
            return redirect(url_for("tickets.show", code=ticket.tracking_code), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("knowledge/tickets/new.html", form=form, limits=media.describe_limits()), status


@bp.get("/suggest")
def suggest() -> Any:
    """The htmx fragment of KB articles matching what the customer is typing as a subject."""
    text = request.args.get("subject", "")[:200]
    articles = kb_queries.suggest(text, current_language()) if len(text.strip()) >= 3 else []
    return render_template("knowledge/tickets/_suggestions.html", articles=articles)


@bp.get("/suggested/<int:article_id>")
def open_suggestion(article_id: int) -> Any:
    """Counts the opening of a suggested article (a deflection unless a ticket follows) and shows it."""
    if not kb_queries.is_published_article(article_id):
        abort(404)
    token = secrets.token_hex(12)
    services.record_suggestion_click(
        article_id=article_id,
        member_id=current_user.id if current_user.is_authenticated else None,
        token=token,
    )
    db.session.commit()
    session[SUGGESTION_KEY] = [*session.get(SUGGESTION_KEY, [])[-(MAX_REMEMBERED - 1) :], token]
    return redirect(url_for("kb.article", article_id=article_id))


@bp.get("/tickets")
@login_required
def mine() -> Any:
    return render_template("knowledge/tickets/mine.html", tickets=queries.member_tickets(current_user.id))


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_rate("TICKET_TRACK_RATE_LIMIT"), methods=["POST"])
def track() -> Any:
    form = TrackForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"][:40]
    if form.validate_on_submit():
        ticket = services.find_for_guest(form.code.data, form.email.data)
        if ticket is not None:
            grant_access(ticket)
            return redirect(url_for("tickets.show", code=ticket.tracking_code), code=303)
        # One answer for an unknown code, a malformed one and a wrong email.
        flash(_("We found no ticket with that tracking code and email. Check both and try again."), "danger")
        return render_template("knowledge/tickets/track.html", form=form), 404
    return render_template("knowledge/tickets/track.html", form=form), 422 if request.method == "POST" else 200


@bp.get("/t/<code>/link/<token>")
def follow_link(code: str, token: str) -> Any:
    ticket = _ticket_from_link("access", code, token)
    grant_access(ticket)
    return redirect(url_for("tickets.show", code=ticket.tracking_code))


@bp.get("/t/<code>/rate/<token>")
def rate_link(code: str, token: str) -> Any:
    ticket = _ticket_from_link("rate", code, token)
    grant_access(ticket)
    return redirect(url_for("tickets.rate", code=ticket.tracking_code))


def _ticket_from_link(purpose: str, code: str, token: str) -> Ticket:
    invalid = render_template(
        "knowledge/tickets/message.html",
        title=_("Ticket link"),
        text=_("This link is not valid or has expired. Use the tracking form with your code and email."),
    )
    try:
        payload = read_link_token(purpose, token)
    except InvalidTicketLink:
        abort(current_app.make_response((invalid, 400)))
    ticket = db.session.get(Ticket, payload["t"])
    if (
        ticket is None
        or ticket.tracking_code != normalise_code(code)
        or services.customer_email(ticket) != payload.get("e")
    ):
        abort(current_app.make_response((invalid, 400)))
    return ticket


@bp.get("/t/<code>")
def show(code: str) -> Any:
    ticket = _ticket_for_customer(code)
    merged_code = queries.code_of(ticket.merged_into_id)
    if merged_code:
        target = queries.ticket_by_code(merged_code)
        if target is not None:
            grant_access(target)
    return render_template(
        "knowledge/tickets/show.html",
        ticket=ticket,
        messages=queries.thread(ticket.id, include_internal=False),
        reply_form=ReplyForm(),
        can_reply=(policies.can_customer_reply(ticket) and ticket.status != "resolved")
        or (ticket.status == "resolved" and services.within_reopen_window(ticket)),
        can_rate=policies.can_rate(ticket),
        merged_code=merged_code,
        limits=media.describe_limits(),
    )


@bp.post("/t/<code>/reply")
def reply(code: str) -> Any:
    ticket = _ticket_for_customer(code)
    form = ReplyForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(url_for("tickets.show", code=ticket.tracking_code), code=303)
    try:
        services.add_customer_reply(
            ticket=ticket, actor=current_user, body=form.body.data, uploads=_uploads(form.attachments)
        )
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return render_template(
            "knowledge/tickets/message.html", title=_("Your reply was not sent"), text=exc.message, ticket=ticket
        ), exc.status
    db.session.commit()
    flash(_("Your reply has been sent."), "success")
    return redirect(url_for("tickets.show", code=ticket.tracking_code), code=303)


@bp.route("/t/<code>/rate", methods=["GET", "POST"])
def rate(code: str) -> Any:
    ticket = _ticket_for_customer(code)
    if not policies.can_rate(ticket):
        text = (
            _("This ticket has already been rated. Thank you!")
            if ticket.rating
            else _("You can rate the support once the ticket is resolved.")
        )
        return render_template("knowledge/tickets/message.html", title=_("Rate the support"), text=text, ticket=ticket)
    form = RateForm()
    if form.validate_on_submit():
        try:
            services.rate_ticket(ticket=ticket, rating=int(form.rating.data), comment=form.comment.data)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            db.session.commit()
            flash(_("Thank you for rating the support!"), "success")
        return redirect(url_for("tickets.show", code=ticket.tracking_code), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("knowledge/tickets/rate.html", ticket=ticket, form=form), status


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> Any:
    """Attachments are private: the ticket's customer (never an internal note's) or an agent who may see it."""
    found = queries.attachment(attachment_id)
    if found is None:
        abort(404)
    item, ticket, internal = found
    allowed = False
    if policies.is_desk_staff(current_user):
        team_ids = queries.team_ids_of(current_user.id)
        allowed = policies.can_open_desk_ticket(current_user, ticket, team_ids, queries.private_team_ids())
    elif not internal:
        allowed = has_access(ticket)
    path = media.stored_path(item.storage_key) if allowed else None
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype=item.content_type,
        as_attachment=not item.is_image,
        download_name=item.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
