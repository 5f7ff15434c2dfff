"""Pages of contests: the list, a contest with its gallery and results, entering, voting, and admin."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from gamification.contests import policies, queries, services
from gamification.contests.forms import ContestForm, EntryForm, ReviewForm, VoteForm, to_local, to_utc
from gamification.contests.models import Contest, Entry, EntryStatus, Phase, VotingMode
from gamification.engine.queries import tier_choices, tier_code_of
from portal import media
from portal.accounts.access import role_required
from portal.db import db
from portal.errors import DomainError
from portal.i18n import current_language
from portal.sanitize import render_markdown

bp = Blueprint("contests", __name__)


def _contest_or_404(contest_id: int) -> Contest:
    contest = db.session.get(Contest, contest_id)
    if contest is None:
        abort(404)
    return contest


def _entry_or_404(contest: Contest, entry_id: int) -> Entry:
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.contest_id != contest.id:
        abort(404)
    return entry


def _viewer_key() -> str:
    """Whom the gallery is shuffled for: the member, or a visitor's session."""
    if current_user.is_authenticated:
        return f"m{current_user.id}"
    if "shuffle_seed" not in session:
        session["shuffle_seed"] = secrets.token_hex(8)
    return f"s{session['shuffle_seed']}"


def _page_arg() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


@bp.get("/contests")
def index() -> Any:
    contests = queries.list_contests()
    counts = queries.entry_counts([c.id for c in contests])
    return render_template("contests/index.html", contests=contests, counts=counts, language=current_language())


@bp.get("/contests/<int:contest_id>")
def detail(contest_id: int) -> Any:
    contest = _contest_or_404(contest_id)
    phase = contest.phase()
    show_scores = policies.counts_visible(contest)
    page = queries.gallery(contest, viewer_key=_viewer_key(), page=_page_arg(), show_scores=show_scores)
    member = current_user if current_user.is_authenticated else None
    tier_order = [code for code, _name in tier_choices()]
    tier = tier_code_of(member.id) if member else None
    mine = queries.member_entries(contest.id, member.id) if member else []
    return render_template(
        "contests/detail.html",
        contest=contest,
        phase=phase,
        language=current_language(),
        rules_html=render_markdown(contest.rules),
        page=page,
        show_scores=show_scores,
        my_votes=queries.my_votes(contest.id, member.id) if member else {},
        my_entries=mine,
        can_enter=bool(member) and policies.can_enter(member, contest, member_tier=tier, tier_order=tier_order),
        entries_left=contest.entries_per_member - len(mine),
        may_vote=bool(member) and policies.may_vote_in(member, contest, member_tier=tier, tier_order=tier_order),
        outside_enter_group=bool(member) and not policies.in_segment(contest.enter_segment_id, member.id),
        outside_vote_group=bool(member) and not policies.in_segment(contest.vote_segment_id, member.id),
        winners=queries.winners(contest),
        entry_form=EntryForm(),
        vote_form=VoteForm(),
        limits=media.describe_limits(),
        tie_break=services.TIE_BREAK,
        Phase=Phase,
        VotingMode=VotingMode,
    )


@bp.post("/contests/<int:contest_id>/enter")
@login_required
def enter(contest_id: int) -> Any:
    contest = _contest_or_404(contest_id)
    form = EntryForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(url_for("contests.detail", contest_id=contest.id), code=303)
    try:
        entry = services.enter_contest(
            actor=current_user, contest=contest, stream=form.photo.data.stream, caption=form.caption.data or ""
        )
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("contests.detail", contest_id=contest_id), code=303)
    db.session.commit()
    if entry.status == EntryStatus.PENDING:
        flash(_("Thank you! Your photo will appear in the gallery once an admin approves it."), "success")
    else:
        flash(_("Thank you! Your photo is in the gallery."), "success")
    return redirect(url_for("contests.detail", contest_id=contest_id), code=303)


@bp.post("/contests/<int:contest_id>/entries/<int:entry_id>/vote")
@login_required
def vote(contest_id: int, entry_id: int) -> Any:
    contest = _contest_or_404(contest_id)
    entry = _entry_or_404(contest, entry_id)
    form = VoteForm()
    back = url_for("contests.detail", contest_id=contest.id, page=request.args.get("page")) + f"#entry-{entry.id}"
    if not form.validate_on_submit():
        flash(_("Choose from one to five stars."), "danger")
        return redirect(back, code=303)
    try:
        services.cast_vote(actor=current_user, entry=entry, stars=form.stars.data or 1)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(back, code=303)
    db.session.commit()
    flash(_("Your vote has been saved. You can change it until voting closes."), "success")
    return redirect(back, code=303)


@bp.post("/contests/<int:contest_id>/entries/<int:entry_id>/unvote")
@login_required
def unvote(contest_id: int, entry_id: int) -> Any:
    contest = _contest_or_404(contest_id)
    entry = _entry_or_404(contest, entry_id)
    form = VoteForm()
    back = url_for("contests.detail", contest_id=contest.id) + f"#entry-{entry.id}"
    if form.validate_on_submit():
        try:
            services.withdraw_vote(actor=current_user, entry=entry)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            return redirect(back, code=303)
        db.session.commit()
        flash(_("Your vote has been withdrawn."), "info")
    return redirect(back, code=303)


# --- admin ---------------------------------------------------------------------------------


def _data_from(form: ContestForm) -> services.ContestData:
    return services.ContestData(
        title_fa=form.title_fa.data,
        title_en=form.title_en.data,
        theme_fa=form.theme_fa.data,
        theme_en=form.theme_en.data,
        rules=form.rules.data or "",
        prizes=form.prizes(),
        participation_points=form.participation_points.data or 0,
        submissions_open_at=to_utc(form.submissions_open_at.data),
        submissions_close_at=to_utc(form.submissions_close_at.data),
        voting_open_at=to_utc(form.voting_open_at.data),
        voting_close_at=to_utc(form.voting_close_at.data),
        entries_per_member=form.entries_per_member.data,
        voting_mode=form.voting_mode.data,
        min_tier_to_enter=form.min_tier_to_enter.data or None,
        min_tier_to_vote=form.min_tier_to_vote.data or None,
        enter_segment_id=form.segment("enter_segment_id"),
        vote_segment_id=form.segment("vote_segment_id"),
        premoderate=form.premoderate.data,
        hide_counts=form.hide_counts.data,
    )


def _fill(form: ContestForm, contest: Contest) -> None:
    for name in ("title_fa", "title_en", "theme_fa", "theme_en", "rules", "participation_points",
                 "entries_per_member", "voting_mode", "premoderate", "hide_counts"):  # fmt: skip
        getattr(form, name).data = getattr(contest, name)
    for name in ("submissions_open_at", "submissions_close_at", "voting_open_at", "voting_close_at"):
        getattr(form, name).data = to_local(getattr(contest, name))
    form.min_tier_to_enter.data = contest.min_tier_to_enter or ""
    form.min_tier_to_vote.data = contest.min_tier_to_vote or ""
    for name in ("enter_segment_id", "vote_segment_id"):
        if getattr(form, name, None) is not None:
            value = getattr(contest, name)
            getattr(form, name).data = str(value) if value is not None else ""
    for rank in (1, 2, 3):
        prize = contest.prize_for(rank) or {}
        getattr(form, f"prize{rank}_points").data = prize.get("points", 0)
        getattr(form, f"prize{rank}_reward").data = prize.get("reward", "")


def _form_error(form: ContestForm, exc: DomainError) -> None:
    for name in exc.fields:
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(exc.message)]
            return
    flash(str(exc.message), "danger")


@bp.get("/admin/contests")
@role_required("admin")
def admin_list() -> Any:
    contests = queries.list_contests()
    return render_template(
        "contests/admin_list.html",
        contests=contests,
        counts=queries.entry_counts([c.id for c in contests]),
        language=current_language(),
    )


@bp.route("/admin/contests/new", methods=["GET", "POST"])
@bp.route("/admin/contests/<int:contest_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def admin_edit(contest_id: int | None = None) -> Any:
    contest = _contest_or_404(contest_id) if contest_id else None
    form = ContestForm()
    form.set_tier_choices(tier_choices())
    form.set_segment_choices(policies.audience_choices())
    if request.method == "GET" and contest is not None:
        _fill(form, contest)
    if form.validate_on_submit():
        try:
            data = _data_from(form)
            if contest is None:
                contest = services.create_contest(actor=current_user, data=data)
            else:
                services.update_contest(actor=current_user, contest=contest, data=data)
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(_("The contest has been saved."), "success")
            return redirect(url_for("contests.detail", contest_id=contest.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("contests/admin_form.html", form=form, contest=contest), status


@bp.get("/admin/contests/<int:contest_id>/entries")
@role_required("admin")
def admin_entries(contest_id: int) -> Any:
    contest = _contest_or_404(contest_id)
    return render_template(
        "contests/admin_entries.html",
        contest=contest,
        entries=queries.entries_for_review(contest.id),
        form=ReviewForm(),
        language=current_language(),
    )


@bp.post("/admin/contests/<int:contest_id>/entries/<int:entry_id>/review")
@role_required("admin")
def admin_review(contest_id: int, entry_id: int) -> Any:
    contest = _contest_or_404(contest_id)
    entry = _entry_or_404(contest, entry_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            if request.form.get("decision") == "approve":
                services.approve_entry(actor=current_user, entry=entry)
                message = _("The entry has been approved.")
            else:
                services.reject_entry(actor=current_user, entry=entry, reason=form.reason.data or "")
                message = _("The entry has been rejected.")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            db.session.commit()
            flash(message, "success")
    return redirect(url_for("contests.admin_entries", contest_id=contest.id), code=303)


@bp.get("/admin/contests/<int:contest_id>/votes.csv")
@role_required("admin")
def admin_votes_csv(contest_id: int) -> Any:
    """Who voted what, for auditing results; admins only, never on a public page."""
    contest = _contest_or_404(contest_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["vote_id", "entry_id", "entry_author_id", "voter_id", "voter_name", "stars", "cast_at", "changed_at"]
    )
    for vote, entry, voter_name in queries.votes_for_audit(contest.id):
        writer.writerow([vote.id, entry.id, entry.member_id, vote.voter_id, voter_name, vote.stars,
                         vote.created_at.isoformat(), vote.updated_at.isoformat()])  # fmt: skip
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=contest-{contest.id}-votes.csv"},
    )
