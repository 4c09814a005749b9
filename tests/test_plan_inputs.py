"""`easylm-commit plan`'s inputs: ``--demo`` brings its own model, a path that is not there
fails at once without asking the hub, a model folder without weights does not pass, and every
missing input is said once, all in one run. Nothing here reaches the network."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import requires_easylm

from easylm_commit import demo, hf_paths
from easylm_commit.cli import main
from easylm_commit.commands.plan import DEMO_MODEL
from easylm_commit.demo import model as demo_model
from easylm_commit.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail_lines(stdout):
    return [line.strip()[len("FAIL  "):] for line in stdout.splitlines()
            if line.strip().startswith("FAIL  ")]


def step_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith(("[", "    "))]


def has(commands, words):
    """Whether ``words`` (a flag, or a flag and its value) are whole words of ``commands``."""
    return re.search(rf"(?<!\S){re.escape(words)}(?!\S)", commands) is not None


@pytest.fixture
def env(tmp_path):
    """This checkout on the path, no EasyLM, no hub."""
    e = {k: v for k, v in os.environ.items() if k not in ("EASYLM_DIR", "TRANSFORMERS_OFFLINE")}
    e["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, e.get("PYTHONPATH")) if p)
    e.update(PYTHON=sys.executable, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf-home"))
    return e


# -- 1. --demo brings its model -----------------------------------------------------------------

def test_demo_builds_its_model_into_out_once_and_the_rerun_reuses_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EASYLM_DIR", raising=False)
    out = tmp_path / "runs" / "demo"
    assert main(["plan", "--demo", "--out", str(out), "--dry-run"]) == 1
    first = capsys.readouterr().out
    # Without EasyLM the one failure is EasyLM's: the model and its tokenizer pass.
    fails = fail_lines(first)
    assert len(fails) == 1 and fails[0].startswith("no EasyLM checkout"), fails
    folder = out / DEMO_MODEL
    assert f"demo model: building {demo_model.DESCRIPTION} in {folder}" in first
    config = json.loads((folder / "config.json").read_text())
    assert {k: config[k] for k in demo_model.DEBUG_SHAPE} == demo_model.DEBUG_SHAPE
    assert re.search(rf"ok  model {folder}: LLaMA, 0\.\dM parameters in 1 weight file\(s\), "
                     rf"vocabulary {config['vocab_size']}, context 2048", first)
    assert config["vocab_size"] == demo_model.TOKENIZER_VOCAB  # the quickstart's, on the demo text
    assert f"ok  tokenizer {folder}: {config['vocab_size']} tokens = the checkpoint's vocabulary" in first
    assert re.search(r"ok  alpaca_demo.json \(commit, template en\): 50 records.*\d+ steps/epoch", first)
    # The stand-in is every step's model and tokenizer, at its own shape; the real run on a CPU
    # evaluates on the CPU.
    steps = "\n".join(step_lines(first))
    assert f"--hf_model={folder}" in steps and f"--tokenizer={folder}" in steps
    assert "--llama.num_hidden_layers=2" in steps and "--llama.hidden_size=128" in steps
    assert "--device cpu" in steps and "--dtype=fp32" in steps
    # At the demo's sizes, said at the top, so that the real run takes minutes on a CPU; and
    # evaluated offline on the embedded Hindi test sets.
    assert first.splitlines()[1] == (
        "demo sizes in force (a check of every step in minutes on a CPU, not the paper's sizes; "
        "a flag given wins): alignment 40 steps, tuning 3 epoch(s), batches of 4 x 128, lr 0.001, "
        "evaluation of 10 question(s) a task on cpu")
    for size in ("--total_steps=40", "--optimizer.adamw_optimizer.lr=0.001",
                 "--optimizer.adamw_optimizer.lr_warmup_steps=5", "--log_freq=5",
                 "--train_dataset.commit.batch_size=4", "--train_dataset.commit.seq_length=128",
                 "--train_dataset.codemix_clm.tokenizer_processes=1", "--batch-size 1",
                 "--dtype float32", "--limit 10", f"--local-data {demo.DEMO_QA}",
                 "XLA_FLAGS=--xla_disable_hlo_passes=onednn-matmul-rewriter"):
        assert has(steps, size), size
    assert f"ok  test sets for commit_mlqa_hi, commit_xquad_hi, commit_mlqa_hi_en, commit_xquad_hi_en in {demo.DEMO_QA}" in first
    assert sorted(os.listdir(out)) == [DEMO_MODEL]  # nothing half-built beside it
    built = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}

    assert main(["plan", "--demo", "--out", str(out), "--dry-run"]) == 1
    again = capsys.readouterr().out
    assert f"demo model: {folder} (built by an earlier run)" in again and "building" not in again
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == built
    assert step_lines(again) == step_lines(first)

    # A size given on the command line wins over the demo's.
    assert main(["plan", "--demo", "--out", str(out), "--dry-run", "--align-steps", "7",
                 "--batch-size", "2", "--lr", "0.01", "--eval-limit", "3",
                 "--qa-data", os.path.join(ROOT, "tests", "fixtures", "qa")]) == 1
    given = capsys.readouterr().out
    assert "alignment 7 steps, tuning 3 epoch(s), batches of 2 x 128, lr 0.01, evaluation of 3" in given
    steps = "\n".join(step_lines(given))
    for size in ("--total_steps=7", "--optimizer.adamw_optimizer.lr=0.01",
                 "--train_dataset.commit.batch_size=2", "--train_dataset.commit.seq_length=128",
                 "--limit 3", f"--local-data {os.path.join(ROOT, 'tests', 'fixtures', 'qa')}"):
        assert has(steps, size), size


def test_a_demo_model_build_that_fails_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(out_dir, tokenizer_dir, **_):
        (Path(out_dir) / "config.json").write_text("{}")  # half written, then the failure
        raise OSError("disk full")

    monkeypatch.setattr(demo_model, "save_debug_llama", broken)
    with pytest.raises(OSError, match="disk full"):
        demo_model.build(str(tmp_path / DEMO_MODEL))
    assert os.listdir(tmp_path) == []


@requires_easylm
def test_the_demo_runs_without_dry_run_on_the_cpu_with_no_other_argument(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    argv = [sys.executable, "-m", "easylm_commit.cli", "plan", "--demo", "--out", str(out),
            "--until", "convert"]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FAIL" not in run.stdout
    # EasyLM's own converter took the stand-in as it takes LLaMA-7B.
    assert (out / ".plan" / "convert_base.done").exists()
    assert (out / "base" / "streaming_params").stat().st_size > 0

    dry = subprocess.run(argv + ["--dry-run"], env=env, capture_output=True, text=True, timeout=600)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "(built by an earlier run)" in dry.stdout
    assert "[1/1] convert_base (done)" in dry.stdout  # the same model: nothing to redo


# -- 2. fail fast, offline ----------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["./llama-7b-hf", "llama-7b-hf/", "llama-7b-hf", "models/meta/llama",
                                  "~/no-such-llama", "ABSOLUTE"])
def test_a_path_that_is_not_there_is_no_such_folder_and_never_asks_the_hub(spec, tmp_path, monkeypatch):
    import huggingface_hub

    def hub(*_, **__):
        raise AssertionError("sent to the hub")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", hub)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", hub)
    monkeypatch.chdir(tmp_path)
    spec = str(tmp_path / "llama-7b-hf") if spec == "ABSOLUTE" else spec
    with pytest.raises(UserError) as e:
        hf_paths.locate(spec, "--hf-model")
    assert str(e.value).startswith(f"--hf-model {spec}: no such folder")


def test_a_missing_model_folder_is_one_fail_line_and_its_tokenizer_is_not_tried(tmp_path, capsys,
                                                                                 monkeypatch):
    monkeypatch.delenv("EASYLM_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    start = time.time()
    assert main(["plan", "--demo", "--hf-model", "./llama-7b-hf", "--out", "o", "--runs", "commit",
                 "--eval-device", "cpu", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert time.time() - start < 60  # was a minute of hub retries on a machine without network
    fails = fail_lines(out)
    assert fails[0] == "--hf-model ./llama-7b-hf: no such folder"
    assert len(fails) == 2 and fails[1].startswith("no EasyLM checkout"), fails
    assert not re.search(r"^\s*(ok|warn|FAIL)\s+(--)?tokenizer", out, re.M)  # the same folder


def test_stats_says_no_such_folder_for_a_tokenizer_path(tmp_path, capsys):
    assert main(["stats", "--demo", "--tokenizer", str(tmp_path / "tok")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"--tokenizer {tmp_path / 'tok'}: no such folder")


def test_a_hub_name_offline_is_read_from_the_local_cache(tmp_path, tiny_hf_llama, monkeypatch):
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    snapshot = cache / "models--someorg--llama-debug" / "snapshots" / ("0" * 40)
    shutil.copytree(tiny_hf_llama, snapshot)
    (snapshot.parent.parent / "refs").mkdir()
    (snapshot.parent.parent / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    assert hf_paths.locate("someorg/llama-debug", "--hf-model") == str(snapshot)
    with pytest.raises(UserError, match=r"^--hf-model someorg/other: not in the local Hugging Face "
                                        r"cache and HF_HUB_OFFLINE is set: .*a local folder$"):
        hf_paths.locate("someorg/other", "--hf-model")


def test_a_hub_name_without_network_fails_in_seconds_suggesting_offline_mode(tmp_path, env):
    with socket.socket() as s:  # a port nothing listens on: the hub, unreachable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env.update(HF_HUB_OFFLINE="0", HF_ENDPOINT=f"http://127.0.0.1:{port}")
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "easylm_commit.cli", "plan", "--demo",
                           "--hf-model", "someorg/llama-7b", "--runs", "llama", "--out",
                           str(tmp_path / "o"), "--eval-device", "cpu", "--dry-run"],
                          env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.time() - start
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert fail_lines(proc.stdout)[0] == (
        "--hf-model someorg/llama-7b: cannot reach the Hugging Face hub (ConnectionError): without "
        "network, set HF_HUB_OFFLINE=1 to use a downloaded copy, or pass a local folder")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert elapsed < 60, elapsed


# -- 3. checks that check -----------------------------------------------------------------------

def weightless_copy(tiny_hf_llama, dest):
    shutil.copytree(tiny_hf_llama, dest, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    return dest


def test_a_model_folder_without_weights_fails_naming_what_is_missing(tmp_path, tiny_hf_llama, capsys,
                                                                     monkeypatch):
    monkeypatch.delenv("EASYLM_DIR", raising=False)
    folder = weightless_copy(tiny_hf_llama, tmp_path / "llama-7b-hf")
    assert main(["plan", "--demo", "--hf-model", str(folder), "--out", str(tmp_path / "o"),
                 "--runs", "commit", "--eval-device", "cpu", "--dry-run"]) == 1
    fails = fail_lines(capsys.readouterr().out)
    assert fails[0] == (f"{folder}: no weights: none of model.safetensors, model.safetensors.index.json, "
                        "pytorch_model.bin, pytorch_model.bin.index.json")


def test_weights_are_what_transformers_would_load(tmp_path, tiny_hf_llama):
    folder = weightless_copy(tiny_hf_llama, tmp_path / "m")
    shards = [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    (folder / shards[0]).write_bytes(b"x")
    with pytest.raises(UserError, match=r"no weights: .* \(model-00001-of-00003.safetensors alone "
                                        r"are not loadable\)"):
        hf_paths.weight_files(str(folder))
    index = {"metadata": {}, "weight_map": {"a": shards[0], "b": shards[1], "c": shards[2], "d": shards[2]}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(UserError, match=rf"^{folder}: 2 of the 3 weight shard\(s\) that "
                                        rf"model.safetensors.index.json lists are missing: "
                                        rf"{shards[1]}, {shards[2]}$"):
        hf_paths.weight_files(str(folder))
    for shard in shards[1:]:
        (folder / shard).write_bytes(b"x")
    assert hf_paths.weight_files(str(folder)) == shards
    assert hf_paths.weight_files(str(tiny_hf_llama)) == ["model.safetensors"]


def test_every_missing_input_is_said_once_all_in_one_run(tmp_path, env):
    def reproduce():
        proc = subprocess.run(
            ["bash", os.path.join(ROOT, "examples", "reproduce_paper.sh"), "--eval-device", "cpu",
             "--dry-run"], cwd=tmp_path, capture_output=True, text=True, timeout=600,
            env=dict(env, HF_MODEL="llama-7b-hf", TARGET="hi", DICTIONARY="en-hi.txt",
                     DATA="alpaca_data.json", CORPUS="hi_wiki.jsonl", OUT="runs/hi"))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        fails = fail_lines(proc.stdout)
        assert f"{len(fails)} check(s) failed; nothing was run" in proc.stderr
        return fails

    from easylm_commit.easylm_path import HOW_TO_GET

    easylm = f"no EasyLM checkout: {HOW_TO_GET}"
    fails = reproduce()
    assert fails[0] == "--hf-model llama-7b-hf: no such folder (a hub model is named org/name)"
    assert fails[1].startswith("en-hi.txt: dictionary file not found")
    assert fails[2:] == ["--instructions alpaca_data.json: no such file",
                         "--corpus hi_wiki.jsonl: no such file", easylm]

    shutil.copy(os.path.join(ROOT, "easylm_commit", "demo", "en-hi.txt"), tmp_path / "en-hi.txt")
    assert reproduce() == ["--hf-model llama-7b-hf: no such folder (a hub model is named org/name)",
                           "--instructions alpaca_data.json: no such file",
                           "--corpus hi_wiki.jsonl: no such file", easylm]
    assert not (tmp_path / "runs").exists()
