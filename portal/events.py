"""The domain event bus: in-transaction subscribers and after-commit effects.

A service emits an event after its own writes::

    emit("post.created", member_id=..., source=("post", post.id), attributes={...})

* **Subscribers** (``@subscriber("post.created")``) change the database; they run at
  once, inside the caller's transaction, so the write and its consequences commit or
  roll back together.
* **Effects** (``@effect("post.created")``) leave the process (Socket.IO pushes, mail,
  SMS, webhooks, indexing). They are held on the session and handed to the job queue
  only after the transaction commits; a rollback discards them.

A pattern ``"*"`` matches every event and ``"post.*"`` every event of a prefix.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from portal import jobs
from portal.db import db, utcnow

log = logging.getLogger(__name__)

PENDING_KEY = "portal.pending_effects"


# The source kind of an outside system's event is this prefix and the event type's first part
# (``ext.purchase``, ``ext.post``), so its references never meet the portal's own ids.
EXTERNAL_SOURCE_PREFIX = "ext."


def _fresh_ids() -> None:
    global _id_prefix, _id_counter
    _id_prefix, _id_counter = secrets.token_hex(10), itertools.count()


_id_prefix, _id_counter = "", itertools.count()
_fresh_ids()
os.register_at_fork(after_in_child=_fresh_ids)  # forked workers must not share the prefix


def new_event_id() -> str:
    """32 hex digits, unique without a system call per event: a random 80-bit prefix per process
    and a counter (a batch emits thousands of events; ``uuid4`` read the random source for each)."""
    return f"{_id_prefix}{next(_id_counter):012x}"


@dataclass(frozen=True)
class Event:
    """A fact that happened in the domain; JSON-serialisable through :meth:`to_dict`.

    Events an outside system reports (through the integration API) have a source kind that
    starts with :data:`EXTERNAL_SOURCE_PREFIX`: they name the outside system's own reference,
    never one of the portal's objects, and :attr:`is_external` tells subscribers so.
    """

    type: str
    member_id: int | None = None
    source: tuple[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)
    id: str = field(default_factory=new_event_id)

    @property
    def is_external(self) -> bool:
        return bool(self.source) and str(self.source[0]).startswith(EXTERNAL_SOURCE_PREFIX)  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        # Built by hand: ``dataclasses.asdict`` deep-copies through ``copy.deepcopy``, which costs
        # more than the rest of publishing when a batch emits a thousand events.
        return {
            "type": self.type,
            "member_id": self.member_id,
            "source": list(self.source) if self.source else None,
            "attributes": _plain_copy(self.attributes),
            "occurred_at": self.occurred_at.isoformat(),
            "id": self.id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(
            type=data["type"],
            member_id=data.get("member_id"),
            source=tuple(data["source"]) if data.get("source") else None,  # type: ignore[arg-type]
            attributes=dict(data.get("attributes") or {}),
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            id=data["id"],
        )


def _plain_copy(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, tuples of simple values) that shares no container."""
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_copy(item) for item in value)
    return value


Handler = Callable[[Event], None]
# Per event type: (its subscribers, its effects), as a batch of publishes found them.
Routes = dict[str, tuple[list[Handler], list[Handler]]]


class EventBus:
    """Holds the subscribers and effects; one instance, filled by ``create_app``."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Handler]] = defaultdict(list)
        self._effects: dict[str, list[Handler]] = defaultdict(list)
        self.effects_by_name: dict[str, Handler] = {}
        self._own_only: set[Handler] = set()

    def clear(self) -> None:
        self._subscribers.clear()
        self._effects.clear()
        self.effects_by_name.clear()
        self._own_only.clear()

    def subscribe(self, pattern: str, handler: Handler) -> None:
        if handler not in self._subscribers[pattern]:
            self._subscribers[pattern].append(handler)

    def add_effect(self, pattern: str, handler: Handler, *, external: bool = True) -> None:
        """``external=False``: the effect concerns only the portal's own objects, so an outside
        system's event (:attr:`Event.is_external`) never queues it (no job that would do nothing)."""
        if handler not in self._effects[pattern]:
            self._effects[pattern].append(handler)
        self.effects_by_name[effect_name(handler)] = handler
        if external:
            self._own_only.discard(handler)
        else:
            self._own_only.add(handler)

    @staticmethod
    def _matching(table: dict[str, list[Handler]], event_type: str) -> list[Handler]:
        found: list[Handler] = []
        for pattern, handlers in table.items():
            if (
                pattern == "*"
                or pattern == event_type
                or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
            ):
                found.extend(handlers)
        return found

    def listeners(self, event_type: str, *, external: bool = False) -> list[Handler]:
        """Every subscriber and effect an event of this type would reach (lets batch writers skip
        publishing what nobody listens to); ``external``: an outside system's event."""
        effects = self._matching(self._effects, event_type)
        if external:
            effects = [handler for handler in effects if handler not in self._own_only]
        return self._matching(self._subscribers, event_type) + effects

    def publish(self, evt: Event, session: Session | None = None, *, routes: Routes | None = None) -> Event:
        """``routes``: a dict the caller keeps for a batch of publishes (while no subscription
        changes), in which the handlers of each event type are looked up once."""
        if routes is None:
            subscribers, effects = self._matching(self._subscribers, evt.type), self._matching(self._effects, evt.type)
        else:
            found = routes.get(evt.type)
            if found is None:
                found = routes[evt.type] = (
                    self._matching(self._subscribers, evt.type),
                    self._matching(self._effects, evt.type),
                )
            subscribers, effects = found
        for handler in subscribers:
            handler(evt)
        if effects and self._own_only and evt.is_external:
            effects = [handler for handler in effects if handler not in self._own_only]
        if effects:
            # The session is looked up only when there is work to tie to it (a batch publishes
            # thousands of events that no effect wants, and the lookup costs as much as matching).
            session = session if session is not None else db.session()
            data = evt.to_dict()  # one copy for every effect: jobs only read it
            for handler in effects:
                after_commit(run_effect, effect_name(handler), data, session=session)
        return evt


bus = EventBus()


def emit(
    event_type: str,
    *,
    member_id: int | None = None,
    source: tuple[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    routes: Routes | None = None,
) -> Event:
    """Publishes a domain event in the current transaction (see the module docstring).

    ``routes``: for a writer that emits many events at once (see :meth:`EventBus.publish`)."""
    evt = Event(
        type=event_type,
        member_id=member_id,
        source=source,
        attributes=dict(attributes or {}),
        occurred_at=occurred_at or utcnow(),
    )
    return bus.publish(evt, routes=routes)


def subscriber(pattern: str) -> Callable[[Handler], Handler]:
    """Registers an in-transaction subscriber (used by ``create_app`` wiring)."""

    def register(handler: Handler) -> Handler:
        bus.subscribe(pattern, handler)
        return handler

    return register


def effect(pattern: str) -> Callable[[Handler], Handler]:
    """Registers an after-commit effect; it runs through the job queue."""

    def register(handler: Handler) -> Handler:
        bus.add_effect(pattern, handler)
        return handler

    return register


def effect_name(handler: Handler) -> str:
    """The name an effect is known by across processes (its dotted path)."""
    return f"{handler.__module__}.{handler.__qualname__}"


@jobs.job
def run_effect(name: str, event_data: dict[str, Any]) -> None:
    """The job that runs one after-commit effect, looked up by name."""
    handler = bus.effects_by_name.get(name)
    if handler is None:
        log.error("effect %s is not registered in this process; event %s dropped", name, event_data.get("id"))
        return
    handler(Event.from_dict(event_data))


def after_commit(job: jobs.JobFunc, *args: Any, session: Session | None = None, **kwargs: Any) -> None:
    """Queues ``job`` to run once the current transaction commits; a rollback discards it."""
    session = session if session is not None else db.session()
    if not session.in_transaction():
        session.connection()  # tie the pending work to a transaction, so its rollback is seen
    session.info.setdefault(PENDING_KEY, []).append((job, args, kwargs))


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy reports a released SAVEPOINT as a commit; the work waits for the real one
    pending = session.info.pop(PENDING_KEY, None)
    for job, args, kwargs in pending or ():
        jobs.enqueue(job, *args, **kwargs)


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    # Only the outermost rollback discards pending work; a rolled-back savepoint keeps it.
    if not session.in_transaction():
        session.info.pop(PENDING_KEY, None)
