"""Factories for the engine's data: rules, tiers and badges."""

from __future__ import annotations

import factory

from gamification.engine.models import Badge, Rule, Tier
from tests.factories import BaseFactory


class RuleFactory(BaseFactory):
    """Pass ``event_type`` and ``points``; the rest is a plain always-on rule."""

    class Meta:
        model = Rule

    code = factory.Sequence(lambda n: f"rule-{n}")
    name_fa = factory.Sequence(lambda n: f"قانون {n}")
    name_en = factory.Sequence(lambda n: f"Rule {n}")
    event_type = "post.created"
    points = 10
    feeds = "both"
    is_active = True
    community = True
    apply_multiplier = True


class TierFactory(BaseFactory):
    class Meta:
        model = Tier

    code = factory.Sequence(lambda n: f"tier{n}")
    name_fa = factory.Sequence(lambda n: f"سطح {n}")
    name_en = factory.Sequence(lambda n: f"Tier {n}")
    threshold = 100
    multiplier_percent = 100


class BadgeFactory(BaseFactory):
    class Meta:
        model = Badge

    code = factory.Sequence(lambda n: f"badge{n}")
    name_fa = factory.Sequence(lambda n: f"نشان {n}")
    name_en = factory.Sequence(lambda n: f"Badge {n}")
    icon = "🏅"
    kind = "event_count"
    event_type = "post.created"
    threshold = 1
