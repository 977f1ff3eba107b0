"""Folding for registry matching (filters.normalise), CHATHAM_HOUSE.md §5.1."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.normalise import (
    fold,
    fold_visual,
    german_variants,
    has_confusables,
    normalise,
    skeleton,
)

# Text that exercises every step: scripts, marks, invisibles, whitespace,
# escapes, entities and defanged indicators.
_PIECES = st.sampled_from(
    [
        "Müller",
        "MÜLLER",
        "José",
        "Ιωάννης",
        "Ὀδυσσεύς",
        "Дмитрий",
        "Оperator",
        "\u200b",
        "\u00ad",
        "\u202e",
        "\ufeff",
        "\u00a0",
        "\n",
        "\r\n",
        "  ",
        "\t",
        "%40",
        "%C3%BC",
        "%zz",
        "%",
        "&#64;",
        "&amp;",
        "&nosuch;",
        "[.]",
        " (at) ",
        "[dot]",
        "hxxps[:]//",
        "ﬁ",
        "Ａ",
        "①",
        "ß",
        "ς",
        "e\u0301",
        "北京",
        "😀",
        "a",
        "Z",
        "0",
        ".",
        "-",
        "@",
        "(",
        "[",
        "{",
        "&",
    ]
)
_TEXTS = st.one_of(
    st.lists(_PIECES, max_size=30).map("".join),
    st.text(max_size=60),
)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_offset_map_lands_inside_the_original_and_covers_what_it_maps(text: str) -> None:
    view = normalise(text)
    assert len(view.starts) == len(view.ends) == len(view.text)
    assert list(view.starts) == sorted(view.starts)
    for start, end in zip(view.starts, view.ends, strict=True):
        assert 0 <= start < end <= len(text)
    for start in range(len(view.text)):
        for end in range(start + 1, min(len(view.text), start + 12) + 1):
            original_start, original_end = view.original_span(start, end)
            assert 0 <= original_start < original_end <= len(text)
            # Folding the original span alone gives back (at least) what it mapped to.
            assert view.text[start:end].strip() in normalise(text[original_start:original_end]).text


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_the_visual_view_keeps_the_same_offset_guarantees(text: str) -> None:
    view = normalise(text, visual=True)
    assert len(view.starts) == len(view.text)
    for start in range(len(view.text)):
        original_start, original_end = view.original_span(start, start + 1)
        assert view.text[start].strip() in fold_visual(text[original_start:original_end])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=40))
def test_the_ascii_fast_path_agrees_with_the_full_fold(text: str) -> None:
    fold.cache_clear()
    assert fold(text) == normalise(text).text


def test_an_empty_span_is_refused() -> None:
    view = normalise("abc")
    with pytest.raises(ValueError, match="empty or out-of-range"):
        view.original_span(1, 1)
    with pytest.raises(ValueError, match="empty or out-of-range"):
        view.original_span(2, 4)


def test_a_hit_in_the_folded_text_maps_to_the_original_spelling() -> None:
    text = "Frage von Ju\u0308rgen  MÜL\u00adLER\n(Betreiber)"
    view = normalise(text)
    assert view.text == "frage von jurgen muller (betreiber)"
    start = view.text.index("jurgen muller")
    original_start, original_end = view.original_span(start, start + len("jurgen muller"))
    assert text[original_start:original_end] == "Ju\u0308rgen  MÜL\u00adLER"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ｍüｌｌｅｒ", "muller"),  # NFKC: fullwidth letters
        ("ﬁnance", "finance"),  # NFKC: ligature
        ("①②", "12"),
        ("Müller", "muller"),  # combining marks stripped
        ("Mu\u0308ller", "muller"),  # decomposed input folds the same way
        ("José", "jose"),
        ("Łódź", "lodz"),
        ("STRASSE Straße", "strasse strasse"),  # casefold: ß → ss
        ("ΟΔΥΣΣΕΥΣ Οδυσσευς", "odysseys odysseys"),  # final ς folds with σ
        ("Дмитрий Иванов", "dmitrii ivanov"),  # transliteration (й loses its breve)
        ("Ιωάννης Παπαδόπουλος", "ioannis papadopoylos"),
        ("İstanbul", "istanbul"),
    ],
)
def test_case_marks_compatibility_and_script_folding(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u200e", "\u034f"],
)
def test_invisible_characters_vanish(invisible: str) -> None:
    assert fold(f"Ope{invisible}rator A") == "operator a"


@pytest.mark.parametrize(
    "space", ["\u00a0", "\n", "\r\n", "\t", "\u2028", "\u3000", " \n  \t", "\u202f"]
)
def test_any_whitespace_run_is_one_space(space: str) -> None:
    assert fold(f"Operator{space}A") == "operator a"


def test_confusables_fold_only_in_the_visual_view() -> None:
    spoofed = "Оperator A"  # Cyrillic capital O
    assert has_confusables(spoofed)
    assert fold_visual(spoofed) == "operator a"
    assert fold_visual("ΡΟRTAL") == "portal"  # Greek Rho and Omicron
    assert fold_visual("Ореrаtor") == "operator"  # Cyrillic о, р, е, а
    # The transliterated view reads Cyrillic as Russian: р is "r", not "p".
    assert fold("Ореrаtor") == "orerator"
    assert not has_confusables("Operator A")
    assert not has_confusables("Müller")


def test_escapes_entities_and_defanged_indicators_are_decoded() -> None:
    assert fold("alice%40operator-a.example") == "alice@operator-a.example"
    assert fold("M%C3%BCller") == "muller"
    assert fold("alice&#64;operator-a&#x2E;example") == "alice@operator-a.example"
    assert fold("a &amp; b") == "a & b"
    assert fold("portal.operator-a[.]example") == "portal.operator-a.example"
    assert fold("alice [at] operator-a (dot) example") == "alice@operator-a.example"
    assert fold("hxxps[:]//x") == "hxxps://x"
    # Not escapes: left alone.
    assert fold("100% sure") == "100% sure"
    assert fold("%zz &nosuch; [x]") == "%zz &nosuch; [x]"
    assert fold("%ff%fe") == "%ff%fe"  # not UTF-8
    assert fold("%00") == "%00"  # a control character would be invisible


def test_decoded_characters_map_to_their_own_escapes() -> None:
    text = "x%C3%BC%40y"
    view = normalise(text)
    assert view.text == "xu@y"
    assert view.original_span(1, 2) == (1, 7)  # ü ← %C3%BC
    assert view.original_span(2, 3) == (7, 10)  # @ ← %40


def test_german_variants_spell_umlauts_out_and_in() -> None:
    assert german_variants("Müller") == {"Müller", "Mueller", "Muller"}
    assert {fold(v) for v in german_variants("Mueller")} == {"mueller", "muller"}
    assert {fold(v) for v in german_variants("Jürgen Müller")} == {
        "jurgen muller",
        "juergen mueller",
    }
    # "qu" + e is not an umlaut.
    assert german_variants("Jacques") == {"Jacques"}


@pytest.mark.parametrize(
    "spellings",
    [
        ("dmitriy", "dmitry", "dmitrii", "dmitrij", "dmitri"),
        ("ivanov", "iwanow"),
        ("papadopoulos", "papadopoylos"),
        ("khrushchev", "hrushchev"),
        ("yuriy", "iurii", "jurij", "yuri"),
    ],
)
def test_transliteration_skeletons_agree(spellings: tuple[str, ...]) -> None:
    assert len({skeleton(spelling) for spelling in spellings}) == 1


def test_skeletons_keep_different_names_apart() -> None:
    assert skeleton("ivanov") != skeleton("petrov")
    assert skeleton("maria") != skeleton("mario")


def test_the_offset_map_of_a_long_text_is_compact() -> None:
    # Attachment texts run to megabytes; the map holds two offsets per folded
    # character, which as Python ints in tuples cost about 70 bytes a character.
    text = "Jürgen Müller wrote from Operator A, see https://x.example/a?b=1.\n" * 16_000
    view = normalise(text)
    assert len(view.text) > 1_000_000
    assert (sys.getsizeof(view.starts) + sys.getsizeof(view.ends)) / len(view.text) < 20
    start = view.text.index("operator a")
    assert text[slice(*view.original_span(start, start + 10))] == "Operator A"
