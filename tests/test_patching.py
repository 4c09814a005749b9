"""The registry patch, its command, the runtime registration, and `doctor`.

`git apply` of patches/*.patch must succeed on EasyLM main; `easylm-commit patch` applies,
checks and reverts it and says when a checkout is already patched or does not match.
"""

import glob
import os
import shutil
import subprocess
import sys

import pytest

from conftest import easylm_dir, requires_easylm, skip_without_easylm
from easylm_commit.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def checkout(tmp_path):
    """A fresh copy of EASYLM_DIR's EasyLM package."""
    if easylm_dir() is None:
        skip_without_easylm()
    dst = tmp_path / "EasyLM-main"
    shutil.copytree(os.path.join(os.environ["EASYLM_DIR"], "EasyLM"), dst / "EasyLM")
    return str(dst)


@requires_easylm
def test_patches_apply_in_order_with_plain_git_apply(checkout):
    for patch in sorted(glob.glob(os.path.join(ROOT, "patches", "*.patch"))):
        subprocess.run(["git", "apply", "--check", patch], cwd=checkout, check=True,
                       env=dict(os.environ, GIT_CEILING_DIRECTORIES=os.path.dirname(checkout)))
        subprocess.run(["git", "apply", patch], cwd=checkout, check=True,
                       env=dict(os.environ, GIT_CEILING_DIRECTORIES=os.path.dirname(checkout)))


@requires_easylm
def test_patch_command_applies_checks_and_reverts(checkout, capsys):
    original = open(os.path.join(checkout, "EasyLM", "data.py"), encoding="utf-8").read()
    assert main(["patch", "--check", "--easylm-dir", checkout]) == 1
    assert "not patched" in capsys.readouterr().out
    assert main(["patch", "--easylm-dir", checkout]) == 0
    assert capsys.readouterr().out.strip().endswith(": patched")
    assert main(["patch", "--easylm-dir", checkout]) == 0
    assert "already patched" in capsys.readouterr().out
    assert main(["patch", "--check", "--easylm-dir", checkout]) == 0
    assert main(["patch", "--revert", "--easylm-dir", checkout]) == 0
    assert open(os.path.join(checkout, "EasyLM", "data.py"), encoding="utf-8").read() == original


@requires_easylm
def test_patch_command_refuses_a_checkout_that_does_not_match(checkout, capsys):
    path = os.path.join(checkout, "EasyLM", "data.py")
    text = open(path, encoding="utf-8").read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace("def load_dataset(cls, config, tokenizer, **kwargs):",
                             "def load_dataset(cls, config, tokenizer):"))
    assert main(["patch", "--easylm-dir", checkout]) == 2
    err = capsys.readouterr().err
    assert "does not match young-geng/EasyLM main (fe5b2c3)" in err and len(err.splitlines()) == 1
    assert open(path, encoding="utf-8").read() != text  # untouched: still the user's edit


def test_patch_command_names_a_directory_that_is_not_easylm(tmp_path, capsys):
    assert main(["patch", "--easylm-dir", str(tmp_path)]) == 2
    assert f"{tmp_path}: not an EasyLM checkout" in capsys.readouterr().err


def _in_subprocess(code, checkout):
    env = dict(os.environ, PYTHONPATH=checkout, WANDB_MODE="disabled")
    env.pop("EASYLM_DIR", None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


REGISTRY_PROBE = """
from EasyLM.data import DatasetFactory
from easylm_commit import registry
registry.install(DatasetFactory)
config = DatasetFactory.get_default_config()
print(config.commit.alpha, config.codemix_clm.alpha, config.type)
print(sorted(k for k in config))
"""


@requires_easylm
def test_runtime_registration_gives_unpatched_easylm_the_types(checkout):
    out = _in_subprocess(REGISTRY_PROBE, checkout).splitlines()
    assert out[0] == "0.9 0.5 huggingface"
    assert {"commit", "codemix_clm", "json_dataset", "huggingface_dataset"} <= set(eval(out[1]))


@requires_easylm
def test_patched_factory_discovers_the_installed_entry_points(checkout):
    main(["patch", "--quiet", "--easylm-dir", checkout])
    code = ("from EasyLM.data import DatasetFactory as F; "
            "print(sorted(F.registered_types())); print(F.get_default_config().commit.mode)")
    out = _in_subprocess(code, checkout).splitlines()
    assert out == ["['codemix_clm', 'commit']", "commit"]


@requires_easylm
def test_doctor_reports_each_finding_on_one_line(checkout, capsys):
    assert main(["doctor", "--easylm-dir", checkout]) == 0
    out = capsys.readouterr().out
    assert "EasyLM is not patched" in out and "entry points declared: codemix_clm, commit" in out
    main(["patch", "--quiet", "--easylm-dir", checkout])
    capsys.readouterr()
    # A fresh process: the first doctor run imported the unpatched EasyLM.data.
    env = dict(os.environ, EASYLM_DIR=checkout)
    proc = subprocess.run([sys.executable, "-m", "easylm_commit.cli", "doctor"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the DatasetFactory registry patch is applied" in proc.stdout
    assert "codemix_clm are registered in EasyLM" in proc.stdout


def test_doctor_fails_clearly_without_easylm(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EASYLM_DIR", raising=False)
    assert main(["doctor", "--easylm-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {tmp_path}: not an EasyLM checkout" in out
