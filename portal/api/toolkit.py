"""The toolkit every ``api.py`` module builds its ``/api/v1`` endpoints with.

Feature packages (forums, gamification.*, knowledge.*) may import this module, and only it,
from ``portal.api``: the contract's endpoints belong to their domains, the plumbing is shared.

An endpoint in a few lines::

    from portal.api import toolkit as api

    EVENT = api.Object("Event", {"member": api.MemberRef(), "type": api.String()}, required=("member", "type"))
    RESULT = api.Object("EventResult", {"event_id": api.Integer(), "points": api.Integer()})

    @api.endpoint("POST", "/events", scopes=("events:write",), body=EVENT, responses={201: RESULT, 200: RESULT},
                  summary="Record one event", tags=("events",))
    def record_event(data):
        member_id = api.resolve_member_id(data["member"])
        result = services.record_event(member_id=member_id, event_type=data["type"], ...)
        db.session.commit()
        return api.created_or_existing({...}, created=result.created)

A batch, with per-item answers (one bad item does not refuse the others)::

    BATCH = api.Object("EventBatch", {"events": api.Array(items=EVENT, min_items=1, max_items=1000)},
                       required=("events",))

    RESULTS = api.Object("EventBatchResult", {"results": api.Array(items=api.batch_item_schema(RESULT))})

    @api.endpoint("POST", "/events/batch", scopes=("events:write",), body=BATCH, responses={200: RESULTS},
                  summary="Record up to 1,000 events")
    def record_events(data):
        ids = api.resolve_member_ids(item["member"] for item in data["events"])
        outcomes = services.record_events([...])   # RecordedEvent | DomainError per item
        db.session.commit()
        return {"results": [api.batch_result(i, o, serialize) for i, o in enumerate(outcomes)]}

The decorator authenticates (``Authorization: Bearer <key>`` with the scopes, or a
logged-in session where ``session=True``), rate-limits per key, parses and validates the
JSON body (``data``), and declares the operation in the OpenAPI document. Errors are
``DomainError`` subclasses, rendered as ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import bulk
from portal.accounts.models import Member, Organisation
from portal.api import services
from portal.api.models import ApiKey
from portal.api.openapi import CURSOR_PARAM, LIMIT_PARAM, Operation, QueryParam, openapi_path, registry
from portal.api.schema import (  # noqa: F401 - re-exported for the endpoint modules
    SAFE_INT,
    Array,
    Attributes,
    Boolean,
    DateTime,
    Integer,
    Invalid,
    MemberRef,
    Object,
    String,
    Type,
    clean_text,
)
from portal.bulk import one_of
from portal.db import InvalidCursor, KeysetPage, db
from portal.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from portal.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer-key calls carry no cookie, so there is nothing to forge; session calls are checked in ``endpoint``.
csrf.exempt(bp)

DEFAULT_RATE_LIMIT = "600 per minute"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_DB_ID = 2**31 - 1

F = TypeVar("F", bound=Callable[..., Any])


# --- errors ---------------------------------------------------------------------------------------------


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"

    def default_message(self) -> Any:
        return _l("Send a valid API key as 'Authorization: Bearer <key>'.")


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class MissingScope(NotAllowed):
    code = "missing_scope"


class MemberNotFound(NotFound):
    code = "member_not_found"

    def default_message(self) -> Any:
        return _l("There is no member with this reference.")


@bp.errorhandler(Unauthorized)
def _unauthorized(exc: Unauthorized) -> Any:
    response = jsonify({"error": {"code": exc.code, "message": str(exc.message), "fields": exc.fields}})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.before_request
def _limit_body_size() -> None:
    request.max_content_length = current_app.config.get("API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


# --- who is calling --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """An API key, or a logged-in member calling for themselves."""

    key: ApiKey | None = None
    member: Member | None = None

    @property
    def is_session(self) -> bool:
        return self.key is None and self.member is not None

    def may_act_for(self, member_id: int) -> bool:
        """Keys (scoped already) act for any member; a session only for its own member (or an admin)."""
        if self.key is not None:
            return True
        return self.member is not None and (self.member.id == member_id or self.member.role == "admin")

    def require_acting_for(self, member_id: int) -> None:
        if not self.may_act_for(member_id):
            raise NotAllowed(_l("You may only see your own data."))

    def rate_key(self) -> str:
        if self.key is not None:
            return f"key:{self.key.id}"
        if self.member is not None:
            return f"member:{self.member.id}"
        return f"ip:{request.remote_addr}"


def caller() -> Caller:
    """The authenticated caller of the current API request."""
    return g.get("api_caller") or Caller()


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def authenticate(scopes: Sequence[str], *, session: bool, public: bool) -> Caller:
    token = _bearer_token()
    if token is not None:
        key = services.key_by_plaintext(token)
        if key is None or not key.is_active:
            raise Unauthorized(_l("This API key is not valid or has been revoked."))
        missing = [scope for scope in scopes if not key.has_scope(scope)]
        if missing:
            raise MissingScope(
                _l("This API key lacks the scope %(scope)s.", scope=", ".join(missing)),
                fields={"scopes": ",".join(missing)},
            )
        if services.touch_api_key(key):
            db.session.commit()
        return Caller(key=key)
    if session and current_user.is_authenticated:
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            csrf.protect()  # a browser session's writes need the CSRF token, like any form
        return Caller(member=current_user._get_current_object())
    if public:
        return Caller()
    raise Unauthorized()


def _rate_limit_value() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


def _rate_limit_key() -> str:
    return caller().rate_key()


# Every endpoint shares one budget per key, so a client cannot multiply it by spreading over paths.
_rate_limited = limiter.shared_limit(_rate_limit_value, scope="api", key_func=_rate_limit_key)


# --- request bodies -------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json() -> Any:
    """The request body as JSON; 400 for anything that is not (empty, malformed, not UTF-8)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest(_l("The request body must be JSON."), fields={"body": "required"})
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(_l("The request body is not valid JSON."), fields={"body": "malformed_json"}) from exc


def parse_body(schema: Object) -> dict[str, Any]:
    """Reads and validates the body against ``schema``; 422 names every field that is wrong."""
    cleaned, errors = schema.validate_fields(read_json())
    if errors:
        raise ValidationFailed(_l("Some fields are not valid."), fields=errors)
    return cleaned


# --- the endpoint decorator ---------------------------------------------------------------------------------


def endpoint(
    method: str,
    rule: str,
    *,
    summary: str,
    scopes: Sequence[str] = (),
    session: bool = False,
    public: bool = False,
    body: Object | None = None,
    responses: dict[int, Type | None] | None = None,
    query: Iterable[QueryParam] = (),
    paginated: bool = False,
    errors: Iterable[int] = (),
    tags: Sequence[str] = (),
    description: str = "",
    path_params: dict[str, dict[str, Any]] | None = None,
    operation_id: str | None = None,
) -> Callable[[F], F]:
    """Registers ``fn`` as ``METHOD /api/v1<rule>`` and declares it in the OpenAPI document.

    ``responses`` maps statuses to response schemas (None for no body); ``paginated`` adds
    the ``limit`` and ``cursor`` parameters; ``errors`` lists extra error statuses it may
    answer (409, …). With ``body``, the view receives the validated ``data``.
    """

    def decorator(fn: F) -> F:
        op_id = operation_id or fn.__name__
        path, names = openapi_path(rule)
        params = dict(path_params or {})
        for name in names:
            params.setdefault(name, {"type": "string", "maxLength": 120})
        declared = dict(responses or {200: None})
        operation = Operation(
            operation_id=op_id,
            method=method.upper(),
            path=path,
            summary=summary,
            scopes=tuple(scopes),
            session=session,
            public=public,
            body=body,
            responses={status: (_status_text(status), schema) for status, schema in declared.items()},
            query=(*query, *((LIMIT_PARAM, CURSOR_PARAM) if paginated else ())),
            path_params=params,
            errors=tuple(errors),
            tags=tuple(tags),
            description=description,
        )
        registry.add(operation)
        limited = _rate_limited(fn)

        @wraps(fn)
        def view(**kwargs: Any) -> Any:
            g.api_caller = authenticate(scopes, session=session, public=public)
            if body is not None:
                kwargs["data"] = parse_body(body)
            return limited(**kwargs)

        bp.add_url_rule(rule, endpoint=op_id, view_func=view, methods=[method.upper()])
        return fn

    return decorator


def _status_text(status: int) -> str:
    return {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}.get(status, str(status))


# --- answers ------------------------------------------------------------------------------------------------


def created_or_existing(body: dict[str, Any], *, created: bool) -> tuple[dict[str, Any], int]:
    """201 for something new, 200 when an idempotent repeat found the first result."""
    return body, 201 if created else 200


def batch_result(index: int, outcome: Any, serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One item of a batch answer: ``{"index", "status", "result"}`` or ``{"index", "status", "error"}``.

    ``outcome`` is a result object (serialised with ``serialize``; a ``created`` attribute, when
    present, picks 201 or 200) or a ``DomainError`` refusing that item alone.
    """
    if isinstance(outcome, DomainError):
        return {
            "index": index,
            "status": outcome.status,
            "error": {"code": outcome.code, "message": str(outcome.message), "fields": outcome.fields},
        }
    status = 201 if getattr(outcome, "created", True) else 200
    return {"index": index, "status": status, "result": serialize(outcome)}


BATCH_ITEM_ERROR = Object(
    "BatchItemError",
    {
        "code": String(),
        "message": String(),
        "fields": Attributes(max_properties=1000),
    },
    required=("code", "message", "fields"),
)


def batch_item_schema(result: Object) -> Object:
    """The schema of one per-item batch answer around ``result``."""
    return Object(
        f"{result.name}BatchItem",
        {
            "index": Integer(minimum=0),
            "status": Integer(description="201 created, 200 repeated, or the error's status."),
            "result": result,
            "error": BATCH_ITEM_ERROR,
        },
        required=("index", "status"),
    )


# --- pagination -----------------------------------------------------------------------------------------------


def page_params(default: int = 20) -> tuple[int, str | None]:
    """``?limit=`` (1 to 100) and the opaque ``?cursor=``; 400 for values that are not."""
    raw = request.args.get("limit")
    limit = default
    if raw is not None:
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise BadRequest(_l("limit must be a number from 1 to 100."), fields={"limit": "invalid"})
        limit = int(raw)
    cursor = request.args.get("cursor") or None
    if cursor is not None and (len(cursor) > 500 or not cursor.isascii()):
        raise BadRequest(_l("The cursor is not valid."), fields={"cursor": "invalid"})
    return limit, cursor


def query_choice(name: str, choices: Sequence[str], default: str) -> str:
    """A query parameter that must be one of ``choices`` (e.g. ``?period=all|month|week``); 400 otherwise."""
    value = request.args.get(name, default)
    if value not in choices:
        raise BadRequest(
            _l("%(name)s must be one of: %(choices)s.", name=name, choices=", ".join(choices)), fields={name: "invalid"}
        )
    return value


def query_int(name: str, *, default: int | None, minimum: int = 1, maximum: int = MAX_DB_ID) -> int | None:
    """An integer query parameter within bounds (e.g. ``?category_id=``); 400 otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise BadRequest(
            _l("%(name)s must be a whole number from %(min)s to %(max)s.", name=name, min=minimum, max=maximum),
            fields={name: "invalid"},
        )
    return int(raw)


def page_response(fetch: Callable[[], KeysetPage[Any]], serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Runs a keyset query and answers ``{"items", "next_cursor"}``; a bad cursor is a 400."""
    try:
        page = fetch()
    except InvalidCursor as exc:
        raise BadRequest(_l("The cursor is not valid."), fields={"cursor": "invalid"}) from exc
    return {"items": [serialize(item) for item in page.items], "next_cursor": page.next_cursor}


def page_schema(name: str, item: Object) -> Object:
    return Object(
        name,
        {
            "items": Array(items=item),
            "next_cursor": String(nullable=True, description="Pass as `cursor` for the next page; null at the end."),
        },
        required=("items", "next_cursor"),
    )


# --- members ---------------------------------------------------------------------------------------------------

EXT_PREFIX = "ext:"


def _parse_ref(ref: Any) -> tuple[str, Any]:
    if isinstance(ref, int) and not isinstance(ref, bool):
        return "id", ref
    text = str(ref).strip()
    if text.startswith(EXT_PREFIX) and len(text) > len(EXT_PREFIX):
        return "ext", text[len(EXT_PREFIX) :]
    if text.isascii() and text.isdigit():
        return "id", int(text)
    raise MemberNotFound()


def resolve_member(ref: Any) -> Member:
    """The member named by ``ref`` (an id or ``ext:<external_id>``); 404 ``member_not_found`` otherwise."""
    kind, value = _parse_ref(ref)
    if kind == "id":
        member = db.session.get(Member, value) if 0 < value <= MAX_DB_ID else None
    else:
        member = db.session.scalar(sa.select(Member).where(Member.external_id == value))
    if member is None:
        raise MemberNotFound()
    return member


def resolve_member_id(ref: Any) -> int:
    return resolve_member(ref).id


def resolve_member_ids(refs: Iterable[Any]) -> dict[Any, int]:
    """Resolves many refs in two queries (for batches); refs that name nobody are left out."""
    ids: dict[int, list[Any]] = {}
    externals: dict[str, list[Any]] = {}
    for ref in refs:
        try:
            kind, value = _parse_ref(ref)
        except MemberNotFound:
            continue
        if kind == "id":
            if 0 < value <= MAX_DB_ID:
                ids.setdefault(value, []).append(ref)
        else:
            externals.setdefault(value, []).append(ref)
    found: dict[Any, int] = {}
    if ids:
        for (member_id,) in bulk.tuples(sa.select(Member.id).where(one_of(Member.id, ids))):
            for ref in ids[member_id]:
                found[ref] = member_id
    if externals:
        stmt = sa.select(Member.external_id, Member.id).where(Member.external_id.in_(list(externals)))
        rows = db.session.execute(stmt)
        for external_id, member_id in rows:
            for ref in externals[external_id]:
                found[ref] = member_id
    return found


# The composition root fills this with the engine's standing (points, tier, badges), which
# portal.api cannot import; until then members are answered with neutral values.
MemberFieldsProvider = Callable[[int], dict[str, Any]]
_member_field_providers: list[MemberFieldsProvider] = []

NEUTRAL_STANDING: dict[str, Any] = {
    "points": 0,
    "qualifying_points": 0,
    "tier": None,
    "next_tier": None,
    "points_to_next_tier": None,
    "badges": [],
}


def register_member_fields(provider: MemberFieldsProvider) -> None:
    """Adds fields to every member answer: ``provider(member_id) -> dict`` (e.g. the engine's standing)."""
    if provider not in _member_field_providers:
        _member_field_providers.append(provider)


def clear_member_fields() -> None:
    _member_field_providers.clear()


def member_standing(member_id: int) -> dict[str, Any]:
    """Points, tier and badges of a member, from the registered providers (neutral when none)."""
    standing = dict(NEUTRAL_STANDING)
    standing["badges"] = []
    for provider in _member_field_providers:
        standing.update(provider(member_id))
    return standing


def member_profile(member: Member) -> dict[str, Any]:
    """The API's member: profile fields and standing."""
    organisation = db.session.get(Organisation, member.organisation_id) if member.organisation_id else None
    return {
        "id": member.id,
        "external_id": member.external_id,
        "email": member.email,
        "email_verified": member.is_verified,
        "phone": member.phone,
        "name": member.display_name,
        "city": member.city,
        "job_title": member.job_title,
        "organisation": {"id": organisation.id, "name": organisation.name} if organisation else None,
        "language": member.language,
        "created_at": member.created_at.isoformat(),
        **member_standing(member.id),
    }


# --- the document ------------------------------------------------------------------------------------------------


@bp.get("/openapi.json")
@limiter.exempt
def openapi_document() -> Any:
    """The OpenAPI 3 description of every endpoint registered so far."""
    document = registry.document(
        server_url=request.host_url.rstrip("/") + bp.url_prefix, title=f"{current_app.config['SITE_NAME']} API"
    )
    return jsonify(document)
