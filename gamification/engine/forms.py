"""Flask-WTF forms of the engine's admin pages and the member's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from gamification.engine.catalog import EVENT_TYPES

REQUIRED = _l("This field is required.")
WHOLE = _l("Enter a whole number.")


def _count(label: object, maximum: int = 10**9) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=maximum)])


class RuleForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=60),
            Regexp(r"^[a-z0-9][a-z0-9._-]*$", message=_l("Lower-case letters, digits, dots and dashes.")),
        ],
    )
    name_fa = StringField(_l("Name in Persian"), validators=[DataRequired(REQUIRED), Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(REQUIRED), Length(max=120)])
    event_type = SelectField(
        _l("Event"), choices=[SelectChoice(code, f"{label} ({code})") for code, label in EVENT_TYPES.items()]
    )
    is_active = BooleanField(_l("Active"), default=True)
    points = IntegerField(
        _l("Points (negative to take points away)"),
        validators=[DataRequired(REQUIRED), NumberRange(min=-100_000, max=100_000)],
    )
    amount_unit = _count(_l("… per this much of the amount (e.g. 10000 rials; empty for fixed points)"), 10**12)
    feeds = SelectField(
        _l("Feeds"),
        choices=[
            SelectChoice("both", _l("Spendable and qualifying points")),
            SelectChoice("spendable", _l("Spendable points only")),
            SelectChoice("qualifying", _l("Qualifying points only (tiers)")),
        ],
    )
    cond_city = StringField(_l("Only members in this city"), validators=[Optional(), Length(max=100)])
    cond_job_title = StringField(_l("Only members with this job title"), validators=[Optional(), Length(max=100)])
    cond_organisation_id = SelectField(_l("Only members of this organisation"), coerce=int, validate_choice=False)
    cond_tier = SelectField(_l("Only members in this tier"), validate_choice=False)
    cond_min_completion = IntegerField(
        _l("Minimum profile completion (%)"), validators=[Optional(), NumberRange(min=0, max=100)]
    )
    cond_min_amount = _count(_l("Minimum amount"), 10**15)
    cond_category_id = _count(_l("Only in this forum category (id)"))
    cond_attribute = StringField(_l("Only when the event has this attribute"), validators=[Optional(), Length(max=60)])
    cond_attribute_value = StringField(_l("… equal to"), validators=[Optional(), Length(max=200)])
    cap_day = _count(_l("At most this many points a day"))
    cap_week = _count(_l("… a week"))
    cap_month = _count(_l("… a month"))
    cap_lifetime = _count(_l("… in all"))
    community = BooleanField(_l("Counts towards the daily cap on community points"), default=True)
    starts_at = DateField(_l("Active from"), validators=[Optional()])
    ends_at = DateField(_l("Active until"), validators=[Optional()])
    expires_days = _count(_l("Points expire after (days)"), 36_500)
    pending_days = IntegerField(
        _l("Pending for (days; purchases default to the return window)"), validators=[Optional(), NumberRange(0, 365)]
    )
    apply_multiplier = BooleanField(_l("Apply the tier multiplier"), default=True)
    simulate_days = IntegerField(
        _l("Simulate over the last (days)"), default=30, validators=[Optional(), NumberRange(1, 365)]
    )


class TierForm(FlaskForm):
    name_fa = StringField(_l("Name in Persian"), validators=[DataRequired(REQUIRED), Length(max=60)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(REQUIRED), Length(max=60)])
    threshold = IntegerField(
        _l("Qualifying points needed"), validators=[InputRequired(REQUIRED), NumberRange(min=1, max=10**9)]
    )
    multiplier_percent = IntegerField(
        _l("Point multiplier (%)"), validators=[DataRequired(REQUIRED), NumberRange(min=100, max=1000)]
    )
    early_access = BooleanField(_l("Early access"))
    benefits_fa = StringField(_l("Benefits in Persian"), validators=[Optional(), Length(max=500)])
    benefits_en = StringField(_l("Benefits in English"), validators=[Optional(), Length(max=500)])


class AdjustForm(FlaskForm):
    member_id = IntegerField(_l("Member id"), validators=[DataRequired(REQUIRED), NumberRange(min=1)])
    points = IntegerField(
        _l("Points (negative to take away)"), validators=[DataRequired(REQUIRED), NumberRange(-1_000_000, 1_000_000)]
    )
    reason = StringField(_l("Reason (the member sees it)"), validators=[DataRequired(REQUIRED), Length(max=300)])


class ActionForm(FlaskForm):
    """A CSRF-only form for buttons (approve, reject, switch on or off)."""


class TierCreateForm(TierForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=30),
            Regexp(r"^[a-z0-9][a-z0-9_-]*$", message=_l("Lower-case letters, digits, dashes and underscores.")),
        ],
    )
    color = StringField(
        _l("Colour"),
        default="#888888",
        validators=[DataRequired(REQUIRED), Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("A colour such as #c0c0c0."))],
    )


BADGE_KIND_LABELS = {
    "event_count": _l("An event happened this many times"),
    "points_reached": _l("This many points earned in all"),
    "tier_reached": _l("A tier reached"),
    "streak": _l("This many active days in a row"),
}


class BadgeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=40),
            Regexp(r"^[a-z0-9][a-z0-9_-]*$", message=_l("Lower-case letters, digits, dashes and underscores.")),
        ],
    )
    name_fa = StringField(_l("Name in Persian"), validators=[DataRequired(REQUIRED), Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(REQUIRED), Length(max=80)])
    description_fa = StringField(_l("Description in Persian"), validators=[Optional(), Length(max=300)])
    description_en = StringField(_l("Description in English"), validators=[Optional(), Length(max=300)])
    icon = StringField(
        _l("Icon (an emoji)"),
        default="🏅",
        validators=[DataRequired(REQUIRED), Length(max=8, message=_l("At most 8 characters: one emoji."))],
    )
    kind = SelectField(
        _l("Earned by"), choices=[SelectChoice(kind, label) for kind, label in BADGE_KIND_LABELS.items()]
    )
    event_type = SelectField(
        _l("Event to count"),
        choices=[
            SelectChoice("", _l("Choose an event")),
            *(SelectChoice(code, f"{label} ({code})") for code, label in EVENT_TYPES.items()),
        ],
    )
    threshold = IntegerField(
        _l("How many (times, points or days)"), validators=[Optional(), NumberRange(min=1, max=10**9)]
    )
    tier_code = SelectField(_l("Tier"), validate_choice=False)
    is_active = BooleanField(_l("Active"), default=True)
