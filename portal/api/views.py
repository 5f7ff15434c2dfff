"""Admin pages of the integration: API keys (shown once), webhook subscriptions and the delivery log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.access import role_required
from portal.api import queries, services
from portal.api.forms import SCOPE_LABELS, ApiKeyForm, WebhookForm
from portal.api.models import ApiKey, WebhookDelivery, WebhookSubscription
from portal.db import InvalidCursor, db
from portal.errors import DomainError

bp = Blueprint("api_admin", __name__, url_prefix="/admin/integration")


@bp.route("/keys", methods=["GET", "POST"])
@role_required("admin")
def api_keys() -> Any:
    form = ApiKeyForm()
    created = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                created = services.create_api_key(actor=current_user, name=form.name.data, scopes=form.scopes.data)
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc.message), "danger")
                status = 422
            else:
                db.session.commit()
                form = ApiKeyForm(formdata=None)
        else:
            status = 422
    return render_template(
        "api/keys.html",
        form=form,
        keys=queries.list_api_keys(),
        created=created,
        scope_labels=SCOPE_LABELS,
    ), status


@bp.post("/keys/<int:key_id>/revoke")
@role_required("admin")
def revoke_key(key_id: int) -> Any:
    key = db.session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    services.revoke_api_key(actor=current_user, key=key)
    db.session.commit()
    flash(_("The key %(name)s has been revoked.", name=key.name), "success")
    return redirect(url_for("api_admin.api_keys"), code=303)


@bp.route("/webhooks", methods=["GET", "POST"])
@role_required("admin")
def webhooks() -> Any:
    form = WebhookForm()
    created = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                created = services.create_webhook(
                    actor=current_user, url=form.url.data, events=[form.events.data], secret=form.secret.data
                )
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc.message), "danger")
                status = 422
            else:
                db.session.commit()
                form = WebhookForm(formdata=None)
        else:
            status = 422
    return render_template(
        "api/webhooks.html", form=form, subscriptions=queries.list_webhooks(), created=created
    ), status


@bp.post("/webhooks/<int:subscription_id>/delete")
@role_required("admin")
def delete_webhook(subscription_id: int) -> Any:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        abort(404)
    services.delete_webhook(actor=current_user, subscription=subscription)
    db.session.commit()
    flash(_("The webhook has been removed."), "success")
    return redirect(url_for("api_admin.webhooks"), code=303)


@bp.get("/webhooks/deliveries")
@role_required("admin")
def deliveries() -> Any:
    subscription_id = request.args.get("subscription", type=int)
    try:
        page = queries.delivery_log(subscription_id=subscription_id, cursor=request.args.get("cursor"))
    except InvalidCursor:
        abort(400)
    return render_template("api/deliveries.html", page=page, subscription_id=subscription_id)


@bp.post("/webhooks/deliveries/<int:delivery_id>/redeliver")
@role_required("admin")
def redeliver(delivery_id: int) -> Any:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404)
    try:
        services.redeliver(actor=current_user, delivery=delivery)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("The delivery has been queued again."), "success")
    return redirect(request.referrer or url_for("api_admin.deliveries"), code=303)
