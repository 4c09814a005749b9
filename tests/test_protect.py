"""Issue 10: what protect.py keeps as written, case by case.

Each case of ``tests/fixtures/protection_cases.txt`` marks the spans that must be kept
between ⟦ and ⟧; every other word is prose and must stay mixable. ``benchmarks/protection.py``
turns the same cases (and Stanford Alpaca's seed tasks) into precision and recall.
"""

import importlib.util
import os

import pytest

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
    "",
])
def test_prose_has_no_protected_span(text):
    assert protected_spans(text) == []
