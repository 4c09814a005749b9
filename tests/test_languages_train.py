"""Several languages in one run through EasyLM's own, unchanged train command (issue 21), by
both routes of tests/test_easylm_train.py:

- the launcher, ``python -m easylm_commit.llama_train`` on an unpatched checkout;
- ``python -m EasyLM.models.llama.llama_train`` on a checkout patched with ``patches/``.

Each run is ``commit`` or ``codemix_clm`` with ``languages``: ``demo`` (the embedded Hindi and
Greek) or a two-entry JSON list in a file, for a few steps of the debug LLaMA. The log must
carry every language's metrics beside the totals, exactly as the dataset gives them in this
process, with finite losses. Needs ``EASYLM_DIR``; skipped with the reason otherwise.
"""

import json
import math
import os
import subprocess
import sys

import pytest

from conftest import debug_llama_flags, requires_easylm
from test_easylm_train import DEMO, parse_metrics, patched_easylm  # noqa: F401 (a fixture)

pytestmark = requires_easylm

STEPS = 3
SHAPE = {"commit": (128, 4), "codemix_clm": (64, 4)}  # seq_length, batch_size
# What a run sets besides the list: the instruction data (commit) and α, which every entry
# that leaves it out takes.
DATASET = {
    "commit": dict(path=f"{DEMO}/alpaca_demo.json", alpha=0.9),
    "codemix_clm": dict(alpha=0.5),
}
LANGUAGE_METRICS = ("records", "words_seen", "words_replaced", "mixing_rate", "cmi")


def list_file(tmp_path, dataset_type):
    """A two-entry list in a file: Hindi at weight 2, Greek at its own α (the dataset's
    other values for the rest); for ``codemix_clm`` each with its corpus."""
    entries = [dict(lang="hi", dictionary=f"{DEMO}/en-hi.txt", weight=2),
               dict(lang="el", dictionary=f"{DEMO}/en-el.txt", alpha=0.7)]
    if dataset_type == "codemix_clm":
        entries[0].update(path=f"{DEMO}/hindi_corpus.jsonl", text_field="text")
        entries[1].update(path=f"{DEMO}/greek_corpus.jsonl", text_field="text")
    path = tmp_path / "languages.json"
    path.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    return str(path)


def dataset_config(dataset_type, spec):
    seq, batch = SHAPE[dataset_type]
    return dict(DATASET[dataset_type], languages=spec, seq_length=seq, batch_size=batch)


def train(route, dataset_type, spec, out_dir, tokenizer_dir, patched_dir=None):
    """EasyLM's train loop with ``languages=spec``; the logged metrics, one dict per step."""
    env = dict(os.environ, WANDB_MODE="disabled", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               JAX_PLATFORMS="cpu", TOKENIZERS_PARALLELISM="false")
    if route == "launcher":
        module = "easylm_commit.llama_train"
    else:
        module = "EasyLM.models.llama.llama_train"
        env["PYTHONPATH"] = os.pathsep.join([patched_dir, env.get("PYTHONPATH", "")])
        env.pop("EASYLM_DIR")  # the patched copy must be what runs
    flags = [f"--train_dataset.{dataset_type}.{k}={v}"
             for k, v in dataset_config(dataset_type, spec).items()]
    cmd = [sys.executable, "-m", module, *debug_llama_flags(tokenizer_dir, out_dir, STEPS),
           f"--train_dataset.type={dataset_type}", *flags]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return parse_metrics(proc.stdout + proc.stderr)


def in_process_metrics(dataset_type, spec, tokenizer_dir):
    """The metrics of the same dataset's first ``STEPS`` batches, built here."""
    from transformers import AutoTokenizer

    from easylm_commit.dataset_types import CodeMixCLMDataset, CommitDataset

    cls = CommitDataset if dataset_type == "commit" else CodeMixCLMDataset
    dataset = cls(cls.get_default_config(dataset_config(dataset_type, spec)),
                  AutoTokenizer.from_pretrained(tokenizer_dir))
    return [metrics for (_, metrics), _ in zip(dataset, range(STEPS))]


def assert_each_language_logged(logged, expected, codes=("hi", "el")):
    assert len(logged) == STEPS
    assert all(math.isfinite(m["loss"]) for m in logged), [m["loss"] for m in logged]
    last = logged[-1]
    for code in codes:
        assert last[f"dataset_records_{code}"] > 0
        assert last[f"dataset_words_replaced_{code}"] > 0
        assert 0 < last[f"dataset_mixing_rate_{code}"] <= 1
        assert last[f"dataset_cmi_{code}"] > 0
    # The languages add up to the totals, which are logged too.
    for total in ("words_seen", "words_replaced"):
        assert sum(last[f"dataset_{total}_{code}"] for code in codes) == last[f"dataset_{total}"]
    assert last["dataset_cmi"] > 0
    # What EasyLM logged is what the dataset gives, step by step.
    for got, want in zip(logged, expected):
        for code in codes:
            for name in LANGUAGE_METRICS:
                key = f"dataset_{name}_{code}"
                assert got[key] == pytest.approx(want[key], rel=1e-6), (got["step"], key)


# Each route runs each dataset type once, one with ``demo`` and one with a list file, so that
# every route, type and form of the list is covered by four short runs.
RUNS = [
    ("launcher", "commit", "demo"),
    ("launcher", "codemix_clm", "file"),
    ("patched", "commit", "file"),
    ("patched", "codemix_clm", "demo"),
]


@pytest.mark.parametrize("route, dataset_type, form", RUNS)
def test_languages_train_through_easylms_train_command(route, dataset_type, form, tmp_path,
                                                        llama_tokenizer_dir, request):
    spec = "demo" if form == "demo" else list_file(tmp_path, dataset_type)
    patched = request.getfixturevalue("patched_easylm") if route == "patched" else None
    logged = train(route, dataset_type, spec, tmp_path / "out", llama_tokenizer_dir, patched)
    assert_each_language_logged(logged, in_process_metrics(dataset_type, spec, llama_tokenizer_dir))


def test_a_bad_entry_stops_the_launcher_in_one_line_before_training(tmp_path, llama_tokenizer_dir):
    spec = json.dumps([dict(lang="hi", dictionary=f"{DEMO}/en-hi.txt"),
                       dict(lang="el", dictionary=f"{DEMO}/en-el.txt", weight=0)])
    env = dict(os.environ, WANDB_MODE="disabled", HF_DATASETS_OFFLINE="1", JAX_PLATFORMS="cpu")
    cmd = [sys.executable, "-m", "easylm_commit.llama_train",
           *debug_llama_flags(llama_tokenizer_dir, tmp_path, STEPS), "--train_dataset.type=commit",
           f"--train_dataset.commit.path={DEMO}/alpaca_demo.json",
           f"--train_dataset.commit.languages={spec}"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "languages[1] (el): weight must be a number > 0, got 0" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert parse_metrics(proc.stdout + proc.stderr) == []  # no step trained
