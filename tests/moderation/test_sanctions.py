"""Sanctions: warnings to acknowledge, suspensions and silences stop posting, bans stop login; lifted early, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.moderation.models import AuditEntry, Sanction
from portal.moderation.services import sanctions, trust
from portal.moderation.services.sanctions import PostingBlocked
from portal.notifications.models import Notification
from tests.factories import PASSWORD, AdminFactory, MemberFactory, ModeratorFactory
from tests.portal.web import csrf_token, flashes, fresh, post_form, sign_in


def _veteran(**kwargs):
    member = MemberFactory(created_at=utcnow() - timedelta(days=30), **kwargs)
    trust.record_for(member.id).approved_posts = 10
    db.session.flush()
    return member


def _issue(member, kind, days=None, category_id=None, actor=None, reason="Be nice"):
    return sanctions.issue_sanction(
        actor=actor or ModeratorFactory(), member=member, kind=kind, reason=reason, days=days, category_id=category_id
    )


def test_a_warning_must_be_acknowledged_on_the_next_page_view(web):
    member = MemberFactory()
    warning = _issue(member, "warning", reason="Please stay on topic.")
    assert fresh(member).warning_pending is True
    sign_in(web, member)
    response = web.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/moderation/warnings/{warning.id}"
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please stay on topic." in page
    web.post(
        f"/moderation/warnings/{warning.id}/acknowledge",
        data={"csrf_token": csrf_token(web, f"/moderation/warnings/{warning.id}")},
    )
    assert fresh(warning).acknowledged_at is not None
    assert fresh(member).warning_pending is False
    assert web.get("/").status_code == 200


def test_a_member_cannot_read_or_acknowledge_another_members_warning(web):
    warning = _issue(MemberFactory(), "warning")
    sign_in(web, MemberFactory())
    assert web.get(f"/moderation/warnings/{warning.id}").status_code == 404
    assert (
        web.post(f"/moderation/warnings/{warning.id}/acknowledge", data={"csrf_token": csrf_token(web)}).status_code
        == 404
    )
    assert fresh(warning).acknowledged_at is None


def test_a_suspension_stops_posting_with_its_reason_and_end(content):
    member = _veteran()
    _issue(member, "suspension", days=3, reason="Repeated spam")
    with pytest.raises(PostingBlocked, match=r"suspended from posting until .*Repeated spam"):
        content.publish(author=member)


def test_a_silence_applies_to_its_category_only(content):
    member = _veteran()
    _issue(member, "silence", days=7, category_id=5, reason="Flame wars")
    with pytest.raises(PostingBlocked, match="silenced in this category"):
        content.publish(author=member, category_id=5)
    assert content.state(content.publish(author=member, category_id=6)) == "visible"


def test_a_lifted_suspension_lets_the_member_post_again(content):
    member = _veteran()
    suspension = _issue(member, "suspension", days=3)
    sanctions.lift_sanction(actor=ModeratorFactory(), sanction_id=suspension.id, reason="Apologised")
    assert content.state(content.publish(author=member)) == "visible"
    with pytest.raises(Conflict):
        sanctions.lift_sanction(actor=ModeratorFactory(), sanction_id=suspension.id, reason="")


def test_a_ban_refuses_login_with_its_reason(web):
    member = MemberFactory(email="banned@example.com")
    _issue(member, "ban", days=10, reason="Fraud")
    db.session.commit()
    response = post_form(web, "/login", {"email": "banned@example.com", "password": PASSWORD})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This account is banned until" in html
    assert "Fraud" in html


def test_a_member_banned_while_signed_in_is_signed_out(web):
    member = MemberFactory()
    sign_in(web, member)
    assert web.get("/account/settings").status_code == 200
    _issue(member, "ban", days=1)
    db.session.commit()
    assert web.get("/account/settings").status_code == 302


def test_lifting_a_ban_restores_login_and_everything_is_audited(web):
    member = MemberFactory(email="back@example.com")
    moderator = ModeratorFactory()
    ban = _issue(member, "ban", days=10, actor=moderator, reason="Fraud")
    sanctions.lift_sanction(actor=moderator, sanction_id=ban.id, reason="Mistake")
    assert fresh(member).banned_until is None
    db.session.commit()
    assert post_form(web, "/login", {"email": "back@example.com", "password": PASSWORD}).status_code == 302
    actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["moderation.ban", "moderation.lift_sanction"]
    kinds = list(db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member.id)))
    assert kinds == ["moderation.sanctioned", "moderation.sanction_lifted"]


def test_sanction_rules():
    member = MemberFactory()
    moderator = ModeratorFactory()
    with pytest.raises(ValidationFailed, match="reason"):
        _issue(member, "warning", reason=" ")
    with pytest.raises(ValidationFailed, match="duration"):
        _issue(member, "suspension")
    with pytest.raises(ValidationFailed, match="category"):
        _issue(member, "silence", days=2)
    with pytest.raises(ValidationFailed, match="yourself"):
        _issue(moderator, "warning", actor=moderator)
    with pytest.raises(NotAllowed):
        _issue(ModeratorFactory(), "ban", days=1, actor=moderator)
    with pytest.raises(NotAllowed):
        _issue(member, "warning", actor=MemberFactory())
    _issue(ModeratorFactory(), "warning", actor=AdminFactory())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sanction)) == 1


def test_the_dossier_form_issues_a_sanction(web):
    member = MemberFactory()
    sign_in(web, ModeratorFactory())
    response = web.post(
        f"/moderation/members/{member.id}/sanctions",
        data={"csrf_token": csrf_token(web), "kind": "suspension", "reason": "Spam", "days": "2"},
    )
    assert response.status_code == 303
    assert ("success", "The sanction has been recorded and the member told.") in flashes(web)
    sanction = db.session.scalar(sa.select(Sanction))
    assert (sanction.kind, sanction.reason) == ("suspension", "Spam")
    assert timedelta(days=1, hours=23) < sanction.ends_at - utcnow() <= timedelta(days=2)


def test_htmx_fragments_are_not_redirected_to_the_warning(web):
    member = MemberFactory()
    _issue(member, "warning")
    sign_in(web, member)
    assert web.get("/notifications/bell", headers={"HX-Request": "true"}).status_code == 200
    static = web.get("/static/css/app.css")
    static.close()
    assert static.status_code == 200
    assert web.get("/notifications/").status_code == 302
