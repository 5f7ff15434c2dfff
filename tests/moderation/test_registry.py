"""The registry of moderatable content: complete adapters only, lookups by kind, optional methods."""

from __future__ import annotations

import pytest

from portal.errors import NotFound
from portal.moderation import registry
from tests.moderation.conftest import ItemAdapter, TopicAdapter


def test_an_adapter_missing_a_required_member_is_refused():
    class Incomplete:
        kind = "broken"
        label = "Broken"

        def load(self, id):
            return None

    with pytest.raises(TypeError, match="missing: author_id, title"):
        registry.register(Incomplete())
    assert registry.get("broken") is None


def test_registered_adapters_are_found_by_kind(content):
    assert registry.get("post") is content.post
    assert registry.require("topic") is content.topic
    assert {"post", "topic"} <= set(registry.kinds())
    with pytest.raises(NotFound):
        registry.require("nothing-like-this")


def test_the_adapters_satisfy_the_protocol():
    assert isinstance(ItemAdapter(), registry.ModeratableAdapter)


def test_optional_methods_are_detected():
    assert registry.supports(TopicAdapter(), "lock")
    assert not registry.supports(ItemAdapter(), "lock")
    assert registry.supports(ItemAdapter(), "edit")
    assert not registry.supports(None, "edit")


def test_load_raises_not_found_for_a_missing_object(content):
    with pytest.raises(NotFound):
        registry.load("post", 987654)
