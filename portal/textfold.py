"""Persian/Arabic letter folding, so that variant spellings of one word compare equal.

Folding maps Arabic letter forms to their Persian ones (ي→ی, ك→ک, ة→ه), hamza
carriers to their base letters (أ إ آ→ا, ؤ→و, ئ→ی), drops harakat, tatweel and
other combining marks, turns ZWNJ and other zero-width joiners into nothing (so
``می‌خواهم`` and ``میخواهم`` meet), maps Persian and Arabic-Indic digits to ASCII, applies
NFKC (Arabic presentation forms, full-width Latin) and lower-cases.

The folding works character by character, so :func:`fold_with_offsets` can say where
each folded character came from: the word filter matches on folded text and replaces
in the original. The search service (``portal.search``) analyses text with this same
:func:`fold_text`, keeping the ZWNJ (``keep_zwnj=True``) so that a word written with one
is indexed joined and also as its parts.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_LETTERS = {
    "ي": "ی",
    "ى": "ی",
    "ئ": "ی",
    "ك": "ک",
    "ة": "ه",
    "ۀ": "ه",
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ؤ": "و",
    "ء": "",
    "ـ": "",  # tatweel (kashida)
}
ZWNJ = "\u200c"
_ZERO_WIDTH = {ZWNJ, "\u200d", "\u200b", "\u2060", "\ufeff", "\u200e", "\u200f"}
_DIGITS = {**{chr(0x06F0 + i): str(i) for i in range(10)}, **{chr(0x0660 + i): str(i) for i in range(10)}}


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """The folded form of one character (possibly empty, possibly several characters)."""
    if char in _ZERO_WIDTH:
        return ""
    if char in _DIGITS:
        return _DIGITS[char]
    if char in _LETTERS:
        return _LETTERS[char]
    out = []
    for piece in unicodedata.normalize("NFKC", char):
        if piece in _LETTERS:
            out.append(_LETTERS[piece])
        elif piece in _DIGITS:
            out.append(_DIGITS[piece])
        elif unicodedata.category(piece) == "Mn":  # harakat, shadda, superscript alef, other marks
            continue
        else:
            out.append(piece.lower())
    return "".join(out)


def fold_text(text: str | None, *, keep_zwnj: bool = False) -> str:
    """The folded form of ``text`` (see the module docstring); ``keep_zwnj`` keeps zero-width
    non-joiners where they were (the search analyser splits words at them)."""
    if keep_zwnj:
        return "".join(char if char == ZWNJ else fold_char(char) for char in (text or ""))
    return "".join(fold_char(char) for char in (text or ""))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, the index of the original character it came from."""
    folded: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        piece = fold_char(char)
        folded.append(piece)
        offsets.extend([index] * len(piece))
    return "".join(folded), offsets
