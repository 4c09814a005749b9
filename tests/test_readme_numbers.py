"""The numbers README.md states about things a test can compute are computed here, from the
README's own text: a changed demo file, mixer or estimate fails this test instead of leaving
the README wrong. (The quickstart's losses: tests/test_quickstart.py; the toy's results:
examples/toy_reproduction/report.py --check; speed: benchmarks/, measured, not tested.)"""

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from easylm_commit import demo
from easylm_commit.dictionary import BilingualDictionary

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def stated(pattern):
    """The numbers of the one README passage that matches ``pattern`` (a regex with groups)."""
    found = re.findall(pattern, " ".join(README.split()))
    assert len(found) == 1, f"README should state {pattern!r} once, found {len(found)}"
    groups = found[0] if isinstance(found[0], tuple) else (found[0],)
    return [float(x.replace(",", "")) if re.fullmatch(r"[\d.,]+", x) else x for x in groups]


def stats(*args):
    out = subprocess.run([sys.executable, "-m", "easylm_commit.cli", "stats", "--demo", "--json",
                          "--quiet", *args], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout)["all"]


def test_the_demo_files_are_as_large_as_the_readme_says():
    pairs, sources = stated(r"MUSE format \(~([\d,]+) pairs, ~([\d,]+) English words\)")
    d = BilingualDictionary.load(demo.DEMO_DICTIONARY).stats()
    assert abs(d.pairs - pairs) <= 0.02 * pairs and abs(d.sources - sources) <= 0.03 * sources

    records, with_input = stated(r"`alpaca_demo.json` \| (\d+) Alpaca-style records \((\d+) with an input\)")
    data = json.loads(Path(demo.DEMO_INSTRUCTIONS).read_text(encoding="utf-8"))
    assert (len(data), sum(bool(r.get("input")) for r in data)) == (records, with_input)

    (paragraphs,) = stated(r"`hindi_corpus.jsonl` \| (\d+) short encyclopaedic Hindi paragraphs")
    assert len(Path(demo.DEMO_CORPUS).read_text(encoding="utf-8").splitlines()) == paragraphs


def test_the_demo_coverage_and_mixing_rates_are_the_ones_stats_prints():
    coverage, expected, observed, identical, corpus = stated(
        r"the dictionary covers ([\d.]+)% of the record words \(expected mixing rate at α 0.9: "
        r"([\d.]+)%; observed at seed 0: ([\d.]+)%, plus ([\d.]+)% drawn but written as themselves"
        r".*?and the reversed dictionary ([\d.]+)% of the corpus words")
    records, text = stats(), stats("--text-field", "text")
    assert round(100 * records["coverage"], 1) == coverage
    assert round(100 * records["expected_mixing_rate"], 1) == expected
    assert round(100 * records["observed_mixing_rate"], 1) == observed
    assert round(100 * records["identical_rate"], 1) == identical
    assert round(100 * text["coverage"]) == corpus


def test_the_disk_estimate_of_a_7b_plan_is_the_readme_s():
    from easylm_commit import experiment

    per_checkpoint, count, total = stated(
        r"a 7B checkpoint is about ([\d.]+) GB in bf16; the default three runs write about "
        r"(\w+) of them, (\d+) GB")
    llama_7b = {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
                "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32}
    n = experiment.param_count(llama_7b)
    assert round(2 * n / 1e9, 1) == per_checkpoint
    # The default runs (none, commit, align+commit): the base converted, the alignment, three
    # tunings, three models converted back (fp16), one more copy while the converter runs.
    phases = ["convert", "align"] + ["train"] * 3 + ["to_hf"] * 3 + ["eval"] * 3 + ["report"]
    steps = [SimpleNamespace(phase=p) for p in phases]
    need = experiment.disk_bytes(steps, llama_7b, SimpleNamespace(checkpoint_dtype="bf16"))
    assert abs(need / 1e9 - total) <= 0.05 * total
    assert round(need / (2 * n)) == {"seven": 7, "eight": 8, "nine": 9}[count]
