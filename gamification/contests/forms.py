"""Flask-WTF forms of contests: the admin's contest form, entering, voting."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

REQUIRED = _l("This field is required.")
WHEN = _l("Enter a date and time.")
POINTS = _l("Enter a whole number of points, 0 or more.")


def to_utc(local: datetime) -> datetime:
    """A time typed in the club's time zone, as the UTC instant it means."""
    return local.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])).astimezone(UTC)


def to_local(value: datetime) -> datetime:
    """A stored instant as the naive local time a datetime-local input shows."""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).replace(tzinfo=None)


def _when(label: str) -> DateTimeLocalField:
    return DateTimeLocalField(label, format="%Y-%m-%dT%H:%M", validators=[InputRequired(WHEN)])


def _points(label: str) -> IntegerField:
    return IntegerField(label, default=0, validators=[Optional(), NumberRange(min=0, max=1_000_000, message=POINTS)])


class ContestForm(FlaskForm):
    title_fa = StringField(_l("Title (Persian)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    theme_fa = StringField(_l("Theme (Persian)"), validators=[DataRequired(REQUIRED), Length(max=300)])
    theme_en = StringField(_l("Theme (English)"), validators=[DataRequired(REQUIRED), Length(max=300)])
    rules = TextAreaField(_l("Rules (Markdown)"), validators=[Optional(), Length(max=10_000)])
    prize1_points = _points(_l("First prize: points"))
    prize1_reward = StringField(_l("First prize: reward (optional)"), validators=[Optional(), Length(max=200)])
    prize2_points = _points(_l("Second prize: points"))
    prize2_reward = StringField(_l("Second prize: reward (optional)"), validators=[Optional(), Length(max=200)])
    prize3_points = _points(_l("Third prize: points"))
    prize3_reward = StringField(_l("Third prize: reward (optional)"), validators=[Optional(), Length(max=200)])
    participation_points = _points(_l("Points for taking part"))
    submissions_open_at = _when(_l("Submissions open"))
    submissions_close_at = _when(_l("Submissions close"))
    voting_open_at = _when(_l("Voting opens"))
    voting_close_at = _when(_l("Voting closes"))
    entries_per_member = IntegerField(
        _l("Entries per member"),
        default=1,
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=20, message=_l("Between 1 and 20."))],
    )
    voting_mode = SelectField(
        _l("Voting"),
        choices=[
            SelectChoice("single", _l("One vote per member for the whole contest")),
            SelectChoice("stars", _l("One to five stars per photo")),
        ],
    )
    min_tier_to_enter = SelectField(_l("Who may enter"), choices=[])
    min_tier_to_vote = SelectField(_l("Who may vote"), choices=[])
    enter_segment_id = SelectField(_l("Member group that may enter"), choices=[])
    vote_segment_id = SelectField(_l("Member group that may vote"), choices=[])
    premoderate = BooleanField(_l("Hold entries until an admin approves them"))
    hide_counts = BooleanField(_l("Hide vote counts while voting is open"), default=True)

    def set_tier_choices(self, tiers: list[tuple[str, str]]) -> None:
        choices = [
            SelectChoice("", _l("Every member")),
            *[SelectChoice(code, _l("%(tier)s and above", tier=name)) for code, name in tiers],
        ]
        self.min_tier_to_enter.choices = choices
        self.min_tier_to_vote.choices = choices

    def set_segment_choices(self, segments: list[tuple[int, str]]) -> None:
        """The member groups to pick from; without any, the two fields are left out of the form."""
        if not segments:
            del self.enter_segment_id
            del self.vote_segment_id
            return
        choices = [SelectChoice("", _l("Any member")), *[SelectChoice(str(i), name) for i, name in segments]]
        self.enter_segment_id.choices = choices
        self.vote_segment_id.choices = choices

    def segment(self, name: str) -> int | None:
        field = getattr(self, name, None)
        return int(field.data) if field is not None and field.data else None

    def prizes(self) -> list[dict[str, object]]:
        return [
            {
                "points": getattr(self, f"prize{rank}_points").data or 0,
                "reward": getattr(self, f"prize{rank}_reward").data,
            }
            for rank in (1, 2, 3)
        ]


class EntryForm(FlaskForm):
    photo = FileField(_l("Your photo"), validators=[FileRequired(_l("Choose an image file."))])
    caption = StringField(_l("Caption"), validators=[Optional(), Length(max=300)])


class VoteForm(FlaskForm):
    stars = IntegerField(
        _l("Stars"), validators=[Optional(), NumberRange(min=1, max=5, message=_l("Choose from one to five stars."))]
    )


class ReviewForm(FlaskForm):
    """Approve or reject a held entry (the button pressed says which)."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=300)])
