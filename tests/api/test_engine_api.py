"""The engine's endpoints: POST /api/v1/events, /events/batch, GET /members/{ref}/ledger and /leaderboard."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gamification.engine.models import Balance, MemberBadge, PeriodTotal, PointEntry, StoredEvent
from portal.api import services as api_services
from portal.api.models import ApiKey
from portal.extensions import db
from portal.notifications.models import Notification
from tests.api.conftest import bearer
from tests.factories import MemberFactory
from tests.gamification.engine.factories import BadgeFactory, RuleFactory, TierFactory
from tests.portal.web import recorded_events, sign_in


@pytest.fixture
def writer(make_key):
    return bearer(make_key("events:write"))


@pytest.fixture
def reader(make_key):
    return bearer(make_key("members:read"))


@pytest.fixture
def rules():
    RuleFactory(event_type="survey.answered", code="survey", points=15, community=False)
    RuleFactory(
        event_type="purchase.recorded", code="purchase", points=1, amount_unit=10_000, community=False, pending_days=0
    )
    TierFactory(code="silver", threshold=20)
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _written() -> tuple[int, int, int]:
    db.session.expire_all()
    return _count(StoredEvent), _count(PointEntry), _count(Balance)


def _balance(member_id: int) -> Balance | None:
    db.session.expire_all()
    return db.session.get(Balance, member_id)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- POST /events -------------------------------------------------------------------------------------


def test_an_event_pays_the_member_and_answers_201(web, writer, rules):
    member = MemberFactory(external_id="shop-7")
    db.session.commit()
    response = web.post(
        "/api/v1/events",
        json={
            "member": "ext:shop-7",
            "type": "survey.answered",
            "idempotency_key": "survey-1",
            "occurred_at": "2026-01-02T10:00:00+03:30",
            "attributes": {"reference": "s-1"},
        },
        headers=writer,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"event_id", "awarded", "points", "tier"}
    assert body["awarded"] == [{"rule": "survey", "points": 15}]
    assert body["points"] == 15
    assert body["tier"] is None
    balance = _balance(member.id)
    assert (balance.spendable, balance.qualifying) == (15, 15)
    entry = db.session.scalar(sa.select(PointEntry).where(PointEntry.member_id == member.id))
    assert (entry.amount, entry.rule_code, entry.event_type) == (15, "survey", "survey.answered")


def test_a_purchase_pays_per_amount_unit_and_reaches_a_tier(web, writer, rules):
    member = MemberFactory()
    db.session.commit()
    response = web.post(
        "/api/v1/events",
        json={
            "member": member.id,
            "type": "purchase.recorded",
            "amount": 255_000,
            "attributes": {"reference": "order-1"},
        },
        headers=writer,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["awarded"] == [{"rule": "purchase", "points": 25}]
    assert body["tier"] == "silver"
    balance = _balance(member.id)
    assert balance.qualifying == 25
    assert balance.tier_code == "silver"
    assert body["points"] == balance.spendable


def test_the_same_idempotency_key_pays_once_and_answers_200_with_the_first_result(web, writer, rules):
    member = MemberFactory()
    db.session.commit()
    payload = {"member": str(member.id), "type": "survey.answered", "idempotency_key": "k-1"}
    first = web.post("/api/v1/events", json=payload, headers=writer)
    again = web.post("/api/v1/events", json=payload, headers=writer)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert _balance(member.id).spendable == 15
    assert _count(PointEntry) == 1
    assert _count(StoredEvent) == 1


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"member": 999_999, "type": "survey.answered"}, 404, "member_not_found", None),
        ({"member": "ext:nobody", "type": "survey.answered"}, 404, "member_not_found", None),
        ({"member": "MEMBER", "type": "no.such.event"}, 422, "validation_failed", "type"),
        ({"member": "MEMBER", "type": "purchase.recorded", "amount": -5}, 422, "validation_failed", "amount"),
        ({"member": "MEMBER", "type": "purchase.recorded", "amount": 10**16}, 422, "validation_failed", "amount"),
        ({"member": "MEMBER", "type": "purchase.recorded", "amount": 10**30}, 422, "validation_failed", "amount"),
        ({"member": "MEMBER", "type": "purchase.recorded", "amount": "5"}, 422, "validation_failed", "amount"),
        ({"member": "MEMBER", "type": "purchase.recorded"}, 422, "validation_failed", "amount"),
        ({"member": "MEMBER", "type": "survey.answered", "points": 9}, 422, "validation_failed", "points"),
        ({"member": "MEMBER"}, 422, "validation_failed", "type"),
        (
            {"member": "MEMBER", "type": "purchase.refunded", "attributes": {}},
            422,
            "validation_failed",
            "attributes.reference",
        ),
        (
            {"member": "MEMBER", "type": "survey.answered", "occurred_at": "2999-01-01T00:00:00+00:00"},
            422,
            "validation_failed",
            "occurred_at",
        ),
        (
            {"member": "MEMBER", "type": "survey.answered", "occurred_at": "0001-01-01T00:00:00+14:00"},
            422,
            "validation_failed",
            "occurred_at",
        ),
        (
            {"member": "MEMBER", "type": "survey.answered", "occurred_at": "yesterday"},
            422,
            "validation_failed",
            "occurred_at",
        ),
    ],
)
def test_bad_events_get_the_contract_error_and_write_nothing(web, writer, rules, payload, status, code, field):
    member = MemberFactory()
    db.session.commit()
    payload = {key: (member.id if value == "MEMBER" else value) for key, value in payload.items()}
    before = _written()
    error = _error(web.post("/api/v1/events", json=payload, headers=writer), status, code)
    if field:
        assert field in error["fields"]
    assert _written() == before


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", b'{"member": 1, "type": NaN}', b"\xff\xfe"])
def test_malformed_json_is_a_400_and_writes_nothing(web, writer, rules, raw):
    before = _written()
    response = web.post("/api/v1/events", data=raw, headers={**writer, "Content-Type": "application/json"})
    error = _error(response, 400, "bad_request")
    assert error["fields"]["body"] in {"malformed_json", "required"}
    assert _written() == before


def test_no_key_a_revoked_key_and_a_wrong_scope_are_refused_and_write_nothing(web, make_key, reader, rules):
    member = MemberFactory()
    db.session.commit()
    payload = {"member": member.id, "type": "survey.answered"}
    revoked = make_key("events:write", name="Old till")
    api_services.revoke_api_key(actor=None, key=db.session.scalar(sa.select(ApiKey).where(ApiKey.name == "Old till")))
    db.session.commit()
    before = _written()
    _error(web.post("/api/v1/events", json=payload), 401, "unauthorized")
    _error(web.post("/api/v1/events", json=payload, headers=bearer("not-a-key")), 401, "unauthorized")
    _error(web.post("/api/v1/events", json=payload, headers=bearer(revoked)), 401, "unauthorized")
    error = _error(web.post("/api/v1/events", json=payload, headers=reader), 403, "missing_scope")
    assert error["fields"] == {"scopes": "events:write"}
    _error(web.post("/api/v1/events/batch", json={"events": [payload]}, headers=reader), 403, "missing_scope")
    assert _written() == before


def test_a_logged_in_member_cannot_post_events_for_themselves(web, rules):
    member = MemberFactory()
    sign_in(web, member)
    before = _written()
    _error(web.post("/api/v1/events", json={"member": member.id, "type": "survey.answered"}), 401, "unauthorized")
    assert _written() == before


# --- POST /events/batch ---------------------------------------------------------------------------------


def test_a_batch_awards_its_badges_once_after_it_commits(web, writer, rules):
    """The batch leaves its badges to a job that runs after the commit (outside the batch's locks
    on its members); the badge, its event and its notification still come once."""
    member = MemberFactory()
    BadgeFactory(code="voice", kind="event_count", event_type="survey.answered", threshold=2)
    db.session.commit()
    batch = [{"member": member.id, "type": "survey.answered", "attributes": {"reference": f"s{n}"}} for n in (1, 2)]
    with recorded_events("badge.earned") as seen:
        first = web.post("/api/v1/events/batch", json={"events": batch}, headers=writer)
        again = web.post(
            "/api/v1/events/batch",
            json={"events": [{"member": member.id, "type": "survey.answered", "attributes": {"reference": "s3"}}]},
            headers=writer,
        )
    assert [r["status"] for r in first.get_json()["results"] + again.get_json()["results"]] == [201, 201, 201]
    assert [e.attributes["badge"] for e in seen] == ["voice"]
    assert db.session.scalars(sa.select(MemberBadge.member_id)).all() == [member.id]
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member.id)).all()
    assert kinds.count("points.badge_earned") == 1


def test_a_batch_pays_each_event_and_answers_per_item(web, writer, rules):
    first, second = MemberFactory(external_id="b-1"), MemberFactory()
    db.session.commit()
    events = [
        {"member": "ext:b-1", "type": "survey.answered", "idempotency_key": "batch-1"},
        {"member": second.id, "type": "purchase.recorded", "amount": 100_000, "attributes": {"reference": "o-9"}},
        {"member": 999_999, "type": "survey.answered"},
        {"member": second.id, "type": "no.such.event"},
        {"member": second.id, "type": "purchase.recorded", "amount": -1},
        "not an object",
        {"member": "ext:b-1", "type": "survey.answered", "idempotency_key": "batch-1"},
    ]
    response = web.post("/api/v1/events/batch", json={"events": events}, headers=writer)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["index"] for r in results] == list(range(7))
    assert [r["status"] for r in results] == [201, 201, 404, 422, 422, 422, 200]
    assert results[0]["result"]["awarded"] == [{"rule": "survey", "points": 15}]
    assert results[1]["result"]["awarded"] == [{"rule": "purchase", "points": 10}]
    assert results[2]["error"]["code"] == "member_not_found"
    assert results[3]["error"]["fields"] == {"type": "unknown"}
    assert results[4]["error"]["fields"] == {"amount": "too_small"}
    assert results[6]["result"]["event_id"] == results[0]["result"]["event_id"]
    assert _balance(first.id).spendable == 15
    assert _balance(second.id).qualifying == 10
    assert _count(StoredEvent) == 2


def test_a_batch_of_1001_events_is_a_422_and_writes_nothing(web, writer, rules):
    member = MemberFactory()
    db.session.commit()
    events = [{"member": member.id, "type": "survey.answered", "idempotency_key": f"big-{i}"} for i in range(1001)]
    before = _written()
    error = _error(web.post("/api/v1/events/batch", json={"events": events}, headers=writer), 422, "validation_failed")
    assert error["fields"] == {"events": "too_long"}
    assert _written() == before


def test_a_batch_of_1000_events_is_accepted(web, writer, rules):
    members = MemberFactory.create_batch(10)
    db.session.commit()
    events = [
        {"member": members[i % 10].id, "type": "survey.answered", "idempotency_key": f"full-{i}"} for i in range(1000)
    ]
    response = web.post("/api/v1/events/batch", json={"events": events}, headers=writer)
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {201}
    assert _count(StoredEvent) == 1000
    assert sum(_balance(m.id).spendable for m in members) == 15_000


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": "many"}, [], {"events": [], "extra": 1}])
def test_a_batch_without_a_list_of_events_is_a_422(web, writer, body):
    before = _written()
    _error(web.post("/api/v1/events/batch", json=body, headers=writer), 422, "validation_failed")
    assert _written() == before


def test_a_malformed_batch_is_a_400(web, writer):
    response = web.post(
        "/api/v1/events/batch", data=b'{"events": [', headers={**writer, "Content-Type": "application/json"}
    )
    _error(response, 400, "bad_request")


# --- GET /members/{ref}/ledger ------------------------------------------------------------------------------


def test_the_ledger_pages_a_members_entries_newest_first(web, writer, reader, rules):
    member = MemberFactory(external_id="led-1")
    MemberFactory()  # another member's entries never show
    db.session.commit()
    for i in range(5):
        web.post(
            "/api/v1/events",
            json={"member": member.id, "type": "survey.answered", "attributes": {"reference": f"s-{i}"}},
            headers=writer,
        )
    page = web.get("/api/v1/members/ext:led-1/ledger?limit=2", headers=reader)
    assert page.status_code == 200
    body = page.get_json()
    assert set(body) == {"items", "next_cursor"}
    first = body["items"][0]
    assert {"id", "amount", "balance_after", "reason", "event_type", "source", "created_at", "expires_at"} <= set(first)
    assert first["balance_after"] == 75
    assert first["event_type"] == "survey.answered"
    assert first["source"] == {"kind": "ext.survey", "id": "s-4"}
    assert first["reason"]
    seen = [item["id"] for item in body["items"]]
    cursor = body["next_cursor"]
    while cursor:
        body = web.get(f"/api/v1/members/{member.id}/ledger?limit=2&cursor={cursor}", headers=reader).get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
    ids = list(db.session.scalars(sa.select(PointEntry.id).where(PointEntry.member_id == member.id)))
    assert seen == sorted(ids, reverse=True)
    assert len(seen) == 5


def test_the_ledger_refuses_bad_input(web, reader, writer):
    member = MemberFactory()
    db.session.commit()
    _error(web.get("/api/v1/members/999999/ledger", headers=reader), 404, "member_not_found")
    _error(web.get(f"/api/v1/members/{member.id}/ledger?cursor=garbage", headers=reader), 400, "bad_request")
    _error(web.get(f"/api/v1/members/{member.id}/ledger?limit=101", headers=reader), 400, "bad_request")
    _error(web.get(f"/api/v1/members/{member.id}/ledger", headers=writer), 403, "missing_scope")
    _error(web.get(f"/api/v1/members/{member.id}/ledger"), 401, "unauthorized")


def test_a_member_reads_their_own_ledger_by_session_but_not_anothers(web):
    member, other = MemberFactory(), MemberFactory()
    sign_in(web, member)
    assert web.get(f"/api/v1/members/{member.id}/ledger").status_code == 200
    _error(web.get(f"/api/v1/members/{other.id}/ledger"), 403, "forbidden")


# --- GET /leaderboard ---------------------------------------------------------------------------------------


def test_the_leaderboard_ranks_members_by_period_points_with_cursor_pages(web, writer, reader, rules):
    members = [MemberFactory(external_id=f"lb-{i}") for i in range(5)]
    db.session.commit()
    events = [
        {"member": m.id, "type": "purchase.recorded", "amount": (i + 1) * 100_000, "attributes": {"reference": f"o{i}"}}
        for i, m in enumerate(members)
    ]
    assert web.post("/api/v1/events/batch", json={"events": events}, headers=writer).status_code == 200
    for period in ("all", "month", "week"):
        body = web.get(f"/api/v1/leaderboard?period={period}&limit=3", headers=reader).get_json()
        assert [row["rank"] for row in body["items"]] == [1, 2, 3]
        assert [row["member"]["external_id"] for row in body["items"]] == ["lb-4", "lb-3", "lb-2"]
        assert [row["points"] for row in body["items"]] == [50, 40, 30]
        assert body["items"][0]["tier"] == "silver"
        rest = web.get(f"/api/v1/leaderboard?period={period}&limit=3&cursor={body['next_cursor']}", headers=reader)
        rest = rest.get_json()
        assert [(row["rank"], row["points"]) for row in rest["items"]] == [(4, 20), (5, 10)]
        assert rest["next_cursor"] is None
    # The answer is read from the per-period totals.
    assert _count(PeriodTotal) > 0


def test_the_leaderboard_refuses_bad_parameters(web, reader):
    _error(web.get("/api/v1/leaderboard?period=year", headers=reader), 400, "bad_request")
    _error(web.get("/api/v1/leaderboard?limit=0", headers=reader), 400, "bad_request")
    _error(web.get("/api/v1/leaderboard?category_id=x", headers=reader), 400, "bad_request")
    _error(web.get("/api/v1/leaderboard?cursor=WzEsMl0", headers=reader), 400, "bad_request")
    _error(web.get("/api/v1/leaderboard"), 401, "unauthorized")
    body = web.get("/api/v1/leaderboard?category_id=5", headers=reader).get_json()
    assert body == {"items": [], "next_cursor": None}


def test_the_openapi_document_describes_the_engine_endpoints(web):
    paths = web.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/events"]["post"]["x-scopes"] == ["events:write"]
    assert {"200", "201", "404", "422"} <= set(paths["/events"]["post"]["responses"])
    batch = paths["/events/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch == {"$ref": "#/components/schemas/EventBatch"}
    assert {p["name"] for p in paths["/members/{ref}/ledger"]["get"]["parameters"]} >= {"ref", "limit", "cursor"}
    leaderboard = {p["name"] for p in paths["/leaderboard"]["get"]["parameters"]}
    assert leaderboard >= {"period", "limit", "cursor", "category_id"}
    assert json.dumps(paths)  # serialisable


@pytest.mark.parametrize(
    "cursor",
    ["WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBd", "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAsMSwxXQ", "Wy0xXQ"],
)
def test_forged_cursors_with_out_of_range_numbers_are_a_400(web, reader, cursor):
    member = MemberFactory()
    db.session.commit()
    _error(web.get(f"/api/v1/members/{member.id}/ledger?cursor={cursor}", headers=reader), 400, "bad_request")
    _error(web.get(f"/api/v1/leaderboard?cursor={cursor}", headers=reader), 400, "bad_request")


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"category_id": 10**30}, "attributes.category_id"),
        ({"category_id": "x"}, "attributes.category_id"),
        ({"category_id": -1}, "attributes.category_id"),
        ({"category_id": 1.5}, "attributes.category_id"),
        ({"actor_id": 10**30}, "attributes.actor_id"),
        ({"actor_id": 0}, "attributes.actor_id"),
        ({"reference": 10**30}, "attributes.reference"),
        ({"order_id": 10**25}, "attributes.order_id"),
        ({"reference": "x" * 101}, "attributes.reference"),
        ({"reference": " " * 60 + "x" * 60}, "attributes.reference"),
        ({"reference": True}, "attributes.reference"),
        ({"text": "\u0000"}, "attributes"),
    ],
)
@pytest.mark.parametrize("event_type", ["post.created", "like.received", "purchase.recorded", "purchase.refunded"])
def test_attributes_that_name_ids_or_the_source_are_checked_and_nothing_is_written(
    web, writer, rules, attributes, field, event_type
):
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=3)
    db.session.commit()
    event = {"member": member.id, "type": event_type, "amount": 10_000, "attributes": attributes}
    before = _written()
    error = _error(web.post("/api/v1/events", json=event, headers=writer), 422, "validation_failed")
    assert field in error["fields"]
    results = web.post("/api/v1/events/batch", json={"events": [event, event]}, headers=writer).get_json()["results"]
    assert [r["status"] for r in results] == [422, 422]
    assert field in results[0]["error"]["fields"]
    assert _written() == before
