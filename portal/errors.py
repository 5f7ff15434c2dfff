"""Domain errors and the one place that turns them (and HTTP errors) into pages or JSON."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from portal.db import utcnow

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused an action; the message is shown to the person."""

    status = 400
    code = "bad_request"

    def __init__(self, message: Any = None, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(str(message or self.default_message()))
        self.message = message or self.default_message()
        self.fields = fields or {}

    def default_message(self) -> Any:
        return _l("The request could not be completed.")


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"

    def default_message(self) -> Any:
        return _l("You are not allowed to do that.")


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def default_message(self) -> Any:
        return _l("We could not find what you were looking for.")


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class RateLimited(DomainError):
    """An allowance is used up; ``retry_at`` says when the member can act again (``Retry-After``)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: Any = None, *, retry_at: Any = None, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message, fields=fields)
        self.retry_at = retry_at

    def default_message(self) -> Any:
        return _l("You have done that too many times. Please wait a little and try again.")


ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Please log in"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
ERROR_TEXTS = {
    400: _l("The request was malformed or has expired. Go back, reload the page and try again."),
    401: _l("You need to log in to see this page."),
    403: _l("You do not have permission to open this page."),
    404: _l("The page you asked for does not exist or was moved."),
    405: _l("This address does not accept that kind of request."),
    409: _l("The request conflicts with the current state."),
    413: _l("What you sent is larger than we accept. Please send a smaller file."),
    422: _l("Some of what you entered is not valid."),
    429: _l("You have done that too many times. Please wait a little and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again later."),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_body(code: str, message: Any, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API's error shape: ``{"error": {"code", "message", "fields"}}``."""
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def render_error(status: int, message: Any = None, code: str | None = None) -> tuple[Any, int]:
    text = message or ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    if wants_json():
        return jsonify(error_body(code or str(status), text)), status
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])
    return render_template("errors/error.html", status=status, title=title, text=text), status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        if wants_json():
            response = app.make_response((jsonify(error_body(exc.code, exc.message, exc.fields)), exc.status))
            retry_at = getattr(exc, "retry_at", None)
            if retry_at is not None:
                response.headers["Retry-After"] = str(max(1, int((retry_at - utcnow()).total_seconds())))
            return response
        if request.method == "POST" and exc.status in {400, 409, 422, 429}:
            # A refused form action: say why and go back to where the person was.
            flash(str(exc.message), "danger")
            return redirect(request.referrer or request.path, code=303)
        return render_error(exc.status, exc.message, exc.code)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return render_error(400, ERROR_TEXTS[400], "csrf_failed")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[Any, int]:
        status = exc.code or 500
        response = render_error(status)
        if status == 429 and exc.get_response().headers.get("Retry-After"):
            body, code = response
            resp = app.make_response((body, code))
            resp.headers["Retry-After"] = exc.get_response().headers["Retry-After"]
            return resp
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("TESTING") and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        return render_error(500)
