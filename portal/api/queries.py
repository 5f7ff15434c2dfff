"""Read-only listings for the integration admin pages."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.api.models import ApiKey, WebhookDelivery, WebhookSubscription
from portal.db import KeysetPage, db, paginate_keyset


def list_api_keys() -> list[ApiKey]:
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))


def list_webhooks() -> list[WebhookSubscription]:
    stmt = sa.select(WebhookSubscription).order_by(
        WebhookSubscription.deleted_at.is_not(None), WebhookSubscription.id.desc()
    )
    return list(db.session.scalars(stmt))


def delivery_log(*, subscription_id: int | None = None, cursor: str | None = None, limit: int = 30) -> KeysetPage:
    """Deliveries newest first, each with its subscription and every try (three queries per page)."""
    stmt = sa.select(WebhookDelivery).options(
        selectinload(WebhookDelivery.tries), selectinload(WebhookDelivery.subscription)
    )
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    return paginate_keyset(stmt, key=[WebhookDelivery.id], cursor=cursor, limit=limit)
