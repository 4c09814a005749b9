"""EasyLM's own, unchanged LLaMA train loop with our dataset types, through both routes:

- the launcher, ``python -m easylm_commit.llama_train`` on an unpatched checkout;
- ``python -m EasyLM.models.llama.llama_train`` on a checkout patched with ``patches/``.

A 2-layer debug LLaMA on CPU, a SentencePiece tokenizer trained in the test, the demo
data. Needs ``EASYLM_DIR``; skipped with the reason otherwise.
"""

import glob
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import debug_llama_flags, requires_easylm

pytestmark = requires_easylm

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "easylm_commit", "demo")
PATCHES = sorted(glob.glob(os.path.join(os.path.dirname(DEMO), "..", "patches", "*.patch")))

DATA = {
    "commit": [
        f"--train_dataset.commit.path={DEMO}/alpaca_demo.json",
        f"--train_dataset.commit.dictionary={DEMO}/en-hi.txt",
        "--train_dataset.commit.alpha=0.9",
    ],
    "codemix_clm": [
        f"--train_dataset.codemix_clm.path={DEMO}/hindi_corpus.jsonl",
        f"--train_dataset.codemix_clm.dictionary={DEMO}/en-hi.txt",
        "--train_dataset.codemix_clm.alpha=0.5",
    ],
}


@pytest.fixture(scope="module")
def patched_easylm(tmp_path_factory):
    """A copy of ``EASYLM_DIR`` with ``patches/`` applied (the original stays unpatched)."""
    src = os.environ["EASYLM_DIR"]
    dst = tmp_path_factory.mktemp("easylm") / "EasyLM-patched"
    shutil.copytree(os.path.join(src, "EasyLM"), dst / "EasyLM")
    for patch in PATCHES:
        subprocess.run(["git", "apply", patch], cwd=dst, check=True,
                       env=dict(os.environ, GIT_CEILING_DIRECTORIES=str(dst.parent)))
    return str(dst)


def train(route, dataset_type, out_dir, tokenizer_dir, patched_dir=None, steps=24, extra=()):
    """Run EasyLM's train loop; return the logged metrics, one dict per step."""
    env = dict(os.environ, WANDB_MODE="disabled", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               JAX_PLATFORMS="cpu", TOKENIZERS_PARALLELISM="false")
    if route == "launcher":
        module = "easylm_commit.llama_train"
    else:
        module = "EasyLM.models.llama.llama_train"
        env["PYTHONPATH"] = os.pathsep.join([patched_dir, env.get("PYTHONPATH", "")])
        env.pop("EASYLM_DIR")  # the patched copy must be what runs
    seq, batch = (128, 4) if dataset_type == "commit" else (64, 4)
    cmd = [
        sys.executable, "-m", module, *debug_llama_flags(tokenizer_dir, out_dir, steps),
        f"--train_dataset.type={dataset_type}",
        f"--train_dataset.{dataset_type}.seq_length={seq}",
        f"--train_dataset.{dataset_type}.batch_size={batch}",
        *DATA[dataset_type], *extra,
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return parse_metrics(proc.stdout + proc.stderr)


def parse_metrics(log):
    """EasyLM prints each step's metrics with pprint: ``{'accuracy': array(0.1, ...), ...}``."""
    namespace = {"array": lambda v, dtype=None: float(v), "float32": None, "int32": None,
                 "nan": math.nan, "inf": math.inf}
    steps = []
    for block in re.findall(r"^\{'.*?\}$", log, flags=re.S | re.M):
        if "'loss'" in block:
            steps.append(eval(block, namespace))  # our own run's output
    return steps


def assert_learns(metrics, steps):
    assert len(metrics) == steps
    losses = np.array([m["loss"] for m in metrics])
    assert np.isfinite(losses).all()
    assert losses[-5:].mean() < losses[:5].mean() - 0.3, losses


@pytest.mark.parametrize("dataset_type", ["commit", "codemix_clm"])
def test_launcher_trains_with_unpatched_easylm(dataset_type, tmp_path, llama_tokenizer_dir):
    metrics = train("launcher", dataset_type, tmp_path, llama_tokenizer_dir)
    assert_learns(metrics, 24)
    assert metrics[-1]["dataset_words_replaced"] > 0


@pytest.mark.parametrize("dataset_type", ["commit", "codemix_clm"])
def test_patched_easylm_trains_with_its_own_script(dataset_type, tmp_path, llama_tokenizer_dir,
                                                   patched_easylm):
    metrics = train("patched", dataset_type, tmp_path, llama_tokenizer_dir, patched_dir=patched_easylm)
    assert_learns(metrics, 24)


def test_patched_easylm_keeps_its_built_in_json_dataset(tmp_path, llama_tokenizer_dir, patched_easylm):
    env = dict(os.environ, WANDB_MODE="disabled", HF_DATASETS_OFFLINE="1", JAX_PLATFORMS="cpu",
               PYTHONPATH=patched_easylm)
    cmd = [sys.executable, "-m", "EasyLM.models.llama.llama_train",
           "--llama.base_model=debug", "--llama.vocab_size=600", f"--tokenizer={llama_tokenizer_dir}",
           "--total_steps=3", "--log_freq=1", "--logger.online=False", f"--logger.output_dir={tmp_path}",
           "--train_dataset.type=json", f"--train_dataset.json_dataset.path={DEMO}/hindi_corpus.jsonl",
           "--train_dataset.text_processor.fields=text", "--train_dataset.json_dataset.seq_length=32",
           "--train_dataset.json_dataset.batch_size=2"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(parse_metrics(proc.stdout + proc.stderr)) == 3


def test_launcher_reports_a_bad_dictionary_in_one_line(tmp_path, llama_tokenizer_dir):
    env = dict(os.environ, WANDB_MODE="disabled", HF_DATASETS_OFFLINE="1", JAX_PLATFORMS="cpu")
    cmd = [sys.executable, "-m", "easylm_commit.llama_train", f"--tokenizer={llama_tokenizer_dir}",
           "--logger.online=False", f"--logger.output_dir={tmp_path}", "--train_dataset.type=commit",
           f"--train_dataset.commit.path={DEMO}/alpaca_demo.json",
           f"--train_dataset.commit.dictionary={tmp_path}/missing.txt"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert "missing.txt: dictionary file not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_checkpoint_and_load_dataset_state_continue_the_uninterrupted_batches(
        tmp_path, llama_tokenizer_dir):
    import mlxu
    from transformers import AutoTokenizer

    from easylm_commit.dataset_types import CommitDataset

    extra = ["--save_model_freq=8", "--checkpointer.save_optimizer_state=True",
             "--train_dataset.commit.tokenizer_processes=2",
             "--train_dataset.commit.records_per_chunk=4"]
    first = train("launcher", "commit", tmp_path / "a", llama_tokenizer_dir, steps=8, extra=extra)
    (run_dir,) = glob.glob(str(tmp_path / "a" / "*" / "dataset.pkl"))
    run_dir = os.path.dirname(run_dir)
    state = mlxu.load_pickle(os.path.join(run_dir, "dataset.pkl"))
    assert state["batches"] == 8

    # The batches after the saved state are batches 8, 9, ... of an uninterrupted run.
    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    config = CommitDataset.get_default_config(dict(
        path=f"{DEMO}/alpaca_demo.json", dictionary=f"{DEMO}/en-hi.txt", alpha=0.9,
        seq_length=128, batch_size=4))
    uninterrupted = [b for b, _ in zip((b for b, _ in CommitDataset(config, tok)), range(12))]
    resumed = CommitDataset(config, tok)
    resumed.load_state_dict(state)
    for want, (got, _) in zip(uninterrupted[8:], resumed):
        assert all(np.array_equal(want[k], got[k]) for k in want)

    # And EasyLM's loop resumes from the checkpoint with that state.
    second = train("launcher", "commit", tmp_path / "b", llama_tokenizer_dir, steps=12, extra=[
        f"--load_checkpoint=trainstate::{run_dir}/streaming_train_state",
        f"--load_dataset_state={run_dir}/dataset.pkl"])
    assert [m["step"] for m in second] == list(range(8, 12))
    assert second[0]["dataset_total_tokens"] == 9 * 128 * 4
    assert np.isfinite([m["loss"] for m in second]).all()
    assert second[0]["loss"] < first[0]["loss"]
