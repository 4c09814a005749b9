"""Issue 19, item 4: the Thai repetition mark ``ๆ`` (mai yamok).

``มากๆ`` (or ``มาก ๆ``) is ``มาก มาก``: with the Thai segmenters the word and its mark are
one word -- one draw, counted once -- written as the translation twice (``very very``),
never ``very ๆ``. The ``regex`` segmenter (the paper's plain word model) is unchanged.
"""

import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from easylm_commit import cli
from easylm_commit import mixer as mixer_module
from easylm_commit.coverage import dataset_stats
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.mixer import CodeMixer, unmix
from easylm_commit.records import read
from easylm_commit.templates import TextFormatter
from easylm_commit.transform import RecordTransform

# These need pythainlp (the [thai] extra, part of the [all] that tests/run.sh installs): they
# fail without it rather than skip, so that CI cannot pass them silently.

PAIRS = [("very", "มาก"), ("big", "ใหญ่"), ("house", "บ้าน"), ("slow", "ช้า"), ("go", "ไป"),
         ("come", "มา"), ("good", "ดี")]


def th_en(*extra):
    return BilingualDictionary.from_pairs(PAIRS + list(extra), reverse=True)


@pytest.mark.parametrize("text, mixed", [
    ("cat big มากๆ", "cat big very very"),
    ("มาก ๆ", "very very"),                      # a space before the mark, as often written
    ("บ้านใหญ่มากๆ", "house big very very"),
    ("ช้าๆ", "slow slow"),                       # pythainlp's one token for the pair
    ("ไปๆมาๆ", "go go come come"),
    ("ดีๆๆ", "good good"),                       # a doubled mark is emphasis, one repetition
    ("มาก ๆแล้ว", "very very แล้ว"),              # Thai after a spaced mark is still segmented
])
def test_a_word_and_its_repetition_mark_are_written_as_the_translation_twice(text, mixed):
    assert CodeMixer(th_en(), 1.0).mix(text) == mixed
    assert CodeMixer(th_en(), 1.0, segmenter="thai").mix(text) == mixed


@pytest.mark.parametrize("text, mixed", [
    ("ฉันๆ", "ฉันๆ"),            # a word the dictionary lacks: kept with its mark
    ("ๆมาก", "ๆ very"),           # a mark at the start of the text repeats nothing
    ("มาก\nๆ", "มาก\nๆ"),         # nor one after a line break (the pair would swallow it)
])
def test_a_mark_that_repeats_no_dictionary_word_is_kept_as_written(text, mixed):
    assert CodeMixer(th_en(), 1.0).mix(text) == mixed


def test_english_words_mixed_into_thai_repeat_nothing():
    en_th = BilingualDictionary.from_pairs([("cat", "แมว"), ("big", "ใหญ่")])
    assert CodeMixer(en_th, 1.0).mix("cat big") == "แมว ใหญ่"
    assert CodeMixer(en_th, 1.0).mix("cat ๆ") == "cat ๆ"   # ๆ after English is not Thai


def test_an_entry_for_the_pair_itself_comes_first():
    d = th_en(("extremely", "มากๆ"))
    assert CodeMixer(d, 1.0).mix("มากๆ") == "extremely"
    assert CodeMixer(d, 1.0).mix("มาก ๆ") == "extremely"


def test_a_translation_into_a_spaceless_script_is_repeated_without_a_space():
    d = BilingualDictionary.from_pairs([("มาก", "很")])
    assert CodeMixer(d, 1.0).mix("มากๆ") == "很很"


def test_the_pair_is_one_word_seen_and_one_replaced():
    mixer = CodeMixer(th_en(), 1.0)
    assert mixer.mix_counted("cat big มากๆ") == ("cat big very very", 3, 1)
    assert mixer.mix_counted("cat big มาก ๆ") == ("cat big very very", 3, 1)
    report = mixer.mix_with_report("cat big มาก ๆ")
    assert (report.words, report.covered, report.replaced) == (3, 1, 1)
    (r,) = report.replacements
    assert (r.source, r.target) == ("มาก ๆ", "very very")
    assert report.text[r.out_start:r.out_end] == "very very"
    assert unmix(report.text, report.replacements) == "cat big มาก ๆ"


def test_alpha_zero_leaves_the_text_unchanged_and_still_counts_the_pair_once():
    mixer = CodeMixer(th_en(), 0.0)
    assert mixer.mix("cat big มากๆ") == "cat big มากๆ"
    assert mixer.mix_counted("cat big มากๆ") == ("cat big มากๆ", 3, 0)
    report = mixer.mix_with_report("cat big มากๆ")
    assert (report.words, report.covered, report.replaced) == (3, 1, 0)
    assert report.kept == [(8, 12)]                       # "มากๆ", whole


def test_the_pair_takes_one_draw_whole_or_not_at_all():
    mixer = CodeMixer(th_en(), 0.5, seed=5)
    text = "มากๆ ใหญ่ ๆ"
    outcomes = [mixer.mix(text, key=(0, i)) for i in range(400)]
    assert outcomes == [mixer.mix(text, key=(0, i)) for i in range(400)]   # same seed, same key
    # Each pair is translated whole or kept whole, never "very ๆ", and the two pairs draw
    # independently.
    assert set(outcomes) == {f"{a} {b}" for a in ("very very", "มากๆ")
                             for b in ("big big", "ใหญ่ ๆ")}
    replaced = sum(o.startswith("very very") for o in outcomes)
    assert abs(replaced - 200) < 5 * math.sqrt(400 * 0.25)


# Thai dictionary words, a word the dictionary lacks, and English.
VOCAB = ["มาก", "ใหญ่", "บ้าน", "ดี", "ฉัน", "cat", "the"]


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.tuples(st.sampled_from(VOCAB), st.sampled_from(["", "ๆ", " ๆ"])),
                      max_size=12),
       alpha=st.sampled_from([0.3, 0.5, 1.0]), seed=st.integers(0, 2**32))
def test_marking_a_word_changes_that_word_and_nothing_else(words, alpha, seed):
    """Same draws with and without the marks: every other word mixes exactly as before, and
    a marked word is replaced exactly when it would have been, by its translation twice."""
    mixer = CodeMixer(th_en(), alpha, seed=seed)
    plain = " ".join(w for w, _ in words)
    marked = " ".join(w + (m if w != "cat" and w != "the" else "") for w, m in words)
    a = mixer.mix_with_report(plain, key=(1, "x"))
    b = mixer.mix_with_report(marked, key=(1, "x"))
    assert (a.words, a.covered, a.replaced) == (b.words, b.covered, b.replaced)
    for ra, rb in zip(a.replacements, b.replacements):
        if rb.source.endswith("ๆ"):
            assert rb.target == f"{ra.target} {ra.target}"
        else:
            assert rb.target == ra.target
    assert unmix(b.text, b.replacements) == marked
    assert not re.search(r"[a-z]\s*ๆ", b.text)


def test_without_pythainlp_the_spaced_mark_still_joins_its_word(monkeypatch):
    monkeypatch.setattr(mixer_module, "_load_thai_tokenizer", lambda required: None)
    monkeypatch.setattr(mixer_module, "_warned_no_thai", True)     # said elsewhere
    mixer = CodeMixer(th_en(), 1.0)
    assert mixer.mix("มาก ๆ") == mixer.mix("มากๆ") == "very very"
    assert mixer.mix_counted("ใหญ่มาก ๆ") == ("ใหญ่มาก ๆ", 1, 0)   # an unsegmented run


def test_the_regex_segmenter_is_the_plain_word_model_as_before():
    mixer = CodeMixer(th_en(), 1.0, segmenter="regex")
    assert mixer.mix("cat big มากๆ") == "cat big มากๆ"      # one unknown word
    assert mixer.mix_counted("cat big มากๆ") == ("cat big มากๆ", 3, 0)
    assert mixer.mix("มาก ๆ") == "very ๆ"                   # two words; the mark is not one


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "en-th.txt"
    d.write_text("very มาก\ncat แมว\n", encoding="utf-8")
    data = tmp_path / "corpus.jsonl"
    data.write_text(json.dumps({"text": "แมวใหญ่มากๆ"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return d, data


def test_stats_count_the_pair_once(corpus, capsys):
    d, data = corpus
    assert cli.main(["stats", "--quiet", "--dictionary", str(d), "--reverse-dictionary",
                     "--text-field", "text", "--alpha", "1", "--input", str(data), "--json"]) == 0
    text = json.loads(capsys.readouterr().out)["fields"]["text"]
    # แมว, ใหญ่, มากๆ: three words, two in the dictionary, both replaced.
    assert (text["words"], text["covered"], text["replaced"]) == (3, 2, 2)
    assert text["top_uncovered"] == [["ใหญ่", 1]]
    mixer = CodeMixer(BilingualDictionary.load(d, reverse=True), 1.0)
    stats = dataset_stats(read(data), RecordTransform(TextFormatter(mixer, "text")))
    assert (stats.total.words, stats.total.covered, stats.total.replaced) == (3, 2, 2)


def test_preview_marks_the_pair_as_one_target(corpus, tmp_path):
    d, data = corpus
    out = tmp_path / "preview.html"
    assert cli.main(["preview", "--quiet", "--dictionary", str(d), "--reverse-dictionary",
                     "--text-field", "text", "--alpha", "1", "--input", str(data),
                     "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    # "แมวใหญ่มากๆ" -> "cat ใหญ่ very very": the pair is one span (padded in Thai text).
    assert '<span class="target">cat </span>ใหญ่<span class="target"> very very</span>' in page
