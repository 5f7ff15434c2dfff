"""Held sign-ups: a package queues a member; the decision goes through the member adapter and out as an event."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.db import utcnow
from portal.events import emit
from portal.extensions import db
from portal.moderation.models import QueueItem
from portal.moderation.services import queue
from tests.factories import MemberFactory, ModeratorFactory
from tests.portal.web import fresh, recorded_events


def _held_signup():
    newcomer = MemberFactory(display_name="New Referral", signup_source="referral", bio="I like **tea**")
    emit(
        "moderation.hold_requested",
        member_id=newcomer.id,
        source=("member", newcomer.id),
        attributes={"reason": "signup", "note": "three sign-ups from one address"},
    )
    return newcomer, db.session.scalar(sa.select(QueueItem).where(QueueItem.kind == "member"))


def test_rejecting_a_held_sign_up_disables_the_account_and_tells_the_engine():
    newcomer, item = _held_signup()
    with recorded_events("moderation.resolved") as resolved, recorded_events("member.removed") as removed:
        queue.resolve_item(actor=ModeratorFactory(), item_id=item.id, action="delete", reason="Fake account")
    assert fresh(newcomer).is_disabled is True
    assert [(e.member_id, e.source) for e in removed] == [(newcomer.id, ("member", newcomer.id))]
    [decision] = resolved
    assert decision.source == ("member", newcomer.id)
    assert decision.attributes["action"] == "delete"
    assert decision.attributes["reason"] == "signup"


def test_approving_a_held_sign_up_keeps_the_account_and_tells_the_engine():
    newcomer, item = _held_signup()
    with recorded_events("moderation.resolved") as resolved:
        queue.resolve_item(actor=ModeratorFactory(), item_id=item.id, action="approve")
    assert fresh(newcomer).is_disabled is False
    assert [e.attributes["action"] for e in resolved] == ["approve"]


def test_the_queue_shows_a_held_sign_up_with_its_profile(web):
    from tests.portal.web import sign_in

    _held_signup()
    sign_in(web, ModeratorFactory())
    html = web.get("/moderation/?kind=member").get_data(as_text=True)
    assert "New Referral" in html
    assert "<strong>tea</strong>" in html
    assert "three sign-ups from one address" in html
    assert "Sign-up to confirm" in html


def test_a_rate_limited_api_answer_carries_retry_after(app):
    from portal.errors import RateLimited

    with app.test_request_context("/api/v1/anything"):
        response = app.handle_user_exception(RateLimited("slow down", retry_at=utcnow() + timedelta(minutes=10)))
    assert response.status_code == 429
    assert 590 <= int(response.headers["Retry-After"]) <= 600
    assert response.get_json()["error"] == {"code": "rate_limited", "message": "slow down", "fields": {}}
