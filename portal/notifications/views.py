"""Notification pages: the list, the bell's dropdown (htmx) and marking as read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.db import InvalidCursor, db
from portal.notifications import queries, services
from portal.notifications.kinds import render_text

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def notification_helpers() -> dict[str, Any]:
    def bell_count() -> int:
        if current_user.is_authenticated:
            return services.unread_count(current_user.id)
        return 0

    return {"notification_text": render_text, "bell_count": bell_count}


@bp.get("/")
@login_required
def index() -> Any:
    try:
        page = queries.page(current_user.id, request.args.get("cursor"))
    except InvalidCursor:
        return redirect(url_for("notifications.index"))
    return render_template("notifications/index.html", page=page)


@bp.get("/bell")
@login_required
def bell() -> Any:
    return render_template("notifications/_bell_menu.html", items=queries.latest(current_user.id))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> Any:
    notification = services.mark_read(current_user, notification_id)
    db.session.commit()
    if notification and notification.url:
        return redirect(notification.url, code=303)
    return redirect(url_for("notifications.index"), code=303)


@bp.post("/read-all")
@login_required
def read_all() -> Any:
    services.mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for("notifications.index"), code=303)
