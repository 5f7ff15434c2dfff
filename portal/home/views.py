"""Home page, language switch, uploaded media and the health check."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user

from portal import media
from portal.accounts import queries as account_queries
from portal.accounts import services as account_services
from portal.db import db
from portal.extensions import csrf

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Any:
    completion = account_services.profile_completion(current_user) if current_user.is_authenticated else None
    return render_template("home/index.html", completion=completion, member_count=account_queries.count_members())


def _same_site_request() -> bool:
    """Whether the browser says the form was sent from one of our own pages (``Sec-Fetch-Site``, else
    ``Origin``, else ``Referer``); a request that says nothing is taken as same-site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.host  # "null" (an opaque origin) never matches


@bp.post("/lang")
@csrf.exempt
def switch_language() -> Any:
    # Pages that visitors without any cookie get from the forum page cache carry no CSRF token (they have
    # no session to hold one), so a visitor who is not signed in switches without one: all it changes is
    # their own session's language. A cross-site form could still replace a visitor's session cookie (and
    # so sign a member out), so such requests are refused by origin. Signed-in members need the token.
    if current_user.is_authenticated:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
    elif not _same_site_request():
        abort(403)
    language = request.form.get("lang", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = language
    if current_user.is_authenticated:
        account_services.set_language(current_user, language)
        db.session.commit()
    target = request.form.get("next") or url_for("home.index")
    if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        target = url_for("home.index")
    return redirect(target, code=303)


@bp.get("/media/<path:key>")
def media_file(key: str) -> Any:
    """Public uploads (avatars, contest photos…); private ones (ticket attachments) answer 404."""
    if media.public_path(key) is None:
        abort(404)
    response = send_from_directory(current_app.config["UPLOADS_ROOT"], key, max_age=30 * 24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/healthz")
def health() -> Any:
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
