"""Post text: input checks, @mentions, and the one render of Markdown to stored, sanitised HTML."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from portal.accounts.models import Member
from portal.db import db
from portal.errors import ValidationFailed
from portal.sanitize import render_markdown

DEFAULT_MAX_POST_CHARS = 20_000
MAX_TITLE_CHARS = 200
MIN_TITLE_CHARS = 3
# A handle is the display name with spaces as underscores: "@Emma_Clarke", "@رضا_کریمی".
MENTION = re.compile(r"(?<![\w@/.])@([\w\u200c][\w\u200c.-]{0,59})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG = re.compile(r"(<[^>]*>)")
_SKIP_TAGS = {"a", "code", "pre"}
# Profile pages live at this path (portal.accounts); links are stored in the HTML, so they
# are built here without a request (demo seeding and bench generation run outside one).
PROFILE_PATH = "/members/{id}"


def handle_of(display_name: str) -> str:
    return "_".join((display_name or "").split())


def max_post_chars() -> int:
    return int(current_app.config.get("FORUM_MAX_POST_CHARS", DEFAULT_MAX_POST_CHARS))


def clean_body(body: str | None) -> str:
    """Normalises a post's Markdown or refuses it with a message the member understands."""
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    if "\ufffd" in text:
        # Werkzeug decodes invalid UTF-8 to U+FFFD; storing it would silently corrupt the text.
        raise ValidationFailed(
            _l("The text contains characters that could not be read (invalid encoding). Please retype it."),
            fields={"body": "invalid_encoding"},
        )
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()
    if not text:
        raise ValidationFailed(_l("Write something before posting."), fields={"body": "empty"})
    limit = max_post_chars()
    if len(text) > limit:
        raise ValidationFailed(
            _l("The text is too long: %(n)s characters, the limit is %(limit)s.", n=len(text), limit=limit),
            fields={"body": "too_long"},
        )
    return text


def clean_title(title: str | None) -> str:
    text = " ".join(_CONTROL.sub("", (title or "").replace("\ufffd", "")).split())
    if len(text) < MIN_TITLE_CHARS:
        raise ValidationFailed(
            _l("The title needs at least %(n)s characters.", n=MIN_TITLE_CHARS), fields={"title": "too_short"}
        )
    if len(text) > MAX_TITLE_CHARS:
        raise ValidationFailed(
            _l("The title can be at most %(n)s characters.", n=MAX_TITLE_CHARS), fields={"title": "too_long"}
        )
    return text


def mentioned_handles(body: str) -> list[str]:
    """Handles written as ``@name`` outside code, in order, without repeats."""
    without_code = re.sub(r"```.*?```|`[^`\n]*`", " ", body, flags=re.DOTALL)
    seen: dict[str, None] = {}
    for match in MENTION.finditer(without_code):
        seen.setdefault(match.group(1).rstrip(".-").lower(), None)
    return list(seen)[:20]


def resolve_handles(handles: list[str]) -> dict[str, Member]:
    """The members whose handle is among ``handles`` (lowercase handle -> member); one query."""
    if not handles:
        return {}
    handle = sa.func.lower(sa.func.replace(Member.display_name, " ", "_"))
    found = db.session.scalars(sa.select(Member).where(handle.in_(handles), Member.is_disabled.is_(False)))
    return {handle_of(m.display_name).lower(): m for m in found}


@dataclass
class Rendered:
    html: str
    mentioned: list[Member]


def _link_mentions(html: str, members: dict[str, Member]) -> str:
    """Turns ``@handle`` in text (never inside links or code) into a profile link."""
    if not members:
        return html
    out: list[str] = []
    depth = 0
    for piece in _TAG.split(html):
        if piece.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", piece)
            if name and name.group(1).lower() in _SKIP_TAGS:
                depth += -1 if piece.startswith("</") else 1
            out.append(piece)
            continue
        if depth > 0 or "@" not in piece:
            out.append(piece)
            continue

        def link(match: re.Match[str]) -> str:
            handle = match.group(1).rstrip(".-")
            member = members.get(handle.lower())
            if member is None:
                return match.group(0)
            rest = match.group(1)[len(handle) :]
            return f'<a href="{PROFILE_PATH.format(id=member.id)}" class="mention">@{escape(handle)}</a>{rest}'

        out.append(MENTION.sub(link, piece))
    return "".join(out)


def render_post(body: str) -> Rendered:
    """Markdown to the HTML stored with the post, with mentions linked."""
    members = resolve_handles(mentioned_handles(body))
    html = render_markdown(body, preprocess=lambda h: _link_mentions(h, members))
    return Rendered(str(html), list(members.values()))


def quote_markdown(author_name: str, body: str) -> str:
    """The Markdown a reply starts with when it quotes a post."""
    lines = body.strip().splitlines()[:30]
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in lines)
    return f"> **@{handle_of(author_name)}:**\n{quoted}\n\n"
