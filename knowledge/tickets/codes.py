"""Tracking codes (``BG-7KX4-9QT2``): short, unique, read aloud without confusing 0/O or 1/I/L."""

from __future__ import annotations

import re
import secrets

from portal.i18n import to_ascii_digits

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
PREFIX = "BG"
_CODE = re.compile(rf"^{PREFIX}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def generate_code() -> str:
    """A fresh random code (31^8 ≈ 8.5e11 possibilities; callers check uniqueness)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def normalise_code(raw: str | None) -> str | None:
    """What a person typed (any case, spaces, Persian digits, dashes or none) as a canonical code,
    or None when it cannot be one."""
    text = re.sub(r"[\s\-_]", "", to_ascii_digits(raw or "")).upper()
    if text.startswith(PREFIX):
        text = text[len(PREFIX) :]
    if len(text) != 8:
        return None
    code = f"{PREFIX}-{text[:4]}-{text[4:]}"
    return code if _CODE.match(code) else None
