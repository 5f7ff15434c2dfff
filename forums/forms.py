"""Flask-WTF forms of the forums; the services check the text itself, so messages are the same everywhere."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from forums.models import CATEGORY_COLOURS

BODY_HELP = _l("Markdown: **bold**, _italic_, `code`, > quote, lists; mention someone with @Name_Surname.")


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), render_kw={"rows": 6, "dir": "auto"})
    quoted_post_id = HiddenField()
    image = FileField(_l("Attach an image (optional)"), render_kw={"accept": "image/*"})


class TopicForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"dir": "auto", "maxlength": 200})
    body = TextAreaField(_l("Message"), render_kw={"rows": 10, "dir": "auto"})
    image = FileField(_l("Attach an image (optional)"), render_kw={"accept": "image/*"})
    poll_question = StringField(_l("Poll question (optional)"), render_kw={"dir": "auto", "maxlength": 300})
    poll_options = TextAreaField(_l("Poll options, one per line"), render_kw={"rows": 4, "dir": "auto"})
    poll_multiple = BooleanField(_l("Allow choosing several options"))
    poll_days = IntegerField(
        _l("Close the poll after this many days (optional)"),
        validators=[Optional(), NumberRange(min=1, max=365, message=_l("Between 1 and 365 days."))],
    )


class EditForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"dir": "auto", "maxlength": 200})
    body = TextAreaField(_l("Message"), render_kw={"rows": 10, "dir": "auto"})


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"), render_kw={"maxlength": 300})


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"maxlength": 120, "dir": "auto"})
    description = TextAreaField(_l("Description"), render_kw={"rows": 2, "dir": "auto"})
    icon = StringField(_l("Icon (an emoji)"), default="💬", render_kw={"maxlength": 16})
    colour = SelectField(_l("Colour"), choices=[SelectChoice(c, c) for c in CATEGORY_COLOURS])
    position = IntegerField(_l("Order"), default=0, validators=[Optional()])
    parent_id = SelectField(_l("Parent category"), coerce=str, choices=[])
    allowed_roles = StringField(_l("Only for roles (comma separated, empty for everyone)"))
    min_tier = SelectField(_l("Minimum tier"), coerce=str, choices=[])


class DigestForm(FlaskForm):
    frequency = SelectField(
        _l("Email digest of forum notifications"),
        choices=[
            SelectChoice("off", _l("Never")),
            SelectChoice("daily", _l("Daily")),
            SelectChoice("weekly", _l("Weekly")),
        ],
    )
