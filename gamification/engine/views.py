"""Pages of the engine: my points, leaderboards, and the admin pages for rules, tiers, badges,
adjustments and held referrals (with the rule preview and simulator as htmx fragments)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from gamification.engine import definitions, queries, referrals, services, simulator
from gamification.engine.catalog import EVENT_TYPES
from gamification.engine.describe import describe_both
from gamification.engine.forms import ActionForm, AdjustForm, BadgeForm, RuleForm, TierCreateForm, TierForm
from gamification.engine.models import RULE_FIELDS, Badge, Rule, Tier
from portal.accounts.access import role_required
from portal.accounts.queries import organisation_choices
from portal.db import InvalidCursor, db
from portal.errors import DomainError

bp = Blueprint("engine", __name__)

PERIODS = {"all", "month", "week"}


@bp.app_template_global()
def engine_profile(member_id: int) -> queries.ProfilePoints:
    """For the profile include: tier, points and badges of any member, in one query."""
    return queries.profile_points(member_id)


def _period() -> str:
    period = request.args.get("period", "month")
    return period if period in PERIODS else "month"


# --- members' pages ----------------------------------------------------------------------------------


@bp.get("/points")
@login_required
def my_points() -> Any:
    try:
        entries, next_cursor = queries.ledger_page(current_user.id, limit=20, cursor=request.args.get("cursor"))
    except InvalidCursor:
        abort(400)
    return render_template(
        "gamification/points.html",
        standing=queries.member_standing(current_user.id),
        entries=entries,
        next_cursor=next_cursor,
        expiring=queries.expiring_points(current_user.id, days=30),
        rank=queries.rank_of(current_user.id, "month"),
        referral_link=url_for("accounts.join", ref=current_user.referral_code, _external=True),
        referrals=queries.referral_stats(current_user.id),
        event_names=EVENT_TYPES,
    )


@bp.get("/leaderboard")
def leaderboard() -> Any:
    period = _period()
    category = request.args.get("category", type=int)
    rows = queries.leaderboard(period, limit=50, category_id=category)
    mine = queries.rank_of(current_user.id, period, category_id=category) if current_user.is_authenticated else None
    return render_template(
        "gamification/leaderboard.html",
        rows=rows,
        period=period,
        category=category,
        mine=mine,
        tier_names=dict(queries.tier_choices()),
    )


# --- admin: rules ------------------------------------------------------------------------------------


def _rule_form(rule: Rule | None = None) -> RuleForm:
    form = RuleForm(obj=rule) if rule is not None and request.method == "GET" else RuleForm()
    form.cond_organisation_id.choices = [
        SelectChoice(0, _("Any organisation")),
        *(SelectChoice(org_id, name) for org_id, name in organisation_choices()),
    ]
    form.cond_tier.choices = [SelectChoice("", _("Any tier")), *(SelectChoice(c, n) for c, n in queries.tier_choices())]
    if rule is not None and request.method == "GET":
        form.cond_organisation_id.data = rule.cond_organisation_id or 0
        form.cond_tier.data = rule.cond_tier or ""
    return form


def _form_data(form: RuleForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in RULE_FIELDS}


@bp.get("/admin/points/rules")
@role_required("admin")
def rules() -> Any:
    return render_template("gamification/admin/rules.html", rules=queries.rules(), event_names=EVENT_TYPES)


@bp.route("/admin/points/rules/new", methods=["GET", "POST"])
@bp.route("/admin/points/rules/<int:rule_id>", methods=["GET", "POST"])
@role_required("admin")
def rule_edit(rule_id: int | None = None) -> Any:
    rule = db.session.get(Rule, rule_id) if rule_id is not None else None
    if rule_id is not None and rule is None:
        abort(404)
    form = _rule_form(rule)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                saved = services.save_rule(actor=current_user, rule=rule, data=_form_data(form))
            except DomainError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                db.session.commit()
                flash(_("The rule has been saved."), "success")
                return redirect(url_for("engine.rule_edit", rule_id=saved.id), code=303)
        status = 422
    preview = describe_both(services.draft_rule(_form_data(form))) if form.event_type.data else None
    return render_template("gamification/admin/rule_form.html", form=form, rule=rule, preview=preview), status


def _field_error(form: Any, exc: DomainError) -> None:
    for name in exc.fields:
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(exc.message)]
            return
    flash(str(exc.message), "danger")


@bp.post("/admin/points/rules/preview")
@role_required("admin")
def rule_preview() -> Any:
    """The live preview: the draft rule in words, in both languages (an htmx fragment)."""
    form = _rule_form()
    form.validate()
    return render_template(
        "gamification/admin/_rule_preview.html", preview=describe_both(services.draft_rule(_form_data(form)))
    )


@bp.post("/admin/points/rules/simulate")
@role_required("admin")
def rule_simulate() -> Any:
    """Runs the draft over stored events and shows what it would have paid; nothing is written."""
    form = _rule_form()
    form.validate()
    if form.points.data is None or form.event_type.data not in EVENT_TYPES:
        return render_template("gamification/admin/_simulation.html", result=None)
    result = simulator.simulate(services.draft_rule(_form_data(form)), days=form.simulate_days.data or 30)
    db.session.rollback()
    return render_template(
        "gamification/admin/_simulation.html", result=result, tier_names=dict(queries.tier_choices())
    )


# --- admin: tiers, badges, adjustments, referrals -------------------------------------------------------


@bp.route("/admin/points/tiers", methods=["GET", "POST"])
@role_required("admin")
def tiers() -> Any:
    forms = {tier.id: TierForm(obj=tier, prefix=f"t{tier.id}") for tier in queries.tiers()}
    status = 200
    if request.method == "POST":
        tier = db.session.get(Tier, request.form.get("tier_id", type=int) or 0)
        if tier is None:
            abort(404)
        form = TierForm(prefix=f"t{tier.id}")
        forms[tier.id] = form
        if form.validate_on_submit():
            try:
                services.update_tier(actor=current_user, tier=tier, data=form.data)
            except DomainError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                db.session.commit()
                flash(_("The tier has been saved."), "success")
                return redirect(url_for("engine.tiers"), code=303)
        status = 422
    return render_template("gamification/admin/tiers.html", tiers=queries.tiers(), forms=forms), status


@bp.route("/admin/points/tiers/new", methods=["GET", "POST"])
@role_required("admin")
def tier_new() -> Any:
    form = TierCreateForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                definitions.create_tier(actor=current_user, data=form.data)
            except DomainError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                db.session.commit()
                flash(_("The tier has been created."), "success")
                return redirect(url_for("engine.tiers"), code=303)
        status = 422
    return render_template(
        "gamification/admin/tier_new.html", form=form, window_days=current_app.config["TIER_WINDOW_DAYS"]
    ), status


@bp.get("/admin/points/badges")
@role_required("admin")
def badges() -> Any:
    return render_template("gamification/admin/badges.html", badges=queries.badges(), action_form=ActionForm())


@bp.route("/admin/points/badges/new", methods=["GET", "POST"])
@bp.route("/admin/points/badges/<int:badge_id>", methods=["GET", "POST"])
@role_required("admin")
def badge_edit(badge_id: int | None = None) -> Any:
    badge = db.session.get(Badge, badge_id) if badge_id is not None else None
    if badge_id is not None and badge is None:
        abort(404)
    form = BadgeForm(obj=badge) if badge is not None and request.method == "GET" else BadgeForm()
    form.tier_code.choices = [
        SelectChoice("", _("Choose a tier")),
        *(SelectChoice(c, n) for c, n in queries.tier_choices()),
    ]
    if badge is not None:
        form.code.data = badge.code  # the code names the badge everywhere; it never changes
        if request.method == "GET":
            form.event_type.data = badge.event_type or ""
            form.tier_code.data = badge.tier_code or ""
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                saved = definitions.save_badge(actor=current_user, badge=badge, data=form.data)
            except DomainError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                db.session.commit()
                flash(_("The badge has been saved."), "success")
                return redirect(url_for("engine.badge_edit", badge_id=saved.id), code=303)
        status = 422
    return render_template("gamification/admin/badge_form.html", form=form, badge=badge), status


@bp.post("/admin/points/badges/<int:badge_id>/toggle")
@role_required("admin")
def badge_toggle(badge_id: int) -> Any:
    badge = db.session.get(Badge, badge_id)
    if badge is None:
        abort(404)
    if ActionForm().validate_on_submit():
        services.set_badge_active(actor=current_user, badge=badge, active=not badge.is_active)
        db.session.commit()
        flash(_("The badge has been updated."), "success")
    return redirect(url_for("engine.badges"), code=303)


@bp.route("/admin/points/adjust", methods=["GET", "POST"])
@role_required("admin")
def adjust() -> Any:
    form = AdjustForm(member_id=request.args.get("member", type=int))
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                after = services.adjust_points(
                    actor=current_user, member_id=form.member_id.data, points=form.points.data, reason=form.reason.data
                )
            except DomainError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                db.session.commit()
                flash(_("Done. The member now has %(n)s points.", n=after), "success")
                return redirect(url_for("engine.adjust"), code=303)
        status = 422
    return render_template("gamification/admin/adjust.html", form=form), status


@bp.get("/admin/points/referrals")
@role_required("admin")
def held_referrals() -> Any:
    return render_template(
        "gamification/admin/referrals.html", referrals=queries.held_referrals(), action_form=ActionForm()
    )


@bp.post("/admin/points/referrals/<int:referral_id>/<any(approve, reject):decision>")
@role_required("admin")
def review_referral(referral_id: int, decision: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        referrals.review_referral(actor=current_user, referral_id=referral_id, approve=decision == "approve")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("The referral has been reviewed."), "success")
    return redirect(url_for("engine.held_referrals"), code=303)
