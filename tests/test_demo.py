"""The embedded demo data (``--demo``): a usable dictionary, valid records, a Hindi corpus
that the reversed dictionary covers."""

import json
import os

import regex

from easylm_commit import demo
from easylm_commit.coverage import CoverageCounter
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.mixer import CodeMixer
from easylm_commit.records import read_records
from easylm_commit.templates import Formatter, Template

DEVANAGARI = regex.compile(r"^[\p{Devanagari}]+$")


def _dictionary(**kw):
    return BilingualDictionary.load(demo.DEMO_DICTIONARY, **kw)


def _demo_records():
    return read_records(demo.DEMO_INSTRUCTIONS)


def test_paths_are_files_inside_the_package():
    for path in (demo.DEMO_DICTIONARY, demo.DEMO_INSTRUCTIONS, demo.DEMO_CORPUS):
        assert isinstance(path, str) and os.path.isfile(path)
        assert os.path.dirname(path) == os.path.dirname(demo.__file__)


def test_dictionary_is_muse_format_english_to_hindi_with_a_few_phrase_lines():
    d = _dictionary()
    stats = d.stats()
    assert stats.pairs >= 400 and stats.skipped_lines == 0
    assert stats.mean_translations > 1.0  # some words have several translations, one per line
    with open(demo.DEMO_DICTIONARY, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == len(set(lines)), "duplicate pairs"
    identical = 0
    # Phrase lines (issue 22): English words, a tab, Hindi with spaces allowed.
    phrases = [line.split("\t") for line in lines if "\t" in line]
    for source, target in phrases:
        assert regex.match(r"^[A-Za-z]+( [A-Za-z]+)+$", source), source
        assert regex.match(r"^[\p{Devanagari}]+( [\p{Devanagari}]+)*$", target), target
    assert stats.phrases == len(phrases) >= 5
    for line in lines:
        if "\t" in line:
            continue
        source, target = line.split(" ")
        assert source == source.lower() and regex.match(r"^[a-z0-9-]+$", source), line
        if source == target:
            identical += 1  # numbers, as MUSE has them
            assert source.isdigit(), line
        else:
            assert DEVANAGARI.match(target), line
    assert identical >= 3
    assert d.lookup("1") == ("1",)
    assert d.lookup("Water") == ("पानी", "जल")


def test_dictionary_covers_every_word_of_the_alpaca_template():
    mixer = CodeMixer(_dictionary(), alpha=1.0)
    template = Template.load("en")
    literal = "".join(text for pieces in (template.pieces_input, template.pieces_no_input)
                      for text, _ in pieces)
    report = mixer.mix_with_report(literal)
    assert report.words >= 40  # Below ... request, twice, and the three headers
    assert report.covered == report.words
    assert not regex.search(r"[A-Za-z]", report.text), report.text  # alpha 1: all replaced


def test_records_are_valid_alpaca_and_mostly_covered():
    records = _demo_records()
    assert 40 <= len(records) <= 60
    formatter = Formatter(mode="none")
    for record in records:
        assert set(record) == {"instruction", "input", "output"}
        formatter.format(record)  # raises InvalidRecord on a bad one
    with_input = sum(1 for r in records if r["input"])
    assert 0.35 <= with_input / len(records) <= 0.65
    counter = CoverageCounter(_dictionary())
    for r in records:
        for field in ("instruction", "input", "output"):
            counter.add(field, r[field])
    assert counter.total().coverage > 0.9


def test_records_include_extractive_qa():
    qa = [r for r in _demo_records() if "Question:" in r["input"] and r["input"].startswith("Context:")]
    assert len(qa) >= 5
    for r in qa:
        # Extractive: the answer (less a final full stop) is a span of the context.
        assert r["output"].rstrip(".").lower() in r["input"].lower(), r


def test_corpus_is_hindi_jsonl_covered_by_the_reversed_dictionary():
    with open(demo.DEMO_CORPUS, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert 60 <= len(rows) <= 100
    for row in rows:
        assert set(row) == {"text"} and regex.search(r"\p{Devanagari}", row["text"])
    counter = CoverageCounter(_dictionary(reverse=True))
    for row in rows:
        counter.add("text", row["text"])
    assert counter.total().coverage > 0.3
