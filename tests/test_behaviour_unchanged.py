"""What a user sees stays what it was: the safety net of issue 20's refactor.

``tests/fixtures/behaviour_digests.json`` records, for a fixed set of cases on the embedded
demo data (and a few records with code, URLs and acronyms, for ``protect``):

- the batches and metrics of both dataset types: every mode, protect on and off, two
  templates, alpha 0.5 and 0 for the corpus, shuffled over two epochs, streaming, one and
  two worker processes (which must agree), and a resume from a saved state;
- the files ``easylm-commit mix`` writes;
- the numbers ``easylm-commit stats --json`` prints;
- the flags: the default config of both EasyLM dataset types and the options (with their
  defaults) of ``easylm-commit`` and its ``mix``, ``stats``, ``preview`` and ``plan``.

Each case is its own test, so a failure names what changed (and, for batches and ``mix``
files, where first). Batches and files are recorded as sha256 digests of a canonical form,
one per batch or line (the first 16 hex digits: 64 bits are plenty to tell two batches
apart); stats and flags as the values themselves, so a failure shows old and new. Stats
keys and flags may be added; a recorded one that is gone or has another value fails.

Regenerate the record ONLY when a change of behaviour is intended, and say in the commit
what changed and why::

    python tests/test_behaviour_unchanged.py --record

(``python tests/test_behaviour_unchanged.py`` alone runs these tests with pytest.) The
batches are made with the fixture tokenizer (conftest.build_llama_tokenizer: trained on
tests/fixtures/spm_corpus.txt, deterministically); its vocabulary is recorded too, so that a
new sentencepiece that trains another vocabulary is reported as that, not as changed batches.
"""

import argparse
import contextlib
import copy
import hashlib
import importlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mlxu")
pytest.importorskip("datasets")

sys.path.insert(0, str(Path(__file__).parent))  # conftest, when run as a script
from conftest import build_llama_tokenizer  # noqa: E402

from easylm_commit import cli, demo  # noqa: E402

RECORD = Path(__file__).parent / "fixtures" / "behaviour_digests.json"
HOW_TO_RECORD = ("if this change of behaviour is intended, re-record with "
                 "`python tests/test_behaviour_unchanged.py --record` and say why in the commit")

# Records whose protected spans (protect.py) the demo data lacks: code, a URL, an e-mail,
# an acronym, identifiers, SQL. Written here rather than read from fixtures/protection_cases.txt,
# which grows with protect.py's cases and would move these digests.
CODE_RECORDS = [
    {"instruction": "Explain what this Python function does.",
     "input": "def add(a, b):\n    return a + b",
     "output": "The function add returns the sum of a and b, so add(2, 3) gives 5."},
    {"instruction": "Where can I read more about water?", "input": "",
     "output": "Read https://en.wikipedia.org/wiki/Water or write to jane.doe@example.org today."},
    {"instruction": "Run the command and say what it shows.", "input": "`git status`",
     "output": "It shows which files have changed since the last commit."},
    {"instruction": "What does NASA do in the USA?", "input": "",
     "output": "NASA sends people and machines into space; the user_id and createdAt columns "
               "of its table say who and when."},
    {"instruction": "Write a query that finds the names of the people who earn the most.",
     "input": "", "output": "SELECT name FROM employees WHERE salary > 50000 ORDER BY salary DESC;"},
]

# -- the cases ------------------------------------------------------------------------------

SMALL = dict(seq_length=64, batch_size=2)
# Four 256-token rows a batch: the 50 demo records are about nine batches, so 20 batches
# cross two epoch boundaries (asserted: ``min_epoch``).
EPOCHS = dict(seq_length=256, batch_size=4, shuffle=True)

# name -> (dataset type, data, config updates, batches, epoch the last batch must reach)
DATASETS = {}


def _dataset_case(kind, data="demo", batches=16, min_epoch=0, **updates):
    name = " ".join([kind] + ([f"data={data}"] if data != "demo" else [])
                    + [f"{k}={v}" for k, v in updates.items()])
    config = dict(SMALL)
    config.update(updates)
    DATASETS[name] = (kind, data, config, batches, min_epoch)
    return name


_dataset_case("commit")
_dataset_case("commit", protect=False)
_dataset_case("commit", mode="naive")
_dataset_case("commit", mode="naive", protect=False)
_dataset_case("commit", mode="none")
_dataset_case("commit", template="hi")
_dataset_case("commit", alpha=0.5, seed=3)
_dataset_case("commit", data="code")
_dataset_case("commit", data="code", protect=False)
_dataset_case("commit", batches=20, min_epoch=2, **EPOCHS)
_dataset_case("codemix_clm")
_dataset_case("codemix_clm", protect=False)
_dataset_case("codemix_clm", alpha=0.0)
_dataset_case("codemix_clm", batches=20, min_epoch=2, **EPOCHS)
# Several chunks: what worker processes share out, and a resume lands inside. Workers read
# their records themselves (commit) or are sent them by the main process (streaming).
WORKERS = {kind: _dataset_case(kind, records_per_chunk=8, **extra)
           for kind, extra in (("commit", {}), ("codemix_clm", dict(streaming=True)))}
# Resume: RESUME_AT batches, the state, a new dataset loads it and gives the rest.
RESUME_AT = 5
RESUMES = {f"{name} resumed after {RESUME_AT} batches": name for name in WORKERS.values()}

# `easylm-commit mix` argument lists; <code> is CODE_RECORDS as a JSON file.
MIX = [
    ["--demo"],
    ["--demo", "--no-protect"],
    ["--demo", "--mode", "naive"],
    ["--demo", "--mode", "naive", "--no-protect"],
    ["--demo", "--mode", "none"],
    ["--demo", "--seed", "7"],
    ["--demo", "--epoch", "1"],
    ["--demo", "--template", "hi"],
    ["--demo", "--text-field", "text"],              # the Hindi corpus, dictionary reversed
    ["--demo", "--text-field", "text", "--alpha", "1"],
    ["--demo", "--input", "<code>"],
    ["--demo", "--input", "<code>", "--no-protect"],
]
# `easylm-commit stats --json` argument lists; <tokenizer> is the fixture tokenizer.
STATS = [
    ["--demo", "--tokenizer", "<tokenizer>", "--batch-size", "2", "--seq-length", "64"],
    ["--demo", "--text-field", "text", "--tokenizer", "<tokenizer>"],
    ["--demo", "--mode", "naive", "--no-protect", "--seed", "5"],
    ["--demo", "--input", "<code>"],
    ["--demo", "--input", "<code>", "--no-protect"],
]
COMMANDS = ("mix", "stats", "preview", "plan")


def _name(command, args):
    return " ".join(["easylm-commit", command] + args)


# -- canonical forms ------------------------------------------------------------------------

def _short(data):
    return hashlib.sha256(data).hexdigest()[:16]


def _arrays_digest(batch):
    # dtype and shape are part of what EasyLM is handed, so they are part of the digest.
    h = hashlib.sha256()
    for key in ("input_tokens", "target_tokens", "loss_masks"):
        a = np.ascontiguousarray(batch[key])
        h.update(f"{key} {a.dtype.str} {a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _metric(value):
    # Exact: an int logged as 3.0, or a rate off in its last bit, is a change.
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def _metrics(metrics):
    return {k: _metric(v) for k, v in sorted(metrics.items())}


def _metrics_digest(metrics):
    text = ";".join(f"{k}={type(v).__name__}:{v!r}" for k, v in _metrics(metrics).items())
    return _short(text.encode())


def _digest_batches(batches):
    return dict(arrays=[_arrays_digest(b) for b, _ in batches],
                metrics=[_metrics_digest(m) for _, m in batches],
                last_metrics=_metrics(batches[-1][1]))


def _canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _flatten(value, prefix=""):
    """Nested dicts as ``{"a.b.c": leaf}``: a key added anywhere is a new key, not a change."""
    if isinstance(value, dict) and value:
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value}


def _option_table(parser):
    """Every option string of a parser -> what a command line gets from it."""
    table = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue  # the commands: a group of their own, which may grow
        about = dict(
            dest=action.dest, action=type(action).__name__, default=action.default,
            type=getattr(action.type, "__name__", None if action.type is None else repr(action.type)),
            choices=None if action.choices is None else list(action.choices)
            if not isinstance(action.choices, dict) else sorted(action.choices),
            nargs=action.nargs, required=action.required,
        )
        for option in action.option_strings or [action.dest]:
            table[option] = json.loads(json.dumps(about, default=repr))
    return table


# -- computing what is recorded -------------------------------------------------------------

class Behaviour:
    """The recorded quantities, computed on demand (each test pays only for its own case)."""

    def __init__(self, work_dir, tokenizer_dir):
        self.work = Path(work_dir)
        self.tokenizer_dir = str(tokenizer_dir)
        self.code = self.work / "code_records.json"
        self.code.write_text(json.dumps(CODE_RECORDS, ensure_ascii=False, indent=1), encoding="utf-8")
        self._tokenizer = None
        self._runs = {}

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_dir)
        return self._tokenizer

    def tokenizer_vocabulary(self):
        import sentencepiece

        sp = sentencepiece.SentencePieceProcessor(model_file=str(Path(self.tokenizer_dir) / "tokenizer.model"))
        pieces = "\n".join(f"{sp.id_to_piece(i)}\t{sp.get_score(i)!r}" for i in range(sp.get_piece_size()))
        return hashlib.sha256(pieces.encode()).hexdigest()

    # datasets
    def dataset(self, name, **overrides):
        from easylm_commit.dataset_types import DATASET_TYPES

        kind, data, config, _, _ = DATASETS[name]
        cls = DATASET_TYPES[kind]
        path = {"demo": demo.DEMO_INSTRUCTIONS if kind == "commit" else demo.DEMO_CORPUS,
                "code": str(self.code)}[data]
        config = dict(config, path=path, dictionary=demo.DEMO_DICTIONARY, **overrides)
        return cls(cls.get_default_config(config), self.tokenizer)

    @staticmethod
    def take(dataset, n):
        out = []
        if n:
            for batch, metrics in dataset:
                out.append(({k: np.array(v) for k, v in batch.items()}, dict(metrics)))
                if len(out) == n:
                    break
        assert len(out) == n, f"the dataset ended after {len(out)} of {n} batches"
        return out

    def batches(self, name, **overrides):
        key = (name, tuple(sorted(overrides.items())))
        if key not in self._runs:
            self._runs[key] = self.take(self.dataset(name, **overrides), DATASETS[name][3])
        return self._runs[key]

    def resumed(self, name, state=None):
        """The state after RESUME_AT batches (or ``state``, as a checkpoint holds it) loaded
        into a new dataset, and the batches it then gives: (state, batches)."""
        if state is None:
            first = self.dataset(name)
            self.take(first, RESUME_AT)
            state = first.get_state_dict()
        resumed = self.dataset(name)
        resumed.load_state_dict(state)
        return state, self.take(resumed, DATASETS[name][3] - RESUME_AT)

    # commands
    def _argv(self, args):
        return [{"<code>": str(self.code), "<tokenizer>": self.tokenizer_dir}.get(a, a) for a in args]

    def mix(self, args):
        out = self.work / f"mix-{_short(' '.join(args).encode())}.jsonl"
        status = cli.main(["mix", "--quiet", *self._argv(args), "--output", str(out)])
        assert status == 0, f"easylm-commit mix {' '.join(args)} exited {status}"
        return out.read_bytes()

    def stats(self, args):
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            status = cli.main(["stats", "--quiet", "--json", *self._argv(args)])
        assert status == 0, f"easylm-commit stats {' '.join(args)} exited {status}"
        values = _flatten(json.loads(stdout.getvalue()))
        # Paths of this machine are not recorded: the places they name are.
        places = {os.path.dirname(demo.DEMO_DICTIONARY): "<demo>", self.tokenizer_dir: "<tokenizer>",
                  str(self.code): "<code>"}
        for key, value in values.items():
            if isinstance(value, str):
                for path, place in places.items():
                    value = value.replace(path, place)
                values[key] = value
        return values

    # flags
    @staticmethod
    def flags():
        from easylm_commit.dataset_types import DATASET_TYPES

        out = {}
        for kind, cls in sorted(DATASET_TYPES.items()):
            config = cls.get_default_config()
            out[f"--train_dataset.type={kind} config"] = {k: config[k] for k in sorted(config)}
        parser, sub = cli.build_parser()
        out["easylm-commit options"] = _option_table(parser)
        out["easylm-commit commands"] = {name: True for name in sub.choices}
        for name in COMMANDS:
            command = sub.choices[name]
            importlib.import_module(f"easylm_commit.commands.{cli.COMMANDS[name]}").add_arguments(command)
            out[f"easylm-commit {name} options"] = _option_table(command)
        return json.loads(json.dumps(out))

    def record(self):
        record = dict(tokenizer_vocabulary=self.tokenizer_vocabulary(), datasets={}, mix={}, stats={})
        for name in DATASETS:
            record["datasets"][name] = _digest_batches(self.batches(name))
        # What the tests assert besides the record holds, or nothing is recorded.
        for name in WORKERS.values():
            two = _digest_batches(self.batches(name, tokenizer_processes=2))
            assert two == record["datasets"][name], f"{name}: 2 worker processes differ from 1"
        for name, reference in RESUMES.items():
            state, batches = self.resumed(reference)
            assert _digest_batches(batches) == _digest_batches(self.batches(reference)[RESUME_AT:]), \
                f"{name}: the resumed batches differ from the uninterrupted run's"
            record["datasets"][name] = dict(
                _digest_batches(batches), state={k: v for k, v in state.items() if k != "config"})
        for args in MIX:
            data = self.mix(args)
            record["mix"][_name("mix", args)] = dict(
                sha256=hashlib.sha256(data).hexdigest(), lines=[_short(line) for line in data.splitlines()])
        for args in STATS:
            record["stats"][_name("stats", args)] = self.stats(args)
        record["flags"] = self.flags()
        return record


# -- the tests ------------------------------------------------------------------------------

def _recorded():
    if not RECORD.exists():
        return None
    return json.loads(RECORD.read_text(encoding="utf-8"))


RECORDED = _recorded()


def recorded(section, name):
    if RECORDED is None:
        pytest.fail(f"{RECORD.name} is missing: record it with "
                    "`python tests/test_behaviour_unchanged.py --record`", pytrace=False)
    if name not in RECORDED[section]:
        pytest.fail(f"{section} case {name!r} is not recorded: a new case is recorded with "
                    "`python tests/test_behaviour_unchanged.py --record`", pytrace=False)
    return RECORDED[section][name]


@pytest.fixture(scope="module")
def behaviour(tmp_path_factory, llama_tokenizer_dir):
    return Behaviour(tmp_path_factory.mktemp("behaviour"), llama_tokenizer_dir)


@pytest.fixture(scope="module")
def same_tokenizer(behaviour):
    """Batch digests mean something only under the recorded tokenizer."""
    if RECORDED is not None and behaviour.tokenizer_vocabulary() != RECORDED["tokenizer_vocabulary"]:
        import sentencepiece
        import transformers

        pytest.fail(
            "the fixture tokenizer (conftest.build_llama_tokenizer) trained another vocabulary "
            f"than when the digests were recorded (sentencepiece {sentencepiece.__version__}, "
            f"transformers {transformers.__version__} here): batch digests cannot be compared; "
            "re-record on a checkout known to be good", pytrace=False)


def test_every_recorded_case_is_still_run():
    """A case removed from this file would silently stop guarding its behaviour."""
    if RECORDED is None:
        pytest.fail(f"{RECORD.name} is missing", pytrace=False)
    run = {"datasets": set(DATASETS) | set(RESUMES), "mix": {_name("mix", a) for a in MIX},
           "stats": {_name("stats", a) for a in STATS}, "flags": set(FLAG_GROUPS)}
    for section, names in run.items():
        gone = sorted(set(RECORDED[section]) - names)
        assert not gone, f"recorded {section} case(s) no longer checked: {gone}"


def _compare_batches(what, want, got):
    if got == want:
        return
    lines = [f"{what}: the batches changed ({HOW_TO_RECORD})"]
    for part, label in (("arrays", "input/target tokens or loss masks"), ("metrics", "metrics")):
        if got[part] != want[part]:
            if len(got[part]) != len(want[part]):
                lines.append(f"  {label}: {len(got[part])} batches, recorded {len(want[part])}")
            else:
                first = next(i for i, (a, b) in enumerate(zip(want[part], got[part])) if a != b)
                lines.append(f"  {label}: first differ at batch {first} of {len(want[part])}")
    for k in sorted(set(want["last_metrics"]) | set(got["last_metrics"])):
        a, b = want["last_metrics"].get(k, "(none)"), got["last_metrics"].get(k, "(none)")
        if _canonical(a) != _canonical(b):
            lines.append(f"  last batch's {k}: recorded {a!r}, now {b!r}")
    for k in sorted(set(want.get("state", {})) | set(got.get("state", {}))):
        a, b = want["state"].get(k, "(none)"), got["state"].get(k, "(none)")
        if a != b:
            lines.append(f"  saved state's {k}: recorded {a!r}, now {b!r}")
    pytest.fail("\n".join(lines), pytrace=False)


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_batches_and_metrics_are_the_recorded_ones(behaviour, same_tokenizer, name):
    want = recorded("datasets", name)
    batches = behaviour.batches(name)
    _compare_batches(f"dataset {name!r}", want, _digest_batches(batches))
    min_epoch = DATASETS[name][4]
    assert batches[-1][1]["dataset_epoch"] >= min_epoch, f"{name} must run into epoch {min_epoch}"


@pytest.mark.parametrize("name", list(WORKERS.values()))
def test_two_worker_processes_give_the_recorded_batches(behaviour, same_tokenizer, name):
    one = _digest_batches(behaviour.batches(name))
    two = _digest_batches(behaviour.batches(name, tokenizer_processes=2))
    _compare_batches(f"dataset {name!r} with tokenizer_processes=2 against 1", one, two)
    _compare_batches(f"dataset {name!r} with tokenizer_processes=2", recorded("datasets", name), two)


@pytest.mark.parametrize("name", list(RESUMES))
def test_a_resumed_run_gives_the_uninterrupted_batches_as_recorded(behaviour, same_tokenizer, name):
    reference = RESUMES[name]
    want = recorded("datasets", name)
    state, batches = behaviour.resumed(reference)
    got = dict(_digest_batches(batches), state={k: v for k, v in state.items() if k != "config"})
    # Tokens and metrics alike: the counts carry on as if never interrupted.
    uninterrupted = _digest_batches(behaviour.batches(reference)[RESUME_AT:])
    _compare_batches(f"{name} against the uninterrupted run", uninterrupted, _digest_batches(batches))
    _compare_batches(name, want, got)
    # A checkpoint written before the refactor holds the recorded state: it must resume too.
    config = behaviour.dataset(reference).get_state_dict()["config"]
    _, from_record = behaviour.resumed(reference, state=dict(copy.deepcopy(want["state"]), config=config))
    _compare_batches(f"{name}, from the recorded state", uninterrupted, _digest_batches(from_record))


@pytest.mark.parametrize("args", MIX, ids=[" ".join(a) for a in MIX])
def test_mix_writes_the_recorded_file(behaviour, args):
    name = _name("mix", args)
    want = recorded("mix", name)
    data = behaviour.mix(args)
    if hashlib.sha256(data).hexdigest() == want["sha256"]:
        return
    lines = data.splitlines()
    digests = [_short(line) for line in lines]
    first = next((i for i, (a, b) in enumerate(zip(want["lines"], digests)) if a != b),
                 min(len(digests), len(want["lines"])))
    shown = lines[first].decode("utf-8", "replace")[:300] if first < len(lines) else "(none)"
    pytest.fail(f"{name}: the output changed ({HOW_TO_RECORD}): {len(lines)} lines, recorded "
                f"{len(want['lines'])}; first different line {first + 1}, now:\n  {shown}", pytrace=False)


@pytest.mark.parametrize("args", STATS, ids=[" ".join(a) for a in STATS])
def test_stats_json_keeps_every_recorded_value(behaviour, args):
    """New keys may appear; a recorded key must keep its value (and its type)."""
    name = _name("stats", args)
    want = recorded("stats", name)
    got = behaviour.stats(args)
    changed = [f"  {k}: recorded {v!r}, now {got[k]!r}" if k in got else f"  {k}: gone (was {v!r})"
               for k, v in want.items() if k not in got or _canonical(got[k]) != _canonical(v)]
    if changed:
        pytest.fail(f"{name}: values changed ({HOW_TO_RECORD}):\n" + "\n".join(changed), pytrace=False)


FLAG_GROUPS = ["--train_dataset.type=codemix_clm config", "--train_dataset.type=commit config",
               "easylm-commit options", "easylm-commit commands"] + [
    f"easylm-commit {name} options" for name in COMMANDS]


@pytest.mark.parametrize("group", FLAG_GROUPS)
def test_flags_keep_their_names_and_defaults(group):
    """EasyLM's ``--train_dataset.*`` flags and the CLI's options: new ones may be added; a
    recorded one must still exist with the same default (and type, choices, arity)."""
    want = recorded("flags", group)
    got = Behaviour.flags()[group]
    changed = [f"  {k}: recorded {v!r}, now {got[k]!r}" if k in got else f"  {k}: gone (was {v!r})"
               for k, v in want.items() if k not in got or _canonical(got[k]) != _canonical(v)]
    if changed:
        pytest.fail(f"{group}: flags changed ({HOW_TO_RECORD}):\n" + "\n".join(changed), pytrace=False)


def main(argv):
    if argv != ["--record"]:
        return pytest.main([__file__, *argv])
    from easylm_commit.atomic import atomic_output

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer_dir = build_llama_tokenizer(os.path.join(tmp, "tokenizer"))
        record = Behaviour(tmp, tokenizer_dir).record()
    for name, (_, _, _, _, min_epoch) in DATASETS.items():
        assert record["datasets"][name]["last_metrics"]["dataset_epoch"] >= min_epoch, name
    with atomic_output(str(RECORD)) as f:
        f.write(json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    print(f"recorded {sum(len(record[s]) for s in ('datasets', 'mix', 'stats', 'flags'))} "
          f"cases in {RECORD}")
    return 0


if __name__ == "__main__":  # the guard also keeps spawned dataset workers from recording
    sys.exit(main(sys.argv[1:]))
