"""The toolkit helpers other packages' api.py modules build on: refs, idempotent and batch answers, schemas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask_login import login_user
from flask_wtf.csrf import CSRFError

from portal.api import toolkit as api
from portal.errors import Conflict, ValidationFailed
from portal.extensions import db
from tests.factories import MemberFactory


@dataclass
class Recorded:
    event_id: int
    points: int
    created: bool


def test_member_refs_resolve_by_id_or_external_id_in_two_queries(db_session):
    first = MemberFactory(external_id="pos-1")
    second = MemberFactory()
    refs = [first.id, str(second.id), "ext:pos-1", "ext:nobody", "junk", 10**12, True]
    found = api.resolve_member_ids(refs)
    assert found == {first.id: first.id, str(second.id): second.id, "ext:pos-1": first.id}
    assert api.resolve_member("ext:pos-1").id == first.id
    with pytest.raises(api.MemberNotFound):
        api.resolve_member("ext:")


def test_created_or_existing_answers_201_then_200():
    assert api.created_or_existing({"id": 1}, created=True) == ({"id": 1}, 201)
    assert api.created_or_existing({"id": 1}, created=False) == ({"id": 1}, 200)


def test_batch_results_carry_each_items_outcome():
    def serialize(result: Recorded) -> dict:
        return {"event_id": result.event_id, "points": result.points}

    outcomes = [Recorded(1, 10, True), Recorded(1, 10, False), Conflict("Not enough points.", fields={"x": "y"})]
    answers = [api.batch_result(i, outcome, serialize) for i, outcome in enumerate(outcomes)]
    assert answers == [
        {"index": 0, "status": 201, "result": {"event_id": 1, "points": 10}},
        {"index": 1, "status": 200, "result": {"event_id": 1, "points": 10}},
        {
            "index": 2,
            "status": 409,
            "error": {"code": "conflict", "message": "Not enough points.", "fields": {"x": "y"}},
        },
    ]
    schema = api.batch_item_schema(api.Object("EventResult", {"event_id": api.Integer()}))
    assert schema.name == "EventResultBatchItem"
    assert schema.json_schema() == {"$ref": "#/components/schemas/EventResultBatchItem"}


def test_an_event_body_validates_in_one_declaration():
    event = api.Object(
        "EventInput",
        {
            "member": api.MemberRef(),
            "type": api.String(min_length=1, max_length=80),
            "amount": api.Integer(minimum=0, maximum=10**12, nullable=True),
            "occurred_at": api.DateTime(),
            "attributes": api.Attributes(),
        },
        required=("member", "type"),
    )
    cleaned, errors = event.validate_fields(
        {"member": "ext:a", "type": " purchase.recorded ", "amount": 5, "occurred_at": "2026-01-01T10:00:00Z"}
    )
    assert errors == {}
    assert cleaned["type"] == "purchase.recorded"
    assert cleaned["occurred_at"] == datetime(2026, 1, 1, 10, tzinfo=UTC)
    _, errors = event.validate_fields(
        {
            "member": None,
            "amount": -1,
            "occurred_at": "2026-01-01T10:00:00",
            "attributes": {"a": [1]},
            "extra": True,
        }
    )
    assert errors == {
        "member": "required",
        "type": "required",
        "amount": "too_small",
        "occurred_at": "invalid",
        "attributes": "wrong_type",
        "extra": "unknown_field",
    }
    _, errors = event.validate_fields({"member": 1, "type": "x", "amount": True})
    assert errors == {"amount": "wrong_type"}


def test_parse_body_raises_422_with_the_fields(app):
    schema = api.Object("Thing", {"n": api.Integer()}, required=("n",))
    context = app.test_request_context("/api/v1/x", method="POST", data=b'{"n": "1"}', content_type="application/json")
    with context, pytest.raises(ValidationFailed) as caught:
        api.parse_body(schema)
    assert caught.value.fields == {"n": "wrong_type"}


def test_a_session_write_needs_the_csrf_token(app):
    member = MemberFactory()
    db.session.commit()
    with app.test_request_context("/api/v1/x", method="POST", json={}):
        login_user(member)
        with pytest.raises(CSRFError):
            api.authenticate((), session=True, public=False)
    with app.test_request_context("/api/v1/x", method="GET"):
        login_user(member)
        assert api.authenticate((), session=True, public=False).member.id == member.id


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", ("all", None)), ("?period=week&category_id=3", ("week", 3))],
)
def test_query_helpers_read_choices_and_bounded_integers(app, query, expected):
    with app.test_request_context(f"/api/v1/leaderboard{query}"):
        assert (
            api.query_choice("period", ("all", "month", "week"), "all"),
            api.query_int("category_id", default=None),
        ) == (expected)


@pytest.mark.parametrize("query", ["?period=year", "?category_id=0", "?category_id=x", "?category_id=99999999999"])
def test_query_helpers_answer_400_naming_the_parameter(app, query):
    def read() -> None:
        api.query_choice("period", ("all", "month", "week"), "all")
        api.query_int("category_id", default=None)

    with app.test_request_context(f"/api/v1/leaderboard{query}"), pytest.raises(api.BadRequest) as caught:
        read()
    assert set(caught.value.fields) <= {"period", "category_id"}
