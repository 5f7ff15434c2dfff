"""Member accounts as a moderatable kind: held sign-ups join the queue, and rejecting one disables the account."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.accounts import services as account_services
from portal.accounts.models import Member
from portal.db import db
from portal.sanitize import render_markdown


class MemberAdapter:
    """Adapter of kind ``member``: the profile (name and bio) stands for the account.

    ``hold`` does nothing: a held sign-up may use the club while it waits; what is held is
    the decision (the engine keeps a referral reward pending until ``moderation.resolved``).
    ``hide`` and ``delete`` disable the account (never erased here) and emit ``member.removed``.
    """

    kind = "member"
    label = _l("Member")

    def load(self, id: int) -> Member | None:
        return db.session.get(Member, id)

    def author_id(self, obj: Member) -> int | None:
        return obj.id

    def title(self, obj: Member) -> str:
        return obj.display_name

    def excerpt_html(self, obj: Member) -> Markup:
        about = render_markdown(obj.bio) if obj.bio else Markup("")
        source = Markup('<p class="small text-muted mb-0" dir="ltr">{} · {}</p>').format(
            obj.email, obj.signup_source or "—"
        )
        return about + source

    def url(self, obj: Member) -> str:
        return f"/moderation/members/{obj.id}"

    def is_visible(self, obj: Member) -> bool:
        return not obj.is_disabled

    def hide(self, obj: Member, *, actor: Any, reason: str) -> None:
        account_services.set_account_disabled(obj, disabled=True)

    def restore(self, obj: Member, *, actor: Any, reason: str) -> None:
        account_services.set_account_disabled(obj, disabled=False)

    def hold(self, obj: Member) -> None:
        return None

    def delete(self, obj: Member, *, actor: Any, reason: str) -> None:
        account_services.set_account_disabled(obj, disabled=True)


member_adapter = MemberAdapter()
