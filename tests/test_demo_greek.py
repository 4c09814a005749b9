"""The embedded Greek demo, the second demo language (issue 21: a run over several languages
works offline): an English->Greek dictionary that covers the Alpaca template and the demo
records, a Greek corpus that the reversed dictionary covers, and Greek extractive QA over it."""

import json
import os
import unicodedata

import regex

from easylm_commit import demo
from easylm_commit.coverage import CoverageCounter
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.eval.data import load_records
from easylm_commit.mixer import CodeMixer
from easylm_commit.records import read
from easylm_commit.templates import Template

GREEK_WORD = regex.compile(r"^\p{Greek}+$")
QA_FILE = os.path.join(demo.DEMO_QA, "xquad_el.jsonl")


def _dictionary(**kw):
    return BilingualDictionary.load(demo.DEMO_DICTIONARY_EL, **kw)


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def _corpus():
    return [json.loads(line)["text"] for line in _lines(demo.DEMO_CORPUS_EL)]


def _qa():
    return [json.loads(line) for line in _lines(QA_FILE)]


def test_paths_are_files_inside_the_package():
    for path in (demo.DEMO_DICTIONARY_EL, demo.DEMO_CORPUS_EL, QA_FILE):
        assert os.path.isfile(path)
    assert os.path.dirname(demo.DEMO_DICTIONARY_EL) == os.path.dirname(demo.__file__)
    assert os.path.dirname(demo.DEMO_CORPUS_EL) == os.path.dirname(demo.__file__)


def test_every_file_is_nfc():
    # The dictionary compares in NFC anyway; the files are NFC so that they read as they match.
    for path in (demo.DEMO_DICTIONARY_EL, demo.DEMO_CORPUS_EL, QA_FILE):
        text = open(path, encoding="utf-8").read()
        assert unicodedata.normalize("NFC", text) == text, path


def test_dictionary_is_muse_format_english_to_greek_with_a_few_phrase_lines():
    d = _dictionary()
    stats = d.stats()
    assert 600 <= stats.pairs <= 1200 and stats.skipped_lines == 0
    assert stats.mean_translations > 1.0  # several translations of a source, one per line
    lines = _lines(demo.DEMO_DICTIONARY_EL)
    assert len(lines) == len(set(lines)), "duplicate pairs"
    phrases = [line.split("\t") for line in lines if "\t" in line]
    for source, target in phrases:
        assert regex.match(r"^[A-Za-z]+( [A-Za-z]+)+$", source), source
        assert regex.match(r"^\p{Greek}+( \p{Greek}+)*$", target), target
    assert stats.phrases == len(phrases) and 3 <= len(phrases) <= 5
    identical = 0
    for line in lines:
        if "\t" in line:
            continue
        source, target = line.split(" ")
        assert regex.match(r"^[a-z0-9-]+$", source), line
        if source == target:
            identical += 1  # numbers, as MUSE has them
            assert source.isdigit(), line
        else:
            assert GREEK_WORD.match(target) and target == target.lower(), line
    assert identical >= 3
    assert d.lookup("1") == ("1",)
    assert d.lookup("Water") == ("νερό",)
    assert d.lookup("the")[:3] == ("ο", "η", "το")


def test_dictionary_covers_every_word_of_the_alpaca_template():
    mixer = CodeMixer(_dictionary(), alpha=1.0)
    template = Template.load("en")
    literal = "".join(text for pieces in (template.pieces_input, template.pieces_no_input)
                      for text, _ in pieces)
    report = mixer.mix_with_report(literal)
    assert report.words >= 40
    assert report.covered == report.words
    assert not regex.search(r"[A-Za-z]", report.text), report.text  # alpha 1: all replaced


def test_dictionary_covers_the_english_demo_records():
    counter = CoverageCounter(_dictionary())
    for item in read(demo.DEMO_INSTRUCTIONS):
        for field in ("instruction", "input", "output"):
            counter.add(field, item.record[field])
    # The issue asks for half; the file is made to cover nearly all of it.
    assert counter.total().coverage > 0.9


def test_corpus_is_greek_jsonl_of_short_paragraphs():
    rows = [json.loads(line) for line in _lines(demo.DEMO_CORPUS_EL)]
    assert 35 <= len(rows) <= 50
    for row in rows:
        assert set(row) == {"text"}
        sentences = regex.findall(r"[^.;!]+[.;!]", row["text"])
        assert 2 <= len(sentences) <= 4, row
        letters = regex.findall(r"\p{L}", row["text"])
        greek = [c for c in letters if regex.match(r"\p{Greek}", c)]
        assert len(greek) == len(letters), row  # no Latin words in it
    assert len(set(json.dumps(r, ensure_ascii=False) for r in rows)) == len(rows)


def test_corpus_is_covered_by_the_reversed_dictionary():
    counter = CoverageCounter(_dictionary(reverse=True))
    for text in _corpus():
        counter.add("text", text)
    total = counter.total()
    assert total.words > 900
    # The issue asks for 60% of the word tokens; every inflected form has its own line.
    assert total.coverage > 0.9, total.uncovered.most_common(20)


def test_fully_mixed_corpus_is_english():
    # Alpha 1 over the reversed dictionary: what the alignment phase would train on at most.
    mixer = CodeMixer(_dictionary(reverse=True), alpha=1.0, seed=0)
    mixed = " ".join(mixer.mix(text) for text in _corpus())
    words = regex.findall(r"\p{L}+", mixed)
    greek = [w for w in words if regex.match(r"\p{Greek}", w)]
    assert len(greek) < 0.1 * len(words), greek[:20]
    assert "Mediterranean Sea" in mixed  # a phrase line, matched over two words


def test_qa_items_are_extractive_over_the_corpus_in_the_xquad_layout():
    items = _qa()
    hindi = [json.loads(line) for line in _lines(os.path.join(demo.DEMO_QA, "xquad_hi.jsonl"))]
    assert 8 <= len(items) <= 10
    corpus = set(_corpus())
    for item in items:
        assert set(item) == set(hindi[0]) and set(item["answers"]) == set(hindi[0]["answers"])
        assert item["context"] in corpus
        assert item["question"].endswith(";")  # the Greek question mark, U+037E's NFC form
        assert item["answers"]["text"]
        for answer in item["answers"]["text"]:
            assert answer in item["context"], (answer, item["context"])
    assert len({item["id"] for item in items}) == len(items)


def test_eval_reads_the_greek_set_from_the_demo_folder():
    records = load_records("xquad", "el", local_data=demo.DEMO_QA)
    assert [r["id"] for r in records] == [item["id"] for item in _qa()]
    assert all(r["lang"] == "el" and r["answers"]["text"] for r in records)
