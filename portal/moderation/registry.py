"""The registry of moderatable content: each package's adapter, registered by the composition root.

Moderation never imports the packages whose content it moderates. Each package offers
one adapter object per content kind (``forums/moderation.py``, ...), and ``portal/app.py``
calls :func:`register` with it. An adapter has the members of :class:`ModeratableAdapter`;
it may also have any of :data:`OPTIONAL_METHODS`, and moderation offers the matching
actions only where they exist:

* ``load_many(ids) -> dict[int, obj]`` — several objects in a constant number of queries, with
  whatever their ``title``/``excerpt_html``/``url`` read (the queue page loads each page this way);
* ``edit(obj, *, actor, new_text, reason)`` — replace the text (the reason is shown to the author);
* ``replace_text(obj, new_text)`` — the word filter's replacement, without a moderator;
* ``text(obj) -> str`` — the editable source text (pre-fills the edit form);
* ``context_html(obj) -> Markup`` — where the item sits (its topic, the post it answers), shown in the queue;
* ``by_author(member_id, limit) -> list[obj]`` — the member's latest items, for the dossier;
* ``lock(obj, *, actor, reason)``, ``pin(obj, *, actor, reason)``,
  ``move(obj, *, actor, target_id, reason)``, ``merge(obj, *, actor, target_id, reason)`` — topics.

``hide`` and ``delete`` must emit the content's ``*.removed`` event with the same source
as its creation event (so the points engine reverses what it paid), and ``restore`` its
``*.created``/``*.restored`` event. ``actor`` is None when moderation acts by itself (an
item hidden because enough members flagged it).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from markupsafe import Markup

from portal.errors import NotFound

REQUIRED = (
    "kind",
    "label",
    "load",
    "author_id",
    "title",
    "excerpt_html",
    "url",
    "is_visible",
    "hide",
    "restore",
    "hold",
    "delete",
)
OPTIONAL_METHODS = (
    "load_many",
    "edit",
    "replace_text",
    "text",
    "context_html",
    "by_author",
    "lock",
    "pin",
    "move",
    "merge",
)
TOPIC_ACTIONS = ("lock", "pin", "move", "merge")


@runtime_checkable
class ModeratableAdapter(Protocol):
    """What moderation needs from one kind of content."""

    kind: str
    label: Any

    def load(self, id: int) -> Any | None: ...
    def author_id(self, obj: Any) -> int | None: ...
    def title(self, obj: Any) -> str: ...
    def excerpt_html(self, obj: Any) -> Markup: ...
    def url(self, obj: Any) -> str: ...
    def is_visible(self, obj: Any) -> bool: ...
    def hide(self, obj: Any, *, actor: Any, reason: str) -> None: ...
    def restore(self, obj: Any, *, actor: Any, reason: str) -> None: ...
    def hold(self, obj: Any) -> None: ...
    def delete(self, obj: Any, *, actor: Any, reason: str) -> None: ...


_adapters: dict[str, Any] = {}


def register(adapter: Any) -> None:
    """Adds (or replaces) the adapter of ``adapter.kind``; refuses one that lacks a required member."""
    missing = [name for name in REQUIRED if not hasattr(adapter, name)]
    if missing:
        raise TypeError(f"{adapter!r} is not a moderatable-content adapter; missing: {', '.join(missing)}")
    _adapters[adapter.kind] = adapter


def unregister(kind: str) -> None:
    _adapters.pop(kind, None)


def clear() -> None:
    _adapters.clear()


def get(kind: str) -> Any | None:
    """The adapter of ``kind``, or None when no package registered it."""
    return _adapters.get(kind)


def require(kind: str) -> Any:
    adapter = _adapters.get(kind)
    if adapter is None:
        raise NotFound()
    return adapter


def kinds() -> list[str]:
    return sorted(_adapters)


def adapters() -> list[Any]:
    return [_adapters[kind] for kind in sorted(_adapters)]


def supports(adapter: Any, method: str) -> bool:
    """Whether the adapter offers an optional method (see :data:`OPTIONAL_METHODS`)."""
    return callable(getattr(adapter, method, None))


def load(kind: str, object_id: int) -> tuple[Any, Any]:
    """The adapter and the object; NotFound when either is unknown."""
    adapter = require(kind)
    obj = adapter.load(object_id)
    if obj is None:
        raise NotFound()
    return adapter, obj


def load_many(kind: str, object_ids: list[int]) -> dict[int, Any]:
    """The objects of one kind that still exist, by id: in one batch where the adapter offers
    ``load_many``, one by one otherwise; nothing for a kind no package registered."""
    adapter = _adapters.get(kind)
    ids = list(dict.fromkeys(int(i) for i in object_ids))
    if adapter is None or not ids:
        return {}
    if supports(adapter, "load_many"):
        return {int(key): obj for key, obj in adapter.load_many(ids).items() if obj is not None}
    found = {}
    for object_id in ids:
        obj = adapter.load(object_id)
        if obj is not None:
            found[object_id] = obj
    return found
