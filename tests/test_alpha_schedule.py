"""An α schedule (issue 22, item 3): ``alpha_schedule``, ``alpha_end``, ``alpha_schedule_steps``.

α goes from ``alpha`` to ``alpha_end`` over ``alpha_schedule_steps`` batches. It is fixed per
chunk of records, at a step predicted from batches already counted (``ChunkSteps``), so the
batches stay a pure function of the config and the cursor: the same with one worker process or
two, and after a resume from any batch. The α in force is the ``dataset_alpha`` metric; ``mix``,
``preview`` and ``stats`` mix at the α of ``--step N``.
"""

import json
import math

import numpy as np
import pytest

from easylm_commit import alpha_schedule, cli, demo, options
from easylm_commit.alpha_schedule import LOOKAHEAD, ChunkSteps, Schedule
from easylm_commit.errors import UserError

# -- the schedule -----------------------------------------------------------------------------


def test_a_linear_schedule_goes_in_a_straight_line_and_stays_at_its_end():
    s = Schedule("linear", 0.9, 0.1, 100)
    assert s.at(0) == 0.9
    assert s.at(25) == pytest.approx(0.7) and s.at(50) == pytest.approx(0.5)
    assert s.at(100) == s.at(101) == s.at(10 ** 9) == 0.1
    values = [s.at(n) for n in range(101)]
    assert all(a > b for a, b in zip(values, values[1:]))  # strictly down, step by step
    assert np.allclose(np.diff(values), -0.008)            # by the same amount each batch


def test_a_cosine_schedule_is_flat_at_both_ends_and_halfway_at_the_middle():
    s = Schedule("cosine", 1.0, 0.0, 100)
    assert s.at(0) == 1.0 and s.at(100) == s.at(500) == 0.0
    assert s.at(50) == pytest.approx(0.5)
    assert s.at(1) - s.at(0) > s.at(50) - s.at(49)     # barely moves at the start ...
    assert s.at(100) - s.at(99) > s.at(50) - s.at(49)  # ... and at the end; fastest midway
    assert s.at(25) == pytest.approx((1 + math.cos(math.pi / 4)) / 2)
    # It also rises, from a small start to a larger end.
    assert Schedule("cosine", 0.2, 0.6, 10).at(5) == pytest.approx(0.4)


def test_a_step_schedule_changes_once_at_its_steps():
    s = Schedule("step", 0.9, 0.3, 40)
    assert {s.at(n) for n in range(40)} == {0.9}
    assert s.at(40) == s.at(41) == 0.3


def test_a_constant_schedule_is_alpha_whatever_its_other_keys_say():
    s = Schedule("constant", 0.7, 0.0, 0)
    assert s.constant and {s.at(n) for n in (0, 1, 10 ** 6)} == {0.7}
    assert Schedule("constant", 0.7, 0.2, 50).at(60) == 0.7
    assert not Schedule("linear", 0.7, 0.7, 1).constant


def test_the_schedules_are_the_declared_choices():
    assert alpha_schedule.KINDS == options.OPTIONS["alpha_schedule"].choices
    assert options.default("alpha_schedule", options.COMMIT) == "constant"
    assert options.default("alpha_end", options.CODEMIX_CLM) == 0.0


# -- the step of each chunk -------------------------------------------------------------------

def test_each_chunks_step_is_known_before_lookahead_chunks_enter_and_exact_at_a_steady_rate():
    steps = ChunkSteps(lookahead=4)
    per_chunk = 3
    for j in range(40):
        # Chunk j is built before chunks j-3 .. j-1 entered the packer: its step needs only j-4.
        step = steps.step(j)
        assert step == (0 if j <= 4 else per_chunk * j)
        steps.entered(j, per_chunk * j)
        steps.forget_before(j)
    # The history is bounded, and a step that would need a forgotten or unknown count is a bug.
    assert len(steps.batches) == 5 and len(steps.steps) == 1
    with pytest.raises(RuntimeError, match="the step of chunk 38 was forgotten"):
        steps.step(38)
    with pytest.raises(RuntimeError, match="needs the batch count of chunk 40"):
        steps.step(44)


def test_a_state_without_a_history_predicts_from_the_saved_batch_count():
    steps, cursor_chunk = ChunkSteps.from_state(dict(batches=500), lookahead=4)
    assert cursor_chunk == 0 and steps.step(0) == steps.step(4) == 500
    for j in range(5):
        steps.entered(j, 500 + 10 * j)
    assert steps.step(5) == 500 + 10 * 5 // 1       # chunk 1's count, extrapolated from 500
    steps.forget_before(3)
    saved = steps.state(cursor_chunk=3)
    again, chunk = ChunkSteps.from_state(saved, lookahead=4)
    assert chunk == 3 and [again.step(j) for j in range(5, 9)] == [steps.step(j) for j in range(5, 9)]


def test_the_steps_never_go_back_when_the_rate_falls():
    steps = ChunkSteps(lookahead=2)
    counts = [0, 10, 11, 12, 13, 40, 41]  # a chunk of long records, then short ones
    got = []
    for j, b in enumerate(counts):
        got.append(steps.step(j))
        steps.entered(j, b)
    predicted = [0, 0, 0, 10 * 3 // 1, 11 * 4 // 2, 12 * 5 // 3, 13 * 6 // 4]
    assert got == [max(predicted[:j + 1]) for j in range(len(counts))] == [0, 0, 0, 30, 30, 30, 30]


# -- the record transform ---------------------------------------------------------------------

def test_the_transform_mixes_a_chunk_at_its_steps_alpha_and_says_so(tmp_path):
    import pickle

    from easylm_commit.dictionary import BilingualDictionary
    from easylm_commit.mixer import CodeMixer
    from easylm_commit.records import Item
    from easylm_commit.templates import TextFormatter
    from easylm_commit.transform import Chunk, RecordTransform

    mixer = CodeMixer(BilingualDictionary.load(demo.DEMO_DICTIONARY), 0.9)
    schedule = Schedule("linear", 0.9, 0.0, 10)

    class Words:  # counts, no tokenizer needed
        def tokens(self, prompts, responses):
            return [(np.zeros(1, np.int32), np.zeros(1, np.float32)) for _ in responses]

    transform = RecordTransform(TextFormatter(mixer, "text"), schedules=[(mixer, schedule)])
    transform.tokens = Words().tokens
    items = [Item(0, i, i, {"text": "the water of the river is cold and the sun is hot"}, f"record {i}")
             for i in range(20)]
    chunks = {step: transform(items, step=step) for step in (0, 5, 10)}
    assert [(c.step, c.alpha) for c in chunks.values()] == [(0, 0.9), (5, schedule.at(5)), (10, 0.0)]
    assert chunks[0].replaced > chunks[5].replaced > chunks[10].replaced == 0
    assert chunks[0].words == chunks[10].words > 0
    # Without a step the mixer keeps the alpha it has; a chunk from a worker keeps both.
    assert transform(items).alpha == 0.0 and transform(items).step is None
    back = pickle.loads(pickle.dumps(chunks[5]))
    assert isinstance(back, Chunk) and (back.step, back.alpha) == (5, schedule.at(5))


# -- the datasets -----------------------------------------------------------------------------

pytest.importorskip("mlxu")
pytest.importorskip("datasets")

# ~5 batches a chunk of 2 demo records (50 records an epoch): 200 batches are ~40 chunks, more
# than twice the lookahead, and cross into the second epoch.
SCHEDULE = dict(alpha_schedule="linear", alpha=0.9, alpha_end=0.1, alpha_schedule_steps=150)
N = 200


@pytest.fixture(scope="module")
def tokenizer(llama_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(llama_tokenizer_dir)


def dataset(tokenizer, kind="commit", **updates):
    from easylm_commit.dataset_types import DATASET_TYPES

    config = dict(path=demo.DEMO_INSTRUCTIONS if kind == "commit" else demo.DEMO_CORPUS,
                  dictionary=demo.DEMO_DICTIONARY, seq_length=32, batch_size=2, records_per_chunk=2,
                  **SCHEDULE)
    config.update(updates)
    cls = DATASET_TYPES[kind]
    return cls(cls.get_default_config(config), tokenizer)


def take(ds, n):
    out = []
    for batch, metrics in ds:
        out.append(({k: np.array(v) for k, v in batch.items()}, dict(metrics)))
        if len(out) == n:
            return out
    raise AssertionError("dataset ended")


def same(a, b):
    return all(np.array_equal(a[k], b[k]) for k in ("input_tokens", "target_tokens", "loss_masks"))


@pytest.fixture(scope="module")
def reference(tokenizer):
    return take(dataset(tokenizer), N)


def test_dataset_alpha_follows_the_schedule_within_a_few_chunks(reference):
    schedule = Schedule("linear", 0.9, 0.1, 150)
    alphas = [m["dataset_alpha"] for _, m in reference]
    assert alphas[0] == 0.9 and alphas[-1] == 0.1
    assert all(a >= b for a, b in zip(alphas, alphas[1:]))  # never back up
    # Every value is the schedule's at some batch: the step it was mixed at.
    steps = [round((0.9 - a) / 0.8 * 150) for a in alphas]
    assert all(schedule.at(s) == pytest.approx(a) for s, a in zip(steps, alphas))
    # The first LOOKAHEAD + 1 chunks (of 2 records) mix at step 0; the next one moves on.
    start = next(n for n, s in enumerate(steps) if s > 0)
    assert reference[start][1]["dataset_example_index"] // 2 in (LOOKAHEAD, LOOKAHEAD + 1)
    # From there the step is the batch index give or take three chunks' batches.
    last = reference[-1][1]
    records = last["dataset_epoch"] * len(json.load(open(demo.DEMO_INSTRUCTIONS, encoding="utf-8")))
    per_chunk = N / ((records + last["dataset_example_index"]) / 2)
    lag = [n - s for n, s in enumerate(steps[start:150], start)]
    assert max(map(abs, lag)) <= 3 * per_chunk, lag
    # And the mixing follows: the words replaced per word seen fall as alpha does.
    def rate(a, b):
        (_, m), (_, n) = reference[a], reference[b]
        return (n["dataset_words_replaced"] - m["dataset_words_replaced"]) / (
            n["dataset_words_seen"] - m["dataset_words_seen"])

    assert rate(0, 60) > rate(100, 140) > rate(160, N - 1)


@pytest.mark.parametrize("source", [dict(), dict(shuffle=True)])
def test_one_and_two_worker_processes_give_the_same_batches_and_metrics(tokenizer, reference, source):
    one = reference if not source else take(dataset(tokenizer, **source), N)
    two = take(dataset(tokenizer, tokenizer_processes=2, **source), N)
    assert all(same(a, b) for (a, _), (b, _) in zip(one, two))
    assert [m for _, m in one] == [m for _, m in two]


def test_the_alignment_corpus_follows_its_schedule_with_workers_too(tokenizer):
    updates = dict(alpha=0.5, alpha_end=0.0, alpha_schedule="cosine", alpha_schedule_steps=60)
    one = take(dataset(tokenizer, "codemix_clm", **updates), 90)
    two = take(dataset(tokenizer, "codemix_clm", tokenizer_processes=2, **updates), 90)
    assert all(same(a, b) for (a, _), (b, _) in zip(one, two))
    assert [m for _, m in one] == [m for _, m in two]
    assert one[0][1]["dataset_alpha"] == 0.5 and one[-1][1]["dataset_alpha"] == 0.0


# Resumed runs: a schedule that has not ended by batch N, so that every chunk's step shows in
# its alpha, and resume points whose cursor chunk's step-bearing successors (LOOKAHEAD chunks
# on) are made before batch N.
LONG = dict(alpha_schedule_steps=400)


@pytest.fixture(scope="module")
def long_reference(tokenizer):
    return take(dataset(tokenizer, **LONG), N)


@pytest.mark.parametrize("at", [3, 40, 61])
def test_a_resumed_run_continues_the_schedule_exactly(tokenizer, long_reference, at):
    first = dataset(tokenizer, **LONG)
    take(first, at)
    state = first.get_state_dict()
    assert state["offset"] > 0 or state["position"] % 2  # the cursor is inside a chunk
    resumed = dataset(tokenizer, **LONG)
    resumed.load_state_dict(state)
    got = take(resumed, N - at)
    assert all(same(a, b) for (a, _), (b, _) in zip(long_reference[at:], got))
    assert [m for _, m in long_reference[at:]] == [m for _, m in got]
    assert got[-1][1]["dataset_alpha"] < 0.9 * 0.6  # the schedule moved on after the resume


def test_a_resume_with_workers_continues_the_schedule_exactly(tokenizer, long_reference):
    first = dataset(tokenizer, tokenizer_processes=2, **LONG)
    take(first, 50)
    resumed = dataset(tokenizer, tokenizer_processes=2, **LONG)
    resumed.load_state_dict(first.get_state_dict())
    got = take(resumed, N - 50)
    assert all(same(a, b) for (a, _), (b, _) in zip(long_reference[50:], got))
    assert [m for _, m in long_reference[50:]] == [m for _, m in got]


def test_a_state_without_a_schedule_history_resumes_at_its_batch_count(tokenizer, reference):
    """A checkpoint saved before schedules existed (or under a constant one) has no history:
    the first chunks mix at the saved batch's alpha, not back at the start."""
    first = dataset(tokenizer)
    take(first, 100)
    state = {k: v for k, v in first.get_state_dict().items() if not k.startswith("schedule_")}
    resumed = dataset(tokenizer)
    resumed.load_state_dict(state)
    got = take(resumed, N - 100)
    assert got[0][1]["dataset_alpha"] == pytest.approx(Schedule("linear", 0.9, 0.1, 150).at(100))
    # Once LOOKAHEAD chunks have entered it extrapolates again, and reaches the end.
    assert got[-1][1]["dataset_alpha"] == 0.1
    assert resumed.get_state_dict()["schedule_origin"] == 100


def test_a_constant_schedule_keeps_the_batches_and_the_state_of_before(tokenizer, reference):
    constant = dataset(tokenizer, alpha_schedule="constant")
    flat = dataset(tokenizer, alpha_end=0.9)  # linear from 0.9 to 0.9: alpha never moves
    a, b = take(constant, N), take(flat, N)
    assert all(same(x, y) for (x, _), (y, _) in zip(a, b))
    assert {m["dataset_alpha"] for _, m in a} == {0.9}
    assert not any(k.startswith("schedule_") for k in constant.get_state_dict())
    assert "schedule_chunk" in flat.get_state_dict()
    # And a schedule mixes differently from the constant run once it has moved.
    assert not all(same(x, y) for (x, _), (y, _) in zip(a, reference))


def test_records_per_chunk_is_compared_and_warned_about_under_a_schedule(tokenizer, caplog):
    first = dataset(tokenizer)
    take(first, 5)
    state = first.get_state_dict()
    with caplog.at_level("WARNING", logger="easylm_commit"):
        dataset(tokenizer, records_per_chunk=4).load_state_dict(state)
        dataset(tokenizer, records_per_chunk=4, alpha_schedule="constant").load_state_dict(
            dict(state, config=dict(state["config"], alpha_schedule="constant")))
    assert caplog.text.count("records_per_chunk: saved 2, now 4") == 1
    assert "records_per_chunk" in dataset(tokenizer).host_agreement_items()
    assert "records_per_chunk" not in dataset(tokenizer, alpha_schedule="constant").host_agreement_items()


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("updates, message", [
    (dict(alpha_end=1.5), "alpha_end must be in [0, 1], got 1.5"),
    (dict(alpha_end=-0.1), "alpha_end must be in [0, 1], got -0.1"),
    (dict(alpha_schedule_steps=0),
     "alpha_schedule_steps must be at least 1 with alpha_schedule=linear, got 0"),
    (dict(alpha_schedule="cosine", alpha_schedule_steps=0),
     "alpha_schedule_steps must be at least 1 with alpha_schedule=cosine, got 0"),
    (dict(alpha_schedule_steps=-5), "alpha_schedule_steps must be at least 0, got -5"),
    (dict(alpha_schedule="exponential"),
     "unknown alpha_schedule 'exponential' (choose from constant, linear, cosine, step)"),
])
def test_a_bad_schedule_in_a_dataset_config_is_one_line(tokenizer, updates, message):
    with pytest.raises(UserError) as raised:
        dataset(tokenizer, **updates)
    assert str(raised.value) == message


@pytest.mark.parametrize("argv, message", [
    (["--alpha-end", "2"], "--alpha-end must be in [0, 1], got 2.0"),
    (["--alpha-schedule", "step"],
     "--alpha-schedule-steps must be at least 1 with --alpha-schedule step, got 0"),
    (["--alpha-schedule", "linear", "--alpha-schedule-steps", "-1"],
     "--alpha-schedule-steps must be at least 0, got -1"),
    (["--step", "-3"], "--step must be 0 or more, got -3"),
])
@pytest.mark.parametrize("command", ["mix", "preview", "stats"])
def test_a_bad_schedule_on_the_command_line_is_one_line(capsys, tmp_path, command, argv, message):
    out = ["--output", str(tmp_path / "out.jsonl")] if command == "mix" else []
    assert cli.main([command, "--demo", *argv, *out]) == 2
    err = capsys.readouterr().err
    assert err == f"easylm-commit {command}: error: {message}\n"
    assert not (tmp_path / "out.jsonl").exists()


# -- the commands at a step ---------------------------------------------------------------------

DECREASING = ["--alpha-schedule", "linear", "--alpha", "0.9", "--alpha-end", "0",
              "--alpha-schedule-steps", "100"]


def _changed_words(path):
    original = json.load(open(demo.DEMO_INSTRUCTIONS, encoding="utf-8"))
    changed = 0
    for record, line in zip(original, open(path, encoding="utf-8")):
        mixed = json.loads(line)
        for field in ("instruction", "input", "output"):
            changed += sum(a != b for a, b in zip(record[field].split(), mixed[field].split()))
    return changed


def test_mix_at_a_later_step_of_a_decreasing_schedule_mixes_less(tmp_path):
    changed = []
    for step in (0, 50, 100):
        out = tmp_path / f"step{step}.jsonl"
        argv = ["mix", "--demo", "--quiet", *DECREASING, "--step", str(step), "--output", str(out)]
        assert cli.main(argv) == 0
        changed.append(_changed_words(out))
    assert changed[0] > changed[1] > changed[2] == 0
    # Step 0 of the schedule is --alpha itself.
    plain = tmp_path / "plain.jsonl"
    assert cli.main(["mix", "--demo", "--quiet", "--alpha", "0.9", "--output", str(plain)]) == 0
    assert plain.read_bytes() == (tmp_path / "step0.jsonl").read_bytes()


def test_preview_and_stats_at_a_step_show_the_alpha_in_force(capsys):
    replaced = []
    for step in (0, 50, 100):
        assert cli.main(["preview", "--demo", "-n", "5", *DECREASING, "--step", str(step)]) == 0
        out = capsys.readouterr().out
        alpha = Schedule("linear", 0.9, 0.0, 100).at(step)
        assert f"alpha {alpha} (batch {step} of linear" in " ".join(out.split())
        replaced.append(sum(int(line.split()[0]) for line in out.splitlines()
                            if "covered words replaced" in line))
    assert replaced[0] > replaced[1] > replaced[2] == 0
    assert cli.main(["stats", "--demo", "--json", "--quiet", *DECREASING, "--step", "50"]) == 0
    assert json.loads(capsys.readouterr().out)["alpha"] == pytest.approx(0.45)
