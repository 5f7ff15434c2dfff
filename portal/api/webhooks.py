"""Webhook delivery: after a commit, each event goes to the matching subscriptions, signed and retried.

``on_event`` is subscribed to every event (``"*"``). It runs in the emitting transaction but
only decides, from an in-process cache of the active subscriptions' patterns, whether any
subscription may want the event; if so it queues ``fan_out`` to run after the commit (a
rolled-back write sends nothing). So a club without webhooks pays nothing per event, and a
batch of events does not start a job each. ``fan_out`` stores one delivery per matching
subscription and sends each through ``send_delivery``; a failure is retried with
exponential back-off by ``retry_due_deliveries`` (run periodically).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from portal import jobs
from portal.api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription, matches
from portal.db import db, utcnow
from portal.events import Event, after_commit

log = logging.getLogger(__name__)

USER_AGENT = "Bashgah-Webhooks/1"
EXCERPT_CHARS = 500

# --- which events anyone wants, cached per process -----------------------------------------------------


class _PatternCache:
    """The event patterns of the active subscriptions, refreshed after ``ttl`` seconds or on local changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._patterns: frozenset[str] | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._patterns = None

    def store(self, patterns: set[str]) -> None:
        with self._lock:
            self._patterns = frozenset(patterns)
            self._loaded_at = time.monotonic()

    def may_want(self, event_type: str, ttl: float) -> bool:
        """False only when it is known that no active subscription matches."""
        with self._lock:
            patterns = self._patterns
            fresh = time.monotonic() - self._loaded_at < ttl
        if patterns is None or not fresh:
            return True
        return any(matches(pattern, event_type) for pattern in patterns)


pattern_cache = _PatternCache()


def invalidate_subscriptions() -> None:
    """Called when subscriptions change in this process."""
    pattern_cache.invalidate()


BATCH_KEY = "portal.api.webhook_events"


def on_event(event: Event) -> None:
    """Subscriber of every event: queues the fan-out after commit when a subscription may want it.

    One fan-out per transaction carries all of its events, so a batch of a thousand events
    is one job, not a thousand.
    """
    if event.type.startswith("webhook.") or event.type == "audit.logged":
        return  # never webhook the webhooks' own bookkeeping or the audit trail
    ttl = current_app.config.get("WEBHOOK_CACHE_SECONDS", 10)
    if not pattern_cache.may_want(event.type, ttl):
        return
    session = db.session()
    batch = session.info.get(BATCH_KEY)
    if batch is None:
        batch = session.info[BATCH_KEY] = []
        after_commit(fan_out, batch, session=session)
    batch.append(event.to_dict())


@sa_event.listens_for(Session, "after_commit")
def _batch_sent(session: Session) -> None:
    session.info.pop(BATCH_KEY, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _batch_dropped(session: Session, previous_transaction: Any) -> None:
    if not session.in_transaction():
        session.info.pop(BATCH_KEY, None)


def payload(event: Event) -> dict[str, Any]:
    """What a subscriber receives: ``{"id", "type", "created_at", "data"}``."""
    data: dict[str, Any] = {"member_id": event.member_id, **event.attributes}
    if event.source:
        data["source"] = {"kind": event.source[0], "id": event.source[1]}
    return {"id": event.id, "type": event.type, "created_at": event.occurred_at.isoformat(), "data": data}


@jobs.job
def fan_out(events_data: list[dict[str, Any]]) -> None:
    """Stores a delivery for each event and each active subscription that wants it, then sends them."""
    subscriptions = list(
        db.session.scalars(sa.select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None)))
    )
    pattern_cache.store({pattern for sub in subscriptions for pattern in sub.events or []})
    now = utcnow()
    deliveries: list[WebhookDelivery] = []
    for event_data in events_data:
        event = Event.from_dict(event_data)
        wanted = [sub for sub in subscriptions if sub.wants(event.type)]
        if not wanted:
            continue
        body = json.dumps(payload(event), ensure_ascii=False, separators=(",", ":"), default=str)
        deliveries.extend(
            WebhookDelivery(
                uid=uuid.uuid4().hex,
                subscription_id=sub.id,
                event_id=event.id,
                event_type=event.type,
                body=body,
                next_attempt_at=now,
            )
            for sub in wanted
        )
    if not deliveries:
        db.session.rollback()
        return
    db.session.add_all(deliveries)
    db.session.flush()
    ids = [delivery.id for delivery in deliveries]
    # Nothing of this session is touched after the commit, so no transaction stays open while sending.
    db.session.commit()
    for delivery_id in ids:
        jobs.enqueue(send_delivery, delivery_id)


# --- sending ------------------------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A subscriber URL is exactly what the admin typed: a redirect is an answer, never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str, str | None]:
    """POSTs once; returns (status code or None, response excerpt, error text or None)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS], None
    except urllib.error.HTTPError as exc:
        excerpt = exc.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS] if exc.fp else ""
        return exc.code, excerpt, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, "", f"{type(reason).__name__}: {reason}"[:500]


def backoff(attempts: int) -> timedelta:
    """The wait before try ``attempts + 1``: base × 2^(attempts − 1), capped at a day."""
    base = current_app.config.get("WEBHOOK_RETRY_BASE_SECONDS", 30)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 86_400))


def _claim(delivery_id: int) -> bool:
    """Takes the delivery for one sender: pushes ``next_attempt_at`` ahead, so no other sender picks it up."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config.get("WEBHOOK_TIMEOUT", 5) * 4 + 30)
    result = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount)


@jobs.job
def send_delivery(delivery_id: int) -> None:
    """One try of a delivery; records it and schedules the next try (or gives up) on failure."""
    if not _claim(delivery_id):
        return
    delivery = db.session.get(WebhookDelivery, delivery_id)
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id) if delivery else None
    if delivery is None or subscription is None:
        return
    body = delivery.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Bashgah-Event": delivery.event_type,
        "X-Bashgah-Delivery": delivery.uid,
        "X-Bashgah-Signature": sign(subscription.secret, body),
    }
    url = subscription.url
    db.session.commit()  # no transaction is held open while waiting on the network

    started = time.monotonic()
    status, excerpt, error = _post(url, body, headers, current_app.config.get("WEBHOOK_TIMEOUT", 5))
    duration_ms = int((time.monotonic() - started) * 1000)

    delivery = db.session.get(WebhookDelivery, delivery_id)
    db.session.add(
        WebhookAttempt(
            delivery_id=delivery_id,
            status_code=status,
            duration_ms=duration_ms,
            error=error,
            response_excerpt=excerpt or None,
        )
    )
    delivery.attempts += 1
    delivery.last_status_code = status
    if status is not None and 200 <= status < 300:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = utcnow()
        delivery.next_attempt_at = None
    elif delivery.attempts >= current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 8):
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
    uid, attempts = delivery.uid, delivery.attempts
    db.session.commit()
    if error:
        log.info("webhook delivery %s to %s failed (try %s): %s", uid, url, attempts, error)


@jobs.job
def retry_due_deliveries(limit: int = 500) -> int:
    """Sends the pending deliveries whose next try is due; returns how many were tried. Run it every minute."""
    due = list(
        db.session.scalars(
            sa.select(WebhookDelivery.id)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= utcnow())
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )
    db.session.commit()
    for delivery_id in due:
        send_delivery(delivery_id)
    return len(due)


def redeliver_now(delivery_id: int) -> None:
    """Queues a try after the current transaction commits (the admin's button)."""
    after_commit(send_delivery, delivery_id)
