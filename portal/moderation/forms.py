"""Flask-WTF forms of moderation; every label and message goes through Babel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.moderation.models import FlagReason, SanctionKind, WordAction

REQUIRED = _l("This field is required.")


class FlagForm(FlaskForm):
    reason = SelectField(
        _l("Why are you flagging this?"),
        choices=[
            SelectChoice(FlagReason.SPAM.value, _l("Spam")),
            SelectChoice(FlagReason.ABUSE.value, _l("Abusive or hateful")),
            SelectChoice(FlagReason.OFF_TOPIC.value, _l("Off-topic")),
            SelectChoice(FlagReason.ILLEGAL.value, _l("Illegal")),
            SelectChoice(FlagReason.OTHER.value, _l("Something else")),
        ],
        validators=[DataRequired(REQUIRED)],
    )
    text = TextAreaField(
        _l("Tell the moderators more (needed for “something else”)"), validators=[Optional(), Length(max=500)]
    )


class ResolveForm(FlaskForm):
    reason = TextAreaField(_l("Reason (shown to the author)"), validators=[Optional(), Length(max=2000)])
    new_text = TextAreaField(_l("New text"), validators=[Optional(), Length(max=50000)])
    target_id = IntegerField(_l("Target (topic or category number)"), validators=[Optional()])


class WordForm(FlaskForm):
    word = StringField(_l("Word or phrase"), validators=[DataRequired(REQUIRED), Length(max=100)])
    action = SelectField(
        _l("What the filter does"),
        choices=[
            SelectChoice(WordAction.BLOCK.value, _l("Block the post")),
            SelectChoice(WordAction.HOLD.value, _l("Hold the post for review")),
            SelectChoice(WordAction.REPLACE.value, _l("Replace the word")),
        ],
    )
    replacement = StringField(_l("Replacement"), validators=[Optional(), Length(max=100)])


class SanctionForm(FlaskForm):
    kind = SelectField(
        _l("Sanction"),
        choices=[
            SelectChoice(SanctionKind.WARNING.value, _l("Warning")),
            SelectChoice(SanctionKind.SUSPENSION.value, _l("Suspension from posting")),
            SelectChoice(SanctionKind.SILENCE.value, _l("Silence in one category")),
            SelectChoice(SanctionKind.BAN.value, _l("Ban (no login)")),
        ],
    )
    reason = TextAreaField(_l("Reason (shown to the member)"), validators=[DataRequired(REQUIRED), Length(max=2000)])
    days = IntegerField(_l("Days (not for warnings)"), validators=[Optional(), NumberRange(min=1, max=36500)])
    category_id = IntegerField(_l("Category number (for a silence)"), validators=[Optional()])


class LiftForm(FlaskForm):
    reason = StringField(_l("Why lift it early?"), validators=[Optional(), Length(max=500)])


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note"), validators=[DataRequired(REQUIRED), Length(max=5000)])


class TrustLevelForm(FlaskForm):
    level = SelectField(
        _l("Trust level"), choices=[SelectChoice(str(n), str(n)) for n in range(5)], validators=[DataRequired()]
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
