"""The engine's pages: my points, leaderboard, profile badges and the admin pages (rules with the
preview and simulator, tiers, badges, adjustments, held referrals)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gamification.engine.models import Balance, PointEntry, Referral, Rule, StoredEvent, Tier
from portal.events import emit
from portal.extensions import db
from tests.factories import AdminFactory, MemberFactory, ModeratorFactory
from tests.gamification.engine.factories import BadgeFactory, RuleFactory, TierFactory
from tests.helpers import count_queries
from tests.portal.web import csrf_token, fresh, make_client, post_form, sign_in, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def admin_web(web):
    sign_in(web, AdminFactory())
    return web


def _rule_form(**changes):
    data = {
        "code": "reply",
        "name_fa": "پاسخ",
        "name_en": "Reply",
        "event_type": "post.created",
        "points": "10",
        "feeds": "both",
        "is_active": "y",
        "apply_multiplier": "y",
        "community": "y",
        "cond_organisation_id": "0",
        "cond_tier": "",
        "simulate_days": "30",
    }
    data.update(changes)
    return data


def test_my_points_shows_balances_tier_progress_and_why_each_entry_is_there(web):
    member = MemberFactory()
    TierFactory(code="silver", threshold=100, name_en="Silver")
    RuleFactory(event_type="post.created", points=15, name_en="Forum reply", expires_days=10)
    BadgeFactory(code="first", name_en="First reply", event_type="post.created")
    for n in range(3):
        emit("post.created", member_id=member.id, source=("post", n))
    sign_in(web, member)
    with count_queries() as counted:
        response = web.get("/points")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="spendable">45<' in html
    assert "55 qualifying points to Silver" in html
    assert "Forum reply" in html
    assert 'href="/forums/posts/2"' in html
    assert "Points expiring soon" in html
    assert "First reply" in html
    assert member.referral_code in html
    assert counted.count <= 14, counted


def test_my_points_needs_a_login_and_refuses_a_bad_cursor(web):
    assert web.get("/points").status_code == 302
    sign_in(web, MemberFactory())
    assert web.get("/points?cursor=%%%").status_code == 400


def test_the_leaderboard_ranks_members_and_shows_ones_own_rank(web):
    members = [MemberFactory(display_name=f"Player {n}") for n in range(3)]
    RuleFactory(event_type="post.created", points=5)
    for index, member in enumerate(members):
        for n in range(index + 1):
            emit("post.created", member_id=member.id, source=("post", f"{index}-{n}"))
    sign_in(web, members[0])
    with count_queries() as counted:
        html = web.get("/leaderboard?period=week").get_data(as_text=True)
    table = html[html.index("<tbody>") :]
    assert table.index("Player 2") < table.index("Player 1") < table.index("Player 0")
    assert "Your rank: 3 with 5 points" in html
    assert counted.count <= 8, counted
    assert web.get("/leaderboard?period=decade").status_code == 200


def test_a_profile_shows_the_members_tier_and_badges(web):
    member = MemberFactory()
    TierFactory(code="silver", threshold=1, name_en="Silver")
    RuleFactory(event_type="post.created", points=5)
    BadgeFactory(code="first", name_en="First reply", icon="✍️")
    emit("post.created", member_id=member.id, source=("post", 1))
    db.session.commit()
    html = web.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Silver" in html
    assert "First reply" in html


@pytest.mark.parametrize(
    "path",
    [
        "/admin/points/rules",
        "/admin/points/tiers",
        "/admin/points/badges",
        "/admin/points/adjust",
        "/admin/points/referrals",
        "/admin/points/rules/new",
    ],
)
def test_only_admins_open_the_points_administration(web, path):
    sign_in(web, ModeratorFactory())
    assert web.get(path).status_code == 403


def test_an_admin_creates_a_rule_and_sees_it_in_words(admin_web):
    response = post_form(admin_web, "/admin/points/rules/new", _rule_form(cap_day="30"))
    assert response.status_code == 303
    rule = db.session.scalar(sa.select(Rule).where(Rule.code == "reply"))
    assert (rule.points, rule.cap_day, rule.event_type) == (10, 30, "post.created")
    html = admin_web.get(f"/admin/points/rules/{rule.id}").get_data(as_text=True)
    assert "When “A forum reply was posted”: 10 points." in html
    assert "At most 30 a day per member." in html
    assert "۱۰" in html, "the Persian preview uses Persian digits"


def test_the_live_preview_describes_the_draft_in_both_languages(admin_web):
    token = csrf_token(admin_web, "/admin/points/rules/new")
    response = admin_web.post(
        "/admin/points/rules/preview",
        data=_rule_form(points="1", amount_unit="10000", event_type="purchase.recorded", expires_days="365"),
        headers={"X-CSRFToken": token},
    )
    html = response.get_data(as_text=True)
    assert "1 points for every 10,000 of the amount" in html
    assert "They expire 365 days after they are earned." in html
    assert 'lang="fa"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rule)) == 0


def test_bad_rule_input_is_shown_next_to_the_field_and_nothing_is_saved(admin_web):
    RuleFactory(code="taken")
    response = post_form(admin_web, "/admin/points/rules/new", _rule_form(code="taken"))
    assert response.status_code == 422
    assert "Another rule already uses this code." in response.get_data(as_text=True)
    response = post_form(admin_web, "/admin/points/rules/new", _rule_form(code="Bad Code!", points="x"))
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rule)) == 1


def test_the_simulator_shows_what_a_draft_would_pay_and_writes_nothing(admin_web):
    TierFactory(code="silver", threshold=15, name_en="Silver")
    member = MemberFactory(display_name="Busy Bee")
    other = MemberFactory(display_name="Quiet One")
    for n in range(3):
        emit("post.created", member_id=member.id, source=("post", n))
    emit("post.created", member_id=other.id, source=("post", 9))
    db.session.commit()
    entries_before = db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry))
    token = csrf_token(admin_web, "/admin/points/rules/new")
    response = admin_web.post(
        "/admin/points/rules/simulate", data=_rule_form(points="7", cap_day="20"), headers={"X-CSRFToken": token}
    )
    html = response.get_data(as_text=True)
    assert "4 stored events: 27 points to 2 members" in html
    assert "Busy Bee" in html
    assert "Silver" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry)) == entries_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rule)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredEvent)) == 4


def test_an_admin_edits_a_tier(admin_web):
    tier = TierFactory(code="gold", threshold=100)
    prefix = f"t{tier.id}"
    data = {
        "tier_id": tier.id,
        f"{prefix}-name_fa": "طلایی",
        f"{prefix}-name_en": "Gold",
        f"{prefix}-threshold": "250",
        f"{prefix}-multiplier_percent": "130",
    }
    assert post_form(admin_web, "/admin/points/tiers", data).status_code == 303
    tier = fresh(tier)
    assert (tier.threshold, tier.multiplier_percent, tier.name_en) == (250, 130, "Gold")
    data[f"{prefix}-multiplier_percent"] = "50"
    assert post_form(admin_web, "/admin/points/tiers", data).status_code == 422
    assert db.session.get(Tier, tier.id).multiplier_percent == 130


def test_an_admin_adjusts_points_with_a_reason(admin_web):
    member = MemberFactory()
    response = post_form(
        admin_web, "/admin/points/adjust", {"member_id": member.id, "points": "40", "reason": "Event prize"}
    )
    assert response.status_code == 303
    assert db.session.get(Balance, member.id).spendable == 40
    response = post_form(
        admin_web, "/admin/points/adjust", {"member_id": member.id, "points": "-100", "reason": "oops"}
    )
    assert response.status_code == 422
    assert db.session.get(Balance, member.id).spendable == 40


def test_an_admin_approves_a_held_referral(admin_web, app):
    app.config["REFERRAL_ACTIVATION"] = ["verified"]
    RuleFactory(event_type="referral.joined", points=100)
    referrer = MemberFactory(display_name="Inviter")
    referee = MemberFactory(display_name="Invitee")
    db.session.add(
        Referral(
            referrer_id=referrer.id,
            referee_id=referee.id,
            status="held",
            hold_reason="same_ip",
            verified_at=referee.email_verified_at,
        )
    )
    db.session.commit()
    html = admin_web.get("/admin/points/referrals").get_data(as_text=True)
    assert "Inviter" in html
    assert "Invitee" in html
    referral = db.session.scalar(sa.select(Referral))
    assert (
        post_form(
            admin_web, f"/admin/points/referrals/{referral.id}/approve", {}, page="/admin/points/referrals"
        ).status_code
        == 303
    )
    assert fresh(referral).status == "paid"
    assert db.session.get(Balance, referrer.id).spendable == 100


def test_an_admin_switches_a_badge_off(admin_web):
    badge = BadgeFactory(code="b1")
    db.session.commit()
    assert (
        post_form(admin_web, f"/admin/points/badges/{badge.id}/toggle", {}, page="/admin/points/badges").status_code
        == 303
    )
    assert fresh(badge).is_active is False
