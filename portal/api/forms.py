"""Flask-WTF forms of the integration admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Optional

from portal.api.models import SCOPES

REQUIRED = _l("This field is required.")

SCOPE_LABELS = {
    "events:write": _l("Send events (purchases and other actions)"),
    "members:read": _l("Read members, their points and the leaderboard"),
    "members:write": _l("Create and update members"),
    "rewards:write": _l("Redeem rewards for members"),
    "tickets:write": _l("Open support tickets"),
    "webhooks:admin": _l("Manage webhook subscriptions"),
}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    scopes = CheckboxesField(
        _l("Scopes"),
        choices=[SelectChoice(scope, scope) for scope in SCOPES],
        validators=[DataRequired(_l("Choose at least one scope."))],
    )


class WebhookForm(FlaskForm):
    url = StringField(_l("Address (URL)"), validators=[DataRequired(REQUIRED), Length(max=500)])
    events = StringField(
        _l("Events"),
        validators=[DataRequired(REQUIRED), Length(max=1000)],
        description=_l("Event names separated by commas, e.g. points.awarded, tier.changed, or * for all."),
    )
    secret = StringField(_l("Secret (optional)"), validators=[Optional(), Length(min=16, max=128)])
