"""``easylm-commit preview``: Figure-1 colouring that agrees with the mixer."""

import html.parser
import json
import os
import subprocess
import sys

import pytest

from easylm_commit import cli, demo
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.mixer import CodeMixer
from easylm_commit.records import read
from easylm_commit.templates import Formatter, Template


class SampleParser(html.parser.HTMLParser):
    """Collects, per ``div.sample``, its spans as (classes, text) and its whole text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.samples = []
        self._depth = 0      # div nesting inside the current sample
        self._span = None

    def handle_starttag(self, tag, attrs):
        classes = tuple((dict(attrs).get("class") or "").split())
        if tag == "div" and "sample" in classes:
            self.samples.append({"spans": [], "text": ""})
            self._depth = 1
        elif tag == "div" and self._depth:
            self._depth += 1
        elif tag == "span" and self._depth:
            self._span = [classes, ""]

    def handle_endtag(self, tag):
        if tag == "span" and self._span is not None:
            self.samples[-1]["spans"].append(tuple(self._span))
            self._span = None
        elif tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.samples[-1]["text"] += data
            if self._span is not None:
                self._span[1] += data


def _records(path):
    return [item.record for item in read(path)]


def parse(path):
    parser = SampleParser()
    with open(path, encoding="utf-8") as f:
        parser.feed(f.read())
    return parser.samples


def texts(sample, cls):
    return [text for classes, text in sample["spans"] if cls in classes]


def run_cli(*argv):
    return cli.main(["preview", "--quiet", *argv])


@pytest.fixture(scope="module")
def demo_dictionary():
    return BilingualDictionary.load(demo.DEMO_DICTIONARY)


def test_html_target_spans_are_the_mixers_replacements(tmp_path, demo_dictionary):
    out = tmp_path / "preview.html"
    assert run_cli("--demo", "-n", "6", "--seed", "3", "--html", str(out)) == 0
    samples = parse(out)
    assert len(samples) == 6
    records = _records(demo.DEMO_INSTRUCTIONS)
    # The mixer on its own, with the training key (epoch 0, record index, field).
    mixer = CodeMixer(demo_dictionary, 0.9, seed=3)
    for i, sample in enumerate(samples):
        expected_targets, expected_kept = [], []
        for field in ("instruction", "input", "output"):
            if not records[i][field]:
                continue
            report = mixer.mix_with_report(records[i][field], (0, i, field))
            expected_targets += [r.target for r in report.replacements if r.source != r.target]
            # A word an identity pair wrote as itself ("1" -> "1") was kept, not replaced.
            kept = report.kept + [(r.out_start, r.out_end) for r in report.replacements
                                  if r.source == r.target]
            expected_kept += [report.text[a:b] for a, b in sorted(kept)]
        assert texts(sample, "target") == expected_targets
        assert texts(sample, "replaceable") == expected_kept
        assert expected_targets  # the demo data is well covered


def test_html_is_exactly_the_training_text_and_template_is_grey(tmp_path, demo_dictionary):
    out = tmp_path / "preview.html"
    assert run_cli("--demo", "-n", "4", "--html", str(out)) == 0
    samples = parse(out)
    records = _records(demo.DEMO_INSTRUCTIONS)[:4]
    assert any(r["input"] for r in records) and any(not r["input"] for r in records)
    formatter = Formatter(CodeMixer(demo_dictionary, 0.9), mode="commit")
    template = Template.load("en")
    for i, (sample, record) in enumerate(zip(samples, records)):
        formatted = formatter.format(record, (0, i))
        assert sample["text"] == formatted.prompt + formatted.response
        pieces = template.pieces_input if record["input"] else template.pieces_no_input
        assert "".join(texts(sample, "template")) == "".join(text for text, _ in pieces)
        assert not any("target" in c for c, _ in sample["spans"] if "template" in c)


def test_naive_mode_mixes_the_template_and_none_mode_mixes_nothing(tmp_path):
    naive, none = tmp_path / "naive.html", tmp_path / "none.html"
    assert run_cli("--demo", "-n", "2", "--mode", "naive", "--html", str(naive)) == 0
    assert run_cli("--demo", "-n", "2", "--mode", "none", "--html", str(none)) == 0
    english = "".join(text for text, _ in Template.load("en").pieces_no_input)
    for sample in parse(naive):
        template_targets = [t for c, t in sample["spans"] if {"template", "target"} <= set(c)]
        assert template_targets
        assert "".join(texts(sample, "template")) != english
    records = _records(demo.DEMO_INSTRUCTIONS)
    for i, sample in enumerate(parse(none)):
        assert texts(sample, "target") == []
        assert texts(sample, "replaceable")  # covered words are still shown
        formatted = Formatter(mode="none").format(records[i])
        assert sample["text"] == formatted.prompt + formatted.response


def test_corpus_preview_mixes_hindi_into_english(tmp_path, demo_dictionary):
    out = tmp_path / "corpus.html"
    assert run_cli("--demo", "--text-field", "text", "--alpha", "0.5", "-n", "3", "--offset", "5",
                   "--html", str(out)) == 0
    samples = parse(out)
    rows = _records(demo.DEMO_CORPUS)
    mixer = CodeMixer(demo_dictionary.reversed(), 0.5)
    assert len(samples) == 3
    for i, sample in zip(range(5, 8), samples):
        report = mixer.mix_with_report(rows[i]["text"], (0, i, "text"))
        assert sample["text"] == report.text
        assert texts(sample, "target") == [r.target for r in report.replacements
                                           if r.source != r.target]
        assert texts(sample, "template") == []


def test_html_escapes_record_text(tmp_path):
    data = tmp_path / "data.jsonl"
    evil = '<script>alert("x")</script> & <b>bold</b>'
    data.write_text(json.dumps({"instruction": evil, "input": "", "output": "a </div> b"}) + "\n")
    out = tmp_path / "p.html"
    # mode none: the text reaches the page unmixed, so it can be compared verbatim.
    assert run_cli("--demo", "--mode", "none", "--input", str(data), "--html", str(out)) == 0
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "<b>" not in page
    [sample] = parse(out)
    assert evil in sample["text"] and "a </div> b" in sample["text"]


def test_terminal_output(capsys):
    assert cli.main(["preview", "--demo", "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert "### Instruction:" in out
    assert "alpaca_demo.json:record 1" in out and "alpaca_demo.json:record 2" in out
    assert "alpaca_demo.json:record 3" not in out


@pytest.mark.parametrize("argv, message", [
    (["--demo", "--input", "{missing}"], "missing.json: file not found"),
    (["--demo", "--input", "{bad}", "--strict"], "bad.jsonl:2: invalid JSON line"),
    (["--demo", "--alpha", "1.5"], "--alpha must be in [0, 1]"),
    (["--demo", "-n", "0"], "-n/--num-samples must be at least 1"),
    (["--demo", "--mode", "mixed"], "--mode: unknown mode 'mixed'"),
    (["--dictionary", "{missing}", "--input", "{bad}"], "missing.json: dictionary file not found"),
    (["--demo", "--input", "{bad}", "--offset", "0", "--strict", "-n", "1", "--text-field", "nope"],
     "bad.jsonl:1: field 'nope' is missing"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "Hi", "input": "", "output": "Hello"}\n{"instruction": \n')
    paths = {"missing": str(tmp_path / "missing.json"), "bad": str(bad)}
    out = tmp_path / "out.html"
    argv = [a.format(**paths) for a in argv] + ["--html", str(out)]
    assert cli.main(["preview", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("easylm-commit preview: error: ") and message in err
    assert err.count("\n") == 1
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_bad_records_are_skipped_unless_strict(tmp_path, capsys):
    data = tmp_path / "data.jsonl"
    data.write_text('{"input": "no instruction", "output": "x"}\n'
                    '{"instruction": "Name a colour.", "input": "", "output": "Red."}\n')
    assert cli.main(["preview", "--demo", "--mode", "none", "--input", str(data)]) == 0
    captured = capsys.readouterr()
    assert "data.jsonl:2" in captured.out and "Name a colour." in captured.out
    assert f"skipped 1 bad record(s); first: {data}:1" in captured.err
    assert cli.main(["preview", "--demo", "--input", str(data), "--strict"]) == 2
    assert f"{data}:1: field 'instruction'" in capsys.readouterr().err


def test_subprocess_exit_status_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "easylm_commit.cli", "preview", "--demo", "--input",
         str(tmp_path / "nothing.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"easylm-commit preview: error: {tmp_path / 'nothing.json'}: file not found"]
