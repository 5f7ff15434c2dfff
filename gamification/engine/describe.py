"""A rule in words, in both languages: the admin form's live preview."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from gamification.engine.catalog import EVENT_TYPES
from portal.i18n import localize_digits


def _n(value: Any) -> str:
    return localize_digits(f"{value:,}") if isinstance(value, int) else str(value)


def describe(rule: Any) -> str:
    """One paragraph saying what the rule pays, when, to whom and how often (current language)."""
    event = str(EVENT_TYPES.get(rule.event_type, rule.event_type))
    points = rule.points or 0
    if rule.amount_unit == 1 and points == 1:
        amount = _("as many points as the event's amount (a quiz's or contest's own points)")
    elif rule.amount_unit:
        amount = _("%(points)s points for every %(unit)s of the amount", points=_n(points), unit=_n(rule.amount_unit))
    elif points < 0:
        amount = _("%(points)s points are taken away", points=_n(-points))
    else:
        amount = _("%(points)s points", points=_n(points))
    parts = [_("When “%(event)s”: %(amount)s.", event=event, amount=amount)]
    feeds = {
        "spendable": _("They can be spent but do not count towards tiers."),
        "qualifying": _("They count towards tiers only and cannot be spent."),
    }.get(rule.feeds or "both", _("They can be spent and count towards tiers."))
    parts.append(feeds)
    conditions = []
    if rule.cond_city:
        conditions.append(_("lives in %(city)s", city=rule.cond_city))
    if rule.cond_job_title:
        conditions.append(_("works as %(job)s", job=rule.cond_job_title))
    if rule.cond_organisation_id:
        conditions.append(_("belongs to organisation #%(id)s", id=_n(rule.cond_organisation_id)))
    if rule.cond_tier:
        conditions.append(_("is in tier %(tier)s", tier=rule.cond_tier))
    if rule.cond_min_completion:
        conditions.append(_("has a profile at least %(n)s%% complete", n=_n(rule.cond_min_completion)))
    if conditions:
        parts.append(_("Only if the member %(conditions)s.", conditions=_(" and ").join(conditions)))
    event_conditions = []
    if rule.cond_min_amount:
        event_conditions.append(_("the amount is at least %(n)s", n=_n(rule.cond_min_amount)))
    if rule.cond_category_id:
        event_conditions.append(_("it is in category #%(id)s", id=_n(rule.cond_category_id)))
    if rule.cond_attribute:
        if rule.cond_attribute_value:
            event_conditions.append(
                _("“%(name)s” is “%(value)s”", name=rule.cond_attribute, value=rule.cond_attribute_value)
            )
        else:
            event_conditions.append(_("it has “%(name)s”", name=rule.cond_attribute))
    if event_conditions:
        parts.append(_("Only when %(conditions)s.", conditions=_(" and ").join(event_conditions)))
    caps = [
        text
        for value, text in (
            (rule.cap_day, _("%(n)s a day")),
            (rule.cap_week, _("%(n)s a week")),
            (rule.cap_month, _("%(n)s a month")),
            (rule.cap_lifetime, _("%(n)s in all")),
        )
        if value
    ]
    if caps:
        values = [v for v in (rule.cap_day, rule.cap_week, rule.cap_month, rule.cap_lifetime) if v]
        parts.append(
            _(
                "At most %(caps)s per member.",
                caps=_(", ").join(t % {"n": _n(v)} for t, v in zip(caps, values, strict=True)),
            )
        )
    if rule.community is False:
        parts.append(_("Not limited by the daily cap on community points."))
    if rule.pending_days:
        parts.append(_("The points stay pending for %(n)s days (the return window).", n=_n(rule.pending_days)))
    if rule.expires_days:
        parts.append(_("They expire %(n)s days after they are earned.", n=_n(rule.expires_days)))
    if rule.apply_multiplier is False:
        parts.append(_("Tier multipliers do not apply."))
    if rule.is_active is False:
        parts.append(_("The rule is switched off."))
    return " ".join(parts)


def describe_both(rule: Any) -> dict[str, str]:
    """The description in Persian and in English, for the form's side-by-side preview."""
    found = {}
    for language in ("fa", "en"):
        with force_locale(language):
            found[language] = describe(rule)
    return found
