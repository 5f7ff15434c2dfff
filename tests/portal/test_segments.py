"""Member segments: every criterion over a varied club, combinations, contains == member_query, pages, bad input."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from gamification.engine import services as engine_services
from gamification.engine.models import Balance, Tier
from portal.admin.segments import queries, services
from portal.admin.segments.criteria import normalise
from portal.admin.segments.models import Segment
from portal.db import utcnow
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.moderation.models import AuditEntry
from tests.factories import AdminFactory, MemberFactory, OrganisationFactory
from tests.helpers import count_queries
from tests.portal.web import csrf_token, make_client, sign_in, use_language


def _balance(member, spendable, qualifying, tier=None):
    db.session.merge(Balance(member_id=member.id, spendable=spendable, qualifying=qualifying, tier_code=tier))


def _purchase(member, amount, days_ago, reference):
    engine_services.record_event(
        member_id=member.id,
        event_type="purchase.recorded",
        amount=amount,
        occurred_at=utcnow() - timedelta(days=days_ago),
        attributes={"reference": reference},
    )


@pytest.fixture
def club():
    """Six people who differ in every criterion; ``f`` is disabled and never in a segment."""
    now = utcnow()
    db.session.add_all(
        [
            Tier(code="silver", name_fa="نقره‌ای", name_en="Silver", threshold=500),
            Tier(code="gold", name_fa="طلایی", name_en="Gold", threshold=2000),
        ]
    )
    org1, org2 = OrganisationFactory(name="Pars"), OrganisationFactory(name="Caspian")
    b = MemberFactory(city="تهران", organisation_id=org2.id, last_seen_at=now - timedelta(days=40))
    a = MemberFactory(city="Tehran", organisation_id=org1.id, last_seen_at=now - timedelta(days=2), referred_by_id=b.id)
    c = MemberFactory(role="moderator", city=" tehran ", last_seen_at=None, referred_by_id=b.id)
    d = MemberFactory(city="Shiraz", organisation_id=org1.id, last_seen_at=now - timedelta(hours=12))
    e = MemberFactory(role="admin", city=None, last_seen_at=now - timedelta(days=100))
    f = MemberFactory(city="Tehran", organisation_id=org1.id, last_seen_at=now, is_disabled=True)
    db.session.flush()
    _purchase(a, 100, 3, "a-1")
    _purchase(a, 200, 10, "a-2")
    _purchase(b, 1000, 60, "b-1")
    _purchase(d, 5000, 1, "d-1")
    engine_services.record_event(
        member_id=d.id, event_type="purchase.refunded", amount=5000, attributes={"reference": "d-1"}
    )
    _purchase(f, 9000, 1, "f-1")
    _balance(a, 100, 600, "silver")
    _balance(b, 3000, 2500, "gold")
    _balance(d, 50, 50)
    _balance(e, 0, 0)
    _balance(f, 9000, 9000, "gold")
    db.session.flush()
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "org1": org1, "org2": org2}


def _names(club, ids):
    by_id = {m.id: key for key, m in club.items() if len(key) == 1}
    return "".join(sorted(by_id[i] for i in ids if i in by_id))


CASES = [
    ({}, "abcde"),
    ({"roles": ["moderator", "admin"]}, "ce"),
    ({"cities": "tehran"}, "ac"),
    ({"cities": "تهران"}, "b"),
    ({"cities": "Tehran، Shiraz"}, "acd"),
    ({"organisation_ids": ["org1"]}, "ad"),
    ({"referred": "yes"}, "ac"),
    ({"referred": "no"}, "bde"),
    ({"referrer": "b"}, "ac"),
    ({"active_within_days": "7"}, "ad"),
    ({"inactive_for_days": "30"}, "bce"),
    ({"tiers": ["silver"]}, "a"),
    ({"tiers": ["silver", "gold"]}, "ab"),
    ({"spendable_min": "100"}, "ab"),
    ({"spendable_max": "50"}, "cde"),
    ({"spendable_min": "0", "qualifying_max": "0"}, "ce"),
    ({"qualifying_min": "600", "qualifying_max": "2500"}, "ab"),
    ({"purchases_days": "30", "purchases_min_count": "2"}, "a"),
    ({"purchases_days": "30", "purchases_min_count": "1"}, "a"),  # d's purchase was refunded
    ({"purchases_days": "90", "purchases_min_amount": "1000"}, "b"),
    ({"purchases_days": "30", "purchases_min_amount": "300"}, "a"),
    ({"purchases_days": "۳۰", "purchases_min_amount": "۳۰۱"}, ""),  # Persian digits are read
    ({"cities": "tehran", "referred": "yes", "active_within_days": "7"}, "a"),
    ({"roles": ["member"], "spendable_max": "100", "organisation_ids": ["org1"]}, "ad"),
    ({"inactive_for_days": "30", "tiers": ["gold"]}, "b"),
    ({"active_within_days": "30", "inactive_for_days": "1"}, "a"),
]


def _resolve(club, criteria):
    resolved = dict(criteria)
    if "organisation_ids" in resolved:
        resolved["organisation_ids"] = [club[key].id for key in resolved["organisation_ids"]]
    if "referrer" in resolved:
        resolved["referrer"] = str(club[resolved["referrer"]].id)
    return resolved


def _members_of(club, rules):
    return _names(club, [m.id for m in db.session.scalars(queries.member_query(rules))])


@pytest.mark.parametrize(("criteria", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_each_criterion_and_combination_selects_the_right_members(club, criteria, expected):
    rules = normalise(_resolve(club, criteria))
    assert _members_of(club, rules) == expected
    assert queries.count(rules) == len(expected)


def test_contains_agrees_with_member_query_for_every_case(club):
    admin = AdminFactory()
    everyone = [m for key, m in club.items() if len(key) == 1]
    for number, (criteria, _expected) in enumerate(CASES):
        segment = services.create_segment(
            actor=admin, name_fa=f"بخش {number}", name_en=f"Segment {number}", criteria=_resolve(club, criteria)
        )
        listed = {m.id for m in db.session.scalars(queries.member_query(segment))}
        for member in [*everyone, admin]:
            assert queries.contains(segment.id, member.id) == (member.id in listed), (criteria, member.email)
        assert queries.contains(segment.id, 987654321) is False
    assert queries.contains(987654321, club["a"].id) is False


def test_email_referrer_and_persian_cities_are_read(club):
    rules = normalise({"referrer": club["b"].email.upper(), "cities": " TEHRAN ,, tehran "})
    assert rules == {"referrer_id": club["b"].id, "cities": ["TEHRAN"]}
    assert _members_of(club, rules) == "ac"


def test_contains_is_one_query_and_sees_changes_made_elsewhere(club):
    segment = services.create_segment(actor=None, name_fa="تهران", name_en="Tehran", criteria={"cities": "tehran"})
    db.session.flush()
    assert queries.contains(segment.id, club["a"].id) is True
    with count_queries() as counter:
        assert queries.contains(segment.id, club["a"].id) is True
        assert queries.contains(segment.id, club["b"].id) is False
    assert counter.count == 2, counter
    # Another process changes the criteria: the version read with the answer gives it away.
    db.session.execute(
        sa.update(Segment)
        .where(Segment.id == segment.id)
        .values(criteria={"cities": ["تهران"]}, version="changed-elsewhere")
    )
    assert queries.contains(segment.id, club["a"].id) is False
    assert queries.contains(segment.id, club["b"].id) is True
    services.update_segment(segment, actor=None, name_fa="همه", name_en="All", criteria={})
    assert queries.contains(segment.id, club["d"].id) is True
    assert queries.contains(segment.id, club["f"].id) is False  # disabled accounts never
    services.delete_segment(segment, actor=None)
    assert queries.contains(segment.id, club["d"].id) is False


def test_choices_are_localized_and_sorted(club):
    first = services.create_segment(actor=None, name_fa="ب", name_en="Alpha", criteria={})
    second = services.create_segment(actor=None, name_fa="الف", name_en="Beta", criteria={})
    with force_locale("en"):
        assert queries.choices() == [(first.id, "Alpha"), (second.id, "Beta")]
    with force_locale("fa"):
        assert queries.choices() == [(second.id, "الف"), (first.id, "ب")]


def test_changes_are_audited(club):
    admin = AdminFactory()
    segment = services.create_segment(actor=admin, name_fa="الف", name_en="", criteria={"roles": ["member"]})
    assert segment.name_en == "الف"
    services.update_segment(segment, actor=admin, name_fa="الف", name_en="A", criteria={"referred": "no"})
    services.delete_segment(segment, actor=admin)
    entries = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.object_kind, AuditEntry.actor_id, AuditEntry.after)
        .where(AuditEntry.object_kind == "segment")
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.actor_id) for e in entries] == [
        ("admin.create_segment", admin.id),
        ("admin.update_segment", admin.id),
        ("admin.delete_segment", admin.id),
    ]
    assert entries[1].after["criteria"] == {"referred": False}


BAD = [
    ({"spendable_min": "lots"}, "spendable_min", "whole number"),
    ({"spendable_min": "-1"}, "spendable_min", "from 0"),
    ({"spendable_min": "10", "spendable_max": "5"}, "spendable_max", "below the minimum"),
    ({"active_within_days": "0"}, "active_within_days", "from 1"),
    ({"active_within_days": "7", "inactive_for_days": "30"}, "inactive_for_days", "Nobody can be active"),
    ({"purchases_min_count": "2"}, "purchases_days", "over how many days"),
    ({"purchases_days": "30"}, "purchases_min_count", "number of purchases or an amount"),
    ({"tiers": ["platinum"]}, "tiers", "tiers from the list"),
    ({"roles": ["owner"]}, "roles", "roles from the list"),
    ({"organisation_ids": ["987654"]}, "organisation_ids", "organisations from the list"),
    ({"referrer": "nobody@example.com"}, "referrer", "No member has"),
    ({"referred": "perhaps"}, "referred", "whether the members were referred"),
]


@pytest.mark.parametrize(("criteria", "field", "message"), BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)])
def test_bad_criteria_are_refused_with_a_clear_message(club, criteria, field, message):
    with force_locale("en"):
        with pytest.raises(ValidationFailed) as caught:
            services.create_segment(actor=None, name_fa="بد", name_en="Bad", criteria=criteria)
        assert field in caught.value.fields
        assert message in str(caught.value.fields[field])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_referred_no_and_a_referrer_contradict(club):
    with pytest.raises(ValidationFailed) as caught:
        normalise({"referred": "no", "referrer": str(club["b"].id)})
    assert "referrer" in caught.value.fields


def test_a_name_is_required_and_every_mistake_is_reported_at_once():
    with pytest.raises(ValidationFailed) as caught:
        services.create_segment(actor=None, name_fa=" ", name_en="", criteria={"spendable_min": "x"})
    assert set(caught.value.fields) == {"name_fa", "spendable_min"}


# --- pages ------------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_web(app):
    client = make_client(app)
    use_language(client, "en")
    admin = AdminFactory(display_name="Head Admin", city="Isfahan")
    sign_in(client, admin)
    client.admin = admin
    return client


def test_admin_creates_a_segment_and_sees_its_members(club, admin_web):
    response = admin_web.post(
        "/admin/segments/new",
        data={
            "csrf_token": csrf_token(admin_web, "/admin/segments/new"),
            "name_fa": "تهرانی‌ها",
            "name_en": "Tehran people",
            "cities": "Tehran",
            "roles": ["member", "moderator"],
        },
    )
    assert response.status_code == 303
    segment = db.session.scalar(sa.select(Segment).where(Segment.name_en == "Tehran people"))
    assert segment.criteria == {"cities": ["Tehran"], "roles": ["member", "moderator"]}
    assert response.headers["Location"].endswith(f"/admin/segments/{segment.id}")
    page = admin_web.get(f"/admin/segments/{segment.id}").get_data(as_text=True)
    assert club["a"].email in page
    assert club["c"].email in page
    assert club["b"].email not in page
    assert club["f"].email not in page
    listing = admin_web.get("/admin/segments/").get_data(as_text=True)
    assert re.search(rf'data-testid="segment-count-{segment.id}">2<', listing)


def test_bad_form_is_shown_again_with_its_errors(club, admin_web):
    response = admin_web.post(
        "/admin/segments/new",
        data={
            "csrf_token": csrf_token(admin_web, "/admin/segments/new"),
            "name_fa": "",
            "name_en": "",
            "spendable_min": "9",
            "spendable_max": "3",
            "cities": "Kish",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give the segment a name." in html
    assert "The maximum must not be below the minimum." in html
    assert 'value="Kish"' in html  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_edit_and_delete_through_the_pages(club, admin_web):
    segment = services.create_segment(actor=None, name_fa="الف", name_en="A", criteria={"roles": ["admin"]})
    db.session.commit()
    segment_id = segment.id
    form = admin_web.get(f"/admin/segments/{segment.id}/edit").get_data(as_text=True)
    assert 'value="admin" id="f-role-admin" checked' in form
    response = admin_web.post(
        f"/admin/segments/{segment.id}/edit",
        data={"csrf_token": csrf_token(admin_web), "name_fa": "الف", "name_en": "A", "referred": "yes"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Segment, segment.id).criteria == {"referred": True}
    response = admin_web.post(f"/admin/segments/{segment.id}/delete", data={"csrf_token": csrf_token(admin_web)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Segment, segment_id) is None
    assert admin_web.get(f"/admin/segments/{segment_id}").status_code == 404


def test_live_preview_counts_without_saving(club, admin_web):
    token = csrf_token(admin_web)
    html = admin_web.post(
        "/admin/segments/preview", data={"csrf_token": token, "cities": "tehran"}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert '<span data-testid="preview-count">2 members match now.</span>' in html
    html = admin_web.post("/admin/segments/preview", data={"csrf_token": token, "active_within_days": "x"}).get_data(
        as_text=True
    )
    assert "Enter a whole number." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_persian_pages_are_right_to_left(club, admin_web):
    use_language(admin_web, "fa")
    segment = services.create_segment(actor=None, name_fa="همه", name_en="All", criteria={})
    db.session.commit()
    for path in ("/admin/segments/", "/admin/segments/new", f"/admin/segments/{segment.id}"):
        html = admin_web.get(path).get_data(as_text=True)
        assert '<html lang="fa" dir="rtl">' in html
    assert "بخش‌ها" in admin_web.get("/admin/segments/").get_data(as_text=True)


def test_members_pages_follow_the_keyset(admin_web):
    made = MemberFactory.create_batch(queries.PAGE_SIZE + 5, city="Qom")
    segment = services.create_segment(actor=None, name_fa="قم", name_en="Qom", criteria={"cities": "qom"})
    db.session.commit()
    first = admin_web.get(f"/admin/segments/{segment.id}").get_data(as_text=True)
    emails = re.findall(r'<td dir="ltr">([^<]+)</td>', first)
    assert emails == [m.email for m in made[: queries.PAGE_SIZE]]
    assert f"{queries.PAGE_SIZE + 5} members" in first
    cursor = re.search(r'href="[^"]*cursor=([^"&]+)"', first).group(1)
    second = admin_web.get(f"/admin/segments/{segment.id}?cursor={cursor}").get_data(as_text=True)
    assert re.findall(r'<td dir="ltr">([^<]+)</td>', second) == [m.email for m in made[queries.PAGE_SIZE :]]
    assert 'rel="next"' not in second
    assert admin_web.get(f"/admin/segments/{segment.id}?cursor=%%%").status_code == 400


def test_pages_use_a_constant_number_of_queries(admin_web):
    organisation = OrganisationFactory()
    MemberFactory.create_batch(3, city="Yazd", organisation_id=organisation.id)
    segment = services.create_segment(
        actor=None, name_fa="یزد", name_en="Yazd", criteria={"cities": "yazd", "spendable_max": "10"}
    )
    db.session.commit()

    def queries_for(path):
        with count_queries() as counter:
            assert admin_web.get(path).status_code == 200
        return counter.count

    few_members, few_segments = queries_for(f"/admin/segments/{segment.id}"), queries_for("/admin/segments/")
    MemberFactory.create_batch(20, city="Yazd", organisation_id=OrganisationFactory().id)
    for number in range(4):
        services.create_segment(actor=None, name_fa=f"ی{number}", name_en=f"Y{number}", criteria={"tiers": []})
    db.session.commit()
    assert queries_for(f"/admin/segments/{segment.id}") == few_members
    assert queries_for("/admin/segments/") == few_segments


def test_csv_export_lists_the_members_safely(club, admin_web):
    db.session.execute(sa.update(type(club["a"])).where(type(club["a"]).id == club["a"].id).values(display_name="=cmd"))
    segment = services.create_segment(actor=None, name_fa="ارجاع", name_en="Referred", criteria={"referred": "yes"})
    db.session.commit()
    response = admin_web.get(f"/admin/segments/{segment.id}/members.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == list(queries.EXPORT_COLUMNS)
    assert [int(r[0]) for r in rows[1:]] == sorted([club["a"].id, club["c"].id])
    by_id = {int(r[0]): r for r in rows[1:]}
    assert by_id[club["a"].id][1] == "'=cmd"
    assert by_id[club["a"].id][5] == "Pars"


def test_demo_segments_are_seeded_once_and_select_demo_members(app, without_moderation_gates):
    from gamification.engine import demo as engine_demo
    from portal.accounts import demo as accounts_demo
    from portal.admin.segments import demo

    with app.test_request_context():
        accounts_demo.seed_accounts()
        engine_demo.seed_engine()
        demo.seed_segments()
        demo.seed_segments()
    segments = {s.name_en: s for s in db.session.scalars(sa.select(Segment))}
    assert set(segments) == {
        "Referred members",
        "Tehran members and Pars Technology",
        "Quiet members",
        "Silver and above",
    }
    referred = {m.email for m in db.session.scalars(queries.member_query(segments["Referred members"]))}
    assert referred == {"reza@bashgah.example", "niloofar@bashgah.example", "ali@bashgah.example"}
    tehran = {m.email for m in db.session.scalars(queries.member_query(segments["Tehran members and Pars Technology"]))}
    assert tehran == {"reza@bashgah.example"}
    assert queries.count(segments["Quiet members"]) == len(accounts_demo.MEMBERS) + 1  # nobody signed in yet


@pytest.fixture
def without_the_engine():
    from portal.admin.segments import registry

    kept = registry.engine()
    registry.clear()
    yield
    registry.register_engine(conditions=kept.conditions, tier_choices=kept.tier_choices)


def test_without_the_engine_points_criteria_are_refused_and_stored_ones_match_nobody(club, without_the_engine):
    with pytest.raises(ValidationFailed) as caught:
        normalise({"tiers": ["gold"], "spendable_min": "5", "purchases_days": "30", "purchases_min_count": "1"})
    assert set(caught.value.fields) == {"tiers", "spendable_min", "purchases_days"}
    assert normalise({"cities": "tehran"}) == {"cities": ["tehran"]}
    assert _members_of(club, {"tiers": ["gold"]}) == ""
    assert _members_of(club, {"cities": ["tehran"]}) == "ac"
