"""Persian/Arabic folding: variant spellings of one word fold to the same text, and offsets point home."""

from __future__ import annotations

import pytest

from portal.textfold import fold_text, fold_with_offsets


@pytest.mark.parametrize(
    ("variant", "folded"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("هدى", "هدی"),  # alef maksura
        ("كتاب", "کتاب"),  # Arabic kaf
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("خانۀ", "خانه"),  # heh with yeh above
        ("أحمد", "احمد"),
        ("إسلام", "اسلام"),
        ("آب", "اب"),
        ("مؤمن", "مومن"),
        ("رئيس", "رییس"),
        ("مسئله", "مسیله"),
        ("جزء", "جز"),  # lone hamza dropped
        ("كـــتاب", "کتاب"),  # tatweel
        ("عَلِيٌّ", "علی"),  # harakat and shadda
        ("می‌خواهم", "میخواهم"),  # ZWNJ
        ("می\u200dخواهم", "میخواهم"),  # ZWJ
        ("۱۲۳۴۵۶۷۸۹۰", "1234567890"),  # Persian digits
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),  # Arabic-Indic digits
        ("HeLLo", "hello"),
        ("ﻻ", "لا"),  # presentation form
        ("ＡＢＣ", "abc"),  # full width
    ],
)
def test_variants_fold_to_the_persian_base_form(variant, folded):
    assert fold_text(variant) == folded


def test_folding_is_idempotent_and_keeps_spaces_and_punctuation():
    text = "سلام، دنیای عزیز! كتاب ۱۲ (test)"
    assert fold_text(fold_text(text)) == fold_text(text)
    assert fold_text(text) == "سلام، دنیای عزیز! کتاب 12 (test)"


def test_empty_and_none_fold_to_empty():
    assert fold_text("") == ""
    assert fold_text(None) == ""


def test_offsets_map_every_folded_character_to_its_source():
    text = "كـتاب می‌خوام"
    folded, offsets = fold_with_offsets(text)
    assert folded == "کتاب میخوام"
    assert len(offsets) == len(folded)
    assert [text[i] for i in offsets][:4] == ["ك", "ت", "ا", "ب"]
    # The ZWNJ left no folded character, so "خ" maps past it.
    assert text[offsets[folded.index("خ")]] == "خ"


def test_the_search_analyser_keeps_zwnj_and_folds_everything_else_alike():
    text = "كتاب\u200cهاي عَلِيّ"
    assert fold_text(text, keep_zwnj=True) == "کتاب\u200cهای علی"
    assert fold_text(text, keep_zwnj=True).replace("\u200c", "") == fold_text(text)
