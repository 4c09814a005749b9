"""README's main job, `examples/quickstart.sh`, end to end (shortened): alignment then
COMMIT tuning on the demo data in EasyLM's train loop, checkpoints written, losses with what
to expect of them, logs and a preview printed, and what to do next (activate the environment
that holds `easylm-commit`). No W&B folders, no warning about the route it takes on purpose."""

import math
import os
import subprocess
import sys

from conftest import requires_easylm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# README (and the script's own "what to expect") give the losses to about a tenth; CPU
# kernels and library versions move them a little, so each number is checked within this.
MARGIN = 0.4


def logged_losses(out, label):
    return [float(x) for x in out.split(label)[1].splitlines()[0].split(":", 1)[1].split()]


def check_losses_as_readme_says(align, commit):
    """README: alignment falls steadily from ln(vocabulary) = 6.9 to about 5.6; COMMIT starts
    at about 6.5, then jumps between about 2.4 and 5.7 while trending down."""
    assert len(align) == 8 and len(commit) == 12  # a line every 5 of 40 and 60 steps
    assert abs(align[0] - math.log(1000)) < MARGIN and abs(align[-1] - 5.6) < MARGIN, align
    assert all(b < a for a, b in zip(align, align[1:])), align
    assert abs(commit[0] - 6.5) < MARGIN and commit[0] < align[0], commit
    assert all(2.4 - MARGIN < x < 5.7 + MARGIN for x in commit[1:]), commit
    half = len(commit) // 2
    assert sum(commit[half:]) / half < sum(commit[:half]) / half - MARGIN, commit


@requires_easylm
def test_quickstart_aligns_then_tunes_and_reports(tmp_path):
    # The default 40 + 60 steps: README's numbers are about those.
    env = dict(os.environ, SKIP_INSTALL="1", VIRTUAL_ENV=sys.prefix, PYTHON=sys.executable,
               OUT=str(tmp_path))
    proc = subprocess.run(["bash", os.path.join(ROOT, "examples", "quickstart.sh")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for phase in ("align", "commit"):
        assert os.path.isfile(tmp_path / phase / "streaming_params")
        assert f"params::{tmp_path}/{phase}/streaming_params" in out
    check_losses_as_readme_says(logged_losses(out, "alignment losses"), logged_losses(out, "COMMIT losses"))
    assert "### Instruction:" in out and "covered words replaced" in out
    # The losses come with what to expect; the logs and the next steps are named.
    assert "what to expect: the model starts from random weights" in out
    assert f"logs:        {tmp_path}/align.log, {tmp_path}/commit.log" in out
    assert f"source {sys.prefix}/bin/activate" in out
    assert os.path.isfile(os.path.join(sys.prefix, "bin", "activate"))
    # WANDB_MODE=disabled leaves no offline runs; the launcher route is not a warning.
    assert not list(tmp_path.rglob("wandb"))
    assert "not patched" not in out + proc.stderr


@requires_easylm
def test_quickstart_with_two_languages_trains_both_and_reports_each(tmp_path):
    """README, "Many languages in one run": LANGUAGES=demo aligns on the Hindi and Greek demo
    corpora interleaved, then tunes with each record mixed into one of them (shortened)."""
    env = dict(os.environ, SKIP_INSTALL="1", VIRTUAL_ENV=sys.prefix, PYTHON=sys.executable,
               OUT=str(tmp_path), LANGUAGES="demo", ALIGN_STEPS="10", COMMIT_STEPS="10")
    proc = subprocess.run(["bash", os.path.join(ROOT, "examples", "quickstart.sh")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for phase in ("align", "commit"):
        assert os.path.isfile(tmp_path / phase / "streaming_params")
    rates = {}
    for line in proc.stdout.splitlines():
        if line.startswith(("hi: ", "el: ")):
            words = line.replace(",", "").split()
            rates[line[:2]] = (float(words[4]), float(words[8]), int(words[11]))
    assert set(rates) == {"hi", "el"}, proc.stdout[-2000:]
    for align, commit, records in rates.values():
        # alpha 0.5 and 0.9 of the covered words; the demo dictionaries cover nearly all.
        assert 0.35 < align < 0.6 and 0.75 < commit < 0.95 and records > 5
