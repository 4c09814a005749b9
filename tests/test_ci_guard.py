"""CI cannot pass with the EasyLM tests skipped: ``.ci/run`` exports ``EASYLM_REQUIRED=1``,
under which a test that needs EasyLM and finds none fails with the reason; a user's run
without EasyLM (no ``EASYLM_REQUIRED``) still skips it, with the same reason."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Any test marked requires_easylm will do: this one fails or skips at setup, before any work.
A_TEST_THAT_NEEDS_EASYLM = "tests/test_patching.py::test_patches_apply_in_order_with_plain_git_apply"


def run_it(tmp_path, **env):
    env = dict(os.environ, EASYLM_DIR=str(tmp_path / "nowhere"), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", A_TEST_THAT_NEEDS_EASYLM],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_without_easylm_a_users_run_skips_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.delenv("EASYLM_REQUIRED", raising=False)
    proc = run_it(tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "1 skipped" in proc.stdout and "needs EasyLM: set EASYLM_DIR" in proc.stdout


def test_with_easylm_required_the_same_test_fails_naming_the_wrong_directory(tmp_path):
    proc = run_it(tmp_path, EASYLM_REQUIRED="1")
    assert proc.returncode == 1, proc.stdout
    assert "1 error" in proc.stdout and "skipped" not in proc.stdout
    assert "needs EasyLM" in proc.stdout and str(tmp_path / "nowhere") in proc.stdout


def test_ci_exports_easylm_required_before_the_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    required = re.search(r"^export EASYLM_REQUIRED=1$", script, re.M)
    tests = re.search(r"^bash tests/run\.sh", script, re.M)
    assert required and tests and required.start() < tests.start()
