"""`examples/alpha_sweep.sh` end to end at toy scale: the paper's choice of alpha on MLQA's dev set.

A random Hugging Face LLaMA of EasyLM's debug shape becomes the base checkpoint through EasyLM's
own `convert_hf_to_easylm` (the user's path from LLaMA weights); then, for each alpha, COMMIT
tuning in EasyLM's train loop (2 steps), `convert_easylm_to_hf`, `easylm-commit eval` on
`commit_mlqa_hi_dev` (the fixture dev file, 2 questions), and `easylm-commit report
--select-by`. Random weights score what they score; what is checked is that every run went
through every step and that the run selected is the best one on the dev task. Needs EASYLM_DIR.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import requires_easylm
from test_easylm_train import parse_metrics

pytestmark = requires_easylm

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "easylm_commit" / "demo"
QA = ROOT / "tests" / "fixtures" / "qa"


def _base_checkpoint(tmp_path, tokenizer_dir, env):
    """EasyLM streaming params converted from a random HF LLaMA with the debug model's shape."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    vocab = len(AutoTokenizer.from_pretrained(tokenizer_dir))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, hidden_size=128, intermediate_size=256,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         rms_norm_eps=1e-6)
    LlamaForCausalLM(config).save_pretrained(tmp_path / "hf_base")
    base = tmp_path / "base.easylm"
    proc = subprocess.run(
        [sys.executable, "-m", "EasyLM.models.llama.convert_hf_to_easylm",
         f"--hf_model={tmp_path / 'hf_base'}", f"--output_file={base}",
         "--llama.base_model=debug", f"--llama.vocab_size={vocab}", "--float_dtype=fp32"],
        env=dict(env, PYTHONPATH=os.pathsep.join([env["EASYLM_DIR"], env.get("PYTHONPATH", "")])),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return base, vocab


def test_alpha_sweep_tunes_converts_evaluates_and_selects_on_mlqa_dev(tmp_path, llama_tokenizer_dir):
    env = dict(os.environ, PYTHON=sys.executable, JAX_PLATFORMS="cpu", WANDB_MODE="disabled")
    base, vocab = _base_checkpoint(tmp_path, llama_tokenizer_dir, env)
    out = tmp_path / "sweep"
    env.update(
        BASE_CHECKPOINT=f"params::{base}", TOKENIZER=str(llama_tokenizer_dir),
        DATA=str(DEMO / "alpaca_demo.json"), DICTIONARY=str(DEMO / "en-hi.txt"),
        ALPHAS="0.8 1.0", OUT=str(out),
        # toy scale: the debug LLaMA, 2 steps of batch 2 x 64, 2 dev questions, on CPU
        BASE_MODEL="debug", DTYPE="fp32", STEPS_PER_EPOCH="2", EPOCHS="1", BATCH="2", SEQ="64",
        CONVERT_ARGS=f"--llama.vocab_size={vocab}", LOCAL_DATA=str(QA), LIMIT="2",
        DEVICE="cpu", BATCH_SIZE="2", EVAL_DTYPE="float32",
    )
    proc = subprocess.run(
        ["bash", str(ROOT / "examples" / "alpha_sweep.sh"), f"--llama.vocab_size={vocab}"],
        env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    scores = {}
    for run in ("alpha0.8", "alpha1.0"):
        assert (out / "train" / run / "streaming_params").is_file()
        assert (out / "eval" / "hf" / run / "config.json").is_file()
        results = json.loads((out / "eval" / "results" / f"{run}.json").read_text())
        assert results["n-samples"]["commit_mlqa_hi_dev"]["effective"] == 2
        assert set(results["results"]) == {"commit_mlqa_hi_dev"}
        dev = results["results"]["commit_mlqa_hi_dev"]
        scores[run] = (dev["exact_match,none"], dev["f1,none"])
    # Each run was tuned with its own alpha: EasyLM logs the real mixing rate of the first batch.
    assert proc.stderr.count("COMMIT: 2 steps/epoch x 1 epochs = 2 steps") == 2
    rates = [m["dataset_mixing_rate"] for m in parse_metrics(proc.stdout + proc.stderr)]
    assert len(rates) == 2 and 0.6 < rates[0] < rates[1]

    # The winner: best EM, then F1, the first listed on a full tie.
    best = max(scores, key=lambda r: (scores[r], -list(scores).index(r)))
    assert f"selected: {best}" in proc.stdout.splitlines()
    report = out / "eval" / "report"
    assert f"selected: {best}" in (report / "report.md").read_text(encoding="utf-8")
    assert json.loads((report / "selection.json").read_text())["selected"] == best
