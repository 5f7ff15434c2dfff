"""Flask-WTF forms of quizzes: banks, questions, quizzes, and the CSRF-only form of an attempt."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

REQUIRED = _l("This field is required.")
LANGUAGE_CHOICES = [SelectChoice("fa", "فارسی"), SelectChoice("en", "English")]
MAX_OPTIONS = 6


def to_utc(local: datetime) -> datetime:
    """A time typed in the club's time zone, as the UTC instant it means."""
    return local.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])).astimezone(UTC)


def to_local(value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).replace(tzinfo=None)


class BankForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    language = SelectField(_l("Language of its questions"), choices=LANGUAGE_CHOICES)


class QuestionForm(FlaskForm):
    kind = SelectField(
        _l("Type"),
        choices=[
            SelectChoice("single", _l("Single choice")),
            SelectChoice("multiple", _l("Multiple choice")),
            SelectChoice("truefalse", _l("True or false")),
        ],
    )
    text = TextAreaField(_l("Question"), validators=[DataRequired(REQUIRED), Length(max=2000)])
    image = FileField(_l("Image (optional)"))
    explanation = TextAreaField(
        _l("Explanation, shown after the attempt (Markdown)"), validators=[Optional(), Length(max=4000)]
    )
    true_is_correct = SelectField(
        _l("For true-or-false: the right answer"),
        choices=[SelectChoice("1", _l("True")), SelectChoice("0", _l("False"))],
    )
    option1 = StringField(_l("Option 1"), validators=[Optional(), Length(max=500)])
    correct1 = BooleanField(_l("Option 1 is correct"))
    option2 = StringField(_l("Option 2"), validators=[Optional(), Length(max=500)])
    correct2 = BooleanField(_l("Option 2 is correct"))
    option3 = StringField(_l("Option 3"), validators=[Optional(), Length(max=500)])
    correct3 = BooleanField(_l("Option 3 is correct"))
    option4 = StringField(_l("Option 4"), validators=[Optional(), Length(max=500)])
    correct4 = BooleanField(_l("Option 4 is correct"))
    option5 = StringField(_l("Option 5"), validators=[Optional(), Length(max=500)])
    correct5 = BooleanField(_l("Option 5 is correct"))
    option6 = StringField(_l("Option 6"), validators=[Optional(), Length(max=500)])
    correct6 = BooleanField(_l("Option 6 is correct"))

    def option_pairs(self) -> list[tuple[str, bool]]:
        return [
            (getattr(self, f"option{n}").data or "", bool(getattr(self, f"correct{n}").data))
            for n in range(1, MAX_OPTIONS + 1)
        ]


def _count(label: str, low: int, high: int, default: int) -> IntegerField:
    return IntegerField(
        label,
        default=default,
        validators=[
            InputRequired(REQUIRED),
            NumberRange(min=low, max=high, message=_l("Between %(low)s and %(high)s.", low=low, high=high)),
        ],
    )


class QuizForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Optional(), Length(max=10_000)])
    bank_id = SelectField(_l("Question bank"), coerce=int, choices=[])
    selection = SelectField(
        _l("Questions"),
        choices=[
            SelectChoice("draw", _l("Draw at random from the bank for each attempt")),
            SelectChoice("fixed", _l("Use the questions chosen below")),
        ],
    )
    draw_count = _count(_l("How many questions to draw"), 1, 200, 10)
    fixed_question_ids = SelectMultipleField(_l("Chosen questions"), coerce=int, choices=[])
    time_limit_minutes = _count(_l("Time limit (minutes)"), 1, 360, 10)
    attempts_allowed = _count(_l("Attempts per member"), 1, 100, 1)
    pass_percent = _count(_l("Pass mark (%)"), 0, 100, 60)
    opens_at = DateTimeLocalField(
        _l("Opens"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(_l("Enter a date and time."))]
    )
    closes_at = DateTimeLocalField(
        _l("Closes"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(_l("Enter a date and time."))]
    )
    pass_points = _count(_l("Points for passing"), 0, 1_000_000, 0)
    points_per_correct = _count(_l("Points per correct answer"), 0, 100_000, 0)
    layout = SelectField(
        _l("Show"),
        choices=[
            SelectChoice("one", _l("One question per page")),
            SelectChoice("all", _l("All questions on one page")),
        ],
    )


class AttemptForm(FlaskForm):
    """Only the CSRF token: the answers are read from the posted option ids and checked by the service."""
