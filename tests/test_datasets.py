"""The ``commit`` and ``codemix_clm`` dataset types, outside EasyLM's train loop.

What EasyLM relies on: ``(batch, metrics)`` with int32 ``input_tokens``/``target_tokens``
(targets = inputs shifted by one) and float32 ``loss_masks``, all ``(batch_size,
seq_length)``; resume state through ``get_state_dict``/``load_state_dict``. What our users
rely on: batches are a pure function of the config and the position -- across processes,
worker counts, streaming or not, and interruptions.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("mlxu")
pytest.importorskip("datasets")

from transformers import AutoTokenizer  # noqa: E402

from easylm_commit.dataset_types import CodeMixCLMDataset, CommitDataset  # noqa: E402
from easylm_commit.errors import UserError  # noqa: E402

WORDS = ("the cat dog is black white big small house river city water sun tree bird "
         "what where who how many one two three red green blue old new").split()
HINDI = ("द बिल्ली कुत्ता है काला सफ़ेद बड़ा छोटा घर नदी शहर पानी सूरज पेड़ पक्षी "
         "क्या कहाँ कौन कैसे कितने एक दो तीन लाल हरा नीला पुराना नया").split()


def _records(n):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        sentence = lambda k: " ".join(rng.choice(WORDS, size=k))  # noqa: E731
        out.append({
            "instruction": f"Record {i}: {sentence(6)}?",
            "input": sentence(8) if i % 2 else "",
            "output": f"{sentence(10)}.",
        })
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    (d / "en-hi.txt").write_text("".join(f"{e} {h}\n" for e, h in zip(WORDS, HINDI)), encoding="utf-8")
    records = _records(40)
    (d / "alpaca.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    with open(d / "alpaca.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(d / "corpus.jsonl", "w", encoding="utf-8") as f:
        rng = np.random.default_rng(1)
        for i in range(60):
            f.write(json.dumps({"id": i, "text": " ".join(rng.choice(HINDI, size=30)) + "।"},
                               ensure_ascii=False) + "\n")
    return d


@pytest.fixture(scope="module")
def tokenizer(llama_tokenizer_dir):
    return AutoTokenizer.from_pretrained(llama_tokenizer_dir)


def commit(data, tokenizer, **updates):
    config = dict(path=str(data / "alpaca.json"), dictionary=str(data / "en-hi.txt"),
                  seq_length=32, batch_size=2)
    config.update(updates)
    return CommitDataset(CommitDataset.get_default_config(config), tokenizer)


def clm(data, tokenizer, **updates):
    config = dict(path=str(data / "corpus.jsonl"), dictionary=str(data / "en-hi.txt"),
                  seq_length=32, batch_size=2)
    config.update(updates)
    return CodeMixCLMDataset(CodeMixCLMDataset.get_default_config(config), tokenizer)


def take(dataset, n):
    out = []
    for batch, metrics in dataset:
        out.append((batch, metrics))
        if len(out) == n:
            return out
    raise AssertionError("dataset ended")


def same(a, b):
    return all(np.array_equal(a[k], b[k]) for k in ("input_tokens", "target_tokens", "loss_masks"))


@pytest.mark.parametrize("make", [commit, clm])
def test_batches_have_easylm_shapes_dtypes_and_shift(data, tokenizer, make):
    batches = take(make(data, tokenizer, batch_size=3, seq_length=16), 4)
    for batch, metrics in batches:
        assert batch["input_tokens"].shape == (3, 16) and batch["input_tokens"].dtype == np.int32
        assert batch["target_tokens"].shape == (3, 16) and batch["target_tokens"].dtype == np.int32
        assert batch["loss_masks"].shape == (3, 16) and batch["loss_masks"].dtype == np.float32
        # One packed stream: targets are the inputs shifted by one.
        inputs, targets = batch["input_tokens"].ravel(), batch["target_tokens"].ravel()
        assert np.array_equal(inputs[1:], targets[:-1])
        assert set(metrics) >= {"dataset_epoch", "dataset_example_index", "dataset_total_tokens",
                                "dataset_words_seen", "dataset_words_replaced",
                                "dataset_mixing_rate", "dataset_records_skipped"}
    # Consecutive batches continue the stream: next inputs start at the last target.
    for (a, _), (b, _) in zip(batches, batches[1:]):
        assert a["target_tokens"].ravel()[-1] == b["input_tokens"].ravel()[0]


def test_alpha_zero_trains_exactly_on_the_responses_and_eos(data, tokenizer):
    """Under mask 1 are exactly each response's tokens and EOS; everything else is masked."""
    ds = commit(data, tokenizer, alpha=0.0, seq_length=64, batch_size=1)
    records = json.loads((data / "alpaca.json").read_text(encoding="utf-8"))
    trained = []
    for batch, metrics in ds:
        masks = batch["loss_masks"].ravel()
        trained.extend(batch["target_tokens"].ravel()[masks == 1].tolist())
        if metrics["dataset_epoch"] > 0:
            break
    expected = []
    for r in records:
        expected.extend(tokenizer(r["output"], add_special_tokens=False)["input_ids"])
        expected.append(tokenizer.eos_token_id)
    assert trained[:len(expected)] == expected
    # Decoded response by response: the text of the output, no prompt token leaked in.
    eos, pieces, current = tokenizer.eos_token_id, [], []
    for t in trained[:len(expected)]:
        if t == eos:
            pieces.append(tokenizer.decode(current))
            current = []
        else:
            current.append(t)
    assert pieces == [r["output"] for r in records]


def test_commit_mode_mixes_and_reports_the_real_rate(data, tokenizer):
    batch, metrics = take(commit(data, tokenizer, alpha=0.9, seq_length=256), 1)[0]
    text = tokenizer.decode(batch["input_tokens"].ravel())
    assert any(h in text.split() for h in HINDI)
    assert "Below is an instruction that describes a task" in text  # template kept
    # Fixture words are all covered, so the mixing rate is alpha up to sampling noise.
    assert metrics["dataset_words_seen"] > 200
    assert 0.7 < metrics["dataset_mixing_rate"] < 1.0


def test_the_mixing_rate_leaves_out_identity_pairs(tmp_path, tokenizer):
    # "1 1" is drawn like any pair, but writes "1": not a replaced word (mixer.py).
    (tmp_path / "en-hi.txt").write_text("add जोड़ें\n1 1\n2 2\n", encoding="utf-8")
    (tmp_path / "sums.jsonl").write_text(
        json.dumps({"instruction": "Add 1 and 1.", "input": "", "output": "2"}) + "\n", encoding="utf-8")
    ds = commit(tmp_path, tokenizer, path=str(tmp_path / "sums.jsonl"), alpha=1.0)
    _, metrics = take(ds, 1)[0]
    # Each record: 5 words, of which "Add" is replaced and the three digits written as such.
    assert metrics["dataset_words_seen"] % 5 == 0
    assert metrics["dataset_words_replaced"] * 5 == metrics["dataset_words_seen"]
    assert metrics["dataset_mixing_rate"] == pytest.approx(0.2)


def test_epochs_mix_anew(data, tokenizer):
    ds = commit(data, tokenizer, alpha=0.5, batch_size=1, seq_length=512)
    firsts = {}
    for batch, metrics in ds:
        firsts.setdefault(metrics["dataset_epoch"], batch["input_tokens"].copy())
        if len(firsts) == 3:
            break
    # Same records, new draws: epochs 1 and 2 are not copies of epoch 0.
    assert not np.array_equal(firsts[0], firsts[1]) or not np.array_equal(firsts[1], firsts[2])


@pytest.mark.parametrize("make", [commit, clm])
def test_resume_from_state_gives_the_uninterrupted_batches(data, tokenizer, make):
    reference = take(make(data, tokenizer), 30)
    first = make(data, tokenizer)
    it = iter(first)
    for _ in range(11):
        next(it)
    state = first.get_state_dict()
    resumed = make(data, tokenizer)
    resumed.load_state_dict(state)
    for (want, _), (got, metrics) in zip(reference[11:], take(resumed, 19)):
        assert same(want, got)
    assert metrics["dataset_total_tokens"] == reference[-1][1]["dataset_total_tokens"]


def test_resume_warns_when_the_config_changed(data, tokenizer, caplog):
    first = commit(data, tokenizer)
    take(first, 2)
    other = commit(data, tokenizer, alpha=0.5)
    with caplog.at_level("WARNING", logger="easylm_commit"):
        other.load_state_dict(first.get_state_dict())
    # Through logging (absl's handler under EasyLM), by process 0 of a pod only.
    assert [r.name for r in caplog.records] == ["easylm_commit"]
    assert "alpha: saved 0.9, now 0.5" in caplog.text


@pytest.mark.parametrize("source", [
    dict(),                                                   # workers read position ranges
    dict(shuffle=True),                                       # ... of a shuffled epoch order
    dict(path="alpaca.jsonl", streaming=True),                # the main process sends records
])
def test_worker_processes_give_the_same_batches_and_state(data, tokenizer, source):
    if "path" in source:
        source = dict(source, path=str(data / source["path"]))
    one = take(commit(data, tokenizer, records_per_chunk=4, **source), 25)
    ds = commit(data, tokenizer, records_per_chunk=4, tokenizer_processes=2, **source)
    two = take(ds, 25)
    assert all(same(a, b) for (a, _), (b, _) in zip(one, two))
    # Prefetching workers do not move the cursor: the state is that of 25 batches.
    assert ds.get_state_dict()["batches"] == 25


def test_streaming_reads_the_same_batches_and_resumes(data, tokenizer):
    mapped = take(commit(data, tokenizer, path=str(data / "alpaca.jsonl")), 30)
    streaming = commit(data, tokenizer, path=str(data / "alpaca.jsonl"), streaming=True)
    assert all(same(a, b) for (a, _), (b, _) in zip(mapped, take(streaming, 30)))
    interrupted = commit(data, tokenizer, path=str(data / "alpaca.jsonl"), streaming=True)
    take(interrupted, 7)
    resumed = commit(data, tokenizer, path=str(data / "alpaca.jsonl"), streaming=True)
    resumed.load_state_dict(interrupted.get_state_dict())
    assert all(same(a, b) for (a, _), (b, _) in zip(mapped[7:], take(resumed, 23)))


def test_json_array_and_jsonl_are_the_same_data(data, tokenizer):
    a = take(commit(data, tokenizer), 5)
    b = take(commit(data, tokenizer, path=str(data / "alpaca.jsonl")), 5)
    assert all(same(x, y) for (x, _), (y, _) in zip(a, b))


def test_parquet_files_are_read_like_json(data, tokenizer, tmp_path):
    import datasets

    records = json.loads((data / "alpaca.json").read_text(encoding="utf-8"))
    datasets.Dataset.from_list(records).to_parquet(str(tmp_path / "alpaca.parquet"))
    a = take(commit(data, tokenizer), 5)
    b = take(commit(data, tokenizer, path=str(tmp_path / "alpaca.parquet")), 5)
    assert all(same(x, y) for (x, _), (y, _) in zip(a, b))


def test_shuffle_is_a_deterministic_new_order_each_epoch(data, tokenizer):
    plain = take(commit(data, tokenizer, alpha=0.0), 3)
    shuffled = take(commit(data, tokenizer, alpha=0.0, shuffle=True), 3)
    again = take(commit(data, tokenizer, alpha=0.0, shuffle=True), 3)
    assert not same(plain[0][0], shuffled[0][0])
    assert all(same(a, b) for (a, _), (b, _) in zip(shuffled, again))


def test_plain_clm_at_alpha_zero_keeps_the_corpus(data, tokenizer):
    batch, metrics = take(clm(data, tokenizer, alpha=0.0, batch_size=1, seq_length=20), 1)[0]
    first = json.loads((data / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
    expected = [tokenizer.bos_token_id] + tokenizer(first, add_special_tokens=False)["input_ids"]
    assert batch["input_tokens"].ravel().tolist() == expected[:20]
    assert metrics["dataset_words_replaced"] == 0
    # Loss on every token of a document (only a document's BOS is not predicted).
    assert batch["loss_masks"].ravel()[:len(expected) - 1].all()


def test_alignment_mixes_the_target_language_into_english(data, tokenizer):
    batch, metrics = take(clm(data, tokenizer, alpha=0.5), 1)[0]
    text = tokenizer.decode(batch["input_tokens"].ravel())
    assert any(w in text.split() for w in WORDS)
    assert 0.3 < metrics["dataset_mixing_rate"] < 0.7


def test_bad_records_are_skipped_and_counted_or_an_error_when_strict(data, tokenizer, tmp_path):
    records = _records(6)
    records[2] = {"instruction": "", "output": "x"}
    records[4] = {"instruction": "What?", "output": None}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    _, metrics = take(commit(data, tokenizer, path=str(path)), 1)[0]
    assert metrics["dataset_records_skipped"] >= 2
    with pytest.raises(UserError, match="record 2"):
        take(commit(data, tokenizer, path=str(path), strict=True), 1)


def test_config_errors_name_the_problem(data, tokenizer):
    with pytest.raises(UserError, match="alpha"):
        commit(data, tokenizer, alpha=1.5)
    with pytest.raises(UserError, match="nope.txt"):
        commit(data, tokenizer, dictionary=str(data / "nope.txt"))
    with pytest.raises(UserError, match="missing.json"):
        take(commit(data, tokenizer, path=str(data / "missing.json")), 1)
    with pytest.raises(UserError, match="unknown mode"):
        commit(data, tokenizer, mode="mixed")


def test_a_text_processor_is_refused_as_it_could_only_be_ignored(data, tokenizer):
    """EasyLM's ``DatasetFactory`` hands a registered type ``None`` for its text processor
    (the patch and ``registry.install`` alike; tests/test_easylm_train.py trains through
    both). These types format records themselves, so another would be silently ignored."""
    class TextProcessor:  # EasyLM's, as far as the dataset can tell
        pass

    config = CommitDataset.get_default_config(dict(path=str(data / "alpaca.json"),
                                                   dictionary=str(data / "en-hi.txt")))
    assert isinstance(CommitDataset(config, tokenizer, None), CommitDataset)
    for make in (CommitDataset, CodeMixCLMDataset):
        with pytest.raises(UserError, match="^text_processor must be None: the commit and "
                                            "codemix_clm dataset types format records themselves "
                                            r"\(got a TextProcessor; set their template and field "
                                            r"options instead\)$"):
            make(make.get_default_config(dict(path=config.path, dictionary=config.dictionary)),
                 tokenizer, TextProcessor())


def test_batches_are_identical_across_processes_with_different_hash_seeds(data, llama_tokenizer_dir):
    script = textwrap.dedent(f"""
        import hashlib, sys
        from transformers import AutoTokenizer
        from easylm_commit.dataset_types import CommitDataset, CodeMixCLMDataset
        tok = AutoTokenizer.from_pretrained({llama_tokenizer_dir!r})
        h = hashlib.sha256()
        for cls, path in ((CommitDataset, {str(data / 'alpaca.json')!r}),
                          (CodeMixCLMDataset, {str(data / 'corpus.jsonl')!r})):
            ds = cls(cls.get_default_config(dict(path=path, dictionary={str(data / 'en-hi.txt')!r},
                                                 alpha=0.5, seq_length=32, batch_size=2, shuffle=True)), tok)
            for i, (batch, _) in enumerate(ds):
                for k in sorted(batch):
                    h.update(batch[k].tobytes())
                if i == 40:
                    break
        print(h.hexdigest())
    """)
    digests = set()
    for seed in ("1", "987"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        digests.add(out.stdout.strip().splitlines()[-1])
    assert len(digests) == 1


def test_offline_mix_is_what_the_first_epoch_trains_on(data, tokenizer, tmp_path):
    """``easylm-commit mix`` and the dataset share mixing keys: epoch 0 is the mixed file."""
    from easylm_commit.cli import main

    out = tmp_path / "mixed.jsonl"
    assert main(["mix", "--quiet", "--dictionary", str(data / "en-hi.txt"), "--alpha", "0.9",
                 "--input", str(data / "alpaca.json"), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ds = commit(data, tokenizer, seq_length=64, batch_size=1)
    stream = []
    for batch, metrics in ds:
        stream.extend(batch["input_tokens"].ravel().tolist())
        if metrics["dataset_epoch"] > 0:
            break
    expected = []
    for row in rows:
        expected.append(tokenizer.bos_token_id)
        expected.extend(tokenizer(row["prompt"], add_special_tokens=False)["input_ids"])
        expected.extend(tokenizer(row["response"], add_special_tokens=False)["input_ids"])
        expected.append(tokenizer.eos_token_id)
    assert stream[:len(expected)] == expected


# -- running totals in the saved state -------------------------------------------------------
@pytest.mark.parametrize("source", [dict(), dict(path="alpaca.jsonl", streaming=True)])
def test_resumed_metrics_carry_on_exactly_as_the_uninterrupted_run(data, tokenizer, source):
    """words_seen, words_replaced and records_skipped are saved with the cursor, so after
    ``--load_dataset_state`` the mixing rate continues instead of restarting at zero."""
    if "path" in source:
        source = dict(source, path=str(data / source["path"]))
    reference = take(commit(data, tokenizer, records_per_chunk=4, **source), 20)
    first = commit(data, tokenizer, records_per_chunk=4, **source)
    take(first, 7)
    state = first.get_state_dict()
    assert state["words_seen"] > 0 and state["words_replaced"] > 0
    resumed = commit(data, tokenizer, records_per_chunk=4, **source)
    resumed.load_state_dict(state)
    for (_, want), (_, got) in zip(reference[7:], take(resumed, 13)):
        assert got == want


# -- worker processes that die or fail ---------------------------------------------------------
class SlowBuilder:
    """A builder that takes its time, so that a kill finds chunks in the workers' hands."""

    def __init__(self, builder, seconds=0.2):
        self.builder, self.seconds = builder, seconds

    def __call__(self, items):
        import time

        time.sleep(self.seconds)
        return self.builder(items)


class FailingBuilder:
    """Fails on the chunk that starts at ``position``: ``raise`` once (a marker file says
    whether it already did, across processes), or dies every time (``exit``)."""

    def __init__(self, builder, position, how, marker=None):
        self.builder, self.position, self.how, self.marker = builder, position, how, marker

    def __call__(self, items):
        if items[0][1] == self.position:
            if self.how == "exit":
                os._exit(9)
            try:
                os.remove(self.marker)
            except FileNotFoundError:
                pass
            else:
                raise RuntimeError("transient failure")
        return self.builder(items)


def wrapped(data, tokenizer, wrap, **updates):
    """A dataset whose chunks are built by ``wrap`` around its own transform."""
    config = dict(path=str(data / "alpaca.json"), dictionary=str(data / "en-hi.txt"),
                  seq_length=32, batch_size=2, records_per_chunk=4, tokenizer_processes=2)
    config.update(updates)
    ds = CommitDataset(CommitDataset.get_default_config(config), tokenizer)
    ds.transform = wrap(ds.transform)
    return ds


def test_killed_workers_are_replaced_and_not_a_batch_changes(data, tokenizer, caplog):
    """What the OOM killer does: kill -9 one worker while the workers hold chunks, later all
    of them at once. Neither hangs the iterator (multiprocessing.Pool waited forever for a
    lost task) nor changes a batch or a metric; each costs one warning."""
    import multiprocessing
    import signal

    # A lost worker shows (and is warned about) only at the first chunk the trainer needs that
    # it had not finished, up to ~48 batches after the kill; so the second kill waits for the
    # first warning -- killing on a fixed batch let both losses be found at once (one warning).
    reference = take(commit(data, tokenizer, records_per_chunk=4), 200)
    ds = wrapped(data, tokenizer, SlowBuilder)
    got, killed_all_at = [], None
    with caplog.at_level("WARNING", logger="easylm_commit"):
        for batch, metrics in ds:
            got.append((batch, metrics))
            warned = len(caplog.records)
            if len(got) == 3 or (warned == 1 and killed_all_at is None):
                workers = multiprocessing.active_children()
                assert len(workers) == 2
                for p in workers[:1] if len(got) == 3 else workers:
                    os.kill(p.pid, signal.SIGKILL)
                if len(got) > 3:
                    killed_all_at = len(got)
            if warned == 2 or len(got) == len(reference):
                break
    assert all(same(a, b) and ma == mb for (a, ma), (b, mb) in zip(reference, got))
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2, warnings
    assert all("a worker process died" in w and "started 2 new workers" in w for w in warnings)


def test_a_worker_that_raises_is_retried_and_not_a_batch_changes(data, tokenizer, caplog, tmp_path):
    import functools

    marker = tmp_path / "fail-once"
    marker.touch()
    reference = take(commit(data, tokenizer, records_per_chunk=4), 30)  # ~3 batches a record
    ds = wrapped(data, tokenizer, functools.partial(FailingBuilder, position=4, how="raise",
                                                    marker=str(marker)))
    with caplog.at_level("WARNING", logger="easylm_commit"):
        got = take(ds, 30)
    assert not marker.exists()  # it did fail once
    assert all(same(a, b) for (a, _), (b, _) in zip(reference, got))
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "a worker raised RuntimeError: transient failure" in warning
    assert "epoch 0, records 4-7" in warning


def test_workers_that_keep_dying_stop_with_a_clear_error(data, tokenizer, caplog, monkeypatch):
    import functools

    from easylm_commit import dataset_types

    assert dataset_types.MAX_RESPAWNS == 3
    monkeypatch.setattr(dataset_types, "MAX_RESPAWNS", 1)  # each respawn is a pool start: keep it short
    ds = wrapped(data, tokenizer, functools.partial(FailingBuilder, position=4, how="exit"))
    with caplog.at_level("WARNING", logger="easylm_commit"), \
            pytest.raises(UserError, match="failed 2 times in a row on the chunk at epoch 0, records 4-7"):
        take(ds, 60)
    assert len(caplog.records) == 1


def test_a_bad_record_in_a_worker_is_reported_not_retried(data, tokenizer, tmp_path, caplog):
    records = _records(12)
    records[9] = {"instruction": "", "output": "x"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    with caplog.at_level("WARNING", logger="easylm_commit"), pytest.raises(UserError, match="record 9"):
        take(commit(data, tokenizer, path=str(path), strict=True, records_per_chunk=4,
                    tokenizer_processes=2), 30)
    assert not caplog.records
