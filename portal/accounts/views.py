"""Pages of accounts: join, verify, login, password reset, settings, profiles."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from portal import media
from portal.accounts import policies, queries, services
from portal.accounts.forms import (
    AvatarForm,
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
)
from portal.accounts.models import Member
from portal.db import db
from portal.errors import DomainError
from portal.extensions import limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_member(member_id: str) -> Member | None:
    try:
        member = db.session.get(Member, int(member_id))
    except (TypeError, ValueError):
        return None
    # A member banned while signed in is signed out on their next request.
    return member if member is not None and member.is_active else None


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after login, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _form_error(form: Any, exc: DomainError) -> None:
    """Shows a service's refusal next to the field it concerns, or at the top of the form."""
    for name in exc.fields:
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(exc.message)]
            return
    flash(str(exc.message), "danger")


def _rate(name: str) -> Any:
    return lambda: current_app.config[name]


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_rate("SIGNUP_RATE_LIMIT"), methods=["POST"])
def join() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if request.args.get("ref"):
        session["ref"] = request.args["ref"].strip()[:16]
    form = SignupForm()
    if request.method == "GET" and session.get("ref"):
        form.referral_code.data = session["ref"]
    if form.validate_on_submit():
        try:
            member = services.register_member(
                email=form.email.data,
                password=form.password.data,
                display_name=form.display_name.data,
                phone=form.phone.data,
                referral_code=form.referral_code.data or session.get("ref"),
                language=session.get("lang") or current_app.config["DEFAULT_LANGUAGE"],
                ip=request.remote_addr,
            )
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
        else:
            db.session.commit()
            session.pop("ref", None)
            login_user(member)
            flash(_("Welcome! We sent a confirmation link to %(email)s.", email=member.email), "success")
            return redirect(url_for("accounts.profile_edit"))
    return render_template("accounts/join.html", form=form), 422 if request.method == "POST" else 200


@bp.get("/signup")
def signup_alias() -> Any:
    return redirect(url_for("accounts.join", **request.args))


@bp.get("/verify/<token>")
def verify_email(token: str) -> Any:
    try:
        member = services.verify_email(token)
    except DomainError as exc:
        db.session.rollback()
        return render_template("accounts/message.html", title=_("Email confirmation"), text=exc.message, ok=False), 400
    db.session.commit()
    flash(_("Thank you, your email address is confirmed."), "success")
    if current_user.is_authenticated and current_user.id == member.id:
        return redirect(url_for("home.index"))
    return redirect(url_for("accounts.login"))


@bp.post("/verify/resend")
@login_required
@limiter.limit(_rate("RESET_RATE_LIMIT"))
def resend_verification() -> Any:
    if current_user.is_verified:
        flash(_("Your email address is already confirmed."), "info")
    else:
        services.send_verification(current_user)
        db.session.commit()
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_rate("LOGIN_RATE_LIMIT"), methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            member = services.authenticate(form.email.data, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            return render_template("accounts/login.html", form=form), 422
        db.session.commit()
        login_user(member, remember=form.remember.data)
        if member.language:
            session["lang"] = member.language
        flash(_("Welcome back, %(name)s!", name=member.display_name), "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 422 if request.method == "POST" else 200


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("home.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_rate("RESET_RATE_LIMIT"), methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account uses that address, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            return render_template("accounts/message.html", title=_("Reset password"), text=exc.message, ok=False), 400
        db.session.commit()
        flash(_("Your password has been changed. You can log in now."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), 422 if request.method == "POST" else 200


@bp.get("/account/settings")
@login_required
def settings() -> Any:
    return render_template(
        "accounts/settings.html",
        email_form=ChangeEmailForm(prefix="email"),
        password_form=ChangePasswordForm(prefix="pw"),
    )


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current=form.current_password.data, new=form.password.data)
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/settings.html", email_form=ChangeEmailForm(prefix="email"), password_form=form
    ), 422


@bp.post("/account/email")
@login_required
def change_email() -> Any:
    form = ChangeEmailForm(prefix="email")
    if form.validate_on_submit():
        try:
            services.request_email_change(current_user, new_email=form.email.data, password=form.password.data)
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "We sent a confirmation link to %(email)s. Your address changes when you follow it.",
                    email=form.email.data,
                ),
                "info",
            )
            return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/settings.html", email_form=form, password_form=ChangePasswordForm(prefix="pw")
    ), 422


@bp.get("/account/email/confirm/<token>")
def confirm_email_change(token: str) -> Any:
    try:
        services.confirm_email_change(token)
    except DomainError as exc:
        db.session.rollback()
        return render_template("accounts/message.html", title=_("Email confirmation"), text=exc.message, ok=False), 400
    db.session.commit()
    flash(_("Your email address has been changed."), "success")
    return redirect(url_for("accounts.settings") if current_user.is_authenticated else url_for("accounts.login"))


def _profile_form(member: Member, formdata: Any = None) -> ProfileForm:
    form = ProfileForm(formdata=formdata, obj=None if formdata else member)
    # SelectChoice objects: WTForms 3.3 deprecates (value, label) tuples.
    form.organisation_id.choices = [
        SelectChoice(0, _("None")),
        *(SelectChoice(org_id, name) for org_id, name in queries.organisation_choices()),
    ]
    if formdata is None:
        form.organisation_id.data = member.organisation_id or 0
        form.language.data = member.language or current_app.config["DEFAULT_LANGUAGE"]
    return form


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def profile_edit() -> Any:
    member = queries.member_with_organisation(current_user.id)
    form = _profile_form(member, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.update_profile(
                    member,
                    actor=current_user,
                    display_name=form.display_name.data,
                    bio=form.bio.data,
                    city=form.city.data,
                    job_title=form.job_title.data,
                    phone=form.phone.data,
                    organisation_id=form.organisation_id.data or None,
                    language=form.language.data,
                )
            except DomainError as exc:
                db.session.rollback()
                _form_error(form, exc)
            else:
                db.session.commit()
                session["lang"] = member.language
                refresh()  # the confirmation speaks the language just chosen
                flash(_("Your profile has been saved."), "success")
                return redirect(url_for("accounts.profile_edit"))
        status = 422
    completion = services.profile_completion(member)
    return (
        render_template(
            "accounts/profile_edit.html",
            form=form,
            avatar_form=AvatarForm(),
            member=member,
            completion=completion,
            limits=media.describe_limits(),
        ),
        status,
    )


@bp.post("/account/avatar")
@login_required
def avatar_upload() -> Any:
    form = AvatarForm()
    if form.validate_on_submit():
        try:
            services.set_avatar(current_user, actor=current_user, stream=form.avatar.data.stream)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            db.session.commit()
            flash(_("Your profile picture has been updated."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
    return redirect(url_for("accounts.profile_edit"), code=303)


@bp.post("/account/avatar/remove")
@login_required
def avatar_remove() -> Any:
    services.remove_avatar(current_user, actor=current_user)
    db.session.commit()
    flash(_("Your profile picture has been removed."), "info")
    return redirect(url_for("accounts.profile_edit"), code=303)


@bp.get("/members/<int:member_id>")
def profile(member_id: int) -> Any:
    member = queries.member_with_organisation(member_id)
    if member is None or member.is_disabled:
        abort(404)
    return render_template(
        "accounts/profile.html",
        member=member,
        completion=services.profile_completion(member),
        show_email=policies.can_see_email(current_user, member),
        is_self=current_user.is_authenticated and current_user.id == member.id,
    )
