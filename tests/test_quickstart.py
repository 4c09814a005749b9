"""README's main job, `examples/quickstart.sh`, end to end (shortened): alignment then
COMMIT tuning on the demo data in EasyLM's train loop, checkpoints written, losses with what
to expect of them, logs and a preview printed, and what to do next (activate the environment
that holds `easylm-commit`). No W&B folders, no warning about the route it takes on purpose."""

import os
import subprocess
import sys

from conftest import requires_easylm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@requires_easylm
def test_quickstart_aligns_then_tunes_and_reports(tmp_path):
    env = dict(os.environ, SKIP_INSTALL="1", VIRTUAL_ENV=sys.prefix, PYTHON=sys.executable,
               OUT=str(tmp_path), ALIGN_STEPS="10", COMMIT_STEPS="10")
    proc = subprocess.run(["bash", os.path.join(ROOT, "examples", "quickstart.sh")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for phase in ("align", "commit"):
        assert os.path.isfile(tmp_path / phase / "streaming_params")
        assert f"params::{tmp_path}/{phase}/streaming_params" in out
    losses = out.split("COMMIT losses")[1].splitlines()[0].split(":")[1].split()
    assert len(losses) == 2 and all(float(x) > 0 for x in losses)
    assert "### Instruction:" in out and "covered words replaced" in out
    # The losses come with what to expect; the logs and the next steps are named.
    assert "what to expect: the model starts from random weights" in out
    assert f"logs:        {tmp_path}/align.log, {tmp_path}/commit.log" in out
    assert f"source {sys.prefix}/bin/activate" in out
    assert os.path.isfile(os.path.join(sys.prefix, "bin", "activate"))
    # WANDB_MODE=disabled leaves no offline runs; the launcher route is not a warning.
    assert not list(tmp_path.rglob("wandb"))
    assert "not patched" not in out + proc.stderr
