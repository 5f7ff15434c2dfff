"""External events (the API's service): idempotency keys, purchases, refunds, batches and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import gettext as _

from gamification.engine import ledger
from gamification.engine.models import Balance, PointEntry, StoredEvent
from gamification.engine.queries import ledger_page, member_standing
from gamification.engine.services import record_event, record_events
from portal.db import InvalidCursor, utcnow
from portal.errors import DomainError, NotFound, RateLimited, ValidationFailed
from portal.events import PENDING_KEY, bus, effect_name
from portal.extensions import db
from tests.factories import MemberFactory
from tests.gamification.engine.factories import RuleFactory, TierFactory
from tests.portal.web import recorded_events


@pytest.fixture
def purchase_rule():
    return RuleFactory(event_type="purchase.recorded", code="purchase", points=1, amount_unit=10_000, community=False)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_an_external_event_returns_its_awards_points_and_tier():
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", code="survey", points=15)
    TierFactory(code="silver", threshold=10)
    result = record_event(member_id=member.id, event_type="survey.answered", attributes={"reference": "s-1"})
    assert result.created
    assert result.awarded == [("survey", 15)]
    assert (result.points, result.tier) == (15, "silver")


def test_the_same_idempotency_key_pays_once_and_returns_the_first_result():
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", code="survey", points=15)
    first = record_event(member_id=member.id, event_type="survey.answered", idempotency_key="k-1")
    again = record_event(member_id=member.id, event_type="survey.answered", idempotency_key="k-1")
    assert not again.created
    assert again.event_id == first.event_id
    assert again.awarded == [("survey", 15)]
    assert again.points == 15
    assert _count(StoredEvent) == 1


def test_purchase_points_stay_pending_through_the_return_window(purchase_rule):
    member = MemberFactory()
    result = record_event(
        member_id=member.id, event_type="purchase.recorded", amount=255_000, attributes={"reference": "order-1"}
    )
    assert result.awarded == [("purchase", 25)]
    assert result.points == 0
    standing = member_standing(member.id)
    assert (standing.points, standing.pending_points, standing.qualifying_points) == (0, 25, 0)
    assert ledger.release_pending(utcnow() + timedelta(days=1)) == 0
    assert ledger.release_pending(utcnow() + timedelta(days=15)) == 1
    standing = member_standing(member.id)
    assert (standing.points, standing.pending_points, standing.qualifying_points) == (25, 0, 25)
    assert ledger.verify_balances() == []


def test_a_refund_reverses_purchase_points_while_pending(purchase_rule):
    member = MemberFactory()
    record_event(member_id=member.id, event_type="purchase.recorded", amount=100_000, attributes={"reference": "o-9"})
    refund = record_event(member_id=member.id, event_type="purchase.refunded", attributes={"reference": "o-9"})
    assert refund.awarded == [("purchase", -10)]
    standing = member_standing(member.id)
    assert (standing.points, standing.pending_points) == (0, 0)
    assert ledger.release_pending(utcnow() + timedelta(days=30)) == 0
    assert ledger.verify_balances() == []


def test_a_refund_reverses_purchase_points_after_release(purchase_rule):
    member = MemberFactory()
    record_event(member_id=member.id, event_type="purchase.recorded", amount=100_000, attributes={"reference": "o-9"})
    ledger.release_pending(utcnow() + timedelta(days=30))
    record_event(member_id=member.id, event_type="purchase.refunded", attributes={"reference": "o-9"})
    standing = member_standing(member.id)
    assert (standing.points, standing.qualifying_points) == (0, 0)
    assert ledger.verify_balances() == []


def test_the_batch_processes_every_good_item_and_reports_each_bad_one():
    members = [MemberFactory() for _ in range(3)]
    RuleFactory(event_type="post.created", code="post", points=5)
    RuleFactory(event_type="like.received", code="like", points=1)
    items = [
        {"member_id": members[0].id, "event_type": "post.created", "attributes": {"reference": "p1"}},
        {"member_id": members[1].id, "event_type": "like.received", "attributes": {"reference": "l1"}},
        {"member_id": 999_999, "event_type": "post.created"},
        {"member_id": members[2].id, "event_type": "no.such"},
        {"member_id": members[2].id, "event_type": "post.created", "amount": -5},
        {"member_id": members[0].id, "event_type": "post.created", "attributes": {"reference": "p2"}},
        {"member_id": members[0].id, "event_type": "post.created", "attributes": {"reference": "p1"}},
    ]
    results = record_events(items)
    assert [r.awarded if not isinstance(r, DomainError) else type(r).__name__ for r in results] == [
        [("post", 5)],
        [("like", 1)],
        "NotFound",
        "ValidationFailed",
        "ValidationFailed",
        [("post", 5)],
        [],
    ]
    assert results[5].points == 10
    assert db.session.get(Balance, members[0].id).spendable == 10
    assert ledger.verify_balances() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"member_id": "1"}, "member_id"),
        ({"member_id": True}, "member_id"),
        ({"event_type": "nope.nope"}, "event_type"),
        ({"amount": -1}, "amount"),
        ({"amount": 10**16}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "x" * 151}, "idempotency_key"),
        ({"occurred_at": datetime(2026, 1, 1)}, "occurred_at"),
        ({"occurred_at": datetime.now(UTC) + timedelta(days=3)}, "occurred_at"),
        ({"attributes": ["a"]}, "attributes"),
        ({"attributes": {"nested": {"a": 1}}}, "attributes.nested"),
        ({"attributes": {"actor_id": "7"}}, "attributes.actor_id"),
        ({"event_type": "purchase.refunded"}, "attributes.reference"),
        ({"event_type": "purchase.recorded", "amount": None}, "amount"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_written(changes, field):
    member = MemberFactory()
    RuleFactory(event_type="post.created", points=5)
    item = {"member_id": member.id, "event_type": "post.created", "amount": 10, **changes}
    with pytest.raises(ValidationFailed) as caught:
        record_event(**item)
    assert field in caught.value.fields
    assert _count(StoredEvent) == 0
    assert _count(PointEntry) == 0


def test_an_unknown_member_is_not_found_and_nothing_is_written():
    with pytest.raises(NotFound) as caught:
        record_event(member_id=424242, event_type="post.created")
    assert "member_id" in caught.value.fields
    assert _count(StoredEvent) == 0


def test_a_batch_over_the_limit_is_refused():
    with pytest.raises(ValidationFailed):
        record_events([{}] * 1001)


def test_external_events_enter_the_bus_once_for_other_subscribers():
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", points=15)
    with recorded_events("survey.answered") as seen:
        record_event(member_id=member.id, event_type="survey.answered", idempotency_key="k")
        record_event(member_id=member.id, event_type="survey.answered", idempotency_key="k")
    assert len(seen) == 1
    assert db.session.get(Balance, member.id).spendable == 15


def test_the_ledger_page_is_newest_first_with_a_cursor():
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", code="survey", points=1)
    for n in range(5):
        record_event(member_id=member.id, event_type="survey.answered", attributes={"reference": f"s{n}"})
    first, cursor = ledger_page(member.id, limit=3)
    assert [line.balance_after for line in first] == [5, 4, 3]
    assert first[0].event_type == "survey.answered"
    assert first[0].source == ("ext.survey", "s4")
    second, end = ledger_page(member.id, limit=3, cursor=cursor)
    assert [line.balance_after for line in second] == [2, 1]
    assert end is None
    with pytest.raises(InvalidCursor):
        ledger_page(member.id, cursor="not-a-cursor")


def _topic_effect(event) -> None:
    """An after-commit effect that takes outside events too (the forum's live pushes do not)."""


def test_a_gate_refusing_one_item_of_a_batch_writes_nothing_for_it_and_spoils_no_other(app):
    """A subscriber that refuses an event (as an in-transaction gate does) turns away that item alone."""
    member, other = MemberFactory(), MemberFactory()
    RuleFactory(event_type="topic.created", code="topic", points=4)
    RuleFactory(event_type="survey.answered", code="survey", points=2)
    first_topic: dict[int, str] = {}
    gate_open = [False]

    def one_topic_each(event) -> None:
        # Keyed by event id, so the events the engine publishes again after a refusal pass again.
        taken = first_topic.setdefault(event.member_id, event.id)
        if event.type == "topic.created" and not gate_open[0] and taken != event.id:
            raise RateLimited(_("Not now."), retry_at=utcnow() + timedelta(days=1))

    items = [
        {"member_id": member.id, "event_type": "topic.created", "attributes": {"reference": "t1"}},
        {"member_id": member.id, "event_type": "topic.created", "attributes": {"reference": "t2"}},
        {"member_id": other.id, "event_type": "topic.created", "attributes": {"reference": "t3"}},
        {"member_id": member.id, "event_type": "survey.answered", "idempotency_key": "s1"},
        {"member_id": member.id, "event_type": "topic.created", "idempotency_key": "t4"},
    ]
    bus.subscribe("topic.created", one_topic_each)
    bus.add_effect("topic.created", _topic_effect)
    try:
        results = record_events(items)
        kinds = [type(r).__name__ if isinstance(r, DomainError) else r.awarded for r in results]
        assert kinds == [[("topic", 4)], "RateLimited", [("topic", 4)], [("survey", 2)], "RateLimited"]
        # An effect waits for the commit once per accepted topic, never for a refused one, although
        # the events before a refusal were published twice; the forum's live push (of the portal's
        # own topics only) is not queued for an outside system's event at all.
        queued = [args for _, args, _ in db.session.info.get(PENDING_KEY, []) if len(args) == 2]
        assert sorted(e["id"] for name, e in queued if name == effect_name(_topic_effect)) == sorted(
            [results[0].event_id, results[2].event_id]
        )
        assert [name for name, _ in queued if name.startswith("forums.")] == []
        assert db.session.get(Balance, member.id).spendable == 6
        assert _count(StoredEvent) == 3
        assert db.session.scalar(sa.select(StoredEvent.id).where(StoredEvent.idempotency_key == "t4")) is None
        assert ledger.verify_balances() == []
        # A refused key was never taken: sent again once the gate allows it, it pays.
        gate_open[0] = True
        again = record_event(member_id=member.id, event_type="topic.created", idempotency_key="t4")
        assert again.created
        assert again.awarded == [("topic", 4)]
    finally:
        bus._subscribers["topic.created"].remove(one_topic_each)
        bus._effects["topic.created"].remove(_topic_effect)
        bus.effects_by_name.pop(effect_name(_topic_effect), None)


def test_moderation_leaves_an_outside_systems_content_events_alone(app):
    """Reported content lives in the outside system: no allowance, hold or ban applies here, and its
    reference never names one of the portal's own posts."""
    app.config["MODERATION_FIRST_DAY_ALLOWANCES"] = {"topics": 1, "replies": 1}  # moderation's gates on
    member = MemberFactory()
    RuleFactory(event_type="topic.created", code="topic", points=4)
    items = [
        {"member_id": member.id, "event_type": "topic.created", "attributes": {"reference": str(n), "text": "x"}}
        for n in range(1, 4)
    ]
    results = record_events(items)
    assert [r.awarded for r in results] == [[("topic", 4)]] * 3
    sources = db.session.execute(sa.select(StoredEvent.source_kind, StoredEvent.source_id)).all()
    assert sorted(sources) == [("ext.topic", "1"), ("ext.topic", "2"), ("ext.topic", "3")]


def test_awkward_text_in_a_batch_is_stored_as_sent():
    """The batch writes reach PostgreSQL as array literals: quotes, backslashes, braces, commas,
    the word NULL, blanks and Persian text must come back exactly, and missing values as NULL."""
    member = MemberFactory()
    RuleFactory(event_type="survey.answered", code="survey", points=3)
    references = ['a"b', "c\\d", "{x,y}", "NULL", " padded ", "پرسش‌نامه", '\\"', "e,f"]
    items = [
        {
            "member_id": member.id,
            "event_type": "survey.answered",
            "idempotency_key": f"k-{reference}",
            "attributes": {"reference": reference, "note": reference},
        }
        for reference in references
    ]
    items.append({"member_id": member.id, "event_type": "survey.answered", "attributes": {"reference": "plain"}})
    # Two batches: with no backslash or double quote in sight the arrays are joined in one go,
    # otherwise element by element; both must keep every value.
    plain = [item for item in items if not any(c in item["attributes"]["reference"] for c in '\\"')]
    escaped = [item for item in items if item not in plain]
    assert plain
    assert escaped
    results = record_events(plain) + record_events(escaped)
    assert all(not isinstance(r, DomainError) for r in results)
    db.session.commit()
    stored = {e.source_id: e for e in db.session.scalars(sa.select(StoredEvent))}
    assert set(stored) == {*references, "plain"}
    for reference in references:
        assert stored[reference].idempotency_key == f"k-{reference}".strip()  # keys are trimmed
        assert stored[reference].attributes["note"] == reference
    assert stored["plain"].idempotency_key is None
    assert stored["plain"].amount is None
    entries = db.session.scalars(sa.select(PointEntry).where(PointEntry.member_id == member.id)).all()
    assert sorted(e.source_id for e in entries) == sorted([*references, "plain"])
    assert all(e.available_at is None and e.expires_at is None and e.category_id is None for e in entries)
    assert db.session.get(Balance, member.id).spendable == 3 * len(entries)
