"""The admin pages of the integration: keys shown once, revocation, webhooks, the delivery log, redelivery."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.api import services
from portal.api.models import ApiKey, WebhookDelivery, WebhookSubscription
from portal.events import emit
from portal.extensions import db
from tests.api.conftest import bearer
from tests.factories import AgentFactory, MemberFactory, ModeratorFactory
from tests.helpers import count_queries
from tests.portal.web import csrf_token, post_form, recorded_events, sign_in

PAGES = ["/admin/integration/keys", "/admin/integration/webhooks", "/admin/integration/webhooks/deliveries"]


@pytest.fixture
def admin_web(web, admin):
    sign_in(web, admin)
    return web


@pytest.mark.parametrize("factory", [MemberFactory, ModeratorFactory, AgentFactory])
def test_only_admins_see_the_integration_pages(web, factory):
    sign_in(web, factory())
    for path in PAGES:
        assert web.get(path).status_code == 403
    response = post_form(web, "/admin/integration/keys", {"name": "x", "scopes": "members:read"}, page="/")
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_creating_a_key_shows_it_once_and_it_works(admin_web, admin):
    with recorded_events("audit.logged") as events:
        response = post_form(
            admin_web, "/admin/integration/keys", {"name": "Online shop", "scopes": ["events:write", "members:read"]}
        )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plaintext = re.search(r'value="(bgk_[^"]+)" data-new-key', html).group(1)
    key = db.session.scalars(sa.select(ApiKey)).one()
    assert key.scopes == ["events:write", "members:read"]
    assert key.created_by_id == admin.id
    assert events[0].member_id == admin.id
    assert events[0].attributes["action"] == "api.key_created"
    # Shown once: the list page afterwards has only the prefix.
    again = admin_web.get("/admin/integration/keys").get_data(as_text=True)
    assert plaintext not in again
    assert key.prefix in again
    member = MemberFactory()
    db.session.commit()
    assert admin_web.get(f"/api/v1/members/{member.id}", headers=bearer(plaintext)).status_code == 200


def test_a_key_without_scopes_is_refused(admin_web):
    response = post_form(admin_web, "/admin/integration/keys", {"name": "Nothing"})
    assert response.status_code == 422
    assert "Choose at least one scope." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_revoking_a_key_from_the_page_is_audited_and_effective(admin_web, admin):
    created = services.create_api_key(actor=admin, name="POS", scopes=["members:read"])
    db.session.commit()
    with recorded_events("audit.logged") as events:
        response = admin_web.post(
            f"/admin/integration/keys/{created.key.id}/revoke", data={"csrf_token": csrf_token(admin_web)}
        )
    assert response.status_code == 303
    assert [e.attributes["action"] for e in events] == ["api.key_revoked"]
    assert admin_web.get("/api/v1/members/1", headers=bearer(created.plaintext)).status_code == 401


def test_revoking_without_the_csrf_token_is_refused(admin_web, admin):
    created = services.create_api_key(actor=admin, name="POS", scopes=["members:read"])
    db.session.commit()
    assert admin_web.post(f"/admin/integration/keys/{created.key.id}/revoke").status_code == 400
    db.session.expire_all()
    assert db.session.get(ApiKey, created.key.id).revoked_at is None


def test_creating_a_webhook_shows_its_secret_once(admin_web):
    response = post_form(
        admin_web,
        "/admin/integration/webhooks",
        {"url": "https://crm.example/hook", "events": "points.*, tier.changed"},
    )
    assert response.status_code == 200
    subscription = db.session.scalars(sa.select(WebhookSubscription)).one()
    assert subscription.events == ["points.*", "tier.changed"]
    assert f'value="{subscription.secret}" data-new-secret' in response.get_data(as_text=True)
    assert subscription.secret not in admin_web.get("/admin/integration/webhooks").get_data(as_text=True)


def test_a_webhook_with_a_bad_url_is_refused_in_the_members_language(admin_web):
    response = post_form(admin_web, "/admin/integration/webhooks", {"url": "file:///etc/passwd", "events": "*"})
    assert response.status_code == 422
    assert "Enter an http or https address." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription)) == 0


def test_the_delivery_log_shows_every_try_and_redeliver_sends_again(admin_web, receiver):
    receiver.fail_first(1, status=500)
    subscription = services.create_webhook(actor=None, url=receiver.url, events=["points.awarded"]).subscription
    db.session.commit()
    emit("points.awarded", member_id=1)
    db.session.commit()
    for _ in range(3):
        emit("points.awarded", member_id=2)
        db.session.commit()
    with count_queries() as counter:
        page = admin_web.get(f"/admin/integration/webhooks/deliveries?subscription={subscription.id}")
    assert page.status_code == 200
    assert counter.count <= 6, counter
    html = page.get_data(as_text=True)
    assert "answer 500" in html
    assert "HTTP 500" in html
    delivery = db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).first()
    response = admin_web.post(
        f"/admin/integration/webhooks/deliveries/{delivery.id}/redeliver", data={"csrf_token": csrf_token(admin_web)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    delivery = db.session.get(WebhookDelivery, delivery.id)
    assert delivery.status == "succeeded"
    assert delivery.attempts == 2
    assert len(receiver.received) == 5


def test_removing_a_webhook_from_the_page(admin_web):
    subscription = services.create_webhook(actor=None, url="https://x.example/h", events=["*"]).subscription
    db.session.commit()
    response = admin_web.post(
        f"/admin/integration/webhooks/{subscription.id}/delete", data={"csrf_token": csrf_token(admin_web)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(WebhookSubscription, subscription.id).deleted_at is not None


def test_the_pages_are_in_persian_by_default(app, admin):
    from tests.portal.web import make_client

    client = make_client(app)
    sign_in(client, admin)
    html = client.get("/admin/integration/keys").get_data(as_text=True)
    assert 'lang="fa"' in html
    assert "کلید API تازه" in html


def test_a_removed_webhooks_delivery_cannot_be_sent_again(admin_web, receiver):
    subscription = services.create_webhook(actor=None, url=receiver.url, events=["*"]).subscription
    db.session.commit()
    emit("points.awarded", member_id=1)
    db.session.commit()
    services.delete_webhook(actor=None, subscription=subscription)
    db.session.commit()
    delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
    response = admin_web.post(
        f"/admin/integration/webhooks/deliveries/{delivery.id}/redeliver",
        data={"csrf_token": csrf_token(admin_web)},
        headers={"Referer": "http://localhost/admin/integration/webhooks/deliveries"},
    )
    assert response.status_code == 303
    assert len(receiver.received) == 1
    page = admin_web.get("/admin/integration/webhooks/deliveries").get_data(as_text=True)
    assert "This webhook has been removed" in page
