"""The writers of accounts: sign-up, verification, login, passwords, email, roles, profiles."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import IO, Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import media
from portal.accounts import policies
from portal.accounts.models import ROLE_VALUES, Member, Organisation
from portal.accounts.policies import MIN_PASSWORD_LENGTH
from portal.accounts.tokens import InvalidToken, make_token, read_token
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit
from portal.i18n import format_local, to_ascii_digits
from portal.mail import external_url, send_mail

_hasher = PasswordHasher()
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I
PROFILE_FIELD_LABELS = {
    "avatar": _l("Profile picture"),
    "bio": _l("About you"),
    "city": _l("City"),
    "job_title": _l("Job title"),
    "organisation": _l("Organisation"),
    "phone": _l("Phone number"),
}


class InvalidCredentials(ValidationFailed):
    code = "invalid_credentials"

    def default_message(self) -> Any:
        return _l("The email or password is not correct.")


# --- small helpers ---------------------------------------------------------------


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def normalise_phone(phone: str | None) -> str | None:
    """Keeps a leading + and the digits (Persian digits accepted); None when empty."""
    if not phone or not phone.strip():
        return None
    text = to_ascii_digits(phone.strip())
    digits = re.sub(r"[\s\-()]", "", text)
    if not re.fullmatch(r"\+?\d{7,15}", digits):
        raise ValidationFailed(_l("Enter a phone number of 7 to 15 digits."), fields={"phone": "invalid"})
    return digits


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _l("The password must be at least %(n)s characters long.", n=MIN_PASSWORD_LENGTH),
            fields={"password": "too_short"},
        )


def _verify_password(member: Member, password: str) -> bool:
    try:
        _hasher.verify(member.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
    return True


def new_referral_code() -> str:
    """A unique 8-character code without ambiguous characters."""
    while True:
        code = "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))
        if not db.session.scalar(sa.select(Member.id).where(Member.referral_code == code)):
            return code


def member_by_email(email: str) -> Member | None:
    return db.session.scalar(sa.select(Member).where(Member.email == normalise_email(email)))


def member_by_referral_code(code: str | None) -> Member | None:
    code = (code or "").strip().upper()
    if not code:
        return None
    return db.session.scalar(sa.select(Member).where(Member.referral_code == code))


def _mail_member(member: Member, template: str, subject: Any, to: str | None = None, **context: Any) -> None:
    """Renders a mail in the member's language and queues it to leave after commit."""
    language = member.language or current_app.config["DEFAULT_LANGUAGE"]
    with force_locale(language):
        text = render_template(f"accounts/email/{template}.txt", member=member, **context)
        send_mail(to or member.email, f"{current_app.config['SITE_NAME']}: {subject}", text)


# --- sign-up and verification -------------------------------------------------------


def register_member(
    *,
    email: str,
    password: str,
    display_name: str,
    phone: str | None = None,
    referral_code: str | None = None,
    language: str | None = None,
    ip: str | None = None,
    source: str = "web",
    verified: bool = False,
) -> Member:
    """Creates a member, sends the verification mail and emits ``member.registered``.

    ``verified`` is for accounts created by staff or imports, whose address is known good.
    """
    email = normalise_email(email)
    phone = normalise_phone(phone)
    check_password_strength(password)
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationFailed(_l("Please enter a display name."), fields={"display_name": "required"})
    if member_by_email(email):
        raise Conflict(_l("An account with this email already exists."), fields={"email": "taken"})
    if phone and db.session.scalar(sa.select(Member.id).where(Member.phone == phone)):
        raise Conflict(_l("An account with this phone number already exists."), fields={"phone": "taken"})
    referrer = None
    if referral_code and referral_code.strip():
        referrer = member_by_referral_code(referral_code)
        if referrer is None:
            raise ValidationFailed(_l("This referral code is not valid."), fields={"referral_code": "unknown"})
    member = Member(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name,
        phone=phone,
        language=language if language in current_app.config["LANGUAGES"] else None,
        referral_code=new_referral_code(),
        referred_by_id=referrer.id if referrer else None,
        signup_ip=ip,
        signup_source="referral" if referrer else source,
    )
    db.session.add(member)
    db.session.flush()
    emit(
        "member.registered",
        member_id=member.id,
        source=("member", member.id),
        attributes={"referrer_id": referrer.id if referrer else None, "ip": ip, "source": member.signup_source},
    )
    if verified:
        member.email_verified_at = utcnow()
        emit("member.verified", member_id=member.id, source=("member", member.id))
    else:
        send_verification(member)
    return member


def send_verification(member: Member) -> None:
    token = make_token("verify", {"id": member.id, "email": member.email})
    link = external_url("accounts.verify_email", token=token)
    _mail_member(member, "verify", _l("Confirm your email address"), link=link)


def verify_email(token: str) -> Member:
    """Marks the address in the token as verified; emits ``member.verified`` the first time."""
    try:
        payload = read_token("verify", token, current_app.config["VERIFY_TOKEN_MAX_AGE"])
    except InvalidToken as exc:
        raise ValidationFailed(
            _l("This confirmation link has expired. Log in to get a new one.")
            if exc.expired
            else _l("This confirmation link is not valid.")
        ) from exc
    member = db.session.get(Member, payload.get("id"))
    if member is None or member.email != payload.get("email"):
        raise ValidationFailed(_l("This confirmation link is not valid."))
    if member.email_verified_at is None:
        member.email_verified_at = utcnow()
        emit("member.verified", member_id=member.id, source=("member", member.id))
    return member


# --- login and passwords ----------------------------------------------------------------


def authenticate(email: str, password: str) -> Member:
    member = member_by_email(email)
    if member is None:
        _hasher.hash(password or "x")  # same work for unknown emails, so timing tells nothing
        raise InvalidCredentials()
    if not _verify_password(member, password or ""):
        raise InvalidCredentials()
    if member.is_disabled:
        raise NotAllowed(_l("This account is disabled."))
    if member.is_banned:
        raise NotAllowed(ban_message(member))
    member.last_seen_at = utcnow()
    return member


def ban_message(member: Member) -> Any:
    """What a banned member is told: until when, and why."""
    return _l(
        "This account is banned until %(until)s. Reason: %(reason)s",
        until=format_local(member.banned_until),
        reason=member.ban_reason or "—",
    )


def set_login_block(member: Member, *, until: Any, reason: str | None) -> None:
    """Blocks (or with ``until=None`` unblocks) logging in; moderation's bans call this."""
    member.banned_until = until
    member.ban_reason = reason if until is not None else None


def set_account_disabled(member: Member, *, disabled: bool) -> None:
    """Disables (or enables again) an account; moderation's rejection of a held sign-up calls this."""
    if member.is_disabled == disabled:
        return
    member.is_disabled = disabled
    emit(
        "member.removed" if disabled else "member.restored",
        member_id=member.id,
        source=("member", member.id),
    )


def set_warning_pending(member: Member, pending: bool) -> None:
    """Marks that the member must read and acknowledge a warning before going on."""
    member.warning_pending = pending


def request_password_reset(email: str) -> None:
    """Mails a reset link if the address has an account; says nothing either way."""
    member = member_by_email(email)
    if member is None:
        return
    token = make_token("reset", {"id": member.id, "h": member.password_hash[-16:]})
    _mail_member(member, "reset", _l("Reset your password"), link=external_url("accounts.reset_password", token=token))


def reset_password(token: str, new_password: str) -> Member:
    """Sets a new password from a reset link; the link works once (it is bound to the old hash)."""
    try:
        payload = read_token("reset", token, current_app.config["RESET_TOKEN_MAX_AGE"])
    except InvalidToken as exc:
        raise ValidationFailed(
            _l("This reset link has expired. Ask for a new one.")
            if exc.expired
            else _l("This reset link is not valid.")
        ) from exc
    member = db.session.get(Member, payload.get("id"))
    if member is None or member.password_hash[-16:] != payload.get("h"):
        raise ValidationFailed(_l("This reset link has already been used or is not valid."))
    check_password_strength(new_password)
    member.password_hash = hash_password(new_password)
    if member.email_verified_at is None:
        # Following a link sent to the address proves the member owns it.
        member.email_verified_at = utcnow()
        emit("member.verified", member_id=member.id, source=("member", member.id))
    emit("member.password_changed", member_id=member.id, source=("member", member.id))
    return member


def change_password(member: Member, *, current: str, new: str) -> None:
    if not _verify_password(member, current or ""):
        raise ValidationFailed(_l("Your current password is not correct."), fields={"current_password": "wrong"})
    check_password_strength(new)
    member.password_hash = hash_password(new)
    emit("member.password_changed", member_id=member.id, source=("member", member.id))


def request_email_change(member: Member, *, new_email: str, password: str) -> None:
    """Mails a confirmation link to the new address; the change happens when it is followed."""
    new_email = normalise_email(new_email)
    if not _verify_password(member, password or ""):
        raise ValidationFailed(_l("Your current password is not correct."), fields={"password": "wrong"})
    if new_email == member.email:
        raise ValidationFailed(_l("That is already your email address."), fields={"email": "same"})
    if member_by_email(new_email):
        raise Conflict(_l("An account with this email already exists."), fields={"email": "taken"})
    token = make_token("email", {"id": member.id, "email": new_email})
    link = external_url("accounts.confirm_email_change", token=token)
    _mail_member(member, "change_email", _l("Confirm your new email address"), to=new_email, link=link)


def confirm_email_change(token: str) -> Member:
    try:
        payload = read_token("email", token, current_app.config["VERIFY_TOKEN_MAX_AGE"])
    except InvalidToken as exc:
        raise ValidationFailed(_l("This confirmation link is not valid or has expired.")) from exc
    member = db.session.get(Member, payload.get("id"))
    new_email = payload.get("email")
    if member is None or not new_email:
        raise ValidationFailed(_l("This confirmation link is not valid or has expired."))
    if member.email == new_email:
        return member
    if member_by_email(new_email):
        raise Conflict(_l("An account with this email already exists."))
    old = member.email
    member.email = new_email
    member.email_verified_at = utcnow()
    emit("member.email_changed", member_id=member.id, source=("member", member.id), attributes={"old": old})
    return member


# --- roles and organisations ------------------------------------------------------------


def set_role(*, actor: Member | None, member: Member, role: str) -> None:
    """Changes a member's role; only admins may, and the last admin cannot step down."""
    if actor is not None and not policies.can_assign_roles(actor):
        raise NotAllowed()
    if role not in ROLE_VALUES:
        raise ValidationFailed(_l("Unknown role."), fields={"role": "unknown"})
    if member.role == role:
        return
    if member.role == "admin":
        admins = db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.role == "admin"))
        if admins <= 1:
            raise Conflict(_l("The club needs at least one admin."))
    old = member.role
    member.role = role
    emit(
        "audit.logged",
        member_id=actor.id if actor else None,
        source=("member", member.id),
        attributes={"action": "accounts.set_role", "before": {"role": old}, "after": {"role": role}, "reason": ""},
    )
    emit(
        "member.role_changed",
        member_id=member.id,
        source=("member", member.id),
        attributes={"old": old, "new": role, "actor_id": actor.id if actor else None},
    )


def create_organisation(
    *, actor: Member | None, name: str, national_id: str | None = None, city: str | None = None
) -> Organisation:
    if actor is not None and not policies.can_manage_organisations(actor):
        raise NotAllowed()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Please enter a name."), fields={"name": "required"})
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name)):
        raise Conflict(_l("An organisation with this name already exists."), fields={"name": "taken"})
    national_id = to_ascii_digits(national_id.strip()) if national_id and national_id.strip() else None
    if national_id and db.session.scalar(sa.select(Organisation.id).where(Organisation.national_id == national_id)):
        raise Conflict(_l("An organisation with this national ID already exists."), fields={"national_id": "taken"})
    organisation = Organisation(name=name, national_id=national_id, city=(city or "").strip() or None)
    db.session.add(organisation)
    db.session.flush()
    emit("organisation.created", source=("organisation", organisation.id), attributes={"name": name})
    emit(
        "audit.logged",
        member_id=actor.id if actor else None,
        source=("organisation", organisation.id),
        attributes={
            "action": "accounts.create_organisation",
            "before": {},
            "after": {"name": name, "national_id": national_id, "city": organisation.city},
            "reason": "",
        },
    )
    return organisation


# --- profiles --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """How complete a profile is, and what is missing (field keys with their labels)."""

    percent: int
    missing: list[tuple[str, Any]]


def profile_completion(member: Member) -> Completion:
    fields = current_app.config["PROFILE_FIELDS_FOR_COMPLETION"]
    filled = {
        "avatar": bool(member.avatar),
        "bio": bool(member.bio and member.bio.strip()),
        "city": bool(member.city),
        "job_title": bool(member.job_title),
        "organisation": member.organisation_id is not None,
        "phone": bool(member.phone),
    }
    missing = [(name, PROFILE_FIELD_LABELS[name]) for name in fields if not filled.get(name)]
    percent = round(100 * (len(fields) - len(missing)) / len(fields)) if fields else 100
    return Completion(percent, missing)


def _after_profile_change(member: Member, before: int) -> None:
    after = profile_completion(member).percent
    emit(
        "profile.updated",
        member_id=member.id,
        source=("member", member.id),
        attributes={"completion": after, "previous": before},
    )
    if after == 100 and before < 100:
        emit("profile.completed", member_id=member.id, source=("profile", member.id), attributes={"completion": after})


def update_profile(
    member: Member,
    *,
    actor: Member,
    display_name: str,
    bio: str | None,
    city: str | None,
    job_title: str | None,
    phone: str | None,
    organisation_id: int | None,
    language: str | None,
) -> None:
    if not policies.can_edit_profile(actor, member):
        raise NotAllowed()
    before = profile_completion(member).percent
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationFailed(_l("Please enter a display name."), fields={"display_name": "required"})
    phone = normalise_phone(phone)
    if phone and phone != member.phone:
        taken = db.session.scalar(sa.select(Member.id).where(Member.phone == phone, Member.id != member.id))
        if taken:
            raise Conflict(_l("An account with this phone number already exists."), fields={"phone": "taken"})
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        raise NotFound(_l("That organisation does not exist."))
    member.display_name = display_name
    member.bio = (bio or "").strip() or None
    member.city = (city or "").strip() or None
    member.job_title = (job_title or "").strip() or None
    member.phone = phone
    member.organisation_id = organisation_id
    if language in current_app.config["LANGUAGES"]:
        member.language = language
    _after_profile_change(member, before)


def set_language(member: Member, language: str) -> None:
    if language in current_app.config["LANGUAGES"]:
        member.language = language


def set_avatar(member: Member, *, actor: Member, stream: IO[bytes] | bytes) -> None:
    """Stores a new profile picture through the shared image pipeline; the old files are removed."""
    if not policies.can_edit_profile(actor, member):
        raise NotAllowed()
    before = profile_completion(member).percent
    stored = media.store_image(stream, media.AVATAR)
    old = member.avatar
    member.avatar = dict(stored.variants)
    media.delete_stored(old)
    _after_profile_change(member, before)


def remove_avatar(member: Member, *, actor: Member) -> None:
    if not policies.can_edit_profile(actor, member):
        raise NotAllowed()
    before = profile_completion(member).percent
    media.delete_stored(member.avatar)
    member.avatar = None
    _after_profile_change(member, before)


def create_member_cli(*, email: str, password: str, display_name: str, role: str, verified: bool = True) -> Member:
    """Creates an account from the command line (no referral, verified by default)."""
    member = register_member(email=email, password=password, display_name=display_name, source="cli", verified=verified)
    set_role(actor=None, member=member, role=role)
    return member
