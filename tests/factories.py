"""factory_boy factories for the models; they flush into the test's session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from portal.accounts.models import Member, Organisation
from portal.accounts.services import hash_password
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import Notification

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashing is slow on purpose; do it once


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - resolved per test
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")


class MemberFactory(BaseFactory):
    class Meta:
        model = Member

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Member {n}")
    password_hash = _PASSWORD_HASH
    referral_code = factory.Sequence(lambda n: f"REF{n:05d}")
    role = "member"
    email_verified_at = factory.LazyFunction(utcnow)


class AdminFactory(MemberFactory):
    role = "admin"


class ModeratorFactory(MemberFactory):
    role = "moderator"


class AgentFactory(MemberFactory):
    role = "agent"


class NotificationFactory(BaseFactory):
    """Pass ``member_id``."""

    class Meta:
        model = Notification

    kind = "account.welcome"
    params = factory.LazyFunction(lambda: {"name": "Test"})
