"""`easylm-commit plan` end to end at toy scale on the CPU, through EasyLM: a random-weight
LLaMA in Hugging Face format (EasyLM's debug shape) -> EasyLM checkpoint -> code-mixed
alignment -> COMMIT -> Hugging Face model -> lm-eval on the fixture QA sets -> the report.
The run is killed once mid-way and rerun: the finished step is not redone. Two steps of each
training phase and one question per task keep it to a few minutes on two cores; the numbers
mean nothing, the sequence is what is tested. Needs EASYLM_DIR."""

import os
import signal
import subprocess
import sys
import time

from conftest import requires_easylm

from easylm_commit.eval import GROUPS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QA = os.path.join(ROOT, "tests", "fixtures", "qa")

pytestmark = requires_easylm


def test_toy_run_survives_a_kill_and_produces_the_tables(tmp_path, tiny_hf_llama):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "easylm_commit.cli", "plan", "--demo",
            "--hf-model", str(tiny_hf_llama), "--out", str(out), "--runs", "align+commit",
            # Every group: both tables, from the fixture test sets.
            "--tasks", ",".join(GROUPS), "--qa-data", QA,
            "--epochs", "1", "--steps-per-epoch", "2", "--align-steps", "2",
            "--batch-size", "2", "--seq-length", "64", "--dtype", "fp32",
            "--checkpoint-dtype", "fp32", "--save-freq", "1000000", "--log-freq", "1",
            "--tokenizer-processes", "1", "--eval-device", "cpu", "--eval-dtype", "float32",
            "--eval-batch-size", "1", "--eval-limit", "1"]
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))

    dry = subprocess.run(argv + ["--dry-run"], env=env, capture_output=True, text=True, timeout=600)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "FAIL" not in dry.stdout and dry.stdout.count("(to do)") == 6
    assert not out.exists()

    # Kill the run (the plan and the step it runs) as soon as the alignment has started.
    first = subprocess.Popen(argv, env=env, start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 600
    while not (out / "logs" / "align.log").exists():
        assert first.poll() is None and time.time() < deadline, first.communicate()[0]
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    base = out / "base" / "streaming_params"
    assert (out / ".plan" / "convert_base.done").exists() and base.exists()
    assert not (out / ".plan" / "align.done").exists()
    converted_at = base.stat().st_mtime_ns

    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1200)
    log = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, log[-5000:]
    assert "[1/6] convert_base: done earlier, skipped" in rerun.stdout
    assert base.stat().st_mtime_ns == converted_at
    for step in ("align", "train_align_commit", "to_hf_align_commit", "eval_align_commit", "report"):
        assert (out / ".plan" / f"{step}.done").exists(), step
    assert (out / "hf" / "align_commit" / "config.json").exists()
    assert (out / "results" / "align_commit.json").exists()
    assert not list(out.rglob("wandb")), "WANDB_MODE=disabled must leave no wandb/ folders"

    # Table 2 (MLQA, XQuAD) and the IndicQA table (Table 6), with the run's row.
    tables = "\n".join(p.read_text(encoding="utf-8") for p in (out / "report").glob("*.md"))
    assert "XQuAD el EM" in tables and "IndicQA ta EM" in tables and "IndicQA bn EM" in tables
    assert "| Align+COMMIT |" in tables
    assert f"done: tables in {out / 'report'}" in rerun.stdout
