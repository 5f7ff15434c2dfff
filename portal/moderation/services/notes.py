"""Moderator notes: private remarks moderators keep on a member's dossier."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.accounts.models import Member
from portal.db import db
from portal.errors import NotAllowed, ValidationFailed
from portal.moderation import policies
from portal.moderation.models import ModeratorNote
from portal.moderation.services import audit


def add_note(*, actor: Member, member: Member, text: str) -> ModeratorNote:
    """A private moderator note on a member's dossier."""
    if not policies.is_moderator(actor):
        raise NotAllowed()
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_l("The note is empty."), fields={"text": "required"})
    note = ModeratorNote(member_id=member.id, author_id=actor.id, text=text[:5000])
    db.session.add(note)
    db.session.flush()
    audit.record(actor_id=actor.id, action="moderation.add_note", object_kind="member", object_id=member.id)
    return note
