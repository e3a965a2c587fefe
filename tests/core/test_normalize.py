"""The one normalisation of IDs, phones, references and search text (pure functions)."""

from __future__ import annotations

import pytest

from casetrack.cases.rules import validate_id_number, validate_phone
from casetrack.core.normalize import (
    canonical_ref,
    normalize_id_number,
    normalize_phone,
    search_document,
    search_terms,
)


def test_full_width_id_folds_to_ascii_with_upper_case_check_digit():
    assert normalize_id_number("４４０８８２１９８００１０１００１３") == "440882198001010013"
    assert normalize_id_number(" 11010519491231002ｘ ") == "11010519491231002X"
    assert normalize_id_number("110105 19491231 002x") == "11010519491231002X"
    assert normalize_id_number(None) == ""
    assert validate_id_number("４４０８８２１９８００１０１００１３") is None


def test_digits_of_other_scripts_are_not_digits():
    # \d would accept Arabic-Indic digits; the ID and phone rules accept 0-9 only
    assert validate_id_number("44088219800101001" + "\u0663") is not None
    assert validate_phone("1380013800\u0660") is not None
    assert validate_phone("１３８ ００１３ ８０００") is None


def test_phone_folds_widths_and_spaces():
    assert normalize_phone("１３８ ００１３ ８０００") == "13800138000"
    assert normalize_phone("0759－8888888") == "0759-8888888"


@pytest.mark.parametrize("typed", [
    "湛信交〔2026〕214号", "湛信交[2026]214号", "湛信交【2026】214号", "湛信交(2026)214号",
    "湛信交（2026）214号", "湛信交（２０２６）２１４号", "湛信交 〔2026〕 214 号", "湛信交［2026］214号",
])
def test_reference_spellings_share_one_canonical_form(typed):
    assert canonical_ref(typed) == "湛信交(2026)214号"


def test_different_references_stay_different():
    assert canonical_ref("湛信交〔2026〕214号") != canonical_ref("湛信交〔2026〕21号")
    assert canonical_ref("湛信交〔2026〕214号") != canonical_ref("湛信交〔2025〕214号")


def test_search_terms_split_on_any_space_and_fold():
    assert search_terms("调逻村 养殖") == ["调逻村", "养殖"]
    assert search_terms("调逻村\u3000养殖\t养殖") == ["调逻村", "养殖"]
    assert search_terms("北和信[2026]18号") == ["北和信(2026)18号"]
    assert search_terms("ＡＢＣ") == ["abc"]
    assert search_terms("   ") == []
    # spaces inside a reference do not split it
    assert search_terms("北和信 〔2026〕 18 号") == ["北和信(2026)18号"]


def test_search_document_keeps_fields_apart():
    doc = search_document("北和信〔2026〕18号", "标题甲", None, "")
    assert doc == "北和信(2026)18号 标题甲"
    # a term never spans two fields (terms hold no space)
    assert "18号标题" not in doc


def test_a_number_typed_with_spaces_or_without_brackets_is_one_term():
    from casetrack.core.normalize import search_alternatives

    for typed in ("北和信2026 1号", "北和信2026 1 号", "北和信 2026 1号", "北和信20261号",
                  "北和信２０２６　１号"):
        assert search_alternatives(typed) == [("北和信(2026)1号", "北和信20261号")], typed
    assert search_alternatives("北和信(2026) 1号") == [("北和信(2026)1号",)]
    # not a number: a name and a year stay separate words
    assert search_terms("张三 2026 1") == ["张三", "2026", "1"]
    # an unbalanced bracket is not guessed at
    assert search_terms("北和信(2026 1号") == ["北和信(2026", "1号"]


def test_punctuation_words_are_literal_and_unfolded():
    from casetrack.core.normalize import is_literal

    assert search_terms("[ ％ _") == ["[", "%", "_"]
    assert all(is_literal(t) for t in search_terms("[ ％ _"))
    assert not is_literal("100%_到位") and not is_literal("(2026)")
