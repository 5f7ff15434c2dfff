"""Members and organisations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, db, utcnow


class Role(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    AGENT = "agent"
    ADMIN = "admin"


ROLE_VALUES = [role.value for role in Role]


class Organisation(TimestampMixin, db.Model):
    """A legal customer (a company) that members belong to."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    national_id: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    city: Mapped[str | None] = mapped_column(sa.String(100))
    website: Mapped[str | None] = mapped_column(sa.String(300))

    members: Mapped[list[Member]] = relationship(back_populates="organisation", lazy="raise_on_sql")


class Member(UserMixin, TimestampMixin, db.Model):
    """A person with an account; the ``role`` decides which parts of the club they run."""

    __tablename__ = "members"
    __table_args__ = (sa.CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLE_VALUES)})", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    display_name: Mapped[str] = mapped_column(sa.String(80))
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.MEMBER.value, server_default=Role.MEMBER.value)
    language: Mapped[str | None] = mapped_column(sa.String(5))
    bio: Mapped[str | None] = mapped_column(sa.Text)
    city: Mapped[str | None] = mapped_column(sa.String(100))
    job_title: Mapped[str | None] = mapped_column(sa.String(100))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    avatar: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    referral_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    signup_ip: Mapped[str | None] = mapped_column(sa.String(45))
    signup_source: Mapped[str | None] = mapped_column(sa.String(40))
    external_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_disabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Set by moderation (through services.set_login_block / set_warning_pending), read here, so that
    # login and every request enforce a ban and a pending warning without accounts knowing moderation.
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ban_reason: Mapped[str | None] = mapped_column(sa.Text)
    warning_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    organisation: Mapped[Organisation | None] = relationship(back_populates="members", lazy="raise_on_sql")
    referred_by: Mapped[Member | None] = relationship(remote_side=[id], lazy="raise_on_sql")

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled or banned account cannot log in
        return not self.is_disabled and not self.is_banned

    @property
    def is_banned(self) -> bool:
        return self.banned_until is not None and self.banned_until > utcnow()

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        return self.role != Role.MEMBER

    def avatar_key(self, variant: str = "thumb") -> str | None:
        return (self.avatar or {}).get(variant)

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.email}>"
