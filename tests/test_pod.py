"""The launcher as a pod: two JAX processes on this machine, exactly as two hosts of a TPU
pod run it (one process per host, ``jax.distributed`` through a coordinator address), with
nothing in front of ``python -m easylm_commit.llama_train``.

What a pod user relies on: the pod trains what one process trains; a checkpoint the pod
wrote resumes in a pod with the uninterrupted batches; hosts that were given different
files all stop, with one error naming what differs, instead of training a silently mixed
model or hanging. Kept short (three steps of the debug LLaMA, tiny batches): a launch costs
its start and two compilations of the train step (EasyLM's first two steps compile), which
on a pod of two CPU processes take most of a minute each; the number of steps hardly
matters. Needs ``EASYLM_DIR``.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from conftest import debug_llama_flags, requires_easylm
from test_easylm_train import DEMO, parse_metrics

pytestmark = requires_easylm

# Every launch is bounded: a pod that hangs fails the test instead of hanging the suite.
# Generous, for a loaded machine; the stop-on-disagreement tests bound their exit tightly.
TIMEOUT = 900
STEPS = 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEQ = {"commit": 64, "codemix_clm": 32}
BATCH = 4  # split over the two processes (--mesh_dim=-1,1,1: data parallel)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_flags(dataset_type, path, dictionary):
    t = dataset_type
    return [f"--train_dataset.type={t}", f"--train_dataset.{t}.path={path}",
            f"--train_dataset.{t}.dictionary={dictionary}",
            f"--train_dataset.{t}.seq_length={SEQ[t]}", f"--train_dataset.{t}.batch_size={BATCH}"]


DEMO_DATA = {
    "commit": (f"{DEMO}/alpaca_demo.json", f"{DEMO}/en-hi.txt"),
    "codemix_clm": (f"{DEMO}/hindi_corpus.jsonl", f"{DEMO}/en-hi.txt"),
}


def launch(processes, flags, out_dir, tokenizer_dir, steps, cwd=None, ends=None):
    """Start ``processes`` launchers (a pod when more than one) and wait for all of them.

    ``flags`` is one list for every process or one list per process; ``cwd`` likewise.
    Returns ``[(returncode, output, seconds)]`` by process id, ``seconds`` from the error
    line (or the start, if none) to the process's exit. ``ends``, a list, receives each
    process's seconds from the start to the end of its output (its exit).
    """
    env = dict(os.environ, WANDB_MODE="disabled", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               JAX_PLATFORMS="cpu", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    per_process = flags if flags and isinstance(flags[0], list) else [flags] * processes
    cwds = cwd if isinstance(cwd, list) else [cwd] * processes
    port = free_port()
    procs = []
    start = time.monotonic()
    for i in range(processes):
        pod_flags = [] if processes == 1 else [
            "--jax_distributed.initialize_jax_distributed=True",
            f"--jax_distributed.coordinator_address=127.0.0.1:{port}",
            f"--jax_distributed.num_processes={processes}", f"--jax_distributed.process_id={i}",
            "--mesh_dim=-1,1,1",
        ]
        cmd = [sys.executable, "-m", "easylm_commit.llama_train",
               *debug_llama_flags(tokenizer_dir, out_dir, steps), *pod_flags, *per_process[i]]
        procs.append(subprocess.Popen(cmd, env=env, cwd=cwds[i], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    lines = [[] for _ in procs]
    error_at = [start] * processes
    ended = [None] * processes

    def read(i):
        for line in procs[i].stdout:
            lines[i].append(line)
            if "easylm_commit.llama_train: error:" in line:
                error_at[i] = time.monotonic()
        ended[i] = time.monotonic() - start

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(processes)]
    for r in readers:
        r.start()
    results = []
    try:
        for i, p in enumerate(procs):
            p.wait(timeout=max(1, TIMEOUT - (time.monotonic() - start)))
            readers[i].join(30)
            results.append((p.returncode, "".join(lines[i]), time.monotonic() - error_at[i]))
        if ends is not None:
            ends[:] = ended
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        tails = "\n".join(f"--- process {i}:\n" + "".join(out[-15:]) for i, out in enumerate(lines))
        pytest.fail(f"the pod did not finish within {TIMEOUT} s (hung)\n{tails}")
    return results


def losses(metrics):
    return np.array([m["loss"] for m in metrics])


def ok(results):
    for i, (rc, out, _) in enumerate(results):
        assert rc == 0, f"process {i}:\n{out[-4000:]}"
    return parse_metrics(results[0][1])


def pod_commit_flags():
    """The pod's ``commit`` run: its files through file:// URLs (fsspec), two worker
    processes per host, small chunks, a milestone checkpoint after step 2 of 3 (to resume)."""
    path, dictionary = DEMO_DATA["commit"]
    return data_flags("commit", "file://" + path, "file://" + dictionary) + [
        "--train_dataset.commit.tokenizer_processes=2", "--train_dataset.commit.records_per_chunk=8",
        "--save_milestone_freq=2", "--checkpointer.save_optimizer_state=True"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, llama_tokenizer_dir):
    """One process and a two-process pod, STEPS steps each, per dataset type (computed lazily):
    ``(metrics of process 0, [(returncode, output, seconds)], output dir)``."""
    cache = {}

    def get(kind, dataset_type):
        if (kind, dataset_type) not in cache:
            if kind == "pod" and dataset_type == "commit":
                flags = pod_commit_flags()
            else:
                flags = data_flags(dataset_type, *DEMO_DATA[dataset_type])
                if dataset_type == "commit":  # the same chunks as the pod: the same counts
                    flags.append("--train_dataset.commit.records_per_chunk=8")
            out = tmp_path_factory.mktemp(f"{kind}-{dataset_type}")
            results = launch(1 if kind == "one" else 2, flags, out, llama_tokenizer_dir, steps=STEPS)
            cache[kind, dataset_type] = ok(results), results, out
        return cache[kind, dataset_type]

    return get


@pytest.mark.parametrize("dataset_type", ["commit", "codemix_clm"])
def test_a_two_process_pod_trains_exactly_like_one_process(runs, dataset_type):
    one, _, _ = runs("one", dataset_type)
    pod, results, _ = runs("pod", dataset_type)
    assert len(one) == len(pod) == STEPS
    np.testing.assert_allclose(losses(pod), losses(one), rtol=1e-5)
    for a, b in zip(one, pod):
        assert {k: v for k, v in a.items() if k.startswith("dataset_")} == \
               {k: v for k, v in b.items() if k.startswith("dataset_")}
    # Both hosts trained the same steps (EasyLM prints the metrics on every host).
    np.testing.assert_allclose(losses(parse_metrics(results[1][1])), losses(pod), rtol=1e-6)


def test_a_checkpoint_written_by_the_pod_resumes_in_a_pod_with_the_uninterrupted_batches(
        runs, tmp_path, llama_tokenizer_dir):
    import mlxu

    uninterrupted, _, out = runs("pod", "commit")
    # The pod saved a milestone after step 2 (process 0 writes it) and went on.
    (state_path,) = glob.glob(str(out / "*" / "dataset_2.pkl"))
    run_dir = os.path.dirname(state_path)
    assert mlxu.load_pickle(state_path)["batches"] == 2
    # Resumed with plain paths where the pod had file:// URLs: the same files, so the same
    # batches; the dataset warns that the config changed, once for the pod (process 0).
    flags = [f.replace("file://", "") for f in pod_commit_flags()]
    results = launch(2, flags + [
        f"--load_checkpoint=trainstate::{run_dir}/streaming_train_state_2",
        f"--load_dataset_state={state_path}"], tmp_path, llama_tokenizer_dir, steps=STEPS)
    resumed = ok(results)
    warning = "dataset state was saved under another config"
    assert [out.count(warning) for _, out, _ in results] == [1, 0]
    assert "path: saved 'file://" in results[0][1]
    assert [m["step"] for m in resumed] == list(range(2, STEPS))
    np.testing.assert_allclose(losses(resumed), losses(uninterrupted[2:]), rtol=1e-5)
    # The dataset's metrics carry on as if never interrupted, the mixing counts included.
    for want, got in zip(uninterrupted[2:], resumed):
        for k in ("dataset_total_tokens", "dataset_example_index", "dataset_words_seen",
                  "dataset_words_replaced", "dataset_mixing_rate", "dataset_records_skipped"):
            assert got[k] == want[k], k


def two_hosts(tmp_path, change):
    """Two host directories with the demo files under the same relative names, as two
    machines would hold them; ``change(host1_dir)`` makes host 1's copy stale."""
    dirs = []
    for i in range(2):
        d = tmp_path / f"host{i}"
        d.mkdir()
        shutil.copy(f"{DEMO}/alpaca_demo.json", d / "alpaca.json")
        shutil.copy(f"{DEMO}/en-hi.txt", d / "en-hi.txt")
        dirs.append(d)
    change(dirs[1])
    return [str(d) for d in dirs]


def assert_every_host_stops(results, *expected):
    for i, (rc, out, seconds) in enumerate(results):
        assert rc != 0, f"process {i} did not stop:\n{out[-3000:]}"
        assert seconds < 30, f"process {i} took {seconds:.0f} s to exit after its error"
        errors = [line for line in out.splitlines() if "easylm_commit.llama_train: error:" in line]
        assert len(errors) == 1, out[-3000:]
        for text in expected:
            assert text in errors[0], errors[0]
        assert "Traceback" not in out, out[-3000:]
    return errors[0]


def test_hosts_with_different_dictionaries_all_stop_before_training(tmp_path, llama_tokenizer_dir):
    def stale(d):
        lines = (d / "en-hi.txt").read_text(encoding="utf-8").splitlines(keepends=True)
        (d / "en-hi.txt").write_text("".join(lines[:-5]), encoding="utf-8")

    cwd = two_hosts(tmp_path, stale)
    results = launch(2, data_flags("commit", "alpaca.json", "en-hi.txt"), tmp_path / "out",
                     llama_tokenizer_dir, steps=STEPS, cwd=cwd)
    error = assert_every_host_stops(results, "hosts disagree before the first batch on dictionary contents",
                                    "host 0: ", "host 1: ")
    assert "alpha" not in error and "input_tokens" not in error  # only what differs
    assert "here, host 1: en-hi.txt, " in results[1][1]  # and what this host has
    assert not any("'loss'" in out for _, out, _ in results)


def test_hosts_with_different_data_all_stop_at_the_first_batch(tmp_path, llama_tokenizer_dir):
    def stale(d):
        text = (d / "alpaca.json").read_text(encoding="utf-8")
        (d / "alpaca.json").write_text(text.replace("Give three tips", "Give four tips", 1),
                                       encoding="utf-8")

    cwd = two_hosts(tmp_path, stale)
    results = launch(2, data_flags("commit", "alpaca.json", "en-hi.txt"), tmp_path / "out",
                     llama_tokenizer_dir, steps=STEPS, cwd=cwd)
    assert_every_host_stops(results, "hosts disagree at batch 0 on input_tokens", "host 0: ", "host 1: ")
    # Stopped at the check, before the first train step.
    assert not any("'loss'" in out for _, out, _ in results)


@pytest.fixture(scope="module")
def healthy_one_step_pod(tmp_path_factory, llama_tokenizer_dir):
    """Seconds a healthy two-process pod takes to start, build the model and train one step
    on this machine now: what a pod that stops before its first step is measured against."""
    start = time.monotonic()
    ok(launch(2, data_flags("commit", *DEMO_DATA["commit"]), tmp_path_factory.mktemp("one-step"),
              llama_tokenizer_dir, steps=1))
    return time.monotonic() - start


@pytest.mark.parametrize("missing", ["en-hi.txt", "alpaca.json"])
def test_a_file_missing_on_one_host_stops_every_host_at_once_naming_it(
        missing, healthy_one_step_pod, tmp_path, llama_tokenizer_dir):
    # Host 1 cannot open its dictionary (while the dataset is built) or its data (when the
    # dataset starts). It used to stop alone, and host 0 waited in the first host check until
    # gloo's 30 s timeout; now both meet there and stop together.
    hosts = two_hosts(tmp_path, lambda d: (d / missing).unlink())
    flags = [data_flags("commit", f"{h}/alpaca.json", f"{h}/en-hi.txt") for h in hosts]
    ends = []
    results = launch(2, flags, tmp_path / "out", llama_tokenizer_dir, steps=1, ends=ends)
    errors_at = [end - seconds for end, (_, _, seconds) in zip(ends, results)]
    print(f"\n{missing} missing on host 1: errors after {errors_at[0]:.1f} s and {errors_at[1]:.1f} s, "
          f"exits after {ends[0]:.1f} s and {ends[1]:.1f} s; a healthy one-step pod takes "
          f"{healthy_one_step_pod:.1f} s")
    error = assert_every_host_stops(results, f"host 1: {hosts[1]}/{missing}: ", "file not found")
    assert error.endswith("Every host stops before the first batch: the dataset could not be built on host 1")
    assert [rc for rc, _, _ in results] == [2, 2]
    assert not any("'loss'" in out for _, out, _ in results)
    # Together, at once: the old way, host 1 gave its error alone and host 0 its own 30 s
    # later, when the check's gather timed out (host 1's process lingering until then). And
    # no later than a healthy pod's first step.
    assert max(errors_at) - min(errors_at) < 10
    assert all(seconds < 10 for _, _, seconds in results)
    assert max(ends) < healthy_one_step_pod + 10


def test_hosts_with_another_dictionary_for_one_language_all_stop_naming_it(tmp_path, llama_tokenizer_dir):
    """With ``languages`` every language's dictionary is compared, each under its own name."""
    def stale(d):
        lines = (d / "en-el.txt").read_text(encoding="utf-8").splitlines(keepends=True)
        (d / "en-el.txt").write_text("".join(lines[:-5]), encoding="utf-8")

    cwd = two_hosts(tmp_path, lambda d: None)
    for d in cwd:
        shutil.copy(f"{DEMO}/en-el.txt", os.path.join(d, "en-el.txt"))
    stale(tmp_path / "host1")
    spec = '[{"lang": "hi", "dictionary": "en-hi.txt"}, {"lang": "el", "dictionary": "en-el.txt"}]'
    flags = [f for f in data_flags("commit", "alpaca.json", "") if ".dictionary=" not in f]
    results = launch(2, flags + [f"--train_dataset.commit.languages={spec}"], tmp_path / "out",
                     llama_tokenizer_dir, steps=STEPS, cwd=cwd)
    error = assert_every_host_stops(
        results, "hosts disagree before the first batch on dictionary contents (languages[1] (el))",
        "host 0: ", "host 1: ")
    assert "languages[0] (hi)" not in error  # the Hindi files are alike
    assert not any("'loss'" in out for _, out, _ in results)
