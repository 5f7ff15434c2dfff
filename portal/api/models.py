"""API keys, webhook subscriptions, their deliveries and every delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, db, utcnow

SCOPES = ("events:write", "members:read", "members:write", "rewards:write", "tickets:write", "webhooks:admin")


class ApiKey(db.Model):
    """A key an outside system sends as ``Bearer``; only its SHA-256 hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # The first characters of the key, shown to admins so they can tell keys apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    # A key carries 256 random bits, so a fast hash is safe and keeps each request's lookup cheap.
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class WebhookSubscription(db.Model):
    """An outside URL that receives the chosen event types, signed with its secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    # Event types or patterns (``points.*``, ``*``) as the event bus matches them.
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    secret: Mapped[str] = mapped_column(sa.String(128))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    created_by_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Deleted subscriptions are kept (inactive) so that their delivery log stays readable.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    def wants(self, event_type: str) -> bool:
        return any(matches(pattern, event_type) for pattern in self.events or [])


def matches(pattern: str, event_type: str) -> bool:
    """The event bus's matching rule: exact, ``*``, or a ``prefix.*``."""
    return pattern == "*" or pattern == event_type or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))


class DeliveryStatus:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(db.Model):
    """One event sent (or being sent) to one subscription; the body is kept byte for byte."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(32), unique=True)
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    event_type: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscription: Mapped[WebhookSubscription] = relationship(lazy="raise_on_sql")
    tries: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", lazy="raise_on_sql", order_by="WebhookAttempt.id"
    )


class WebhookAttempt(db.Model):
    """One HTTP try of a delivery: what came back, how long it took, what went wrong."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column()
    duration_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    response_excerpt: Mapped[str | None] = mapped_column(sa.String(1000))

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="tries", lazy="raise_on_sql")

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def as_dict(obj: Any) -> dict[str, Any]:
    """A small audit snapshot of a key or subscription (never a secret or hash)."""
    if isinstance(obj, ApiKey):
        return {"name": obj.name, "prefix": obj.prefix, "scopes": list(obj.scopes or []), "revoked": not obj.is_active}
    if isinstance(obj, WebhookSubscription):
        return {"url": obj.url, "events": list(obj.events or []), "active": obj.is_active}
    return {}
