"""`easylm-commit plan` (and its wrapper examples/reproduce_paper.sh) without EasyLM: the
dry run lists the whole sequence and runs nothing; the resumable runner skips what finished
and redoes what a kill interrupted. The end-to-end toy run is tests/test_plan_toy.py."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from easylm_commit import demo
from easylm_commit.cli import main
from easylm_commit.resumable import Runner, Step, StepFailed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QA = os.path.join(ROOT, "tests", "fixtures", "qa")
ALL_RUNS = "llama,none,naive,commit,align+commit,clm+commit,mt"


def parse_dry_run(stdout):
    """[(step name, state, argv without env assignments)] from a --dry-run listing."""
    steps = []
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\[\d+/\d+\] (\S+) \((done|to do)\): ", line)
        if m:
            argv = shlex.split(lines[i + 1].strip())
            while "=" in argv[0] and not argv[0].startswith("-"):
                argv.pop(0)  # PYTHONPATH=... WANDB_MODE=...
            steps.append((m.group(1), m.group(2), argv))
    return steps


def flag(argv, name):
    """The value of --name=value (EasyLM style) or --name value (ours)."""
    for i, a in enumerate(argv):
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
        if a == f"--{name}":
            return argv[i + 1]
    raise AssertionError(f"--{name} not in {argv}")


@pytest.fixture
def no_easylm_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EASYLM_DIR"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    env["PYTHON"] = sys.executable
    return env


def test_dry_run_on_the_demo_prints_every_step_and_runs_nothing(tmp_path, tiny_hf_llama, no_easylm_env):
    out = tmp_path / "runs" / "hi"
    mt = tmp_path / "alpaca_hi.json"  # stands in for a machine-translated Alpaca
    mt.write_text(open(demo.DEMO_INSTRUCTIONS, encoding="utf-8").read(), encoding="utf-8")
    env = dict(no_easylm_env, HF_MODEL=str(tiny_hf_llama), OUT=str(out), MT_DATA=str(mt),
               LOCAL_DATA=QA, RUNS=ALL_RUNS)
    proc = subprocess.run(
        ["bash", os.path.join(ROOT, "examples", "reproduce_paper.sh"), "--demo",
         "--eval-device", "cpu", "--dry-run"],
        env=env, capture_output=True, text=True, timeout=600)
    # Without EasyLM the plan can be listed but not run: one FAIL line says what to do.
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL  no EasyLM checkout: EasyLM is not on PyPI" in proc.stdout
    assert "1 check(s) failed; nothing was run" in proc.stderr
    assert not out.exists() and not (tmp_path / "runs").exists()

    steps = parse_dry_run(proc.stdout)
    names = [name for name, _, _ in steps]
    tuned = ["none", "naive", "commit", "align_commit", "clm_commit", "mt"]
    assert names == (["convert_base", "align", "align_clm"] + [f"train_{r}" for r in tuned]
                     + [f"to_hf_{r}" for r in tuned] + ["eval_llama"]
                     + [f"eval_{r}" for r in tuned] + ["report"])
    assert all(state == "to do" for _, state, _ in steps)
    cmd = {name: argv for name, _, argv in steps}

    # HF -> EasyLM with the model's own shape, read from its config.json.
    assert cmd["convert_base"][2] == "EasyLM.models.llama.convert_hf_to_easylm"
    assert flag(cmd["convert_base"], "hf_model") == str(tiny_hf_llama)
    base = str(out / "base" / "streaming_params")
    assert flag(cmd["convert_base"], "output_file") == base
    for name in ("convert_base", "train_commit", "to_hf_commit"):
        assert flag(cmd[name], "llama.hidden_size") == "128"
        assert flag(cmd[name], "llama.vocab_size") == str(json.load(
            open(tiny_hf_llama / "config.json"))["vocab_size"])

    # Alignment: the corpus mixed into English (alpha 0.5), or plain CLM (alpha 0).
    for name, alpha in (("align", "0.5"), ("align_clm", "0.0")):
        argv = cmd[name]
        assert flag(argv, "train_dataset.type") == "codemix_clm"
        assert flag(argv, "train_dataset.codemix_clm.alpha") == alpha
        assert flag(argv, "train_dataset.codemix_clm.reverse_dictionary") == "True"
        assert flag(argv, "train_dataset.codemix_clm.path") == demo.DEMO_CORPUS
        assert flag(argv, "load_checkpoint") == f"params::{base}"
        assert flag(argv, "total_steps") == "10000"
        assert flag(argv, "optimizer.adamw_optimizer.lr_warmup_steps") == "300"
        assert flag(argv, "log_freq") == "10"
        assert flag(argv, "train_dataset.codemix_clm.tokenizer_processes") == "4"

    # Tuning: the paper's settings; three epochs of steps measured by `stats` on this data.
    stats = subprocess.run(
        [sys.executable, "-m", "easylm_commit.cli", "stats", "--demo", "--quiet", "--json",
         "--tokenizer", str(tiny_hf_llama)], env=env, capture_output=True, text=True, check=True)
    steps_per_epoch = json.loads(stats.stdout)["steps_per_epoch"]
    train = cmd["train_commit"]
    assert train[2] == "easylm_commit.llama_train"
    assert flag(train, "total_steps") == str(3 * steps_per_epoch)
    assert flag(train, "optimizer.adamw_optimizer.lr") == "2e-05"
    assert flag(train, "train_dataset.commit.batch_size") == "16"
    assert flag(train, "train_dataset.commit.seq_length") == "512"
    assert flag(train, "train_dataset.commit.alpha") == "0.9"
    expected = {"none": ("none", "en", f"params::{base}"),
                "naive": ("naive", "en", f"params::{base}"),
                "commit": ("commit", "en", f"params::{base}"),
                "align_commit": ("commit", "en", f"params::{out}/runs/align/streaming_params"),
                "clm_commit": ("commit", "en", f"params::{out}/runs/clm/streaming_params"),
                "mt": ("none", "hi", f"params::{base}")}
    for run, (mode, template, load) in expected.items():
        argv = cmd[f"train_{run}"]
        assert flag(argv, "train_dataset.commit.mode") == mode
        assert flag(argv, "train_dataset.commit.template") == template
        assert flag(argv, "load_checkpoint") == load
        assert flag(argv, "logger.experiment_id") == run
    assert flag(cmd["train_mt"], "train_dataset.commit.path") == str(mt)
    assert flag(cmd["train_commit"], "train_dataset.commit.path") == demo.DEMO_INSTRUCTIONS

    # Back to HF, evaluate the target's test sets with both prompts, one report.
    assert cmd["to_hf_mt"][2] == "EasyLM.models.llama.convert_easylm_to_hf"
    assert flag(cmd["to_hf_mt"], "load_checkpoint") == f"params::{out}/runs/mt/streaming_params"
    assert flag(cmd["eval_llama"], "model-path") == str(tiny_hf_llama)
    assert flag(cmd["eval_commit"], "model-path") == str(out / "hf" / "commit")
    assert flag(cmd["eval_commit"], "tasks") == (
        "commit_mlqa_hi,commit_xquad_hi,commit_mlqa_hi_en,commit_xquad_hi_en")
    assert flag(cmd["eval_commit"], "local-data") == QA
    # The paper's evaluation: every question, lm-eval's batch size and dtype.
    assert "--limit" not in cmd["eval_commit"]
    assert (flag(cmd["eval_commit"], "batch-size"), flag(cmd["eval_commit"], "dtype")) == ("auto", "auto")
    # Sizes for the paper's model, not the demo's: no --demo sizes line, no demo XLA_FLAGS.
    assert "demo sizes" not in proc.stdout and "XLA_FLAGS" not in proc.stdout
    report = cmd["report"]
    assert report[3] == "report"
    names = report[report.index("--names") + 1:report.index("--out-dir")]
    assert names == ["LLaMA", "Alpaca", "naive", "COMMIT", "Align+COMMIT", "CLM+COMMIT", "MT"]
    assert report[4:4 + 7] == [str(out / "results" / f"{r}.json") for r in ["llama"] + tuned]


def test_checks_say_what_is_wrong_before_anything_runs(tmp_path, tiny_hf_llama, no_easylm_env, capsys,
                                                       monkeypatch):
    monkeypatch.delenv("EASYLM_DIR", raising=False)
    wrong_way = tmp_path / "hi-en.txt"  # a dictionary the wrong way round covers no English word
    wrong_way.write_text("बिल्ली cat\nकुत्ता dog\n", encoding="utf-8")
    status = main(["plan", "--demo", "--hf-model", str(tiny_hf_llama), "--out", str(tmp_path / "o"),
                   "--dictionary", str(wrong_way), "--runs", "commit", "--seq-length", "1024",
                   "--eval-device", "cpu", "--qa-data", str(tmp_path / "no-qa")])
    assert status == 1
    out = capsys.readouterr().out
    assert "FAIL  --seq-length 1024 is longer than the model's context (512)" in out
    assert re.search(r"FAIL  alpaca_demo.json \(commit, template en\).*covers 0.0% of the words"
                     r".*nothing would be mixed", out)
    assert "FAIL  " + str(tmp_path / "no-qa") + ": local QA data directory not found" in out
    assert not (tmp_path / "o").exists()


def test_a_tokenizer_larger_than_the_embedding_fails_the_check(tmp_path, tiny_hf_llama, llama_tokenizer_dir,
                                                                capsys, monkeypatch):
    from transformers import AutoTokenizer

    monkeypatch.delenv("EASYLM_DIR", raising=False)
    padded = tmp_path / "tokenizer"
    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    tok.add_special_tokens({"pad_token": "<pad>"})
    tok.save_pretrained(padded)
    assert main(["plan", "--demo", "--hf-model", str(tiny_hf_llama), "--tokenizer", str(padded),
                 "--out", str(tmp_path / "o"), "--runs", "commit", "--dry-run"]) == 1
    n = len(tok)
    assert (f"FAIL  tokenizer {padded} has {n} tokens but the checkpoint's embedding only {n - 1}"
            in capsys.readouterr().out)


@pytest.mark.parametrize("argv, message", [
    (["--runs", "commit,align"], "--runs: unknown run align; choose from llama, none, naive"),
    (["--runs", "mt"], "--runs mt needs --mt-instructions"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--tasks", "commit_xquad_de"], "unknown task commit_xquad_de"),
    (["--target", "xx"], "no test set of the paper is in language 'xx': name the tasks with --tasks"),
])
def test_bad_options_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    status = main(["plan", "--demo", "--hf-model", str(tmp_path), "--out", str(tmp_path / "o"), *argv])
    assert status == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err


# -- the resumable runner --------------------------------------------------------------------------

def write_step(root, name, after=(), hold=False):
    """A step that counts its runs in ROOT/<name>.count (not an output: it survives) and makes
    ROOT/<name>/ with 'part' then 'whole'; with ROOT/hold present it stops between the two
    (the hold file changes nothing in the command, so the fingerprint stays)."""
    code = textwrap.dedent(f"""
        import os, sys, time
        root = {str(root)!r}
        with open(os.path.join(root, "{name}.count"), "a") as f:
            f.write("ran\\n")
        os.makedirs(os.path.join(root, "{name}"))
        open(os.path.join(root, "{name}", "part"), "w").close()
        while os.path.exists(os.path.join(root, "hold")) and {hold}:
            time.sleep(0.1)
        open(os.path.join(root, "{name}", "whole"), "w").close()
    """)
    return Step(name, f"makes {name}", [sys.executable, "-c", code],
                outputs=[str(root / name)], after=list(after))


DRIVER = """
import sys
sys.path.insert(0, {tests!r})
from test_plan import write_step
from easylm_commit.resumable import Runner
from pathlib import Path
root = Path({root!r})
Runner([write_step(root, "first"), write_step(root, "second", ["first"], hold=True),
        write_step(root, "third", ["second"])], root).run()
"""


def count(root, name):
    path = root / f"{name}.count"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_rerun_after_a_kill_skips_finished_steps_and_redoes_the_killed_one(tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tests=os.path.dirname(__file__), root=str(tmp_path)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    (tmp_path / "hold").touch()
    proc = subprocess.Popen([sys.executable, str(driver)], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "second" / "part").exists():
        assert time.time() < deadline and proc.poll() is None, proc.communicate()[0]
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the step it runs, mid-step
    proc.wait()
    assert (tmp_path / ".plan" / "first.done").exists()
    assert not (tmp_path / ".plan" / "second.done").exists()
    assert not (tmp_path / "second" / "whole").exists()

    (tmp_path / "hold").unlink()
    rerun = subprocess.run([sys.executable, str(driver)], env=env, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "[1/3] first: done earlier, skipped" in rerun.stdout
    assert "[2/3] second: makes second" in rerun.stdout
    assert (count(tmp_path, "first"), count(tmp_path, "second"), count(tmp_path, "third")) == (1, 2, 1)
    assert sorted(os.listdir(tmp_path / "second")) == ["part", "whole"]

    again = subprocess.run([sys.executable, str(driver)], env=env, capture_output=True, text=True,
                           timeout=120)
    assert again.stdout.count("done earlier, skipped") == 3
    assert (count(tmp_path, "first"), count(tmp_path, "second"), count(tmp_path, "third")) == (1, 2, 1)


def test_a_changed_step_is_redone_with_every_step_after_it(tmp_path):
    def steps(extra):
        first = write_step(tmp_path, "first")
        second = write_step(tmp_path, "second", ["first"])
        second.argv = second.argv + extra  # e.g. another option: another fingerprint
        return [first, second, write_step(tmp_path, "third", ["second"])]

    Runner(steps([]), tmp_path, echo=lambda _: None).run()
    Runner(steps([]), tmp_path, echo=lambda _: None).run()
    assert [count(tmp_path, n) for n in ("first", "second", "third")] == [1, 1, 1]
    Runner(steps(["--changed"]), tmp_path, echo=lambda _: None).run()
    assert [count(tmp_path, n) for n in ("first", "second", "third")] == [1, 2, 2]


def test_a_changed_input_file_redoes_the_step(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("one")
    step = lambda: write_step(tmp_path / "out", "first")  # noqa: E731
    (tmp_path / "out").mkdir()
    s = step()
    s.inputs = [str(data)]
    Runner([s], tmp_path / "out", echo=lambda _: None).run()
    data.write_text("two, longer")
    s = step()
    s.inputs = [str(data)]
    Runner([s], tmp_path / "out", echo=lambda _: None).run()
    assert count(tmp_path / "out", "first") == 2


def test_a_failed_step_leaves_no_marker_and_names_its_log(tmp_path):
    bad = Step("bad", "fails", [sys.executable, "-c", "print('the reason'); raise SystemExit(3)"],
               outputs=[str(tmp_path / "x")])
    runner = Runner([bad], tmp_path, echo=lambda _: None)
    with pytest.raises(StepFailed, match="step bad failed \\(exit status 3\\)") as e:
        runner.run()
    assert "the reason" in open(e.value.log).read()
    assert not os.path.exists(runner.marker(bad))


def test_outputs_must_lie_under_the_root(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        Runner([Step("s", "t", ["true"], outputs=[str(tmp_path.parent / "elsewhere")])], tmp_path)
