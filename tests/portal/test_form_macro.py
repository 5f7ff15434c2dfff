"""The shared form macro writes only the attributes that apply to a field."""

from __future__ import annotations

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Optional

MACRO = (
    '{% from "macros/forms.html" import field %}'
    '{{ field(form.name) }}{{ field(form.kind) }}{{ field(form.note, dir="auto") }}'
)


class _Form(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    kind = SelectField("Kind", choices=[SelectChoice("a", "A")], validators=[Optional()])
    note = StringField("Note", validators=[Optional()])


def test_unset_attributes_are_left_out_not_written_as_none(app):
    with app.test_request_context():
        form = _Form(meta={"csrf": False})
        html = render_template_string(MACRO, form=form)
    assert '"None"' not in html
    assert html.count("required") == 1  # only the field that is required
    assert 'dir="auto"' in html
    assert "aria-invalid" not in html


def test_an_invalid_field_is_marked_and_described(app):
    with app.test_request_context(method="POST", data={}):
        form = _Form(meta={"csrf": False})
        form.validate()
        html = render_template_string(MACRO, form=form)
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="name-errors"' in html
