"""Forms of the knowledge base's editors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

REQUIRED = _l("This field is required.")


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    category_id = SelectField(_l("Category"), coerce=int)
    language = SelectField(_l("Language"), choices=[SelectChoice("fa", "فارسی"), SelectChoice("en", "English")])
    translation_of_id = SelectField(_l("Translation of"), coerce=int, validate_choice=True)
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(REQUIRED), Length(max=100_000)])
    note = StringField(_l("What changed (optional)"), validators=[Optional(), Length(max=200)])


class CategoryForm(FlaskForm):
    slug = StringField(_l("Address (slug)"), validators=[Optional(), Length(max=80)])
    name_fa = StringField(_l("Name in Persian"), validators=[DataRequired(REQUIRED), Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(REQUIRED), Length(max=120)])
    position = IntegerField(_l("Position"), default=0, validators=[Optional()])
