"""A segment: a named, saved set of criteria over members (see ``criteria.py`` for their meaning)."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import TimestampMixin, db


def new_version() -> str:
    return secrets.token_hex(8)


class Segment(TimestampMixin, db.Model):
    """``criteria`` is the normalised dict that ``criteria.normalise`` returns; ``version`` is a fresh random
    token on every save, so a process holding the criteria notices a change (or a deleted segment whose
    number was reused) in the same query that uses them."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_fa: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    criteria: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    version: Mapped[str] = mapped_column(sa.String(32), default=new_version)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)

    def name(self, language: str) -> str:
        return (self.name_en or self.name_fa) if language == "en" else (self.name_fa or self.name_en)
