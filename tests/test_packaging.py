"""A plain (non-editable) install of the built wheel, in a fresh virtual environment,
carries everything a user's first command needs: the demo data, the console script, the
EasyLM patch, the lm-eval task files -- and the core needs no JAX."""

import json
import os
import subprocess
import sys
import venv

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp / "dist"), ROOT],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp / "dist").glob("easylm_commit-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    return env_dir


def test_wheel_runs_mix_demo_without_jax(fresh_install, tmp_path):
    out = tmp_path / "mixed.jsonl"
    proc = subprocess.run(
        [str(fresh_install / "bin" / "easylm-commit"), "mix", "--demo", "--quiet", "--output", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 50
    assert all(r["prompt"].startswith("Below is an instruction") for r in rows)
    jax = subprocess.run([str(fresh_install / "bin" / "python"), "-c", "import jax"],
                         capture_output=True, text=True)
    assert jax.returncode != 0  # the core install pulled in no JAX


def test_wheel_carries_the_patch_and_the_eval_tasks(fresh_install):
    code = ("from easylm_commit import patching; import easylm_commit.eval as e, os; "
            "print(len(patching.patch_files())); "
            "print(sorted(f for f in os.listdir(e.tasks_dir()) if f.startswith('commit_'))[:2])")
    proc = subprocess.run([str(fresh_install / "bin" / "python"), "-c", code],
                          capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    n, tasks = proc.stdout.splitlines()
    assert int(n) >= 1
    assert "commit_indicqa_bn.yaml" in tasks


def test_wheel_carries_the_demo_test_sets(fresh_install):
    # What `plan --demo` evaluates on, offline: every set the default Hindi tasks read.
    code = ("from easylm_commit import demo; from easylm_commit.eval.data import load_records; "
            "print(*(len(load_records(b, 'hi', local_data=demo.DEMO_QA, split=s)) "
            "for b, s in (('mlqa', 'test'), ('xquad', 'test'), ('mlqa', 'dev'))))")
    proc = subprocess.run([str(fresh_install / "bin" / "python"), "-c", code],
                          capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert all(int(n) > 0 for n in proc.stdout.split()) and len(proc.stdout.split()) == 3
