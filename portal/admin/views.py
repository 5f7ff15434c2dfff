"""Admin pages: members with their roles, and organisations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import queries, services
from portal.accounts.access import role_required
from portal.accounts.forms import OrganisationForm, RoleForm
from portal.accounts.models import ROLE_VALUES, Member
from portal.db import InvalidCursor, db
from portal.errors import DomainError

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required("admin")
def index() -> Any:
    return redirect(url_for("admin.members"))


@bp.get("/members")
@role_required("admin")
def members() -> Any:
    search = request.args.get("q", "").strip()
    role = request.args.get("role") if request.args.get("role") in ROLE_VALUES else None
    try:
        page = queries.list_members(search=search or None, role=role, cursor=request.args.get("cursor"))
    except InvalidCursor:
        abort(400)
    return render_template(
        "admin/members.html", page=page, search=search, role=role, roles=ROLE_VALUES, role_form=RoleForm()
    )


@bp.post("/members/<int:member_id>/role")
@role_required("admin")
def change_role(member_id: int) -> Any:
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a valid role."), "danger")
        return redirect(url_for("admin.members"), code=303)
    try:
        services.set_role(actor=current_user, member=member, role=form.role.data)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("%(name)s's role has been changed.", name=member.display_name), "success")
    return redirect(url_for("admin.members", q=request.args.get("q")), code=303)


@bp.route("/organisations", methods=["GET", "POST"])
@role_required("admin")
def organisations() -> Any:
    form = OrganisationForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.create_organisation(
                    actor=current_user, name=form.name.data, national_id=form.national_id.data, city=form.city.data
                )
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc.message), "danger")
            else:
                db.session.commit()
                flash(_("The organisation has been created."), "success")
                return redirect(url_for("admin.organisations"), code=303)
        status = 422
    return render_template("admin/organisations.html", form=form, organisations=queries.list_organisations()), status
