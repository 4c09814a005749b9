"""``easylm-commit plan``: the paper's experiment for one target language, from a Hugging Face
LLaMA to the tables, as one resumable sequence of commands; with ``--languages`` one joint model
for several (``easylm_commit.joint``), and with ``--separate`` each language's own model beside it.

1. Checks, on the CPU, before any accelerator time is spent: the model folder, tokenizer vs
   checkpoint vocabulary, sequence length vs context, the dictionary and its coverage of the
   data (and the steps of an epoch) through ``easylm-commit stats``, EasyLM and the train
   route (``doctor``'s findings), the JAX backend, lm-eval and the QA data, free disk
   for every checkpoint still to be written.
2. The steps (``easylm_commit.experiment``): convert, align, train, convert back, evaluate,
   report. ``--dry-run`` prints them, commands in full, and runs nothing.
3. Running them (``easylm_commit.resumable``): a finished step leaves a marker and is skipped
   by the next run of the same command; a step killed midway is redone from its start.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from easylm_commit import experiment, options
from easylm_commit.errors import UserError

if TYPE_CHECKING:
    from easylm_commit.resumable import Runner, Step


# Coverage below this share of words mixes too little to be COMMIT (MUSE en-hi covers about
# two thirds of Alpaca's words); a warning, not an error: small dictionaries are a choice.
LOW_COVERAGE = 0.3
# Local corpora larger than this are not read whole by the checks (it would take minutes);
# `easylm-commit stats` on a sample says the same.
CORPUS_CHECK_BYTES = 100 * 2 ** 20
# --demo's stand-in model (easylm_commit.demo.model), a folder of --out.
DEMO_MODEL = "demo-model"

# The sizes a flag left unset (None) takes: the paper's, or with --demo's stand-in model sizes
# that run every step to the report in minutes on a 2-core CPU -- a pipeline check, not the
# paper's experiment (10K alignment steps of 16 x 512 would be days there). The demo's are
# examples/quickstart.sh's, known to train the random 2-layer model (its loss falls): 4 x 128
# batches, lr 1e-3 with 5 warmup steps, 40 alignment steps; tuning keeps the paper's 3 epochs
# (15 steps each on the demo records at 4 x 128, so 45 steps, near the quickstart's 60). One
# tokenizer process (spawning workers costs more than they save on 50 records), evaluation
# in float32 one question at a time on the embedded QA sets (10 questions a set at most).
PAPER_SIZES = dict(align_steps=10000, align_warmup=300, lr=2e-5,
                   batch_size=options.OPTIONS["batch_size"].cli_default,
                   seq_length=options.OPTIONS["seq_length"].cli_default,
                   log_freq=10, tokenizer_processes=4, eval_batch_size="auto", eval_dtype="auto",
                   eval_limit=None)
DEMO_SIZES = dict(PAPER_SIZES, align_steps=40, align_warmup=5, lr=1e-3, batch_size=4,
                  seq_length=128, log_freq=5, tokenizer_processes=1, eval_batch_size="1",
                  eval_dtype="float32", eval_limit=10)
# jaxlib 0.4.28 on CPU rewrites EasyLM's attention into a oneDNN call many times slower on
# small shapes (docs/toy.md); the quickstart and the tests turn the rewrite off, and so do the
# demo model's steps. The pass does not exist on an accelerator, where naming it does nothing.
XLA_CPU_FIX = "--xla_disable_hlo_passes=onednn-matmul-rewriter"


def _default(name):
    """A size's "(default ...)" for its help: the paper's, and the demo model's."""
    return f"(default {PAPER_SIZES[name]}; {DEMO_SIZES[name]} for --demo's model)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan``'s flags; those that set a dataset option are declared with it (``options``).

    Args:
        parser: the command's parser.
    """
    g = parser.add_argument_group("inputs")
    g.add_argument("--target", help="target language code (hi, el, th, ta, bn, ...; default hi with --demo)")
    options.add_flag(g, "languages", metavar="LIST",
                     help="several target languages, one joint model: comma-separated codes "
                          "(hi,el: each language's files from --dictionary/--corpus/--corpus-name "
                          "with {lang} in them, or with --demo its embedded demo), or a JSON list "
                          "(inline, a file or URL, or 'demo') as the datasets' languages key; "
                          "instead of --target")
    g.add_argument("--separate", action="store_true",
                   help="with --languages: also each language's own model (OUT/separate/<lang>), "
                        "and a joint-vs-separate table in the report")
    g.add_argument("--hf-model", metavar="DIR",
                   help="Hugging Face LLaMA folder (config.json and weights) to start from, or "
                        "an org/name of the hub already downloaded (with --demo: a debug-size "
                        "stand-in built in OUT/demo-model)")
    g.add_argument("--tokenizer", metavar="TOK", help="LLaMA tokenizer (default: --hf-model)")
    options.add_flag(g, "dictionary", help="MUSE dictionary en-<target>.txt")
    g.add_argument("--instructions", metavar="PATH",
                   help="Alpaca records, local .json/.jsonl (tatsu-lab/stanford_alpaca's alpaca_data.json)")
    g.add_argument("--corpus", default=None,
                   help="alignment corpus: a local .jsonl or a hub dataset (default graelo/wikipedia, streamed)")
    g.add_argument("--corpus-name", help="hub config of --corpus (default 20230601.<target> for graelo/wikipedia)")
    g.add_argument("--corpus-field", default="text", help="text field of the corpus (default text)")
    g.add_argument("--mt-instructions", metavar="PATH",
                   help="machine-translated Alpaca (for the run 'mt')")
    g.add_argument("--demo", action="store_true",
                   help="the embedded English-Hindi demo dictionary, records and corpus where none "
                        "is given (with --languages hi,el: Hindi's and Greek's), and a debug-size LLaMA with a tokenizer trained on the demo "
                        "text where no --hf-model is (built offline in seconds, once)")
    g.add_argument("--out", required=True, metavar="DIR",
                   help="where checkpoints, logs, results and the report go; rerun with the same "
                        "--out to resume")
    g.add_argument("--runs", default=",".join(experiment.DEFAULT_RUNS),
                   help="comma-separated rows to produce: " + ", ".join(
                       f"{k} ({r.label})" for k, r in experiment.RUNS.items())
                        + f" (default {','.join(experiment.DEFAULT_RUNS)})")

    t = parser.add_argument_group("training (the paper's settings by default; small ones for "
                                  "--demo's model)")
    t.add_argument("--epochs", type=int, default=3, help="tuning epochs (default 3)")
    t.add_argument("--steps-per-epoch", type=int, metavar="N",
                   help="skip measuring an epoch with `stats` and use N steps")
    t.add_argument("--align-steps", type=int, help="alignment steps " + _default("align_steps"))
    t.add_argument("--align-warmup", type=int, help="alignment warmup steps " + _default("align_warmup"))
    alpha = options.default("alpha", options.COMMIT)
    options.add_flag(t, "alpha", default=alpha, help=f"COMMIT's alpha (default {alpha})")
    t.add_argument("--lr", type=float, help="peak learning rate " + _default("lr"))
    options.add_flag(t, "language_sampling")
    options.add_flag(t, "stopping_strategy",
                     help="with --languages: the alignment's epoch of interleaved corpora ends "
                          "when all were read (all_exhausted, default) or the first (first_exhausted)")
    options.add_flag(t, "batch_size", default=None, help="sequences per step " + _default("batch_size"))
    options.add_flag(t, "seq_length", default=None, help="tokens per sequence " + _default("seq_length"))
    t.add_argument("--mesh-dim", default="1,-1,1",
                   help="EasyLM's --mesh_dim (dp,fsdp,mp; default 1,-1,1: FSDP over all devices)")
    t.add_argument("--dtype", help="EasyLM's compute --dtype (default bf16; fp32 for --demo's "
                                   "model, which trains on a CPU)")
    t.add_argument("--checkpoint-dtype", default="bf16", choices=("bf16", "fp16", "fp32"),
                   help="dtype of the EasyLM checkpoints written (default bf16)")
    t.add_argument("--base-model", default="llama_7b",
                   help="EasyLM preset under the --llama.* flags read from config.json (default llama_7b)")
    t.add_argument("--save-freq", type=int, default=1000,
                   help="steps between checkpoint saves (default 1000; the last step is always saved)")
    t.add_argument("--log-freq", type=int, help="steps between logged metrics " + _default("log_freq"))
    options.add_flag(t, "tokenizer_processes", default=None,
                     help="worker processes mixing the alignment corpus " + _default("tokenizer_processes"))
    t.add_argument("--train-route", choices=("launcher", "patched"), default="launcher",
                   help="launcher: python -m easylm_commit.llama_train on an unpatched EasyLM "
                        "(default); patched: EasyLM's own llama_train after `easylm-commit patch`")
    t.add_argument("--train-flag", action="append", default=[], metavar="FLAG",
                   help="extra flag for every EasyLM training command (repeat it)")
    t.add_argument("--easylm-dir", help="EasyLM checkout (default $EASYLM_DIR)")

    e = parser.add_argument_group("evaluation")
    e.add_argument("--tasks", help="comma-separated eval tasks or groups (default: the target's "
                                   "test sets, target-language and English prompt)")
    e.add_argument("--qa-data", metavar="DIR",
                   help="local test sets (<benchmark>_<lang>.jsonl; default: the hub, or with "
                        "--demo its embedded Hindi sets)")
    e.add_argument("--eval-limit", type=int, metavar="N",
                   help=f"only N questions per task (smoke runs; {DEMO_SIZES['eval_limit']} for "
                        "--demo's model)")
    e.add_argument("--eval-device", help="torch device for evaluation (default cuda; cpu for "
                                         "--demo's model)")
    e.add_argument("--eval-batch-size", help="generation batch size " + _default("eval_batch_size"))
    e.add_argument("--eval-dtype", help="model dtype for evaluation " + _default("eval_dtype"))

    c = parser.add_argument_group("control")
    c.add_argument("--dry-run", action="store_true",
                   help="run the checks and print every step's command; run nothing")
    c.add_argument("--until", choices=experiment.PHASES,
                   help="stop after this phase (e.g. train on a TPU host, then evaluate elsewhere)")


# -- arguments -----------------------------------------------------------------------------

def _abs_if_local(path):
    return os.path.abspath(path) if path and os.path.exists(path) else path


def resolve(args: argparse.Namespace) -> None:
    """Fill defaults (demo files, tokenizer, tasks) and validate option values.

    Args:
        args: the parsed command line, changed in place.

    Raises:
        UserError: a missing input or a value an option does not accept.
    """
    args.out = os.path.abspath(args.out)
    # The stand-in model lives in --out, as the checkpoints do: built by the first run of a
    # plan (a dry run too, since the checks read it), reused by every later one.
    args.demo_model = (os.path.join(args.out, DEMO_MODEL)
                       if args.demo and not args.hf_model else None)
    args.joint = None
    if args.languages and args.target:
        raise UserError("--target and --languages: give one (--languages names every target language)")
    if args.separate and not args.languages:
        raise UserError("--separate needs --languages (the languages whose own models to train)")
    if args.demo:
        from easylm_commit import demo

        args.instructions = args.instructions or demo.DEMO_INSTRUCTIONS
        args.hf_model = args.hf_model or args.demo_model
        if not args.languages:  # with --languages each language takes its own demo files
            args.target = args.target or "hi"
            args.dictionary = args.dictionary or demo.DEMO_DICTIONARY
            args.corpus = args.corpus or demo.DEMO_CORPUS
    if not args.hf_model:
        raise UserError("--hf-model is required (your LLaMA in Hugging Face format; or --demo "
                        "for a debug-size stand-in)")
    # The demo's 2-layer model trains and evaluates on a CPU, where EasyLM's train step in bf16
    # stopped (jaxlib 0.4.28, the quickstart's XLA_FLAGS: "UNIMPLEMENTED: unsupported operand
    # type BF16 in op dot"); a real model wants an accelerator and bf16.
    args.dtype = args.dtype or ("fp32" if args.demo_model else "bf16")
    args.eval_device = args.eval_device or ("cpu" if args.demo_model else "cuda")
    sizes = DEMO_SIZES if args.demo_model else PAPER_SIZES
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.step_env = {}  # added to the environment of every EasyLM step
    if args.demo_model:
        xla = os.environ.get("XLA_FLAGS", "")
        args.step_env["XLA_FLAGS"] = xla if XLA_CPU_FIX in xla else f"{xla} {XLA_CPU_FIX}".strip()
    if not args.target and not args.languages:
        raise UserError("--target is required (the language code, e.g. hi; or --languages for "
                        "several, or --demo)")
    for name in ("dictionary", "instructions"):
        if not getattr(args, name) and not (name == "dictionary" and args.languages):
            raise UserError(f"--{name} is required (or --demo for the embedded demo)")
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    unknown = [r for r in runs if r not in experiment.RUNS]
    if unknown or not runs:
        raise UserError(f"--runs: unknown run {', '.join(unknown) or '(none given)'}; "
                        f"choose from {', '.join(experiment.RUNS)}")
    args.runs = list(dict.fromkeys(runs))
    if "mt" in args.runs and args.languages:
        raise UserError("--runs mt with --languages: the MT row is one language's translated "
                        "Alpaca with its template; run it with --target")
    if "mt" in args.runs and not args.mt_instructions:
        raise UserError("--runs mt needs --mt-instructions (Alpaca translated into the target language)")
    if args.separate and not any(experiment.RUNS[r].mode for r in args.runs):
        raise UserError("--separate: none of --runs trains a model (the base model is the same "
                        "for every language)")
    if args.languages:
        resolve_languages(args)
    args.corpus = args.corpus or "graelo/wikipedia"
    for name in ("epochs", "align_steps", "save_freq", "log_freq", "tokenizer_processes"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    options.check_args(args, "batch_size", "seq_length")
    if args.steps_per_epoch is not None and args.steps_per_epoch < 1:
        raise UserError(f"--steps-per-epoch must be at least 1, got {args.steps_per_epoch}")
    if args.eval_limit is not None and args.eval_limit < 1:
        raise UserError(f"--eval-limit must be at least 1, got {args.eval_limit}")
    options.check_args(args, "alpha")
    if args.tasks:
        from easylm_commit.eval.harness import expand_tasks

        args.tasks = expand_tasks(args.tasks)
    elif args.joint is not None:
        args.tasks = [t for code in args.joint.codes for t in experiment.default_tasks(code)]
        missing = [c for c in args.joint.codes if not experiment.default_tasks(c)]
        if missing:
            raise UserError(f"no test set of the paper is in language {', '.join(map(repr, missing))}: "
                            "name the tasks with --tasks")
    else:
        args.tasks = experiment.default_tasks(args.target)
        if not args.tasks:
            raise UserError(f"no test set of the paper is in language {args.target!r}: "
                            "name the tasks with --tasks")
    if args.demo and not args.qa_data:
        from easylm_commit import demo
        from easylm_commit.eval.harness import check_local_data

        # The embedded sets are Hindi (MLQA, XQuAD, MLQA's dev set) and Greek (XQuAD); tasks
        # in other languages are read from the hub, as without --demo, rather than failing on
        # the demo's folder.
        try:
            check_local_data(demo.DEMO_QA, args.tasks)
        except UserError:
            pass
        else:
            args.qa_data = demo.DEMO_QA
    args.tokenizer_is_model = not args.tokenizer
    args.tokenizer = args.tokenizer or args.hf_model
    for name in ("hf_model", "tokenizer", "dictionary", "instructions", "mt_instructions",
                 "qa_data", "corpus"):
        setattr(args, name, _abs_if_local(getattr(args, name)))
    args.easylm_dir = args.easylm_dir or os.environ.get("EASYLM_DIR") or None
    if args.easylm_dir:
        args.easylm_dir = os.path.abspath(args.easylm_dir)


def resolve_languages(args: argparse.Namespace) -> None:
    """``--languages`` parsed for both dataset types (``joint.parse``) into ``args.joint``: an
    entry's keys left out take the values ``plan`` passes as flags (COMMIT's alpha, the
    alignment's alpha and corpus field).

    Raises:
        UserError: the datasets' one-line errors, naming the entry (and file).
    """
    from easylm_commit import joint

    options.check_args(args, "alpha")
    commit = {o.name: o.defaults[options.COMMIT] for o in options.options_of(options.COMMIT)}
    commit.update(alpha=args.alpha)
    clm = {o.name: o.defaults[options.CODEMIX_CLM] for o in options.options_of(options.CODEMIX_CLM)}
    clm.update(alpha=experiment.ALIGNMENTS["align"][0], text_field=args.corpus_field,
               reverse_dictionary=True)
    args.joint = joint.parse(args.languages, commit_config=commit, codemix_clm_config=clm,
                             dictionary=args.dictionary, corpus=args.corpus,
                             corpus_name=args.corpus_name, demo=args.demo)
    # The dictionary and corpus flags were each language's pattern; the steps read the lists.
    args.dictionary = args.corpus_name = None


def separate_args(args: argparse.Namespace, code: str) -> argparse.Namespace:
    """The resolved command line of language ``code``'s own model in a joint run with
    ``--separate``: its one-entry lists, its test sets, its folder ``OUT/separate/<code>``,
    every tuned run of ``--runs`` (the base model's row is the joint run's: the same model)."""
    own = argparse.Namespace(**vars(args))
    own.joint = args.joint.one(code)
    own.out = os.path.join(args.out, "separate", code)
    own.runs = [r for r in args.runs if experiment.RUNS[r].mode]
    own.tasks = experiment.tasks_of(args.tasks, code) or experiment.default_tasks(code)
    own.separate = False
    return own


# -- checks ----------------------------------------------------------------------------------

class Checks:
    """Findings, one line each: ``ok``, ``warn`` or ``FAIL`` and what to do.

    Args:
        echo: called with each new finding's line as it is added.
    """

    def __init__(self, echo: Callable[[str], object]) -> None:
        self.items = []
        self.echo = echo

    def add(self, level: str, message: str) -> None:
        if (level, message) in self.items:  # one problem, one line, however many checks meet it
            return
        self.items.append((level, message))
        self.echo(f"{level:>4}  {message}")

    @property
    def failed(self) -> list[str]:
        return [m for level, m in self.items if level == "FAIL"]


def _cache_key(*parts):
    from easylm_commit.resumable import _stat_signature

    blob = json.dumps([p if not (isinstance(p, str) and os.path.exists(p)) else _stat_signature(p)
                       for p in parts])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def run_stats(args: argparse.Namespace, data: str, mode: str | None, template: str = "en",
              tokenizer: bool = True, text_field: str | None = None,
              cache_writes: list | None = None, *, dictionary: str | None = None,
              langs: object = None, reverse: bool = True) -> dict:
    """What ``easylm-commit stats --json`` prints for these options (``stats.collect``: the same
    numbers a user sees, from the same code, without a second process or parsing its text),
    cached in ``OUT/.plan/stats`` by the inputs' sizes and times so a resumed plan does not
    re-read Alpaca. Raises UserError with stats' own message. New results are appended to
    ``cache_writes`` as (path, result), written only once the checks pass, so a plan that
    stops at its checks leaves no folder behind. ``dictionary`` is another than
    ``--dictionary`` (one language of several); ``langs`` (``joint.JointLanguages``) mixes
    as the joint run's ``commit`` dataset does (``--languages``, the list inline)."""
    from easylm_commit.commands import stats

    if langs is not None:
        listed = json.dumps(langs.entries(options.COMMIT), ensure_ascii=False)
        argv = ["--top", "5", "--languages", listed, "--language-sampling",
                args.language_sampling, "--input", data]
        files = experiment.joint_inputs(langs, options.COMMIT)  # the cache key: their contents
    else:
        argv = ["--top", "5", "--dictionary", dictionary or args.dictionary, "--input", data]
        files = []
    if text_field:
        alpha = options.default("alpha", options.CODEMIX_CLM)
        argv += ["--text-field", text_field, *(["--reverse-dictionary"] if reverse else []),
                 "--alpha", str(alpha)]
    else:
        argv += ["--mode", mode, "--alpha", str(args.alpha), "--template", template]
    if experiment.segmenter(args) == "thai":
        argv += ["--segmenter", "thai"]
    if tokenizer:
        argv += ["--tokenizer", args.tokenizer, "--batch-size", str(args.batch_size),
                 "--seq-length", str(args.seq_length)]
    cache = os.path.join(args.out, ".plan", "stats", _cache_key(*argv, *files) + ".json")
    if os.path.isfile(cache):
        with open(cache, encoding="utf-8") as f:
            return json.load(f)
    parser = argparse.ArgumentParser(prog="easylm-commit stats")
    stats.add_arguments(parser)
    # --quiet: no progress; malformed-line warnings are kept, not printed (the checks say
    # what matters in their own lines).
    result = stats.collect(parser.parse_args(argv, argparse.Namespace(
        quiet=True, deferred_warnings=[], _command="stats")))
    if cache_writes is not None:
        cache_writes.append((cache, result))
    return result


def write_stats_cache(cache_writes: list[tuple[str, dict]]) -> None:
    from easylm_commit.atomic import atomic_output

    for path, result in cache_writes:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_output(path) as f:
            json.dump(result, f)


def check_model(args: argparse.Namespace, checks: Checks) -> dict | None:
    """config.json and the weights; a hub name is read from the local hub cache."""
    from easylm_commit import hf_paths

    try:
        folder = hf_paths.locate(args.hf_model, "--hf-model")
        if not os.path.isdir(folder):
            raise UserError(f"--hf-model {folder}: on the hub but not downloaded; the checks read "
                            f"its config.json and weights: `huggingface-cli download {folder}` "
                            "first, or pass a local folder")
        args.hf_model = folder
        if args.tokenizer_is_model:
            args.tokenizer = folder
        config = experiment.read_hf_config(folder)
        weights = hf_paths.weight_files(folder)
    except UserError as e:
        checks.add("FAIL", str(e))
        return None
    n = experiment.param_count(config)
    size = f"{n / 1e9:.2f}B" if n >= 1e8 else f"{n / 1e6:.1f}M"
    checks.add("ok", f"model {args.hf_model}: LLaMA, {size} parameters in {len(weights)} weight "
                     f"file(s), vocabulary {config['vocab_size']}, context "
                     f"{config['max_position_embeddings']}")
    if args.seq_length > config["max_position_embeddings"]:
        checks.add("FAIL", f"--seq-length {args.seq_length} is longer than the model's context "
                           f"({config['max_position_embeddings']})")
    return config


def check_tokenizer(args: argparse.Namespace, config: dict | None, checks: Checks) -> bool:
    from easylm_commit.commands.stats import load_tokenizer

    if args.tokenizer_is_model and not os.path.isdir(args.tokenizer):
        return False  # the model folder's problem, said once by check_model
    try:
        tokenizer = load_tokenizer(args.tokenizer)
    except UserError as e:
        checks.add("FAIL", str(e))
        return False
    n = len(tokenizer)
    if config is None:
        checks.add("ok", f"tokenizer {args.tokenizer}: {n} tokens")
    elif n > config["vocab_size"]:
        checks.add("FAIL", f"tokenizer {args.tokenizer} has {n} tokens but the checkpoint's "
                           f"embedding only {config['vocab_size']}: ids past the table would crash "
                           "training (a pad token added to the tokenizer?)")
    elif n < config["vocab_size"]:
        checks.add("warn", f"tokenizer {args.tokenizer}: {n} tokens, checkpoint vocabulary "
                           f"{config['vocab_size']} (unused rows are harmless if intended)")
    else:
        checks.add("ok", f"tokenizer {args.tokenizer}: {n} tokens = the checkpoint's vocabulary")
    return True


def check_dictionary(path: str, label: str, checks: Checks) -> object:
    """One dictionary's line (``label``: the language's, before the message); its
    ``DictionaryStats``, or None when it cannot be read."""
    from easylm_commit.dictionary import BilingualDictionary

    try:
        d = BilingualDictionary.load(path).stats()
    except UserError as e:
        checks.add("FAIL", f"{label}{e}")
        return None
    skipped = (f", {d.skipped_lines} malformed line(s) skipped (first: line "
               f"{d.first_skipped_line})" if d.skipped_lines else "")
    checks.add("warn" if skipped else "ok",
               f"{label}dictionary {path}: {d.pairs} pairs, {d.sources} words{skipped}")
    return d


def check_data(args: argparse.Namespace, tokenizer_ok: bool,
               checks: Checks) -> dict[tuple[str, str, str], int | None]:
    """Dictionary coverage of the data and the steps of an epoch for each tuning run (with
    several languages, each language's dictionary and coverage, and the steps of an epoch of
    the joint run's draw)."""
    from easylm_commit import fileio

    if args.joint is None:
        d = check_dictionary(args.dictionary, "", checks)
    else:  # every language's; the data is checked only if all can be read
        d = all([check_dictionary(l.dictionary, f"{l.label}: ", checks) for l in args.joint.commit]) or None
    data_files = {"instructions": ("--instructions", args.instructions),
                  "mt": ("--mt-instructions", args.mt_instructions)}
    missing = set()
    for r in args.runs:  # every data file the runs read, each one said once
        key = experiment.RUNS[r].data
        if experiment.RUNS[r].mode and key not in missing:
            option, path = data_files[key]
            if fileio.local_path(path) is not None and not fileio.isfile(path):  # a URL is read by stats
                checks.add("FAIL", f"{option} {path}: no such file")
                missing.add(key)
    if d is None:
        return {}
    combos = []
    for r in args.runs:
        run = experiment.RUNS[r]
        if run.mode:
            key = (run.data, run.mode, args.target if run.target_template else "en")
            if key not in combos:
                combos.append(key)
    steps_per_epoch = {}
    measure = tokenizer_ok and args.steps_per_epoch is None
    for data_key, mode, template in combos:
        if data_key in missing:
            continue
        data = args.mt_instructions if data_key == "mt" else args.instructions
        try:
            s = run_stats(args, data, mode, template, tokenizer=measure,
                          cache_writes=args.cache_writes, langs=args.joint)
        except UserError as e:
            checks.add("FAIL", str(e))
            continue
        spe = s["steps_per_epoch"] if measure else args.steps_per_epoch
        steps_per_epoch[(data_key, mode, template)] = spe
        cost = (f"{spe} steps/epoch at {args.batch_size} x {args.seq_length}" if spe
                else "steps/epoch unknown (no tokenizer)")
        line = (f"{os.path.basename(data)} ({mode}, template {template}"
                + (f", {_languages_said(args)}" if args.joint is not None else "")
                + f"): {s['records']} records" + (f", {s['skipped']} bad skipped" if s["skipped"] else ""))
        if args.joint is not None:
            covs = {code: s["languages"][code]["all"]["coverage"] for code in args.joint.codes}
            cov = min(covs.values())
            line += ("; the dictionaries cover " + ", ".join(f"{c} {100 * v:.1f}%" for c, v in covs.items())
                     + f" of the words; {cost}")
            if mode != "none" and cov == 0:
                line += f" ({', '.join(c for c, v in covs.items() if v == 0)})"
        else:
            cov = s["all"]["coverage"]
            line += f"; dictionary covers {100 * cov:.1f}% of the words; {cost}"
        if mode != "none" and cov == 0:
            checks.add("FAIL", line + ": nothing would be mixed (wrong dictionary direction or language?)")
        elif mode != "none" and cov < LOW_COVERAGE:
            checks.add("warn", line + f" (below {100 * LOW_COVERAGE:.0f}%: little would be mixed)")
        else:
            checks.add("ok", line)
    return steps_per_epoch


def _languages_said(args):
    codes = args.joint.codes
    if len(codes) == 1:
        return f"{codes[0]} alone"
    how = "each record in each" if args.language_sampling == "each" else "drawn by weight"
    return f"languages {', '.join(codes)} {how}"


def check_corpus(args: argparse.Namespace, checks: Checks) -> None:
    if not any(experiment.RUNS[r].align for r in args.runs):
        return
    if args.joint is None:
        check_one_corpus(args, checks, args.corpus, args.dictionary, "", "--corpus")
        return
    for language in args.joint.codemix_clm:
        check_one_corpus(args, checks, language.path, language.dictionary, f"{language.label}: ",
                         "path", reverse=language.reverse_dictionary, name=language.name)


def check_one_corpus(args: argparse.Namespace, checks: Checks, corpus: str, dictionary: str,
                     label: str, option: str, *, reverse: bool = True, name: str = "") -> None:
    """One alignment corpus: there, and how much of it the reversed dictionary covers (a
    local file not too large); ``label`` names the language, ``option`` where the corpus was
    given."""
    # A hub dataset is org/name (or a legacy bare name): what looks like a file is a file.
    if not os.path.exists(corpus) and (
            corpus.startswith(("/", "./", "../", "~")) or corpus.count("/") > 1
            or corpus.endswith(("/", ".json", ".jsonl", ".txt", ".parquet", ".csv"))):
        checks.add("FAIL", f"{label}{option} {corpus}: no such file")
        return
    if not os.path.exists(corpus):
        hub = corpus + (f" ({name})" if name else "")
        checks.add("warn", f"{label}corpus {hub} is a hub dataset: streamed at training time, "
                           "coverage not checked here (run easylm-commit stats on a local sample)")
        return
    if os.path.getsize(corpus) > CORPUS_CHECK_BYTES:
        checks.add("warn", f"{label}corpus {corpus} is large: coverage not checked here "
                           "(run easylm-commit stats --text-field on a sample)")
        return
    from easylm_commit import fileio

    if fileio.local_path(dictionary) is not None and not os.path.isfile(dictionary):
        return  # the dictionary's problem, said once by check_data
    try:
        s = run_stats(args, corpus, None, tokenizer=False, text_field=args.corpus_field,
                      cache_writes=args.cache_writes, dictionary=dictionary, reverse=reverse)
    except UserError as e:
        checks.add("FAIL", f"{label}{e}")
        return
    cov = s["all"]["coverage"]
    line = (f"{label}corpus {os.path.basename(corpus)}: {s['records']} records; the reversed "
            f"dictionary covers {100 * cov:.1f}% of the words")
    checks.add("FAIL" if cov == 0 else "ok", line + (": nothing would be mixed" if cov == 0 else ""))


def check_easylm(args: argparse.Namespace, checks: Checks, needs_train: bool) -> None:
    """``doctor``'s findings (EasyLM importable, versions, patch vs route), called here rather
    than run as a command whose printed lines would be parsed; and the JAX backend in a
    subprocess (a TPU is held by the process that first touches it, so this one must not)."""
    from easylm_commit.commands.doctor import KNOWN_WORKING, findings
    from easylm_commit.easylm_path import HOW_TO_GET

    if not args.easylm_dir:
        checks.add("FAIL", f"no EasyLM checkout: {HOW_TO_GET}")
        return
    versions = []
    for level, message in findings(args.easylm_dir, route=args.train_route):
        if level == "ok" and message.split(" ")[0] in KNOWN_WORKING:
            versions.append(message)  # one line for all the versions that are as expected
        else:
            checks.add(level, message)
    if versions:
        checks.add("ok", "versions known to work with EasyLM: " + ", ".join(versions))
    if not needs_train:
        return
    probe = subprocess.run([sys.executable, "-c", "import jax; d = jax.devices(); "
                            "print(jax.default_backend(), len(d), d[0].device_kind)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        checks.add("FAIL", f"JAX does not start: {(probe.stderr.strip().splitlines() or ['?'])[-1]}")
        return
    backend, count, kind = probe.stdout.split(maxsplit=2)
    line = f"JAX sees {count} {backend} device(s) ({kind.strip()})"
    if backend != "cpu":
        checks.add("ok", line)
    elif args.demo_model:
        checks.add("ok", line + ": enough for the demo's 2-layer model")
    else:
        checks.add("warn", line + "; training a LLaMA-size model on CPU is not feasible: install "
                   "jax[tpu] or jax[cuda12] 0.4.28 (README, 'Your first real run')")


def check_eval(args: argparse.Namespace, checks: Checks, needs_eval: bool) -> None:
    if not needs_eval:
        return
    if importlib.util.find_spec("lm_eval") is None:
        checks.add("FAIL", "lm-eval is not installed: pip install 'easylm-commit[eval]'")
        return
    if args.qa_data:
        from easylm_commit.eval.harness import check_local_data

        try:
            check_local_data(args.qa_data, args.tasks)
        except UserError as e:
            checks.add("FAIL", str(e))
            return
        checks.add("ok", f"test sets for {', '.join(args.tasks)} in {args.qa_data}")
    else:
        checks.add("warn", "no --qa-data: the test sets are downloaded from the hub at "
                           "evaluation time (needs network there)")
    if args.eval_device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            checks.add("FAIL", "--eval-device cuda but torch sees no GPU here: evaluate on a GPU "
                               "host (stop this one with --until to_hf), or --eval-device cpu")


def check_disk(args: argparse.Namespace, config: dict | None, runner: Runner,
               checks: Checks) -> None:
    if config is None:
        return
    pending = runner.pending()
    need = experiment.disk_bytes(pending, config, args)
    where = args.out
    while not os.path.exists(where):
        where = os.path.dirname(where)
    free = shutil.disk_usage(where).free
    if need > free:
        checks.add("FAIL", f"disk: the {len(pending)} step(s) to run write about {_size(need)}, "
                           f"{where} has {_size(free)} free")
    else:
        checks.add("ok", f"disk: about {_size(need)} to write, {_size(free)} free in {where}")


def _size(n):
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


# -- the command -------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    """Check everything the runs need, then run the steps not done yet (``--dry-run``: list
    them); 0 on success, 1 when a check or a step failed.

    Args:
        args: the parsed command line (``resolve`` fills in what it leaves out).
    """
    from easylm_commit.resumable import Runner, StepFailed, log_tail

    resolve(args)
    args.cache_writes = []
    say = (lambda *a: None) if args.quiet else print
    checks = Checks(echo=lambda line: print(line) if not args.quiet or not line.startswith("  ok") else None)
    if args.joint is None:
        say(f"easylm-commit plan: target {args.target}, runs {', '.join(args.runs)} -> {args.out}")
    else:
        say(f"easylm-commit plan: languages {', '.join(args.joint.codes)} in one joint model"
            + (", and each language's own model (--separate)" if args.separate else "")
            + f", runs {', '.join(args.runs)} -> {args.out}")
    if args.demo_model:
        say(f"demo sizes in force (a check of every step in minutes on a CPU, not the paper's "
            f"sizes; a flag given wins): alignment {args.align_steps} steps, tuning "
            f"{args.epochs} epoch(s), batches of {args.batch_size} x {args.seq_length}, lr "
            f"{args.lr}, evaluation of {args.eval_limit} question(s) a task on {args.eval_device}")
        prepare_demo_model(args.demo_model, say)
    say("checks:")
    config = check_model(args, checks)
    tokenizer_ok = check_tokenizer(args, config, checks)
    steps_per_epoch = check_data(args, tokenizer_ok, checks)
    check_corpus(args, checks)
    own = {code: separate_args(args, code) for code in args.joint.codes} if args.separate else {}
    for code, own_args in own.items():  # each language's own epoch (its dictionary lines are said)
        own_args.steps_per_epoch_measured = check_data(own_args, tokenizer_ok, checks)

    steps = build_all_steps(args, config or _placeholder_config(), steps_per_epoch, own)
    steps = experiment.until(steps, args.until)
    runner = Runner(steps, args.out, echo=print)
    pending = runner.pending()
    phases = {s.phase for s in pending}
    check_easylm(args, checks, needs_train=bool(phases & {"align", "train"}))
    check_eval(args, checks, needs_eval="eval" in phases)
    check_disk(args, config, runner, checks)

    if args.dry_run:
        print(f"steps ({len(steps)}; 'python' is {sys.executable}; run them with the same "
              "command without --dry-run):")
        for i, step in enumerate(steps, 1):
            state = "done" if step not in pending else "to do"
            print(f"[{i}/{len(steps)}] {step.name} ({state}): {step.title}")
            print(f"    {step.display()}")
    if checks.failed:
        print(f"easylm-commit plan: {len(checks.failed)} check(s) failed; nothing was run",
              file=sys.stderr)
        return 1
    if args.dry_run:
        return 0
    write_stats_cache(args.cache_writes)
    for plan_args in ([args] if args.joint is not None else []) + list(own.values()):
        write_language_files(plan_args)
    try:
        runner.run()
    except StepFailed as e:
        print(log_tail(e.log), file=sys.stderr)
        print(f"easylm-commit plan: {e}; log {e.log}. Fix it and run the same command again: "
              "finished steps are kept", file=sys.stderr)
        return 1
    losses = [(s.name, _losses(runner.log_path(s))) for s in steps if s.phase in ("align", "train")]
    if any(values for _, values in losses):
        say("training losses (EasyLM's, one batch every --log-freq steps), first -> last:")
        for name, values in losses:
            if values:
                say(f"  {name}: {values[0]:.2f} -> {values[-1]:.2f} ({len(values)} logged)")
    if "report" in {s.phase for s in steps}:
        report = os.path.join(args.out, "report")
        say(f"done: tables in {report} ({', '.join(sorted(os.listdir(report)))}); "
            f"logs in {runner.log_dir}")
    else:
        say(f"done up to phase {args.until}; run again without --until (or with a later one) "
            "to continue")
    return 0


def build_all_steps(args: argparse.Namespace, config: dict, steps_per_epoch: dict,
                    own: dict[str, argparse.Namespace]) -> list[Step]:
    """The run's steps: the one model's (or the joint model's), then with ``--separate``
    each language's own model's (``<lang>.``-named steps, sharing the converted base model),
    and the joint report last, with each language's results beside the joint model's."""
    if not own:
        return experiment.build_steps(args, config, steps_per_epoch, easylm_dir=args.easylm_dir)
    base = os.path.join(args.out, "base", "streaming_params")
    compare, separate = [], []
    for code, own_args in own.items():
        prefix = f"{code}."
        separate += experiment.build_steps(own_args, config, own_args.steps_per_epoch_measured,
                                           easylm_dir=args.easylm_dir, prefix=prefix, base=base)
        compare += [(experiment.RUNS[r].label,
                     os.path.join(own_args.out, "results", f"{experiment.slug(r)}.json"),
                     f"{prefix}eval_{experiment.slug(r)}") for r in own_args.runs]
    joint = experiment.build_steps(args, config, steps_per_epoch, easylm_dir=args.easylm_dir,
                                   compare=compare)
    return joint[:-1] + separate + joint[-1:]


def write_language_files(args: argparse.Namespace) -> None:
    """The lists the steps of a run with ``--languages`` read (``experiment.language_files``),
    each rewritten only when its contents change: a step's inputs are compared by size and
    time, so an unchanged list keeps the finished steps finished."""
    from easylm_commit.atomic import atomic_output

    for dataset_type, path in experiment.language_files(args.out).items():
        text = json.dumps(args.joint.entries(dataset_type), ensure_ascii=False, indent=1) + "\n"
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except OSError:
            pass
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_output(path) as f:
            f.write(text)


# EasyLM prints each logged step's metrics as a dict of arrays: "'loss': array(6.92, dtype=float32)".
LOSS = re.compile(r"'loss': array\(([-+.\w]+)")


def _losses(log: str) -> list[float]:
    """The losses a training step's log holds, in order ([] if none or no log)."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            return [float(v) for v in LOSS.findall(f.read())]
    except (OSError, ValueError):
        return []


def prepare_demo_model(path: str, say: Callable[..., object]) -> None:
    """Build --demo's stand-in model in ``path`` unless an earlier run did. It takes seconds
    (the imports, mostly), so a dry run builds it as well: the checks then measure the steps
    of an epoch with its tokenizer, and the real run reuses it, so the commands a dry run
    prints are the ones that run."""
    import time

    from easylm_commit.demo import model

    if os.path.isdir(path):
        say(f"demo model: {path} (built by an earlier run)")
        return
    say(f"demo model: building {model.DESCRIPTION} in {path} ...")
    start = time.time()
    model.build(path)
    say(f"demo model: built in {time.time() - start:.0f} s")


def _placeholder_config():
    """Stands in for an unreadable config.json so that --dry-run still lists every command."""
    return {k: f"<{k} from config.json>" for k in experiment.LLAMA_FIELDS}
