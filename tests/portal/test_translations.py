"""Every user-facing string has its Persian translation, and the catalogues match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "portal" / "translations" / "fa" / "LC_MESSAGES" / "messages.po"


def _catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _extracted(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
            "-k", "lazy_gettext", "-o", str(pot), "--no-location",
            "--ignore-dirs=.venv static tests bench migrations instance", ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )  # fmt: skip
    return _catalogue(pot)


def test_every_persian_message_is_translated_and_none_is_fuzzy():
    untranslated = [
        message.id
        for message in _catalogue(CATALOGUE)
        if message.id
        and (message.fuzzy or not message.string or (isinstance(message.string, tuple) and not all(message.string)))
    ]
    assert untranslated == []


def test_the_persian_catalogue_holds_every_string_in_the_code(tmp_path):
    catalogue = _catalogue(CATALOGUE)
    missing = [message.id for message in _extracted(tmp_path) if message.id and message.id not in catalogue]
    assert missing == [], "run `make translations` and translate the new strings"
