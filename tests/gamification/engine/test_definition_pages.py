"""The admin pages that create tiers and create or change badges: validation, audit, and the badges at work."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gamification.engine.models import Badge, MemberBadge, Tier
from portal.events import emit
from portal.extensions import db
from portal.moderation.models import AuditEntry
from tests.factories import AdminFactory, MemberFactory, ModeratorFactory
from tests.gamification.engine.factories import BadgeFactory, RuleFactory, TierFactory
from tests.portal.web import fresh, make_client, post_form, sign_in, use_language


@pytest.fixture
def web(app):
    client = make_client(app)
    use_language(client, "en")
    return client


@pytest.fixture
def admin(db_session):
    return AdminFactory()


@pytest.fixture
def admin_web(web, admin):
    sign_in(web, admin)
    return web


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _audits(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _tier_form(**changes):
    data = {
        "code": "diamond",
        "name_fa": "الماس",
        "name_en": "Diamond",
        "threshold": "5000",
        "multiplier_percent": "150",
        "color": "#b9f2ff",
        "early_access": "y",
        "benefits_fa": "دسترسی زودهنگام",
        "benefits_en": "Early access to sales",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _badge_form(**changes):
    data = {
        "code": "talker",
        "name_fa": "پرحرف",
        "name_en": "Talker",
        "description_en": "Ten replies",
        "icon": "💬",
        "kind": "event_count",
        "event_type": "post.created",
        "threshold": "10",
        "tier_code": "",
        "is_active": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("path", ["/admin/points/tiers/new", "/admin/points/badges/new"])
def test_only_admins_open_the_create_pages(web, path):
    sign_in(web, ModeratorFactory())
    assert web.get(path).status_code == 403
    assert make_client(web.application).get(path).status_code == 302


# --- tiers --------------------------------------------------------------------------------------------------


def test_an_admin_creates_a_tier_and_it_is_audited(admin_web, admin):
    page = admin_web.get("/admin/points/tiers/new").get_data(as_text=True)
    assert "365 days" in page  # the tier window is stated
    response = post_form(admin_web, "/admin/points/tiers/new", _tier_form())
    assert response.status_code == 303
    tier = db.session.scalar(sa.select(Tier).where(Tier.code == "diamond"))
    assert (tier.name_fa, tier.name_en, tier.threshold, tier.multiplier_percent) == ("الماس", "Diamond", 5000, 150)
    assert (tier.color, tier.early_access, tier.benefits_en) == ("#b9f2ff", True, "Early access to sales")
    (audit,) = _audits("engine.create_tier")
    assert audit.actor_id == admin.id
    assert (audit.object_kind, audit.object_id) == ("tier", str(tier.id))
    assert audit.after["threshold"] == 5000
    assert "Diamond" in admin_web.get("/admin/points/tiers").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "Not A Code"}, "Lower-case letters, digits, dashes and underscores."),
        ({"name_en": ""}, "This field is required."),
        ({"threshold": "0"}, "Number must be between 1 and 1000000000."),
        ({"threshold": "many"}, "Not a valid integer value."),
        ({"multiplier_percent": "90"}, "Number must be between 100 and 1000."),
        ({"color": "red"}, "A colour such as #c0c0c0."),
        ({"code": "gold"}, "Another tier already uses this code."),
        ({"threshold": "1000"}, "Another tier already starts at this many points."),
    ],
)
def test_bad_tier_input_is_explained_and_nothing_is_saved(admin_web, changes, message):
    TierFactory(code="gold", threshold=1000)
    db.session.commit()
    response = post_form(admin_web, "/admin/points/tiers/new", _tier_form(**changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(Tier) == 1
    assert _audits("engine.create_tier") == []


def test_a_new_tier_is_reached_by_the_next_points(admin_web):
    post_form(admin_web, "/admin/points/tiers/new", _tier_form(threshold="20"))
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=25)
    emit("post.created", member_id=member.id, source=("post", 1))
    db.session.commit()
    from gamification.engine.queries import tier_code_of

    assert tier_code_of(member.id) == "diamond"


# --- badges -------------------------------------------------------------------------------------------------


def test_an_admin_creates_a_badge_that_members_then_earn(admin_web, admin):
    response = post_form(admin_web, "/admin/points/badges/new", _badge_form(threshold="2"))
    assert response.status_code == 303
    badge = db.session.scalar(sa.select(Badge).where(Badge.code == "talker"))
    assert (badge.kind, badge.event_type, badge.threshold, badge.icon) == ("event_count", "post.created", 2, "💬")
    assert (badge.name_fa, badge.name_en, badge.tier_code) == ("پرحرف", "Talker", None)
    (audit,) = _audits("engine.create_badge")
    assert (audit.actor_id, audit.object_kind, audit.object_id) == (admin.id, "badge", str(badge.id))
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=1)
    for n in range(2):
        emit("post.created", member_id=member.id, source=("post", n))
    db.session.commit()
    assert db.session.get(MemberBadge, (member.id, badge.id)) is not None
    assert "Talker" in admin_web.get("/admin/points/badges").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "stored"),
    [
        ({"kind": "points_reached", "threshold": "500"}, ("points_reached", None, 500, None)),
        ({"kind": "streak", "threshold": "7"}, ("streak", None, 7, None)),
        ({"kind": "tier_reached", "tier_code": "gold", "threshold": ""}, ("tier_reached", None, 1, "gold")),
    ],
)
def test_each_kind_of_badge_keeps_only_its_own_criteria(admin_web, changes, stored):
    TierFactory(code="gold", threshold=100)
    db.session.commit()
    assert post_form(admin_web, "/admin/points/badges/new", _badge_form(**changes)).status_code == 303
    badge = db.session.scalar(sa.select(Badge).where(Badge.code == "talker"))
    assert (badge.kind, badge.event_type, badge.threshold, badge.tier_code) == stored


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event_type": ""}, "Choose the event to count."),
        ({"threshold": ""}, "Say how many times the event must happen (at least once)."),
        ({"kind": "points_reached", "threshold": ""}, "Say how many points earn the badge (at least one)."),
        ({"kind": "streak", "threshold": "4000"}, "Say how many active days in a row earn the badge (1 to 3650)."),
        ({"kind": "tier_reached", "tier_code": ""}, "Choose the tier that earns the badge."),
        ({"kind": "tier_reached", "tier_code": "nowhere"}, "Choose the tier that earns the badge."),
        ({"kind": "fame"}, "Not a valid choice."),
        ({"icon": ""}, "This field is required."),
        ({"icon": "123456789"}, "At most 8 characters: one emoji."),
        ({"name_fa": ""}, "This field is required."),
        ({"code": "taken"}, "Another badge already uses this code."),
    ],
)
def test_bad_badge_input_is_explained_and_nothing_is_saved(admin_web, changes, message):
    BadgeFactory(code="taken")
    db.session.commit()
    response = post_form(admin_web, "/admin/points/badges/new", _badge_form(**changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(Badge) == 1
    assert _audits("engine.create_badge") == []


def test_an_admin_changes_a_badge_but_not_its_code(admin_web):
    badge = BadgeFactory(code="first-post", name_en="First post", kind="event_count", threshold=1)
    db.session.commit()
    page = admin_web.get(f"/admin/points/badges/{badge.id}").get_data(as_text=True)
    assert "First post" in page
    response = post_form(
        admin_web,
        f"/admin/points/badges/{badge.id}",
        _badge_form(code="renamed", name_en="First words", kind="points_reached", threshold="50"),
    )
    assert response.status_code == 303
    badge = fresh(badge)
    assert (badge.code, badge.name_en, badge.kind, badge.threshold, badge.event_type) == (
        "first-post",
        "First words",
        "points_reached",
        50,
        None,
    )
    (audit,) = _audits("engine.update_badge")
    assert audit.before["name_en"] == "First post"
    assert audit.after["name_en"] == "First words"
    assert admin_web.get("/admin/points/badges/987654").status_code == 404


def test_the_create_pages_speak_persian(web, admin):
    use_language(web, "fa")
    sign_in(web, admin)
    assert "نشان تازه" in web.get("/admin/points/badges/new").get_data(as_text=True)
    page = web.get("/admin/points/tiers/new").get_data(as_text=True)
    assert "سطح تازه" in page
    assert "۳۶۵" in page
