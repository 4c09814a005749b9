"""Dataset worker processes (``tokenizer_processes > 1``) never outlive their trainer.

A trainer here is a small script that builds the ``commit`` dataset with two workers, takes
3 batches and holds the live iterator. However it then ends -- ``kill -9`` or the OOM killer,
``os._exit`` (a crashed trainer), SIGTERM (Slurm, Kubernetes, TPU preemption), Ctrl-C, an
exception out of the train loop, a normal exit -- every worker is gone soon after, and so is
every holder of the trainer's stdout and stderr: a ``| tee`` after the trainer returns. An
iterator abandoned by a trainer that carries on ends its workers too.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

pytest.importorskip("mlxu")
pytest.importorskip("datasets")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads process states from /proc")

GONE_WITHIN = 15.0  # seconds

TRAINER = textwrap.dedent('''
    import gc, json, multiprocessing, os, sys, threading, time
    from transformers import AutoTokenizer
    from easylm_commit.dataset_types import CommitDataset


    class BothWorkersUp:
        """Builds no chunk before both workers hold one: when the trainer reports its
        workers, both are past their start-up (importing, unpickling the tokenizer)."""

        def __init__(self, builder, flags):
            self.builder, self.flags = builder, flags

        def __call__(self, items):
            open(os.path.join(self.flags, str(os.getpid())), "w").close()
            deadline = time.time() + 60
            while len(os.listdir(self.flags)) < 2 and time.time() < deadline:
                time.sleep(0.01)
            return self.builder(items)


    class Dataset(CommitDataset):
        flags = None

        def _builder(self):
            return BothWorkersUp(super()._builder(), self.flags)


    def report(what):
        print(json.dumps(what), flush=True)


    def main(data, tokenizer_dir, flags, how):
        global kept
        config = dict(path=os.path.join(data, "alpaca.json"), dictionary=os.path.join(data, "en-hi.txt"),
                      seq_length=32, batch_size=2, records_per_chunk=4, tokenizer_processes=2)
        ds = Dataset(Dataset.get_default_config(config), AutoTokenizer.from_pretrained(tokenizer_dir))
        ds.flags = flags
        batches = iter(ds)
        take = lambda n: [next(batches) for _ in range(n)]  # noqa: E731
        if how == "thread":  # the first batches, hence the workers' start, in a thread that ends
            thread = threading.Thread(target=take, args=(3,))
            thread.start()
            thread.join()
        else:
            take(3)
        report([p.pid for p in multiprocessing.active_children()])
        if how == "os._exit":
            os._exit(1)
        if how == "exit":  # the interpreter ends with the iterator alive
            kept = batches
            return
        if how == "raise":
            for _ in batches:
                raise RuntimeError("the train step failed")
        if how == "abandon":
            del batches
            gc.collect()
            report("abandoned")
        if how == "thread":  # more batches than the chunks already built hold
            take(30)
            report([p.pid for p in multiprocessing.active_children()])
        time.sleep(600)


    if __name__ == "__main__":
        main(*sys.argv[1:])
''')


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    words = "the cat dog is black white big small house river".split()
    hindi = "द बिल्ली कुत्ता है काला सफ़ेद बड़ा छोटा घर नदी".split()
    d = tmp_path_factory.mktemp("data")
    (d / "en-hi.txt").write_text("".join(f"{e} {h}\n" for e, h in zip(words, hindi)), encoding="utf-8")
    records = [{"instruction": f"Record {i}: " + " ".join(words[(i + k) % 10] for k in range(6)) + "?",
                "input": "",
                "output": " ".join(words[(3 * i + k) % 10] for k in range(12)) + "."}
               for i in range(40)]
    (d / "alpaca.json").write_text(json.dumps(records), encoding="utf-8")
    (d / "trainer.py").write_text(TRAINER, encoding="utf-8")
    return d


def _stat(pid):
    """(state, start time) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], fields[19]


class Trainer:
    def __init__(self, data, tokenizer_dir, flags, how):
        # A session of its own: Ctrl-C goes to a terminal's whole foreground process group,
        # which here is the trainer's, not pytest's.
        self.proc = subprocess.Popen(
            [sys.executable, str(data / "trainer.py"), str(data), str(tokenizer_dir), str(flags), how],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        # Both pipes are read to their end by threads: the end comes when every process
        # holding them (the trainer, its workers) is gone.
        self.lines, self.stderr_lines = queue.Queue(), []
        self.readers = [threading.Thread(target=read, daemon=True) for read in (
            lambda: [self.lines.put(line) for line in self.proc.stdout],
            lambda: self.stderr_lines.extend(self.proc.stderr))]
        for r in self.readers:
            r.start()
        self.workers = {}
        try:
            self.workers = {pid: _stat(pid)[1] for pid in self.report()}
        except BaseException:
            self.clean_up()
            raise
        assert len(self.workers) == 2

    @property
    def stderr(self):
        return "".join(self.stderr_lines)

    def report(self, timeout=120):
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"the trainer reported nothing in {timeout} s (exit status "
                                 f"{self.proc.poll()}): {self.stderr[-3000:]}") from None

    def alive(self):
        """The workers still running (a zombie is gone: only its exit status is left)."""
        return [pid for pid, start in self.workers.items()
                if (s := _stat(pid)) is not None and s[0] not in "ZX" and s[1] == start]

    def workers_gone(self):
        """Seconds until no worker is left; fails after ``GONE_WITHIN``."""
        t0 = time.monotonic()
        while self.alive():
            if time.monotonic() - t0 > GONE_WITHIN:
                raise AssertionError(f"workers {self.alive()} still running {GONE_WITHIN} s on")
            time.sleep(0.02)
        return time.monotonic() - t0

    def ended(self):
        """The trainer's exit status, once its stdout and stderr are closed by everyone
        (what a ``| tee`` after the trainer waits for)."""
        deadline = time.monotonic() + GONE_WITHIN
        for r in self.readers:
            r.join(max(0.0, deadline - time.monotonic()))
        if any(r.is_alive() for r in self.readers):
            raise AssertionError(f"the trainer's output pipes are still open {GONE_WITHIN} s on "
                                 f"(trainer exit status {self.proc.poll()}, workers alive: {self.alive()})")
        return self.proc.wait(GONE_WITHIN)

    def clean_up(self):
        if self.proc.poll() is None:
            self.proc.kill()
        for pid in self.alive():
            os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        for r in self.readers:
            r.join()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def trainer(data, llama_tokenizer_dir, tmp_path):
    started = []

    def start(how="wait"):
        flags = tmp_path / f"workers-up-{len(started)}"
        flags.mkdir()
        started.append(Trainer(data, llama_tokenizer_dir, flags, how))
        return started[-1]

    yield start
    for t in started:
        t.clean_up()


@pytest.mark.parametrize("death", ["kill -9", "SIGTERM", "os._exit"])
def test_workers_end_within_seconds_when_the_trainer_dies_without_clean_up(trainer, death):
    """kill -9 and the OOM killer (SIGKILL), SIGTERM (the preemption signal) and
    ``os._exit`` (a crashed trainer) run none of the trainer's clean-up."""
    t = trainer("os._exit" if death == "os._exit" else "wait")
    if death != "os._exit":
        os.kill(t.proc.pid, signal.SIGKILL if death == "kill -9" else signal.SIGTERM)
    t.proc.wait(30)
    assert t.workers_gone() < GONE_WITHIN
    assert t.ended() == {"kill -9": -signal.SIGKILL, "SIGTERM": -signal.SIGTERM, "os._exit": 1}[death]


def test_ctrl_c_stops_the_trainer_once_and_leaves_no_worker(trainer):
    """Ctrl-C reaches the whole process group. The workers leave it to the trainer: one
    KeyboardInterrupt, not a traceback per worker, and the trainer's exit ends them."""
    t = trainer()
    os.killpg(t.proc.pid, signal.SIGINT)
    assert t.ended() == -signal.SIGINT
    t.workers_gone()
    assert t.stderr.count("KeyboardInterrupt") == 1, t.stderr[-3000:]


@pytest.mark.parametrize("how, status", [("exit", 0), ("raise", 1)])
def test_a_trainer_that_returns_or_raises_with_the_iterator_alive_leaves_no_worker(trainer, how, status):
    """A normal exit with the iterator still referenced, and an exception out of the train
    loop (the iterator is held by the traceback until the interpreter ends)."""
    t = trainer(how)
    assert t.ended() == status
    t.workers_gone()
    if how == "raise":
        assert "RuntimeError: the train step failed" in t.stderr


def test_an_abandoned_iterator_ends_its_workers_while_the_trainer_carries_on(trainer):
    t = trainer("abandon")
    assert t.report() == "abandoned"
    t.workers_gone()
    assert t.proc.poll() is None


def test_workers_started_from_a_thread_that_ended_serve_on_and_still_end_with_the_trainer(trainer):
    """The kernel's parent-death signal follows the thread that started a worker, not the
    process: workers started by a thread that has since ended must keep working (no worker
    lost, no batch rebuilt), and still go when the trainer is killed."""
    t = trainer("thread")
    assert sorted(t.report()) == sorted(t.workers)  # 30 batches later: the same workers
    assert sorted(t.alive()) == sorted(t.workers)
    os.kill(t.proc.pid, signal.SIGKILL)
    t.workers_gone()
    assert t.ended() == -signal.SIGKILL
    assert "worker process died" not in t.stderr
