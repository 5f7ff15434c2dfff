"""Webhooks: subscriptions over the API, signed deliveries after commit, retries with back-off, the log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.api import services, webhooks
from portal.api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from portal.db import utcnow
from portal.events import emit
from portal.extensions import db
from tests.api.conftest import bearer


def _subscribe(url: str, events=("points.awarded",), secret: str = "s" * 32) -> WebhookSubscription:
    created = services.create_webhook(actor=None, url=url, events=list(events), secret=secret)
    db.session.commit()
    return created.subscription


def _deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _attempts(delivery_id: int) -> list[WebhookAttempt]:
    return list(db.session.scalars(sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)))


def _make_due() -> None:
    db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


# --- subscriptions over the API --------------------------------------------------------------------------


def test_webhooks_admin_creates_lists_and_deletes_subscriptions(web, make_key):
    key = bearer(make_key("webhooks:admin"))
    response = web.post(
        "/api/v1/webhooks", json={"url": "https://shop.example/hook", "events": ["tier.*"]}, headers=key
    )
    assert response.status_code == 201
    created = response.get_json()
    assert len(created["secret"]) >= 32
    listed = web.get("/api/v1/webhooks", headers=key).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    assert web.delete(f"/api/v1/webhooks/{created['id']}", headers=key).status_code == 204
    assert web.get("/api/v1/webhooks", headers=key).get_json()["items"] == []
    assert web.delete(f"/api/v1/webhooks/{created['id']}", headers=key).status_code == 404


def test_a_subscription_can_be_deleted_by_query_too(web, make_key):
    key = bearer(make_key("webhooks:admin"))
    created = web.post("/api/v1/webhooks", json={"url": "http://a.example/h", "events": ["*"]}, headers=key).get_json()
    assert web.delete(f"/api/v1/webhooks?id={created['id']}", headers=key).status_code == 204
    assert web.delete("/api/v1/webhooks?id=x", headers=key).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "javascript:alert(1)", "events": ["*"]}, "url"),
        ({"url": "https://example.com", "events": []}, "events"),
        ({"url": "https://example.com", "events": ["bad event!"]}, "events"),
        ({"url": "https://example.com", "events": ["*"], "secret": "short"}, "secret"),
    ],
)
def test_bad_subscriptions_are_422(web, make_key, body, field):
    key = bearer(make_key("webhooks:admin"))
    response = web.post("/api/v1/webhooks", json=body, headers=key)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription)) == 0


def test_webhook_endpoints_need_the_webhooks_admin_scope(web, make_key):
    key = bearer(make_key("members:read", "members:write", "events:write"))
    assert web.get("/api/v1/webhooks", headers=key).status_code == 403
    assert (
        web.post("/api/v1/webhooks", json={"url": "https://x.example", "events": ["*"]}, headers=key).status_code == 403
    )


# --- delivery ----------------------------------------------------------------------------------------------


def test_a_committed_event_is_delivered_signed_to_the_matching_subscriptions(receiver):
    subscription = _subscribe(receiver.url, events=("points.*",))
    _subscribe(receiver.url + "/other", events=("tier.changed",))
    emit("points.awarded", member_id=7, source=("post", 3), attributes={"points": 10})
    db.session.commit()

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.path == "/hook"
    assert got.signature_ok(subscription.secret)
    assert got.headers["X-Bashgah-Event"] == "points.awarded"
    assert got.headers["Content-Type"] == "application/json"
    body = got.json()
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "points.awarded"
    assert body["data"] == {"member_id": 7, "points": 10, "source": {"kind": "post", "id": 3}}
    [delivery] = _deliveries()
    assert got.headers["X-Bashgah-Delivery"] == delivery.uid
    assert delivery.status == DeliveryStatus.SUCCEEDED
    [attempt] = _attempts(delivery.id)
    assert attempt.status_code == 200
    assert attempt.response_excerpt == "answer 200"


def test_a_rolled_back_event_is_never_delivered(receiver):
    _subscribe(receiver.url)
    emit("points.awarded", member_id=1)
    db.session.rollback()
    assert receiver.received == []
    assert _deliveries() == []


def test_each_delivery_has_its_own_id_and_a_tampered_body_fails_the_signature(receiver):
    subscription = _subscribe(receiver.url)
    emit("points.awarded", member_id=1)
    emit("points.awarded", member_id=2)
    db.session.commit()
    first, second = receiver.received
    assert first.headers["X-Bashgah-Delivery"] != second.headers["X-Bashgah-Delivery"]
    first.body = first.body.replace(b'"member_id":1', b'"member_id":9')
    assert not first.signature_ok(subscription.secret)
    assert not second.signature_ok("another-secret-entirely")


def test_a_failing_subscriber_is_retried_with_growing_back_off_until_it_answers(app, receiver):
    receiver.fail_first(3, status=503)
    _subscribe(receiver.url)
    emit("points.awarded", member_id=5)
    db.session.commit()

    [delivery] = _deliveries()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    gaps = [delivery.next_attempt_at - utcnow()]
    assert webhooks.retry_due_deliveries() == 0  # not due yet
    for _ in range(3):
        _make_due()
        assert webhooks.retry_due_deliveries() == 1
        [delivery] = _deliveries()
        if delivery.status == DeliveryStatus.PENDING:
            gaps.append(delivery.next_attempt_at - utcnow())
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 4
    assert [a.status_code for a in _attempts(delivery.id)] == [503, 503, 503, 200]
    assert len(receiver.received) == 4
    assert len({r.headers["X-Bashgah-Delivery"] for r in receiver.received}) == 1
    base = app.config["WEBHOOK_RETRY_BASE_SECONDS"]
    assert [round(g.total_seconds() / base) for g in gaps] == [1, 2, 4]


def test_a_delivery_gives_up_after_the_last_try(app, receiver):
    receiver.fail_first(50, status=500)
    _subscribe(receiver.url)
    emit("points.awarded", member_id=5)
    db.session.commit()
    for _ in range(app.config["WEBHOOK_MAX_ATTEMPTS"] + 2):
        _make_due()
        webhooks.retry_due_deliveries()
    [delivery] = _deliveries()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == app.config["WEBHOOK_MAX_ATTEMPTS"] >= 5
    assert delivery.next_attempt_at is None


def test_a_timeout_is_logged_and_retried(app, receiver):
    app.config["WEBHOOK_TIMEOUT"] = 0.3
    receiver.delay = 2
    try:
        _subscribe(receiver.url)
        emit("points.awarded", member_id=5)
        db.session.commit()
    finally:
        app.config["WEBHOOK_TIMEOUT"] = 5
    [delivery] = _deliveries()
    [attempt] = _attempts(delivery.id)
    assert attempt.status_code is None
    assert "timed out" in attempt.error.lower() or "timeout" in attempt.error.lower()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > utcnow()


def test_a_redirect_is_not_followed(receiver):
    receiver.redirect_to = "http://127.0.0.1:1/elsewhere"
    _subscribe(receiver.url)
    emit("points.awarded", member_id=5)
    db.session.commit()
    [delivery] = _deliveries()
    [attempt] = _attempts(delivery.id)
    assert attempt.status_code == 302
    assert delivery.status == DeliveryStatus.PENDING
    assert len(receiver.received) == 1


def test_an_unreachable_subscriber_is_logged_not_raised(receiver):
    _subscribe("http://127.0.0.1:9/nothing-listens-here")
    emit("points.awarded", member_id=5)
    db.session.commit()
    [delivery] = _deliveries()
    [attempt] = _attempts(delivery.id)
    assert attempt.status_code is None
    assert attempt.error


def test_a_deleted_subscription_gets_nothing_more(receiver):
    subscription = _subscribe(receiver.url)
    services.delete_webhook(actor=None, subscription=subscription)
    db.session.commit()
    emit("points.awarded", member_id=5)
    db.session.commit()
    assert receiver.received == []


def test_no_subscription_means_no_delivery_work(receiver):
    emit("points.awarded", member_id=5)
    db.session.commit()
    assert _deliveries() == []
    # The fan-out learnt that nobody listens: the next event does not even queue it.
    assert not webhooks.pattern_cache.may_want("points.awarded", ttl=60)


def test_the_payload_is_stored_byte_for_byte(receiver):
    _subscribe(receiver.url)
    emit("points.awarded", member_id=5, attributes={"note": "امتیاز"})
    db.session.commit()
    [delivery] = _deliveries()
    assert receiver.received[0].body == delivery.body.encode()
    assert json.loads(delivery.body)["data"]["note"] == "امتیاز"


def test_many_events_in_one_transaction_are_fanned_out_once(receiver):
    from tests.helpers import count_queries

    _subscribe(receiver.url, events=("points.*",))
    for n in range(20):
        emit("points.awarded", member_id=n)
    emit("member.registered", member_id=99)
    with count_queries() as counter:
        db.session.commit()
    lookups = [s for s in counter.statements if "webhook_subscriptions.deleted_at IS NULL" in s]
    assert len(lookups) == 1
    assert len(_deliveries()) == 20
    assert sorted(r.json()["data"]["member_id"] for r in receiver.received) == list(range(20))
    emit("points.awarded", member_id=100)
    db.session.commit()
    assert len(_deliveries()) == 21
