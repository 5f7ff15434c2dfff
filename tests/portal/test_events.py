"""The domain event bus: in-transaction subscribers, after-commit effects, rollbacks and pattern matching."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal import events, jobs
from portal.accounts.models import Organisation
from portal.events import Event, bus, emit
from portal.extensions import db

# What the after-commit effects and jobs below saw; effects run in another app context (and, with
# the Celery backend, another process), so they report through module state, not closures.
SEEN: list[tuple[str, Event]] = []
JOB_CALLS: list[tuple[object, ...]] = []


def record_effect(event: Event) -> None:
    SEEN.append(("effect", event))


def other_effect(event: Event) -> None:
    SEEN.append(("other", event))


@jobs.job
def remember_call(*args: object) -> None:
    JOB_CALLS.append(args)


@pytest.fixture(autouse=True)
def isolated_bus() -> Iterator[None]:
    """Each test adds its own handlers; the application's wiring is restored afterwards."""
    saved = (
        {k: list(v) for k, v in bus._subscribers.items()},
        {k: list(v) for k, v in bus._effects.items()},
        dict(bus.effects_by_name),
        set(bus._own_only),
    )
    SEEN.clear()
    JOB_CALLS.clear()
    yield
    bus.clear()
    bus._subscribers.update(saved[0])
    bus._effects.update(saved[1])
    bus.effects_by_name.update(saved[2])
    bus._own_only.update(saved[3])
    SEEN.clear()
    JOB_CALLS.clear()


def _create_organisation_on(event: Event) -> None:
    """A subscriber that writes, as the points engine or a counter would."""
    db.session.add(Organisation(name=f"made by {event.type} {event.source[1]}"))
    db.session.flush()


def _organisation_names() -> list[str]:
    return list(db.session.scalars(sa.select(Organisation.name).order_by(Organisation.name)))


# --- subscribers and effects -------------------------------------------------------------------------


def test_a_subscriber_runs_at_once_inside_the_emitters_transaction():
    bus.subscribe("order.placed", _create_organisation_on)
    db.session.add(Organisation(name="the emitter's own write"))
    emit("order.placed", member_id=7, source=("order", 1))
    # Visible before any commit: same session, same transaction.
    assert _organisation_names() == ["made by order.placed 1", "the emitter's own write"]
    db.session.commit()
    assert _organisation_names() == ["made by order.placed 1", "the emitter's own write"]


def test_an_effect_waits_for_the_commit_and_then_gets_the_whole_event():
    bus.add_effect("order.placed", record_effect)
    emitted = emit("order.placed", member_id=7, source=("order", 42), attributes={"amount": 250_000})
    assert SEEN == []  # nothing leaves the process before the commit
    db.session.commit()
    assert [kind for kind, _ in SEEN] == ["effect"]
    received = SEEN[0][1]
    assert received == emitted  # type, member, source (a tuple again), attributes, time and id survive JSON
    assert received.source == ("order", 42)
    assert received.attributes == {"amount": 250_000}


def test_an_effect_of_the_portals_own_objects_is_not_queued_for_an_outside_systems_event():
    bus.add_effect("order.placed", record_effect, external=False)
    bus.add_effect("order.placed", other_effect)
    emit("order.placed", member_id=7, source=("ext.order", "INV-1"))
    emit("order.placed", member_id=7, source=("order", 2))
    db.session.commit()
    assert sorted((kind, event.source) for kind, event in SEEN) == [
        ("effect", ("order", 2)),
        ("other", ("ext.order", "INV-1")),
        ("other", ("order", 2)),
    ]
    assert record_effect not in bus.listeners("order.placed", external=True)
    assert record_effect in bus.listeners("order.placed")


def test_a_rollback_discards_both_the_subscribers_writes_and_the_effect():
    bus.subscribe("order.placed", _create_organisation_on)
    bus.add_effect("order.placed", record_effect)
    db.session.add(Organisation(name="the emitter's own write"))
    emit("order.placed", member_id=7, source=("order", 1))
    assert len(_organisation_names()) == 2
    db.session.rollback()
    assert _organisation_names() == []
    db.session.commit()  # a later commit must not run the discarded effect
    assert SEEN == []


def test_after_a_rollback_the_next_transaction_runs_only_its_own_effects():
    bus.add_effect("order.*", record_effect)
    emit("order.placed", source=("order", 1))
    db.session.rollback()
    emit("order.cancelled", source=("order", 2))
    db.session.commit()
    assert [event.type for _, event in SEEN] == ["order.cancelled"]


def test_a_rolled_back_savepoint_keeps_the_outer_transactions_effects():
    bus.add_effect("order.placed", record_effect)
    emit("order.placed", source=("order", 1))
    nested = db.session.begin_nested()
    db.session.add(Organisation(name="inside the savepoint"))
    nested.rollback()
    db.session.commit()
    assert [event.source for _, event in SEEN] == [("order", 1)]


def test_a_failing_subscriber_stops_the_emitter_and_nothing_is_kept():
    def refuse(event: Event) -> None:
        raise ValueError("no")

    bus.subscribe("order.placed", _create_organisation_on)
    bus.subscribe("order.placed", refuse)
    bus.add_effect("order.placed", record_effect)
    with pytest.raises(ValueError, match="no"):
        emit("order.placed", source=("order", 1))
    db.session.rollback()
    db.session.commit()
    assert _organisation_names() == []
    assert SEEN == []


def test_after_commit_queues_any_job_until_the_commit():
    events.after_commit(remember_call, "hello", 3)
    assert JOB_CALLS == []
    db.session.commit()
    assert JOB_CALLS == [("hello", 3)]


def test_after_commit_work_is_dropped_by_a_rollback():
    events.after_commit(remember_call, "never")
    db.session.rollback()
    db.session.commit()
    assert JOB_CALLS == []


def test_an_effect_unknown_in_this_process_is_logged_not_raised(caplog, monkeypatch):
    # Alembic's fileConfig (run by the migrated-schema fixture) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("portal.events"), "disabled", False)
    event = Event(type="order.placed", source=("order", 1))
    events.run_effect("nowhere.missing_effect", event.to_dict())
    assert any("nowhere.missing_effect is not registered" in r.getMessage() for r in caplog.records)


def test_events_round_trip_through_json():
    original = Event(
        type="purchase.recorded",
        member_id=3,
        source=("purchase", "INV-9"),
        attributes={"amount": 1200, "items": ["a", "b"]},
        occurred_at=datetime(2024, 3, 20, 12, 0, tzinfo=UTC),
    )
    assert Event.from_dict(original.to_dict()) == original
    assert Event.from_dict(Event(type="x").to_dict()).source is None


def test_an_events_dict_shares_no_container_with_the_event():
    original = Event(type="points.awarded", attributes={"awards": [{"rule": "r", "points": 5}]})
    data = original.to_dict()
    data["attributes"]["awards"][0]["points"] = 99
    data["attributes"]["awards"].append({})
    assert original.attributes == {"awards": [{"rule": "r", "points": 5}]}


# --- patterns --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "event_type", "matches"),
    [
        ("*", "post.created", True),
        ("*", "quiz.passed", True),
        ("post.*", "post.created", True),
        ("post.*", "post.removed", True),
        ("post.*", "postage.created", False),  # a prefix is a whole word, not a few letters
        ("post.*", "forum.post.created", False),
        ("post.*", "post", False),
        ("post.created", "post.created", True),
        ("post.created", "post.created.late", False),
        ("post.created", "post.removed", False),
    ],
)
def test_subscriber_patterns(pattern, event_type, matches):
    seen: list[str] = []
    bus.subscribe(pattern, lambda event: seen.append(event.type))
    emit(event_type)
    assert seen == ([event_type] if matches else [])


def test_effects_match_patterns_the_same_way():
    bus.add_effect("post.*", record_effect)
    bus.add_effect("*", other_effect)
    emit("post.created", source=("post", 1))
    emit("like.received", source=("like", 2))
    db.session.commit()
    assert [(kind, event.type) for kind, event in SEEN] == [
        ("effect", "post.created"),
        ("other", "post.created"),
        ("other", "like.received"),
    ]


def test_every_matching_handler_runs_once_in_registration_order():
    order: list[str] = []

    def first(event: Event) -> None:
        order.append("first")

    def second(event: Event) -> None:
        order.append("second")

    bus.subscribe("post.created", first)
    bus.subscribe("post.created", second)
    bus.subscribe("post.created", first)  # registering twice does not run twice
    emit("post.created")
    assert order == ["first", "second"]


def test_the_application_wires_its_own_subscribers():
    # create_app filled the bus: a verified member gets a welcome notification in the same transaction.
    handlers = bus._matching(bus._subscribers, "member.verified")
    assert any(handler.__name__ == "on_verified" for handler in handlers)


def test_event_ids_are_unique_and_a_forked_process_draws_its_own():
    ids = {Event("x").id for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: as a pre-forked server worker would
        os.write(write, events.new_event_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    os.close(read)
    mine = events.new_event_id()
    assert len(child) == 32
    assert child[:20] != mine[:20]
    assert child not in ids
