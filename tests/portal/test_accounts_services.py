"""Unit tests of the accounts services: sign-up, verification, passwords, email change, roles, organisations."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts import services
from portal.accounts.models import Member, Organisation
from portal.accounts.services import REFERRAL_ALPHABET, InvalidCredentials
from portal.accounts.tokens import make_token
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import PASSWORD, AdminFactory, MemberFactory, ModeratorFactory, OrganisationFactory
from tests.helpers import link_in
from tests.portal.web import recorded_events


@pytest.fixture(autouse=True)
def english_messages(app):
    """These tests read the English source messages; the club's default language is Persian."""
    with force_locale("en"):
        yield


def _register(**overrides):
    values = {"email": "new@example.com", "password": "long-enough-pw", "display_name": "New Person"}
    values.update(overrides)
    return services.register_member(**values)


def _notification_kinds(member_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.kind).where(Notification.member_id == member_id)))


# --- sign-up -------------------------------------------------------------------------


def test_register_member_stores_a_normalised_unverified_member_with_an_argon2_hash():
    member = _register(email="  New@Example.COM ", display_name="  Sara  ")
    assert member.id is not None
    assert member.email == "new@example.com"
    assert member.display_name == "Sara"
    assert member.role == "member"
    assert member.is_verified is False
    assert member.signup_source == "web"
    assert member.password_hash.startswith("$argon2id$")
    assert PASSWORD not in member.password_hash


def test_register_member_emits_member_registered_with_the_source():
    with recorded_events("member.*") as events:
        member = _register()
    assert [e.type for e in events] == ["member.registered"]
    assert events[0].member_id == member.id
    assert events[0].attributes["source"] == "web"


def test_register_member_mails_a_verification_link_after_commit(outbox):
    _register(email="mail@example.com")
    assert outbox.messages() == []  # mail leaves only after the transaction commits
    db.session.commit()
    message = outbox.last()
    assert message["To"] == "mail@example.com"
    assert "/verify/" in link_in(outbox.text(message))


def test_register_member_sends_no_mail_when_the_transaction_rolls_back(outbox):
    _register(email="gone@example.com")
    db.session.rollback()
    db.session.commit()
    assert outbox.messages() == []


def test_email_already_taken_in_another_case_is_refused():
    MemberFactory(email="taken@example.com")
    with pytest.raises(Conflict) as refused:
        _register(email="TAKEN@example.com")
    assert refused.value.fields == {"email": "taken"}
    assert "already exists" in str(refused.value.message)


def test_phone_already_taken_is_refused_even_when_typed_with_persian_digits():
    MemberFactory(phone="09123456789")
    with pytest.raises(Conflict) as refused:
        _register(phone="۰۹۱۲ ۳۴۵ ۶۷۸۹")
    assert refused.value.fields == {"phone": "taken"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("۰۹۱۲۳۴۵۶۷۸۹", "09123456789"),
        ("+98 912 345-6789", "+989123456789"),
        ("٠٩١٢٣٤٥٦٧٨٩", "09123456789"),
        ("(021) 8888 7777", "02188887777"),
        ("", None),
        ("   ", None),
    ],
)
def test_normalise_phone_keeps_plus_and_ascii_digits(typed, stored):
    assert services.normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "0912-abc-4567", "+" + "1" * 16])
def test_normalise_phone_refuses_what_is_not_a_phone_number(typed):
    with pytest.raises(ValidationFailed) as refused:
        services.normalise_phone(typed)
    assert refused.value.fields == {"phone": "invalid"}


def test_short_password_is_refused_at_sign_up():
    with pytest.raises(ValidationFailed) as refused:
        _register(password="short")
    assert refused.value.fields == {"password": "too_short"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0


def test_blank_display_name_is_refused():
    with pytest.raises(ValidationFailed):
        _register(display_name="   ")


def test_referral_code_links_the_new_member_to_the_referrer_case_insensitively():
    referrer = MemberFactory(referral_code="ABCD2345")
    member = _register(referral_code=" abcd2345 ")
    assert member.referred_by_id == referrer.id
    assert member.signup_source == "referral"


def test_unknown_referral_code_is_refused_and_creates_nothing():
    with pytest.raises(ValidationFailed) as refused:
        _register(referral_code="NOPE2345")
    assert refused.value.fields == {"referral_code": "unknown"}
    assert services.member_by_email("new@example.com") is None


def test_every_member_gets_a_unique_unambiguous_eight_character_referral_code():
    members = [_register(email=f"p{i}@example.com") for i in range(12)]
    codes = [m.referral_code for m in members]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{8}", code)
        assert not set(code) & set("0O1I")
        assert set(code) <= set(REFERRAL_ALPHABET)


def test_new_referral_code_skips_a_code_already_in_use(monkeypatch):
    MemberFactory(referral_code="AAAAAAAA")
    picks = iter("A" * 8 + "B" * 8)
    monkeypatch.setattr(services.secrets, "choice", lambda alphabet: next(picks))
    assert services.new_referral_code() == "BBBBBBBB"


def test_staff_created_accounts_are_verified_at_once_and_welcomed(outbox):
    member = _register(verified=True, source="cli")
    assert member.is_verified
    assert member.signup_source == "cli"
    assert _notification_kinds(member.id) == ["account.welcome"]
    db.session.commit()
    assert outbox.messages() == []


# --- verification ---------------------------------------------------------------------


def test_verify_email_marks_the_member_verified_and_welcomes_them_once():
    member = _register()
    token = make_token("verify", {"id": member.id, "email": member.email})
    with recorded_events("member.verified") as events:
        assert services.verify_email(token) is member
        services.verify_email(token)  # following the link again changes nothing
    assert member.is_verified
    assert len(events) == 1
    assert _notification_kinds(member.id) == ["account.welcome"]


def test_verify_token_for_an_old_address_is_refused():
    member = _register()
    token = make_token("verify", {"id": member.id, "email": "old@example.com"})
    with pytest.raises(ValidationFailed, match="not valid"):
        services.verify_email(token)
    assert not member.is_verified


def test_token_made_for_another_purpose_is_not_a_verification_token():
    member = _register()
    token = make_token("reset", {"id": member.id, "email": member.email})
    with pytest.raises(ValidationFailed, match="not valid"):
        services.verify_email(token)


def test_expired_verification_token_says_it_expired(app, monkeypatch):
    member = _register()
    token = make_token("verify", {"id": member.id, "email": member.email})
    monkeypatch.setitem(app.config, "VERIFY_TOKEN_MAX_AGE", -1)
    with pytest.raises(ValidationFailed, match="expired"):
        services.verify_email(token)


# --- login and passwords -------------------------------------------------------------------


def test_authenticate_accepts_the_right_password_and_records_the_visit():
    member = MemberFactory(email="me@example.com")
    assert member.last_seen_at is None
    assert services.authenticate("ME@example.com", PASSWORD) is member
    assert member.last_seen_at is not None


def test_wrong_password_and_unknown_email_raise_the_same_error():
    MemberFactory(email="me@example.com")
    with pytest.raises(InvalidCredentials) as wrong_password:
        services.authenticate("me@example.com", "not-the-password")
    with pytest.raises(InvalidCredentials) as unknown_email:
        services.authenticate("nobody@example.com", PASSWORD)
    assert str(wrong_password.value.message) == str(unknown_email.value.message)
    assert wrong_password.value.status == unknown_email.value.status == 422


def test_disabled_account_cannot_authenticate():
    MemberFactory(email="off@example.com", is_disabled=True)
    with pytest.raises(NotAllowed, match="disabled"):
        services.authenticate("off@example.com", PASSWORD)


def test_reset_link_sets_a_new_password_and_works_only_once(outbox):
    member = MemberFactory(email="me@example.com")
    services.request_password_reset("me@example.com")
    db.session.commit()
    token = link_in(outbox.text(outbox.last())).rsplit("/", 1)[-1]
    services.reset_password(token, "brand-new-password")
    assert services.authenticate("me@example.com", "brand-new-password") is member
    with pytest.raises(ValidationFailed, match="already been used"):
        services.reset_password(token, "another-new-password")


def test_password_reset_for_an_unknown_address_sends_nothing(outbox):
    services.request_password_reset("nobody@example.com")
    db.session.commit()
    assert outbox.messages() == []


def test_reset_password_refuses_a_short_password():
    member = MemberFactory()
    token = make_token("reset", {"id": member.id, "h": member.password_hash[-16:]})
    old_hash = member.password_hash
    with pytest.raises(ValidationFailed, match="at least 8"):
        services.reset_password(token, "short")
    assert member.password_hash == old_hash


def test_reset_link_verifies_an_unverified_address():
    member = MemberFactory(email_verified_at=None)
    token = make_token("reset", {"id": member.id, "h": member.password_hash[-16:]})
    services.reset_password(token, "brand-new-password")
    assert member.is_verified


def test_change_password_needs_the_current_password_and_notifies():
    member = MemberFactory()
    with pytest.raises(ValidationFailed, match="current password"):
        services.change_password(member, current="wrong-password", new="brand-new-password")
    services.change_password(member, current=PASSWORD, new="brand-new-password")
    assert services.authenticate(member.email, "brand-new-password") is member
    assert _notification_kinds(member.id) == ["account.password_changed"]


def test_email_change_is_mailed_to_the_new_address_and_applied_by_the_link(outbox):
    member = MemberFactory(email="old@example.com")
    services.request_email_change(member, new_email="New@Example.com", password=PASSWORD)
    db.session.commit()
    assert member.email == "old@example.com"
    message = outbox.last()
    assert message["To"] == "new@example.com"
    token = link_in(outbox.text(message)).rsplit("/", 1)[-1]
    services.confirm_email_change(token)
    assert member.email == "new@example.com"
    assert _notification_kinds(member.id) == ["account.email_changed"]


def test_email_change_to_an_address_in_use_is_refused():
    member = MemberFactory(email="me@example.com")
    MemberFactory(email="other@example.com")
    with pytest.raises(Conflict):
        services.request_email_change(member, new_email="other@example.com", password=PASSWORD)


def test_email_change_link_is_refused_when_the_address_was_taken_meanwhile():
    member = MemberFactory(email="me@example.com")
    token = make_token("email", {"id": member.id, "email": "wanted@example.com"})
    MemberFactory(email="wanted@example.com")
    with pytest.raises(Conflict):
        services.confirm_email_change(token)
    assert member.email == "me@example.com"


def test_email_change_needs_the_password():
    member = MemberFactory()
    with pytest.raises(ValidationFailed, match="current password"):
        services.request_email_change(member, new_email="x@example.com", password="wrong-password")


# --- roles and organisations ------------------------------------------------------------------


def test_admin_changes_a_role_and_the_member_is_notified():
    admin = AdminFactory()
    member = MemberFactory()
    with recorded_events("member.role_changed") as events:
        services.set_role(actor=admin, member=member, role="moderator")
    assert member.role == "moderator"
    assert events[0].attributes == {"old": "member", "new": "moderator", "actor_id": admin.id}
    notification = db.session.scalar(sa.select(Notification).where(Notification.member_id == member.id))
    assert (notification.kind, notification.params) == ("account.role_changed", {"role": "moderator"})


@pytest.mark.parametrize("role", ["member", "moderator", "agent"])
def test_only_admins_can_change_roles(role):
    actor = MemberFactory(role=role)
    member = MemberFactory()
    with pytest.raises(NotAllowed):
        services.set_role(actor=actor, member=member, role="admin")
    assert member.role == "member"


def test_the_last_admin_cannot_step_down():
    admin = AdminFactory()
    with pytest.raises(Conflict, match="at least one admin"):
        services.set_role(actor=admin, member=admin, role="member")
    assert admin.role == "admin"


def test_an_admin_can_step_down_when_another_admin_remains():
    admin = AdminFactory()
    AdminFactory()
    services.set_role(actor=admin, member=admin, role="member")
    assert admin.role == "member"


def test_unknown_role_is_refused():
    with pytest.raises(ValidationFailed):
        services.set_role(actor=AdminFactory(), member=MemberFactory(), role="overlord")


def test_setting_the_same_role_changes_nothing_and_notifies_nobody():
    member = ModeratorFactory()
    services.set_role(actor=AdminFactory(), member=member, role="moderator")
    assert _notification_kinds(member.id) == []


def test_create_organisation_normalises_digits_and_refuses_duplicates():
    admin = AdminFactory()
    organisation = services.create_organisation(actor=admin, name=" Pars Co ", national_id="۱۰۱۰۱۲۳", city="")
    assert (organisation.name, organisation.national_id, organisation.city) == ("Pars Co", "1010123", None)
    with pytest.raises(Conflict, match="name already exists"):
        services.create_organisation(actor=admin, name="Pars Co")
    with pytest.raises(Conflict, match="national ID already exists"):
        services.create_organisation(actor=admin, name="Another", national_id="1010123")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1


def test_members_cannot_create_organisations():
    with pytest.raises(NotAllowed):
        services.create_organisation(actor=MemberFactory(), name="Mine")


# --- profiles ------------------------------------------------------------------------------


def test_profile_completion_of_an_empty_profile_names_every_missing_field():
    completion = services.profile_completion(MemberFactory())
    assert completion.percent == 0
    assert [name for name, _ in completion.missing] == ["avatar", "bio", "city", "job_title", "organisation", "phone"]


def test_profile_completion_counts_filled_fields():
    member = MemberFactory(bio="Hello", city="Tehran")
    completion = services.profile_completion(member)
    assert completion.percent == 33
    assert [name for name, _ in completion.missing] == ["avatar", "job_title", "organisation", "phone"]


def test_blank_bio_does_not_count_as_filled():
    member = MemberFactory(bio="   ")
    assert "bio" in [name for name, _ in services.profile_completion(member).missing]


def test_profile_completion_of_a_full_profile_is_100():
    member = MemberFactory(
        bio="Hi",
        city="Tehran",
        job_title="Engineer",
        phone="09120000000",
        organisation_id=OrganisationFactory().id,
        avatar={"thumb": "a.jpg", "display": "b.jpg"},
    )
    assert services.profile_completion(member) == services.Completion(100, [])


def test_profile_completed_is_emitted_once_when_reaching_100_percent():
    member = MemberFactory(avatar={"thumb": "a.jpg"})
    organisation = OrganisationFactory()
    fields = {
        "display_name": "Full",
        "bio": "About me",
        "city": "Tehran",
        "job_title": "Engineer",
        "phone": "09120000000",
        "organisation_id": organisation.id,
        "language": "en",
    }
    with recorded_events("profile.*") as events:
        services.update_profile(member, actor=member, **fields)
        services.update_profile(member, actor=member, **{**fields, "bio": "Changed"})
    assert [e.type for e in events] == ["profile.updated", "profile.completed", "profile.updated"]
    assert events[0].attributes == {"completion": 100, "previous": 17}
    assert member.language == "en"


def test_another_member_cannot_edit_a_profile():
    member = MemberFactory()
    with pytest.raises(NotAllowed):
        services.update_profile(
            member,
            actor=MemberFactory(),
            display_name="Hacked",
            bio=None,
            city=None,
            job_title=None,
            phone=None,
            organisation_id=None,
            language=None,
        )
    assert member.display_name != "Hacked"


def test_create_member_cli_makes_a_verified_account_with_the_role():
    member = services.create_member_cli(
        email="a@example.com", password="long-enough-pw", display_name="A", role="agent"
    )
    assert (member.role, member.is_verified, member.signup_source) == ("agent", True, "cli")
