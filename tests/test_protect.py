"""Issue 10: what protect.py keeps as written, case by case.

Each case of ``tests/fixtures/protection_cases.txt`` marks the spans that must be kept
between ⟦ and ⟧; every other word is prose and must stay mixable. ``benchmarks/protection.py``
turns the same cases (and Stanford Alpaca's seed tasks) into precision and recall.
"""

import importlib.util
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from easylm_commit import protect
from easylm_commit.protect import CODE, EMAIL, IDENTIFIER, URL, protected_spans

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "protection_benchmark", os.path.join(HERE, "..", "benchmarks", "protection.py"))
protection = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(protection)

CASES = protection.parse_cases()


@pytest.mark.parametrize("text, gold", CASES, ids=[f"case{i + 1}" for i in range(len(CASES))])
def test_exactly_the_marked_words_are_protected(text, gold):
    tp, predicted, labelled = protection.word_counts(text, gold)
    assert (tp, predicted) == (labelled, labelled), (
        [text[s:e] for s, e, _ in protected_spans(text)], [text[s:e] for s, e in gold])


def test_the_cases_score_perfectly_as_a_whole():
    r = protection.score([(str(i), t, g) for i, (t, g) in enumerate(CASES)])
    assert r["gold_words"] > 100 and (r["precision"], r["recall"]) == (1.0, 1.0)


@pytest.mark.parametrize("text, kind", [
    ("see https://example.com/a_b?x=1#top.", URL),
    ("mail me at a.b-c@example.co.uk", EMAIL),
    ("the snake_case name", IDENTIFIER),
    ("use getElementById here", IDENTIFIER),
    ("call os.path.join now", IDENTIFIER),
    ("then print(value) it", IDENTIFIER),
    ("run `make test` first", CODE),
])
def test_each_kind_of_span(text, kind):
    (span,) = protected_spans(text)
    assert span[2] == kind


def test_a_url_leaves_the_sentence_punctuation_outside():
    text = "Go to https://example.com/page. Then (see https://en.wikipedia.org/wiki/Python_(language))."
    urls = [text[s:e] for s, e, k in protected_spans(text) if k == URL]
    assert urls == ["https://example.com/page", "https://en.wikipedia.org/wiki/Python_(language)"]


@pytest.mark.parametrize("text", [
    "The cat sat on the mat. It was a sunny day, and the birds sang.",
    "Answer: yes. Reason: the sky is blue.",
    "e.g. the U.S. economy grew by 3% in 2021 (see above).",
    "For each entity, you should output the page title, or output None.",
    "iPhone, eBay and McDonald are names, not identifiers.",
    "i, i, i, i; ",                            # punctuation-dense prose (found by hypothesis)
    "|6|1|4|9|\n|8|  |3|",                       # a grid of one symbol
    "",
])
def test_prose_has_no_protected_span(text):
    assert protected_spans(text) == []


# The cheap checks that let plain prose skip the span rules: each is one regex in protect.py
# (the definition) and a faster evaluation of it, which must give the same answer.
_HINT_PIECES = list("aAzZrRuUwé0_. \t\n/:@<([{`~\\^|$;=#*)}]") + [
    "\u0915\u093c", "ww", "www.", "def", "for ", "import", "SELECT", "pip", ") :", "r/x", "u/"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_HINT_PIECES), max_size=10).map("".join))
def test_the_fast_hints_answer_as_their_regexes(text):
    assert protect.inline_hint(text) == bool(protect._INLINE_HINT.search(text))
    assert protect.line_hint(text) == bool(protect._LINE_HINT.search(text))


def test_the_fast_hints_answer_as_their_regexes_on_the_cases():
    for text, _ in CASES:
        for line in [text] + text.split("\n"):
            assert protect.inline_hint(line) == bool(protect._INLINE_HINT.search(line)), line
            assert protect.line_hint(line) == bool(protect._LINE_HINT.search(line)), line


_SCAN_PIECES = list("aAbCzZ019:./\n _@<>()[]{},`~$^|\\") + [
    "://", "http", "www.", "~~~\n", "```\n", "ab1C", "r/ab", "/u/xy", "e.g.", "x.y", "f(x)",
    "a_b", "<b>", "[1, 2]", "{a: 1}", "Note:", "the following:\n"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_SCAN_PIECES), max_size=12).map("".join))
def test_the_inline_rules_are_skipped_only_where_they_cannot_match(text):
    needed = protect.inline_scan_needed(text)
    assert not needed or protect.inline_hint(text)
    if protect.inline_hint(text) and protect._INLINE.search(text):
        assert needed


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_SCAN_PIECES + _HINT_PIECES), max_size=12).map("".join))
def test_no_hint_is_neither_hint(text):
    assert protect.no_hint(text) == (not protect.line_hint(text) and not protect.inline_scan_needed(text))


def test_no_hint_scans_for_every_character_of_both_classes():
    for c in map(chr, range(0x10000)):
        either = protect._LINE_HINT_CHARS.search(c) or protect._HINT_CHARS_BUT_COLON.search(c)
        assert bool(protect._ANY_HINT_CHARS.search(c)) == bool(either), repr(c)


def test_a_colon_alone_does_not_start_the_inline_rules():
    assert protect.inline_hint("Classify the following: apples, pears.")
    assert not protect.inline_scan_needed("Classify the following: apples, pears.")
    for text in ("See http://localhost now:", "Run:\n~~~\nls\n~~~", "Call ab1Cd: now"):
        assert protect.inline_scan_needed(text) and protected_spans(text)
