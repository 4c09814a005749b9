"""Stopping and failing to write (issue 19): a full disk is one line naming the output file and
the cause, exit 2; SIGTERM -- what Slurm, Kubernetes and TPU preemption send -- is handled like
Ctrl-C: temporary files removed, one line, exit 143; `plan` stops the step it runs and writes
no marker for it. Nothing half-written is left behind in any case."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from easylm_commit.atomic import atomic_output
from easylm_commit.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env():
    return dict(os.environ,
                PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))


def cli(*argv):
    return subprocess.run([sys.executable, "-m", "easylm_commit.cli", *map(str, argv)],
                          env=env(), capture_output=True, text=True, timeout=300)


def start(*argv):
    return subprocess.Popen([sys.executable, "-m", "easylm_commit.cli", *map(str, argv)],
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def records(path, n):
    """``n`` instruction records in English that the demo dictionary mixes (~900 bytes each
    once mixed and formatted)."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"instruction": f"Tell me about the water and the tree number {i}.",
                                "input": "", "output": "The water is good and the tree is tall. " * 3})
                    + "\n")
    return path


def wait_for(condition, proc, seconds=120):
    deadline = time.time() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def catches_sigterm(pid):
    """Whether the process has a handler for SIGTERM (its CLI is running the command)."""
    with open(f"/proc/{pid}/status") as f:
        caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def one_line(stderr):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# -- a full disk ------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MB file system (tmpfs), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_mix_onto_a_full_disk_is_one_line_naming_the_file_and_exit_2(tmp_path, small_disk):
    data = records(tmp_path / "data.jsonl", 5000)  # ~4.5 MB mixed: twice the disk
    out = small_disk / "out.jsonl"
    proc = cli("mix", "--demo", "--input", data, "--output", out)
    assert proc.returncode == 2
    assert one_line(proc.stderr) == (
        f"easylm-commit mix: error: {out}: cannot write: No space left on device")
    assert os.listdir(small_disk) == []  # neither the output nor its temporary file


def test_a_read_only_file_system_is_one_line_too(tmp_path, small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    out = small_disk / "page.html"
    proc = cli("preview", "--demo", "--html", out)
    assert proc.returncode == 2
    assert one_line(proc.stderr) == (
        f"easylm-commit preview: error: {out}: cannot write: Read-only file system")


def test_an_input_that_cannot_be_read_is_still_that_inputs_error(tmp_path):
    # Read errors pass through unchanged, naming the input; the output's temporary file goes.
    with pytest.raises(PermissionError) as e:
        with atomic_output(tmp_path / "out.jsonl") as f:
            f.write("half\n")
            raise PermissionError(errno.EACCES, "Permission denied", "in.jsonl")
    assert e.value.filename == "in.jsonl"
    assert os.listdir(tmp_path) == []
    with pytest.raises(UserError, match=r"^.*out\.jsonl: cannot write: Disk quota exceeded$"):
        with atomic_output(tmp_path / "out.jsonl") as f:
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
    assert os.listdir(tmp_path) == []


# -- SIGTERM ----------------------------------------------------------------------------------

def test_sigterm_during_mix_removes_the_temporary_file_and_exits_143(tmp_path):
    data = records(tmp_path / "data.jsonl", 100_000)  # ~10 s of mixing: it is stopped mid-way
    out = tmp_path / "out" / "mixed.jsonl"
    out.parent.mkdir()
    proc = start("mix", "--demo", "--input", data, "--output", out)
    try:
        # Rows reached the temporary file: the output is half written when SIGTERM comes.
        wait_for(lambda: any(p.stat().st_size > 0 for p in out.parent.glob(".mixed.jsonl.*.tmp")),
                 proc)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143
    assert one_line(stderr) == "easylm-commit mix: terminated"
    assert os.listdir(out.parent) == []


@pytest.mark.parametrize("command, output", [
    (["stats", "--json"], None),
    (["preview", "-n", "100000", "--html"], "page.html"),
])
def test_sigterm_stops_stats_and_preview_with_nothing_written(tmp_path, command, output):
    data = records(tmp_path / "data.jsonl", 100_000)
    argv = command + ([tmp_path / "out" / output] if output else [])
    (tmp_path / "out").mkdir()
    proc = start(*argv, "--demo", "--input", data)
    try:
        wait_for(lambda: catches_sigterm(proc.pid), proc)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143
    assert one_line(stderr) == f"easylm-commit {command[0]}: terminated"
    assert stdout == "" and os.listdir(tmp_path / "out") == []


# The plan's runner, through the CLI, with one step whose command waits in place of training.
# The step notes its pid, and that it was asked to stop with SIGTERM (a real step gets the
# chance to clean up) rather than killed.
PLAN = """
import sys
from easylm_commit import cli
from easylm_commit.commands import plan
from easylm_commit.resumable import Runner, Step

root = {root!r}
STEP = '''
import os, signal, sys, time
def stop(signum, frame):
    open(os.path.join({root!r}, "asked to stop"), "w").close()
    sys.exit(1)
signal.signal(signal.SIGTERM, stop)
os.makedirs(os.path.join({root!r}, "train"))
with open(os.path.join({root!r}, "pid"), "w") as f:
    f.write(str(os.getpid()))
time.sleep(300)
'''
plan.add_arguments = lambda parser: None
plan.run = lambda args: Runner([Step("train", "trains", [sys.executable, "-c", STEP],
                                     outputs=[root + "/train"])], root, echo=print).run()
sys.exit(cli.main(["plan"]))
"""


def test_sigterm_to_the_plan_stops_its_step_and_writes_no_marker(tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(PLAN.format(root=str(tmp_path)))
    # SIGTERM goes to the plan alone, as Kubernetes sends it to a container's first process.
    proc = subprocess.Popen([sys.executable, str(driver)], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    pid_file = tmp_path / "pid"
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text(), proc)
        step = int(pid_file.read_text())
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143
    assert one_line(stderr) == "easylm-commit plan: terminated"
    assert (tmp_path / "asked to stop").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(step, 0)
    assert not (tmp_path / ".plan" / "train.done").exists()
