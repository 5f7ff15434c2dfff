"""Tracking codes: the shape, no ambiguous characters, and reading what people type."""

from __future__ import annotations

import re

from knowledge.tickets.codes import ALPHABET, generate_code, normalise_code


def test_generated_codes_have_the_shape_and_no_ambiguous_characters():
    codes = {generate_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"BG-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
        assert not set(code[3:].replace("-", "")) & set("01OIL")
    assert not set(ALPHABET) & set("01OIL")


def test_normalise_accepts_lower_case_spaces_missing_dashes_and_persian_digits():
    assert normalise_code("bg-7kx4-9qt2") == "BG-7KX4-9QT2"
    assert normalise_code(" BG 7KX4 9QT2 ") == "BG-7KX4-9QT2"
    assert normalise_code("7KX49QT2") == "BG-7KX4-9QT2"
    assert normalise_code("BG-۷KX۴-۹QT۲") == "BG-7KX4-9QT2"


def test_normalise_refuses_malformed_codes():
    for raw in ["", None, "BG-7KX4", "BG-7KX4-9QT2-AAAA", "BG-0OX4-9QT2", "BG-1ILX-9QT2", "<script>", "BG-7KX4-9QT!"]:
        assert normalise_code(raw) is None
