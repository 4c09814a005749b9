"""A sequence of long commands that a rerun resumes where it stopped.

``easylm-commit plan`` runs the paper's experiment as steps (convert, align, train, convert
back, evaluate, report), each one external command that may take hours. What makes a rerun
after a kill, a crash or a lost VM safe:

- After a step's command exits 0 and its outputs exist, a marker ``<state_dir>/<name>.done``
  is written atomically (JSON: fingerprint, command, seconds). Nothing else counts as done:
  a checkpoint file that exists but has no marker may be half written.
- A rerun skips a step whose marker holds the step's current fingerprint. The fingerprint
  covers the command, its environment additions, the size and modification time of its input
  files, and the fingerprints of the steps it reads from -- so a changed option or input file
  redoes that step and every step downstream, and nothing else.
- A step that is not done has its outputs removed before it runs, so it starts clean rather
  than on the remains of a killed attempt. Outputs must lie under the runner's root: the
  runner never deletes anything it was not asked to make.
- One runner at a time per root (an advisory lock), so two shells cannot interleave steps.
- A runner that is stopped (Ctrl-C, or SIGTERM through the CLI) stops the step's command
  before it goes: SIGTERM to it, SIGKILL after ``stop_grace`` seconds. Its marker is not
  written, so a rerun redoes that step.

The unit of resume is the step: a training step killed at 90% runs again from its start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence

from easylm_commit.atomic import atomic_output
from easylm_commit.errors import UserError


@dataclasses.dataclass
class Step:
    """One command of a ``Runner``, and what decides whether a rerun may skip it."""
    name: str                 # unique; names the marker and the log file
    title: str                # one line for people
    argv: list[str]           # the command
    outputs: list[str] = dataclasses.field(default_factory=list)  # what it makes (files or folders)
    inputs: list[str] = dataclasses.field(default_factory=list)   # files it reads that are not outputs of a step
    env: dict[str, str] = dataclasses.field(default_factory=dict)  # additions to the environment
    after: list[str] = dataclasses.field(default_factory=list)    # steps whose outputs it reads
    phase: str = ""

    def display(self, python: str | None = None) -> str:
        """The command as one shell line, ``python`` for this interpreter, env first.

        Args:
            python: the interpreter to show as ``python`` (default: this one), so the line
                can be pasted on another machine.
        """
        python = python or sys.executable
        argv = ["python" if a == python else a for a in self.argv]
        env = [f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items())]
        return " ".join(env + [shlex.join(argv)])


class StepFailed(Exception):
    """A step's command failed or did not make its outputs; ``log`` is where it wrote."""

    def __init__(self, step: Step, message: str, log: str) -> None:
        super().__init__(message)
        self.step = step
        self.log = log


def _stat_signature(path):
    """(path, size, mtime) of a file, or of every file directly in a folder."""
    if os.path.isdir(path):
        names = sorted(os.listdir(path))
        return [_stat_signature(os.path.join(path, n)) for n in names
                if os.path.isfile(os.path.join(path, n))]
    try:
        st = os.stat(path)
    except OSError:
        return [path, None]
    return [path, st.st_size, st.st_mtime_ns]


class Runner:
    """Runs ``steps`` in order under ``root``: markers in ``root/.plan``, logs in ``root/logs``.

    Args:
        steps: in the order to run them; a step comes after the steps it names in ``after``.
        root: every output lies under it (outputs of an unfinished step are deleted).
        echo: where the one-line progress messages go.

    Raises:
        ValueError: names that repeat, an ``after`` that is not before, an output outside
            ``root``: mistakes of the code that built the steps, not of the user.
    """

    # Seconds a stopped step's command gets to exit after SIGTERM before SIGKILL: less than
    # the 30 s that Slurm (KillWait) and Kubernetes (terminationGracePeriodSeconds) give the
    # runner itself by default, so the runner still has time to go after it.
    stop_grace = 10

    def __init__(self, steps: Sequence[Step], root: str | os.PathLike[str], *,
                 echo: Callable[[str], object] = print) -> None:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names repeat: {names}")
        self.steps = list(steps)
        self.root = os.path.abspath(root)
        self.state_dir = os.path.join(self.root, ".plan")
        self.log_dir = os.path.join(self.root, "logs")
        self.echo = echo
        for step in self.steps:
            for out in step.outputs:
                if not self._inside_root(out):
                    raise ValueError(f"step {step.name}: output {out} is outside {self.root}")
        self._fingerprints = self._fingerprint_all()

    def _inside_root(self, path):
        path = os.path.abspath(path)
        return path != self.root and os.path.commonpath([path, self.root]) == self.root

    def _fingerprint_all(self):
        prints = {}
        for step in self.steps:
            missing = [a for a in step.after if a not in prints]
            if missing:
                raise ValueError(f"step {step.name} comes after {missing}, which are not before it")
            blob = json.dumps([step.argv, sorted(step.env.items()),
                               [_stat_signature(p) for p in step.inputs],
                               [prints[a] for a in step.after]])
            prints[step.name] = hashlib.sha256(blob.encode("utf-8")).hexdigest()
        return prints

    def marker(self, step: Step) -> str:
        """The file whose fingerprint says ``step`` is done."""
        return os.path.join(self.state_dir, f"{step.name}.done")

    def log_path(self, step: Step) -> str:
        """Where ``step``'s command writes its stdout and stderr."""
        return os.path.join(self.log_dir, f"{step.name}.log")

    def is_done(self, step: Step) -> bool:
        """Whether a rerun skips ``step``: its marker holds its current fingerprint and its
        outputs exist."""
        try:
            with open(self.marker(step), encoding="utf-8") as f:
                done = json.load(f)
        except (OSError, ValueError):
            return False
        return (done.get("fingerprint") == self._fingerprints[step.name]
                and all(os.path.exists(p) for p in step.outputs))

    def pending(self) -> list[Step]:
        """The steps a run would run, in order."""
        return [s for s in self.steps if not self.is_done(s)]

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        os.makedirs(self.state_dir, exist_ok=True)
        with open(os.path.join(self.state_dir, "lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserError(f"{self.root}: another plan is running in this folder") from None
            yield

    def run(self) -> None:
        """Run every step that is not done, in order; raises ``StepFailed`` at the first
        step that fails (its marker is not written, so a rerun starts there)."""
        n = len(self.steps)
        with self._lock():
            os.makedirs(self.log_dir, exist_ok=True)
            for i, step in enumerate(self.steps, 1):
                if self.is_done(step):
                    self.echo(f"[{i}/{n}] {step.name}: done earlier, skipped")
                else:
                    self._run_one(step, f"[{i}/{n}]")

    def _run_one(self, step, counter):
        log = self.log_path(step)
        self.echo(f"{counter} {step.name}: {step.title} (log: {log})")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.marker(step))
        for out in step.outputs:  # the remains of an attempt that did not finish
            if os.path.isdir(out) and not os.path.islink(out):
                shutil.rmtree(out)
            elif os.path.lexists(out):
                os.unlink(out)
            os.makedirs(os.path.dirname(out), exist_ok=True)
        env = dict(os.environ, **step.env)
        start = time.time()
        with open(log, "w", encoding="utf-8") as f:
            f.write(f"# {step.display()}\n")
            f.flush()
            proc = subprocess.Popen(step.argv, stdout=f, stderr=subprocess.STDOUT, env=env)
            try:
                proc.wait()
            except BaseException as e:
                # Ctrl-C reached the command too (one process group); SIGTERM may have been
                # sent to the runner alone (Kubernetes signals the container's first process).
                _stop(proc, None if type(e) is KeyboardInterrupt else signal.SIGTERM,
                      self.stop_grace)
                raise
        seconds = time.time() - start
        missing = [p for p in step.outputs if not os.path.exists(p)]
        if proc.returncode != 0 or missing:
            why = (f"exit status {proc.returncode}" if proc.returncode != 0
                   else f"it did not make {', '.join(missing)}")
            raise StepFailed(step, f"step {step.name} failed ({why})", log)
        with atomic_output(self.marker(step)) as f:
            json.dump({"fingerprint": self._fingerprints[step.name], "command": step.argv,
                       "seconds": round(seconds, 1),
                       "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}, f, indent=1)
        self.echo(f"{counter} {step.name}: done in {_duration(seconds)}")


def _stop(proc, signum, grace):
    """Send ``signum`` (if any) to ``proc``, give it ``grace`` seconds, then kill it."""
    try:
        if signum is not None and proc.poll() is None:
            proc.send_signal(signum)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _duration(seconds):
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def log_tail(path: str, lines: int = 15) -> str:
    """The last ``lines`` lines of a step's log (progress bars' carriage returns as line
    ends): what a failed step printed last, for its error message; ``""`` if unreadable."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return ""
    return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])
