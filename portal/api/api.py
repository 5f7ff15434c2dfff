"""The integration API's own endpoints: members (create/update, read), the session's own member, webhooks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_babel import lazy_gettext as _l

from portal.api import services
from portal.api import toolkit as api
from portal.api.models import WebhookSubscription
from portal.db import db, paginate_keyset

# --- members ---------------------------------------------------------------------------------------------

MEMBER_INPUT = api.Object(
    "MemberInput",
    {
        "external_id": api.String(min_length=1, max_length=100, description="Your system's id of the member."),
        "email": api.String(max_length=254, format="email", description="Required when the member is created."),
        "phone": api.String(max_length=20, nullable=True),
        "name": api.String(min_length=1, max_length=80, description="Display name; defaults to the email's name."),
        "city": api.String(max_length=100, nullable=True),
        "job_title": api.String(max_length=100, nullable=True),
        "organisation": api.String(
            max_length=200, nullable=True, description="The organisation's name; created if it does not exist."
        ),
    },
    required=("external_id",),
)

ORGANISATION = api.Object(
    "OrganisationRef", {"id": api.Integer(), "name": api.String()}, required=("id", "name"), nullable=True
)
BADGE = api.Object(
    "BadgeSummary",
    {"code": api.String(), "name": api.String(), "awarded_at": api.DateTime(nullable=True)},
    required=("code", "name"),
    open=True,
)
MEMBER = api.Object(
    "Member",
    {
        "id": api.Integer(),
        "external_id": api.String(nullable=True),
        "email": api.String(),
        "email_verified": api.Boolean(),
        "phone": api.String(nullable=True),
        "name": api.String(),
        "city": api.String(nullable=True),
        "job_title": api.String(nullable=True),
        "organisation": ORGANISATION,
        "language": api.String(nullable=True),
        "created_at": api.DateTime(),
        "points": api.Integer(description="Spendable points."),
        "qualifying_points": api.Integer(description="Points counted for tiers over the rolling window."),
        "tier": api.String(nullable=True, description="The tier's code, or null."),
        "next_tier": api.String(nullable=True),
        "points_to_next_tier": api.Integer(nullable=True),
        "badges": api.Array(items=BADGE),
    },
    required=(
        "id",
        "external_id",
        "email",
        "name",
        "points",
        "qualifying_points",
        "tier",
        "next_tier",
        "points_to_next_tier",
        "badges",
    ),
    open=True,
)
MEMBER_REF_PARAM = {
    "ref": {"type": "string", "maxLength": 110, "description": "The member's id, or `ext:<external_id>`."}
}


@api.endpoint(
    "POST",
    "/members",
    summary="Create or update a member by external_id",
    description="Creates the member with this `external_id`, or updates the fields sent (absent fields are kept). "
    "201 when created, 200 when updated.",
    scopes=("members:write",),
    body=MEMBER_INPUT,
    responses={201: MEMBER, 200: MEMBER},
    errors=(409,),
    tags=("members",),
)
def upsert_member(data: dict[str, Any]) -> Any:
    fields = {key: value for key, value in data.items() if key != "external_id"}
    result = services.upsert_member(external_id=data["external_id"], data=fields)
    db.session.commit()
    return api.created_or_existing(api.member_profile(result.member), created=result.created)


@api.endpoint(
    "GET",
    "/members/<ref>",
    summary="A member's profile, points, tier and badges",
    scopes=("members:read",),
    session=True,
    responses={200: MEMBER},
    path_params=MEMBER_REF_PARAM,
    tags=("members",),
)
def get_member(ref: str) -> Any:
    member = api.resolve_member(ref)
    api.caller().require_acting_for(member.id)
    return api.member_profile(member)


@api.endpoint(
    "GET",
    "/me",
    summary="The logged-in member (browser session)",
    session=True,
    responses={200: MEMBER},
    tags=("members",),
    description="Only for a logged-in browser session; an API key is answered 403.",
)
def get_me() -> Any:
    who = api.caller()
    if who.member is None:
        raise api.NotAllowed(_l("Only a logged-in member has a 'me'."))
    return api.member_profile(who.member)


# --- webhooks --------------------------------------------------------------------------------------------

WEBHOOK_INPUT = api.Object(
    "WebhookInput",
    {
        "url": api.String(
            min_length=1, max_length=500, pattern=services.URL_PATTERN, description="An http or https address."
        ),
        "events": api.Array(
            items=api.String(min_length=1, max_length=80, pattern=services.EVENT_PATTERN),
            min_items=1,
            max_items=50,
            description="Event types such as `points.awarded`, a prefix such as `tier.*`, or `*`.",
        ),
        "secret": api.String(min_length=16, max_length=128, description="Signs the deliveries; generated when absent."),
    },
    required=("url", "events"),
)
WEBHOOK = api.Object(
    "Webhook",
    {
        "id": api.Integer(),
        "url": api.String(),
        "events": api.Array(items=api.String()),
        "active": api.Boolean(),
        "created_at": api.DateTime(),
    },
    required=("id", "url", "events", "active", "created_at"),
)
WEBHOOK_CREATED = api.Object(
    "WebhookCreated",
    {
        "id": api.Integer(),
        "url": api.String(),
        "events": api.Array(items=api.String()),
        "active": api.Boolean(),
        "created_at": api.DateTime(),
        "secret": api.String(description="Shown only in this answer; keep it to check signatures."),
    },
    required=("id", "url", "events", "active", "created_at", "secret"),
)
WEBHOOK_PAGE = api.page_schema("WebhookPage", WEBHOOK)
WEBHOOK_ID_PARAM = {"subscription_id": {"type": "integer", "minimum": 1, "maximum": api.MAX_DB_ID}}


def _webhook(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "events": list(subscription.events or []),
        "active": subscription.is_active,
        "created_at": subscription.created_at.isoformat(),
    }


@api.endpoint(
    "GET",
    "/webhooks",
    summary="The active webhook subscriptions",
    scopes=("webhooks:admin",),
    responses={200: WEBHOOK_PAGE},
    paginated=True,
    tags=("webhooks",),
)
def list_webhooks() -> Any:
    limit, cursor = api.page_params()
    stmt = sa.select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None))
    return api.page_response(
        lambda: paginate_keyset(stmt, key=[WebhookSubscription.id], cursor=cursor, limit=limit), _webhook
    )


@api.endpoint(
    "POST",
    "/webhooks",
    summary="Subscribe a URL to events",
    scopes=("webhooks:admin",),
    body=WEBHOOK_INPUT,
    responses={201: WEBHOOK_CREATED},
    tags=("webhooks",),
)
def create_webhook(data: dict[str, Any]) -> Any:
    created = services.create_webhook(
        actor=None, url=data["url"], events=data["events"], secret=data.get("secret"), via_key=api.caller().key
    )
    db.session.commit()
    return {**_webhook(created.subscription), "secret": created.secret}, 201


def _delete(subscription_id: int) -> Any:
    subscription = (
        db.session.get(WebhookSubscription, subscription_id) if 0 < subscription_id <= api.MAX_DB_ID else None
    )
    if subscription is None or not subscription.is_active:
        raise api.NotFound(_l("There is no such webhook subscription."))
    services.delete_webhook(actor=None, subscription=subscription, via_key=api.caller().key)
    db.session.commit()
    return "", 204


@api.endpoint(
    "DELETE",
    "/webhooks/<int:subscription_id>",
    summary="Stop a webhook subscription",
    scopes=("webhooks:admin",),
    responses={204: None},
    path_params=WEBHOOK_ID_PARAM,
    tags=("webhooks",),
)
def delete_webhook(subscription_id: int) -> Any:
    return _delete(subscription_id)


@api.endpoint(
    "DELETE",
    "/webhooks",
    summary="Stop a webhook subscription (by ?id=)",
    scopes=("webhooks:admin",),
    responses={204: None},
    query=(api.QueryParam("id", {"type": "integer", "minimum": 1, "maximum": api.MAX_DB_ID}, required=True),),
    errors=(404,),
    tags=("webhooks",),
    operation_id="delete_webhook_by_query",
)
def delete_webhook_by_query() -> Any:
    raw = request.args.get("id", "")
    if not raw.isascii() or not raw.isdigit():
        raise api.BadRequest(_l("Give the subscription's id as ?id=."), fields={"id": "invalid"})
    return _delete(int(raw))
