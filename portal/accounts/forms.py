"""Flask-WTF forms of accounts; every label and message goes through Babel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from portal.accounts.policies import MIN_PASSWORD_LENGTH

EMAIL_MESSAGE = _l("Enter a valid email address.")
REQUIRED = _l("This field is required.")


class SignupForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(REQUIRED), Length(max=80)])
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Email(EMAIL_MESSAGE), Length(max=254)])
    phone = StringField(_l("Phone number (optional)"), validators=[Optional(), Length(max=20)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("The passwords do not match."))],
    )
    referral_code = StringField(_l("Referral code (optional)"), validators=[Optional(), Length(max=16)])


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Email(EMAIL_MESSAGE)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    remember = BooleanField(_l("Remember me"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Email(EMAIL_MESSAGE)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("The passwords do not match."))],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("The passwords do not match."))],
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(_l("New email"), validators=[DataRequired(REQUIRED), Email(EMAIL_MESSAGE), Length(max=254)])
    password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(REQUIRED), Length(max=80)])
    bio = TextAreaField(_l("About you"), validators=[Optional(), Length(max=2000)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=20)])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=True)
    language = SelectField(_l("Language"), choices=[SelectChoice("fa", "فارسی"), SelectChoice("en", "English")])


class AvatarForm(FlaskForm):
    avatar = FileField(_l("Profile picture"), validators=[FileRequired(_l("Choose an image file."))])


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("member", _l("Member")),
            SelectChoice("moderator", _l("Moderator")),
            SelectChoice("agent", _l("Support agent")),
            SelectChoice("admin", _l("Admin")),
        ],
    )


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    national_id = StringField(_l("National ID (optional)"), validators=[Optional(), Length(max=32)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
