"""``easylm-commit stats`` and ``easylm_commit.coverage``: numbers checked by hand."""

import json
import math
import subprocess
import sys

import pytest

from easylm_commit import cli, demo
from easylm_commit.coverage import CoverageCounter, dataset_stats, token_stats
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.mixer import CodeMixer
from easylm_commit.records import read
from easylm_commit.templates import Formatter, TextFormatter
from easylm_commit.transform import RecordTransform

TINY_DICTIONARY = "cat बिल्ली\nis है\na एक\n"
TINY_RECORD = {"instruction": "The cat is a cat.", "input": "", "output": "A dog."}


@pytest.fixture
def tiny(tmp_path):
    d = tmp_path / "tiny-en-hi.txt"
    d.write_text(TINY_DICTIONARY, encoding="utf-8")
    data = tmp_path / "tiny.jsonl"
    data.write_text(json.dumps(TINY_RECORD) + "\n", encoding="utf-8")
    return str(d), str(data)


def _stats(tiny, alpha, mode="commit", tokenizer=None, **kw):
    d, data = tiny
    mixer = CodeMixer(BilingualDictionary.load(d), alpha)
    return dataset_stats(read(data), RecordTransform(Formatter(mixer, mode=mode), tokenizer), **kw)


def test_coverage_of_a_hand_computed_example(tiny):
    s = _stats(tiny, alpha=0.5)
    f = s.fields
    # "The cat is a cat.": The, cat, is, a, cat -> 5 words, 4 in the dictionary.
    assert (f["instruction"].words, f["instruction"].covered) == (5, 4)
    assert f["instruction"].coverage == pytest.approx(0.8)
    assert f["instruction"].expected_mixing_rate(0.5) == pytest.approx(0.4)
    assert f["instruction"].uncovered.most_common() == [("the", 1)]
    # Empty input: no words. "A dog.": A covered, dog not.
    assert (f["input"].words, f["input"].covered) == (0, 0)
    assert (f["output"].words, f["output"].covered) == (2, 1)
    assert f["output"].uncovered.most_common() == [("dog", 1)]
    assert (s.total.words, s.total.covered) == (7, 5)
    assert s.as_dict()["all"]["expected_mixing_rate"] == pytest.approx(0.5 * 5 / 7)
    assert s.records == 1 and s.tokens is None and s.as_dict()["steps_per_epoch"] is None


def test_observed_rate_is_what_the_mixer_replaced(tiny):
    assert _stats(tiny, alpha=1.0).total.replaced == 5      # every covered word
    assert _stats(tiny, alpha=0.0).total.replaced == 0
    none = _stats(tiny, alpha=0.9, mode="none")
    assert none.total.replaced == 0 and none.total.covered == 5
    assert none.as_dict()["all"]["expected_mixing_rate"] == 0.0  # none mode mixes nothing
    # At 0.5, the count is the sum of the formatter's own reports.
    d, data = tiny
    mixer = CodeMixer(BilingualDictionary.load(d), 0.5, seed=7)
    sample = Formatter(mixer).format(TINY_RECORD, (0, 0), report=True)
    stats = dataset_stats(read(data), RecordTransform(Formatter(mixer)))
    assert stats.total.replaced == sum(r.replaced for r in sample.reports.values())


def test_identity_pairs_are_counted_apart_from_replaced_words(tmp_path, capsys):
    # "1 1" (MUSE holds thousands of such pairs): drawn at alpha 1, but "1" is written as it
    # was, so it is not mixed; the table says how many such words there were.
    d = tmp_path / "en-hi.txt"
    d.write_text("add जोड़ें\n1 1\n2 2\n", encoding="utf-8")
    data = tmp_path / "sums.jsonl"
    data.write_text(json.dumps({"instruction": "Add 1 and 1.", "input": "", "output": "2"}) + "\n",
                    encoding="utf-8")
    s = dataset_stats(read(data), RecordTransform(Formatter(CodeMixer(BilingualDictionary.load(str(d)), 1.0))))
    assert (s.total.words, s.total.covered, s.total.replaced, s.total.identical) == (5, 4, 1, 3)
    assert s.as_dict()["all"]["observed_mixing_rate"] == pytest.approx(1 / 5)
    assert s.as_dict()["all"]["identical_rate"] == pytest.approx(3 / 5)
    assert s.as_dict()["fields"]["output"]["identical"] == 1
    assert cli.main(["stats", "--dictionary", str(d), "--input", str(data), "--alpha", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Not counted as mixed: 3 word(s) (60.0%) drawn but written as themselves" in out


def test_naive_mode_counts_the_template_words(tiny):
    s = _stats(tiny, alpha=1.0, mode="naive")
    # The no-input template: "Below is an instruction that describes a task. Write a response
    # that appropriately completes the request." (16 words) and the headers "Instruction",
    # "Response". The tiny dictionary covers "is" and the two "a".
    assert s.fields["template"].words == 18
    assert s.fields["template"].covered == s.fields["template"].replaced == 3


def test_token_stats_by_hand():
    t = token_stats([10, 20, 35], batch_size=2, seq_length=8)
    assert (t.records, t.total_tokens, t.max) == (3, 65, 35)
    assert t.mean == pytest.approx(65 / 3) and t.median == 20
    assert t.steps_per_epoch == 5          # ceil(65 / 16)
    assert t.longer_than_seq == 3


class WordTokenizer:
    """One token per whitespace-separated piece; BOS 1, EOS 2."""
    bos_token_id, eos_token_id = 1, 2

    def __call__(self, texts, add_special_tokens=False):
        assert not add_special_tokens
        return {"input_ids": [[5] * len(t.split()) for t in texts]}


def test_tokens_per_epoch_for_a_corpus_by_hand(tmp_path):
    data = tmp_path / "corpus.jsonl"
    data.write_text('{"text": "a b c"}\n{"text": "d e"}\n', encoding="utf-8")
    mixer = CodeMixer(BilingualDictionary.from_pairs([("a", "x")]), 0.0)
    s = dataset_stats(read(data), RecordTransform(TextFormatter(mixer, "text"), WordTokenizer()),
                      batch_size=1, seq_length=4)
    # BOS + 3 + EOS and BOS + 2 + EOS.
    assert (s.tokens.total_tokens, s.tokens.max, s.tokens.median) == (9, 5, 4.5)
    assert s.tokens.steps_per_epoch == 3   # ceil(9 / 4)
    assert s.as_dict()["steps_per_epoch"] == 3


def test_tokens_are_counted_on_the_mixed_formatted_sample(tiny):
    d, _ = tiny
    mixer = CodeMixer(BilingualDictionary.load(d), 1.0)
    s = _stats(tiny, alpha=1.0, tokenizer=WordTokenizer(), batch_size=1, seq_length=1000)
    sample = Formatter(mixer).format(TINY_RECORD, (0, 0))
    assert "बिल्ली" in sample.prompt
    assert s.tokens.total_tokens == 1 + len(sample.prompt.split()) + len(sample.response.split()) + 1


@pytest.mark.parametrize("mode", ["commit", "naive", "none"])
def test_stats_mix_each_field_once(tiny, mode, monkeypatch):
    """Coverage, replaced and identical words all come from the one report of each field
    (at alpha 0 where the mode mixes nothing): no second pass of the mixer over the data."""
    calls = []
    report = CodeMixer.mix_with_report
    monkeypatch.setattr(CodeMixer, "mix_with_report",
                        lambda self, text, key=(): calls.append(key) or report(self, text, key))
    s = _stats(tiny, alpha=0.5, mode=mode)
    fields = [k for k in calls if k and k[-1] in ("instruction", "input", "output")]
    assert sorted(fields) == [(0, 0, "input"), (0, 0, "instruction"), (0, 0, "output")]
    template = [k for k in calls if k not in fields]
    pieces = [literal for literal, _ in Formatter(mode="none").template.pieces_no_input if literal]
    assert len(template) == (len(pieces) if mode == "naive" else 0)
    assert set(s.fields) == {"instruction", "input", "output"} | ({"template"} if mode == "naive" else set())


def test_coverage_counter_uses_the_mixers_words():
    d = BilingualDictionary.from_pairs([("हैं", "are")])
    counter = CoverageCounter(d)
    counter.add("text", "वे यहाँ हैं।")  # vowel signs are part of words
    assert (counter.total().words, counter.total().covered) == (3, 1)


def test_cli_json_on_the_tiny_example(tiny, capsys):
    d, data = tiny
    assert cli.main(["stats", "--dictionary", d, "--input", data, "--alpha", "0.5", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["fields"]["instruction"]["coverage"] == pytest.approx(0.8)
    assert r["fields"]["output"]["top_uncovered"] == [["dog", 1]]
    assert r["all"]["expected_mixing_rate"] == pytest.approx(0.5 * 5 / 7)
    assert r["steps_per_epoch"] is None and r["dictionary_stats"]["pairs"] == 3


def test_cli_demo_with_a_tokenizer(llama_tokenizer_dir, capsys):
    argv = ["stats", "--demo", "--tokenizer", llama_tokenizer_dir,
            "--batch-size", "4", "--seq-length", "64", "--json"]
    assert cli.main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["records"] == 50 and set(r["fields"]) == {"instruction", "input", "output"}
    assert r["fields"]["instruction"]["coverage"] > 0.9
    t = r["tokens"]
    assert t["records"] == 50
    assert r["steps_per_epoch"] == t["steps_per_epoch"] == math.ceil(t["total_tokens"] / (4 * 64))
    # Independently: BOS + prompt + response + EOS of each mixed sample.
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    formatter = Formatter(CodeMixer(BilingualDictionary.load(demo.DEMO_DICTIONARY), 0.9))
    total = 0
    for item in read(demo.DEMO_INSTRUCTIONS):
        s = formatter.format(item.record, (0, item.row))
        total += 2 + len(tok(s.prompt, add_special_tokens=False)["input_ids"]) \
            + len(tok(s.response, add_special_tokens=False)["input_ids"])
    assert t["total_tokens"] == total


def test_cli_table_output(capsys):
    assert cli.main(["stats", "--demo", "--text-field", "text", "--alpha", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "Dictionary coverage" in out and "Most frequent uncovered words" in out
    assert "72 records" in out and "(reversed)" in out


def test_piped_output_keeps_every_name_and_header_whole(capsys, monkeypatch):
    # Not a terminal (a pipe, a log): rich used to fit the table into 80 columns and cut the
    # field names ("instruct…") and the first line.
    monkeypatch.delenv("COLUMNS", raising=False)
    assert cli.main(["stats", "--demo", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert "│ instruction │" in out
    assert "expected mixed (alpha x cov.)" in out and "mixed at seed 0, epoch 0" in out
    assert out.splitlines()[0].endswith("0 malformed line(s) skipped")


@pytest.mark.parametrize("argv, message", [
    (["--demo", "--input", "{bad}", "--strict"], "bad.jsonl:2: invalid JSON line"),
    (["--demo", "--alpha", "-0.1"], "--alpha must be in [0, 1]"),
    (["--dictionary", "{missing}", "--input", "{bad}"], "missing.txt: dictionary file not found"),
    (["--input", "{bad}"], "--dictionary is required"),
    (["--demo", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["--demo", "--tokenizer", "{missing}"], "--tokenizer"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "Hi", "input": "", "output": "Hello"}\n{"instruction": \n')
    paths = {"missing": str(tmp_path / "missing.txt"), "bad": str(bad)}
    assert cli.main(["stats", *[a.format(**paths) for a in argv]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("easylm-commit stats: error: ") and message in err
    assert err.count("\n") == 1


def test_subprocess_exit_status_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "easylm_commit.cli", "stats", "--demo", "--alpha", "2", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "easylm-commit stats: error: --alpha must be in [0, 1], got 2.0"]
