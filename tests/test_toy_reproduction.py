"""The toy reproduction (``examples/toy_reproduction``) runs end to end in its ``--quick``
setting: world, EasyLM pretraining, the four tuned conditions through EasyLM's loop with our
dataset types, greedy evaluation, the table and the plot.

Only that it runs and reports is asserted, not the outcome: the quick model is far too small
to learn QA (the full setting's numbers are in the example's README).
"""

import json
import os
import subprocess
import sys

from conftest import requires_easylm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY = os.path.join(ROOT, "examples", "toy_reproduction")
CONDITIONS = ("pretrained", "none", "naive", "commit", "align+commit")


def run_toy(args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, os.path.join(TOY, "run.py"), *args],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )


@requires_easylm
def test_quick_setting_produces_the_table_and_the_plot(tmp_path):
    out = tmp_path / "toy"
    proc = run_toy(["--quick", "--quiet", "--out", str(out)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    table = (out / "results.md").read_text(encoding="utf-8").splitlines()
    assert table[0] == "| condition | xx EM | xx F1 | en EM | en F1 | seeds |"
    rows = {line.split("|")[1].strip(): line for line in table[2:]}
    assert list(rows) == list(CONDITIONS)
    for line in rows.values():
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 6 and all(" ± " in c for c in cells[1:5]) and cells[5] == "1"

    png = (out / "em.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["setting"] == "quick"
    assert sorted(r["condition"] for r in results["runs"]) == sorted(CONDITIONS)
    for r in results["runs"]:
        for lang in ("xx", "en"):
            assert 0.0 <= r[lang]["exact_match"] <= 100.0 and r[lang]["n"] > 0
    # Every tuned run and the alignment really trained inside EasyLM.
    for name in ("pretrain", "none-seed0", "naive-seed0", "commit-seed0", "align-seed0",
                 "align+commit-seed0"):
        info = results["training"][name]
        assert info["steps"] > 0 and info["last_loss"] is not None
        assert (out / "runs" / name / "streaming_params").is_file()

    # The world the runs trained on: a partial MUSE dictionary and target-language eval items.
    world = out / "world"
    pairs = [line.split(" ") for line in (world / "dict.en-xx.txt").read_text(encoding="utf-8").splitlines()]
    assert pairs and all(len(p) == 2 for p in pairs)
    manifest = json.loads((world / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sizes"]["eval_items"] == results["runs"][0]["xx"]["n"]

    # Repeating the command reuses the finished runs and rewrites the same table.
    again = run_toy(["--quick", "--quiet", "--out", str(out)])
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "results.md").read_text(encoding="utf-8").splitlines() == table


def test_without_easylm_the_runner_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EASYLM_DIR"}
    proc = run_toy(["--quick", "--out", str(tmp_path / "toy")], env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "EASYLM_DIR" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "toy" / "results.md").exists()
