"""Forms of the help desk, for customers and agents."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from knowledge.tickets.labels import KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS

REQUIRED = _l("This field is required.")


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class NewTicketForm(FlaskForm):
    kind = SelectField(_l("What is it about?"), choices=_choices(KIND_LABELS), default="support")
    subject = StringField(_l("Subject"), validators=[DataRequired(REQUIRED), Length(min=3, max=200)])
    body = TextAreaField(_l("Describe it"), validators=[DataRequired(REQUIRED), Length(max=20_000)])
    email = EmailField(
        _l("Your email"), validators=[Optional(), Email(_l("Enter a valid email address.")), Length(max=254)]
    )
    name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=80)])
    attachments = MultipleFileField(_l("Attachments (optional)"))


class TrackForm(FlaskForm):
    code = StringField(_l("Tracking code"), validators=[DataRequired(REQUIRED), Length(max=40)])
    email = EmailField(_l("The email you opened it with"), validators=[DataRequired(REQUIRED), Length(max=254)])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(REQUIRED), Length(max=20_000)])
    attachments = MultipleFileField(_l("Attachments (optional)"))


class RateForm(FlaskForm):
    rating = RadioField(
        _l("How satisfied are you with the support?"),
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        validators=[InputRequired(_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(_l("Anything to add? (optional)"), validators=[Optional(), Length(max=2000)])


# --- the desk ----------------------------------------------------------------------------------------


class AgentReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply to the customer"), validators=[DataRequired(REQUIRED), Length(max=20_000)])
    then_status = SelectField(
        _l("Then set the status to"),
        choices=[SelectChoice("", _l("(keep)")), *_choices({k: v for k, v in STATUS_LABELS.items() if k != "new"})],
        validate_choice=True,
        default="",
    )
    kb_articles = SelectMultipleField(_l("Link knowledge-base articles"), coerce=int, validate_choice=False)
    attachments = MultipleFileField(_l("Attachments (optional)"))


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Internal note (only agents see it)"), validators=[DataRequired(REQUIRED), Length(max=20_000)]
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS))


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS))


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Agent"), coerce=int, validate_choice=True)
    team_id = SelectField(_l("Team"), coerce=int, validate_choice=True)


class MergeForm(FlaskForm):
    into_code = StringField(
        _l("Merge into ticket (tracking code)"), validators=[DataRequired(REQUIRED), Length(max=40)]
    )


class CannedForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=120)])
    body = TextAreaField(
        _l("Text ({name} and {tracking_code} are filled in)"), validators=[DataRequired(REQUIRED), Length(max=20_000)]
    )


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    is_private = BooleanField(_l("Private (only its members see its tickets)"))
    round_robin = BooleanField(_l("Assign new tickets in turn (round robin)"))
    kinds = SelectMultipleField(_l("Receives new tickets of these kinds"), choices=_choices(KIND_LABELS))
    member_ids = SelectMultipleField(_l("Agents"), coerce=int)


class SlaForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS))
    first_response_minutes = IntegerField(
        _l("First response within (business minutes)"), validators=[InputRequired(REQUIRED), NumberRange(min=1)]
    )
    resolution_minutes = IntegerField(
        _l("Resolution within (business minutes)"), validators=[InputRequired(REQUIRED), NumberRange(min=1)]
    )


class HolidayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired(REQUIRED)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
