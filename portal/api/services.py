"""The writers of the integration: API keys, webhook subscriptions, and members upserted from outside."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.accounts.models import Member, Organisation
from portal.accounts.services import new_referral_code, normalise_email, normalise_phone, profile_completion
from portal.api import policies, webhooks
from portal.api.models import (
    SCOPES,
    ApiKey,
    DeliveryStatus,
    WebhookDelivery,
    WebhookSubscription,
    as_dict,
)
from portal.db import db, utcnow
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.events import emit

KEY_PREFIX = "bgk_"
SHOWN_PREFIX_LENGTH = 12
# A password hash argon2 cannot parse: members created through the API log in only after a password reset.
NO_PASSWORD = "!api"  # noqa: S105 - a marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def _audit(actor_id: int | None, kind: str, obj_id: int, action: str, before: dict, after: dict, **extra: Any) -> None:
    emit(
        "audit.logged",
        member_id=actor_id,
        source=(kind, obj_id),
        attributes={"action": action, "before": before, "after": after, "reason": "", **extra},
    )


# --- API keys --------------------------------------------------------------------------------------


def parse_scopes(values: Iterable[str]) -> list[str]:
    """Accepts scopes given as several values and/or comma- or space-separated; refuses unknown ones."""
    found: list[str] = []
    for value in values:
        for part in value.replace(",", " ").split():
            if part not in SCOPES:
                raise ValidationFailed(_l("Unknown scope: %(scope)s", scope=part), fields={"scopes": "unknown"})
            if part not in found:
                found.append(part)
    return [scope for scope in SCOPES if scope in found]


@dataclass(frozen=True)
class CreatedKey:
    """A new key and its plaintext, which is shown once and never stored."""

    key: ApiKey
    plaintext: str


def create_api_key(*, actor: Member | None, name: str, scopes: Iterable[str]) -> CreatedKey:
    """Creates a key; ``actor`` None is the command line."""
    if actor is not None and not policies.can_manage_api_keys(actor):
        raise NotAllowed()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Please enter a name."), fields={"name": "required"})
    if len(name) > 100:
        raise ValidationFailed(_l("The name is too long."), fields={"name": "too_long"})
    chosen = parse_scopes(scopes)
    if not chosen:
        raise ValidationFailed(_l("Choose at least one scope."), fields={"scopes": "required"})
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=plaintext[:SHOWN_PREFIX_LENGTH],
        key_hash=hash_key(plaintext),
        scopes=chosen,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(key)
    db.session.flush()
    _audit(actor.id if actor else None, "api_key", key.id, "api.key_created", {}, as_dict(key))
    return CreatedKey(key, plaintext)


def revoke_api_key(*, actor: Member | None, key: ApiKey) -> None:
    if actor is not None and not policies.can_manage_api_keys(actor):
        raise NotAllowed()
    if not key.is_active:
        return
    before = as_dict(key)
    key.revoked_at = utcnow()
    _audit(actor.id if actor else None, "api_key", key.id, "api.key_revoked", before, as_dict(key))


def key_by_plaintext(plaintext: str) -> ApiKey | None:
    """The key a request presented, or None; one indexed lookup by hash."""
    if not plaintext or len(plaintext) > 200:
        return None
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)))


def touch_api_key(key: ApiKey) -> bool:
    """Records that the key was used, at most once a minute (so busy keys do not write on every call)."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return False
    try:
        with db.session.begin_nested():
            result = db.session.execute(
                sa.update(ApiKey)
                .where(
                    ApiKey.id == key.id,
                    sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except OperationalError:
        # SQLite: a concurrent request with this key wrote since this one's first read, so this
        # transaction may not write (WAL answers "database is locked" at once); the other one
        # records the use.
        return False
    return bool(result.rowcount)


# --- webhook subscriptions --------------------------------------------------------------------------


# The path excludes whitespace and control characters spelt out, so that Python's ``re`` and the
# documented (ECMAScript) pattern agree: their ``\s`` differ on U+001C-U+001F, U+0085 and U+FEFF.
URL_PATTERN = r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[^\s\u0000-\u001f\u007f-\u009f\ufeff]*)?$"
EVENT_PATTERN = r"^([A-Za-z0-9_\-]+\.)*([A-Za-z0-9_\-]+|\*)$"


def check_webhook_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 500 or not re.fullmatch(URL_PATTERN, url) or not urlsplit(url).hostname:
        raise ValidationFailed(_l("Enter an http or https address."), fields={"url": "invalid"})
    return url


def check_event_patterns(events: Iterable[str]) -> list[str]:
    """Event types (``tier.changed``), prefixes (``points.*``) or ``*``, comma- or space-separated."""
    cleaned: list[str] = []
    for value in events:
        for part in str(value).replace(",", " ").split():
            if len(part) > 80 or not re.fullmatch(EVENT_PATTERN, part):
                raise ValidationFailed(_l("Unknown event name: %(name)s", name=part), fields={"events": "invalid"})
            if part not in cleaned:
                cleaned.append(part)
    if not cleaned:
        raise ValidationFailed(_l("Choose at least one event."), fields={"events": "required"})
    return cleaned


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str


def create_webhook(
    *,
    actor: Member | None,
    url: str,
    events: Iterable[str],
    secret: str | None = None,
    via_key: ApiKey | None = None,
) -> CreatedSubscription:
    """Subscribes a URL to event types; a secret is generated when none is given."""
    if via_key is None and actor is not None and not policies.can_manage_webhooks(actor):
        raise NotAllowed()
    url = check_webhook_url(url)
    patterns = check_event_patterns(events)
    secret = secret if secret and secret.strip() else secrets.token_hex(32)
    if len(secret) < 16 or len(secret) > 128:
        raise ValidationFailed(_l("The secret must be 16 to 128 characters long."), fields={"secret": "invalid"})
    subscription = WebhookSubscription(
        url=url,
        events=patterns,
        secret=secret,
        created_by_id=actor.id if actor else (via_key.created_by_id if via_key else None),
        created_by_key_id=via_key.id if via_key else None,
    )
    db.session.add(subscription)
    db.session.flush()
    webhooks.invalidate_subscriptions()
    extra = {"api_key_id": via_key.id} if via_key else {}
    after = as_dict(subscription)
    _audit(subscription.created_by_id, "webhook", subscription.id, "api.webhook_created", {}, after, **extra)
    return CreatedSubscription(subscription, secret)


def delete_webhook(*, actor: Member | None, subscription: WebhookSubscription, via_key: ApiKey | None = None) -> None:
    """Stops deliveries to the URL; the subscription and its log are kept for the admins."""
    if via_key is None and actor is not None and not policies.can_manage_webhooks(actor):
        raise NotAllowed()
    if not subscription.is_active:
        raise NotFound()
    before = as_dict(subscription)
    subscription.deleted_at = utcnow()
    webhooks.invalidate_subscriptions()
    db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    actor_id = actor.id if actor else (via_key.created_by_id if via_key else None)
    extra = {"api_key_id": via_key.id} if via_key else {}
    _audit(actor_id, "webhook", subscription.id, "api.webhook_deleted", before, as_dict(subscription), **extra)


def redeliver(*, actor: Member, delivery: WebhookDelivery) -> None:
    """Queues one more try of a delivery now, whatever its state (the admin's "redeliver" button)."""
    if not policies.can_manage_webhooks(actor):
        raise NotAllowed()
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not subscription.is_active:
        raise Conflict(_l("This webhook has been removed; its deliveries cannot be sent again."))
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = utcnow()
    webhooks.redeliver_now(delivery.id)
    _audit(actor.id, "webhook_delivery", delivery.id, "api.webhook_redelivered", before, {"status": delivery.status})


# --- members from outside systems ----------------------------------------------------------------------

MEMBER_TEXT_FIELDS = {"city": 100, "job_title": 100}


@dataclass(frozen=True)
class UpsertedMember:
    member: Member
    created: bool


def _organisation_named(name: str) -> Organisation:
    existing = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
    if existing is not None:
        return existing
    organisation = Organisation(name=name)
    try:
        with db.session.begin_nested():
            db.session.add(organisation)
            db.session.flush()
    except IntegrityError:
        # Another request created it a moment ago.
        found = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        if found is None:
            raise
        return found
    emit("organisation.created", source=("organisation", organisation.id), attributes={"name": name, "via": "api"})
    return organisation


def upsert_member(*, external_id: str, data: dict[str, Any]) -> UpsertedMember:
    """Creates the member with this ``external_id`` or updates the fields given (absent fields stay as they are)."""
    external_id = external_id.strip()
    if not external_id:
        raise ValidationFailed(_l("Please give an external id."), fields={"external_id": "required"})
    member = db.session.scalar(sa.select(Member).where(Member.external_id == external_id))
    created = member is None
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if "email" in data:
        email = normalise_email(data["email"] or "")
        if not email or "@" not in email.strip("@") or " " in email:
            errors["email"] = "invalid"
        else:
            values["email"] = email
    elif created:
        errors["email"] = "required"
    if "phone" in data:
        try:
            values["phone"] = normalise_phone(data["phone"])
        except ValidationFailed:
            errors["phone"] = "invalid"
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            errors["name"] = "required"
        else:
            values["display_name"] = name
    for key in MEMBER_TEXT_FIELDS:
        if key in data:
            values[key] = (data[key] or "").strip() or None
    if errors:
        raise ValidationFailed(_l("Some fields are not valid."), fields=errors)
    other = sa.select(Member.id).where(Member.id != member.id) if member else sa.select(Member.id)
    if "email" in values and db.session.scalar(other.where(Member.email == values["email"])):
        raise Conflict(_l("An account with this email already exists."), fields={"email": "taken"})
    if values.get("phone") and db.session.scalar(other.where(Member.phone == values["phone"])):
        raise Conflict(_l("An account with this phone number already exists."), fields={"phone": "taken"})
    if "organisation" in data:
        name = (data["organisation"] or "").strip()
        values["organisation_id"] = _organisation_named(name).id if name else None

    if created:
        values.setdefault("display_name", values["email"].split("@")[0][:80])
        member = Member(
            external_id=external_id,
            password_hash=NO_PASSWORD,
            referral_code=new_referral_code(),
            signup_source="api",
            **values,
        )
        try:
            with db.session.begin_nested():
                db.session.add(member)
                db.session.flush()
        except IntegrityError:
            raise Conflict(
                _l("This member was created by another request at the same time; try again."),
                fields={"external_id": "conflict"},
            ) from None
        emit(
            "member.registered",
            member_id=member.id,
            source=("member", member.id),
            attributes={"referrer_id": None, "ip": None, "source": "api"},
        )
        _emit_profile(member, before=0)
        return UpsertedMember(member, True)

    assert member is not None
    before = profile_completion(member).percent
    changed = {key for key, value in values.items() if getattr(member, key) != value}
    for key in changed:
        setattr(member, key, values[key])
    if changed:
        db.session.flush()
        _emit_profile(member, before=before)
    return UpsertedMember(member, False)


def _emit_profile(member: Member, *, before: int) -> None:
    after = profile_completion(member).percent
    emit(
        "profile.updated",
        member_id=member.id,
        source=("member", member.id),
        attributes={"completion": after, "previous": before, "via": "api"},
    )
    if after == 100 and before < 100:
        emit("profile.completed", member_id=member.id, source=("profile", member.id), attributes={"completion": after})
