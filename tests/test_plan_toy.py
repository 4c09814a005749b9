"""`easylm-commit plan --demo --out DIR`, with no size, model or data argument, end to end on
the CPU through EasyLM, offline: the stand-in LLaMA it builds (EasyLM's debug shape) -> EasyLM
checkpoint -> code-mixed alignment -> COMMIT -> Hugging Face model -> lm-eval on the embedded
Hindi QA sets -> the report, at the demo's sizes. The run is killed once mid-way and rerun: the
finished step is not redone. The numbers mean nothing (random weights, a few dozen steps); the
sequence and the demo's defaults are what is tested.

One row (``--runs align+commit``) rather than the default three: it goes through every phase
and kind of step, and the other two rows (plain Alpaca, COMMIT without alignment) are the same
steps again with another mode -- 12 steps instead of 6 would more than double the test's
minutes on a shared 2-core machine (measured: 220 s against 75 s). Their commands are checked by
tests/test_plan.py and the demo's sizes by tests/test_plan_inputs.py; every task and table on
the fixture sets by tests/test_eval_tasks.py and tests/test_report.py. Needs EASYLM_DIR."""

import os
import re
import signal
import subprocess
import sys
import time

from conftest import requires_easylm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = requires_easylm


def test_the_demo_runs_every_step_offline_survives_a_kill_and_produces_the_tables(tmp_path):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "easylm_commit.cli", "plan", "--demo", "--out", str(out),
            "--runs", "align+commit"]
    env = dict(os.environ, JAX_PLATFORMS="cpu", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))

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
    assert rerun.stdout.splitlines()[1].startswith("demo sizes in force")
    assert not re.search(r"^\s*(FAIL|warn) ", rerun.stdout, re.M), rerun.stdout  # no hub needed
    assert "[1/6] convert_base: done earlier, skipped" in rerun.stdout
    assert base.stat().st_mtime_ns == converted_at
    for step in ("align", "train_align_commit", "to_hf_align_commit", "eval_align_commit", "report"):
        assert (out / ".plan" / f"{step}.done").exists(), step
    assert (out / "hf" / "align_commit" / "config.json").exists()
    assert (out / "results" / "align_commit.json").exists()
    assert not list(out.rglob("wandb")), "WANDB_MODE=disabled must leave no wandb/ folders"
    # At the demo's sizes (each log's first line is its command).
    align = (out / "logs" / "align.log").read_text(encoding="utf-8").splitlines()[0]
    assert "--total_steps=40 " in align and "--train_dataset.codemix_clm.batch_size=4 " in align
    assert re.search(r"train_align_commit: .*; 3 epoch\(s\) = \d+ steps", rerun.stdout)
    # Each training step's losses, first -> last, from EasyLM's log.
    for step in ("align", "train_align_commit"):
        assert re.search(rf"^  {step}: \d+\.\d\d -> \d+\.\d\d \(\d+ logged\)$", rerun.stdout, re.M), step
    # README: "the alignment's fell from about 6.9 to 5.7 in 40 steps" (within 0.4, as the
    # quickstart's numbers are checked).
    first, last = map(float, re.search(r"^  align: (\S+) -> (\S+) ", rerun.stdout, re.M).groups())
    assert abs(first - 6.9) < 0.4 and abs(last - 5.7) < 0.4, (first, last)

    # Table 2's Hindi columns (the demo's sets), the run's row for each prompt, scored.
    table = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "MLQA hi EM" in table and "XQuAD hi EM" in table
    for prompt in ("target", "English"):
        assert re.search(rf"^\| Align\+COMMIT \| {prompt} \| \d+\.\d \| \d+\.\d \| \d+\.\d \| "
                         r"\d+\.\d \|", table, re.M), (prompt, table)
    assert f"done: tables in {out / 'report'}" in rerun.stdout
