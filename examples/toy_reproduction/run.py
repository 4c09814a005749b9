"""The toy COMMIT reproduction, end to end, in one command.

    EASYLM_DIR=/path/to/EasyLM python examples/toy_reproduction/run.py --out DIR [--quick]

1. writes the synthetic world (``world.py``) and its tokenizer under ``DIR/world``;
2. pretrains a tiny LLaMA from scratch on the English-centric corpus with EasyLM's own
   ``llama_train`` (``--train_dataset.type=json``), once, shared by every condition and seed;
3. for each seed, tunes it with ``python -m easylm_commit.llama_train`` (EasyLM's loop with
   this package's dataset types), all with the same steps and learning rates:
   ``none`` (plain Alpaca), ``naive`` (template mixed too), ``commit`` (into xx),
   ``commit-yy`` (into the second target language), ``joint-commit`` (one model, each record
   mixed into xx or yy: the ``languages`` list), ``align+commit`` (a ``codemix_clm``
   alignment phase on the xx corpus, then COMMIT) and ``align0+commit`` (Table 3's control:
   the same alignment with alpha 0); ``pretrained`` is the pretrained model alone. The runs
   of different chains go ``--jobs`` at a time;
4. evaluates every model on closed-book questions about held-out people, in each target
   language under its own template (``xx``, ``yy``: the paper's main prompt) and under the
   English one (``xx+en``, ``yy+en``), and in English (``en``, the control) (greedy until a
   newline, EM/F1 from ``easylm_commit.eval.metrics``),
   and writes ``results.json``, ``results.md`` and ``em.png`` (``report.py``). The first line
   printed, and of ``results.md``, is the precondition: the English control at >= 60% EM for
   every tuned condition, without which the target-language table is not a result.

Seeds vary what tuning sees: the instruction set (sampled anew per seed), its order and the
code-mixing draws; the world, the pretrained model and the evaluation sets are shared, so
the spread is that of instruction tuning, not of pretraining. Finished runs are reused when
the command is repeated with the same ``--out`` (delete a run's folder to redo it).
"""

import argparse
import concurrent.futures
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# XLA's CPU backend in jaxlib 0.4.28 rewrites EasyLM's attention (a matmul plus a constant
# causal bias) into a oneDNN call that is ~50x slower than the plain ops on small shapes;
# without this pass the toy trains in minutes instead of hours. Set before JAX is imported,
# and inherited by every EasyLM subprocess.
_XLA_FIX = "--xla_disable_hlo_passes=onednn-matmul-rewriter"
if _XLA_FIX not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _XLA_FIX).strip()


# Model and schedule. Every tuned condition uses the same TUNE steps and learning rate;
# align+commit adds the ALIGN phase before its TUNE steps, as in the paper.
SETTINGS = {
    "full": dict(
        seeds=3,
        model=dict(hidden_size=128, intermediate_size=384, num_hidden_layers=4,
                   num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256),
        seq_length=256,
        pretrain=dict(steps=1000, batch_size=8, lr=3e-3, warmup=50, end_lr=3e-4),
        align=dict(steps=60, batch_size=8, lr=1e-3, warmup=6, end_lr=1e-4),
        # Tuning takes many small steps: at this size the route from the Alpaca prompt to
        # the pretrained facts appeared after a number of updates that varied by seed (at
        # 120 steps of 8 some seeds never found it), and batches of 4 buy 300 updates for
        # the tokens of 150 batches of 8 (README, "How the setup was chosen").
        tune=dict(steps=300, batch_size=4, lr=1e-3, warmup=30, end_lr=1e-4),
    ),
    "quick": dict(
        seeds=1,
        model=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                   num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256),
        seq_length=256,
        pretrain=dict(steps=40, batch_size=4, lr=3e-3, warmup=5, end_lr=3e-4),
        align=dict(steps=8, batch_size=4, lr=1e-3, warmup=2, end_lr=1e-4),
        tune=dict(steps=12, batch_size=4, lr=1e-3, warmup=2, end_lr=1e-4),
    ),
}


class RunError(Exception):
    pass


def easylm_env():
    """The environment for EasyLM subprocesses; EasyLM comes from ``EASYLM_DIR``."""
    from easylm_commit.easylm_path import checkout_dir

    d = checkout_dir()  # a one-line UserError when unset or wrong
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (d, env.get("PYTHONPATH", "")) if p)
    env.setdefault("WANDB_MODE", "disabled")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("HF_DATASETS_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("JAX_PLATFORMS", "cpu")
    return env


def train(name, module, flags, out, settings, phase, vocab_size, tokenizer, load=None):
    """One EasyLM training run into ``out/runs/name``; returns (checkpoint dir, log info), the
    info's ``reused`` true when a finished run of the same command was taken instead."""
    run_dir = os.path.join(out, "runs", name)
    done = os.path.join(run_dir, "done.json")
    s, m = settings[phase], settings["model"]
    cmd = [
        sys.executable, "-m", module,
        "--llama.base_model=debug", f"--llama.vocab_size={vocab_size}",
        *(f"--llama.{k}={v}" for k, v in m.items()),
        # '' turns off EasyLM's gradient checkpointing: memory is no issue at this size.
        "--llama.remat_policy=",
        f"--tokenizer={tokenizer}", "--dtype=fp32", "--param_dtype=fp32",
        f"--total_steps={s['steps']}", f"--log_freq={max(1, s['steps'] // 10)}",
        "--optimizer.type=adamw",
        f"--optimizer.adamw_optimizer.lr={s['lr']}",
        f"--optimizer.adamw_optimizer.end_lr={s['end_lr']}",
        f"--optimizer.adamw_optimizer.lr_warmup_steps={s['warmup']}",
        f"--optimizer.adamw_optimizer.lr_decay_steps={s['steps']}",
        "--optimizer.adamw_optimizer.weight_decay=0.01",
        "--logger.online=False", f"--logger.output_dir={os.path.join(out, 'runs')}",
        f"--logger.experiment_id={name}",
        # Save once, at the end (EasyLM also saves at step 0 when save_model_freq > 0).
        f"--save_model_freq={10 ** 9}",
        "--checkpointer.save_optimizer_state=False", "--checkpointer.float_dtype=fp32",
        *flags,
    ]
    if load:
        cmd.append(f"--load_checkpoint=params::{os.path.join(load, 'streaming_params')}")
    # A finished run is reused only if it was made by the very same command.
    if os.path.exists(done):
        with open(done) as fin:
            info = json.load(fin)
        if info.get("command") == cmd[1:]:
            return run_dir, dict(info, reused=True)
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    log_path = os.path.join(out, "logs", f"{name}.log")
    start = time.time()
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=easylm_env())
    seconds = time.time() - start
    with open(log_path, errors="replace") as fin:
        text = fin.read()
    if proc.returncode != 0 or not os.path.exists(os.path.join(run_dir, "streaming_params")):
        tail = "\n".join(text.replace("\r", "\n").splitlines()[-15:])
        raise RunError(f"training run {name} failed (exit {proc.returncode}), log {log_path}:\n{tail}")
    losses = [float(x) for x in re.findall(r"'loss': array\(([-0-9.e]+)", text)]
    info = dict(seconds=round(seconds, 1), steps=s["steps"], first_loss=losses[0] if losses else None,
                last_loss=losses[-1] if losses else None, command=cmd[1:])
    with open(done, "w") as fout:
        json.dump(info, fout)
    return run_dir, dict(info, reused=False)


def commit_flags(path, dictionary, mode, seed, settings, languages=None):
    """A tuning run's dataset flags: one target language (``dictionary``) or several (a
    ``languages`` list file, each record mixed into one language drawn by weight)."""
    mixing = ([f"--train_dataset.commit.languages={languages}"] if languages
              else [f"--train_dataset.commit.dictionary={dictionary}"])
    return [
        "--train_dataset.type=commit",
        f"--train_dataset.commit.path={path}",
        *mixing,
        f"--train_dataset.commit.mode={mode}",
        "--train_dataset.commit.alpha=0.9",
        "--train_dataset.commit.shuffle=True",
        f"--train_dataset.commit.seed={seed}",
        f"--train_dataset.commit.seq_length={settings['seq_length']}",
        f"--train_dataset.commit.batch_size={settings['tune']['batch_size']}",
        f"--seed={seed}",
    ]


def align_flags(path, dictionary, seed, settings, alpha=0.5):
    return [
        "--train_dataset.type=codemix_clm",
        f"--train_dataset.codemix_clm.path={path}",
        "--train_dataset.codemix_clm.text_field=text",
        f"--train_dataset.codemix_clm.dictionary={dictionary}",
        "--train_dataset.codemix_clm.reverse_dictionary=True",
        f"--train_dataset.codemix_clm.alpha={alpha}",
        "--train_dataset.codemix_clm.shuffle=True",
        f"--train_dataset.codemix_clm.seed={seed}",
        f"--train_dataset.codemix_clm.seq_length={settings['seq_length']}",
        f"--train_dataset.codemix_clm.batch_size={settings['align']['batch_size']}",
        f"--seed={seed}",
    ]


def write_instructions(world_out, world_seed, seed, count):
    """A fresh English instruction set per seed (same distribution, other samples)."""
    import world

    path = os.path.join(world_out, f"alpaca_seed{seed}.json")
    if not os.path.exists(path):
        rng = random.Random(f"instructions-{seed}")
        kb = world.Knowledge(world_seed)
        records = [kb.instruction_record(rng) for _ in range(count)]
        world.write_json(path, records)
    return path


def write_languages(world_out):
    """The joint model's ``languages`` list: every target language at weight 1, its own
    dictionary (names relative to the list's folder), the dataset's alpha and mode."""
    import world

    path = os.path.join(world_out, "languages.json")
    if not os.path.exists(path):
        world.write_json(path, [dict(lang=lang, dictionary=f"dict.en-{lang}.txt") for lang in world.TARGETS])
    return path


# --- Provenance ----------------------------------------------------------------------------------


def code_commit():
    """The git commit of the code that ran, with ``+dirty`` when the toy or the package had
    uncommitted changes (then the commit alone does not reproduce the run)."""
    def git(*cmd):
        return subprocess.run(["git", "-C", HERE, *cmd], capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", os.path.join(HERE, "world.py"), os.path.join(HERE, "run.py"),
                os.path.join(HERE, "evaluate.py"), os.path.join(os.path.dirname(os.path.dirname(HERE)), "easylm_commit"))
    return head + ("+dirty" if dirty else "")


def machine():
    """(long, short) description of the machine: CPU model and cores, software versions."""
    import platform

    import jax

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fin:
            cpu = next(l.split(":", 1)[1].strip() for l in fin if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = os.cpu_count()
    from easylm_commit.easylm_path import checkout_dir
    from easylm_commit.errors import UserError

    easylm = "EasyLM (version unknown)"
    try:
        with open(os.path.join(checkout_dir(), "SOURCE")) as fin:
            easylm = fin.read().split(" (")[0].strip()
    except (OSError, ValueError, UserError):  # a SOURCE file is optional
        pass
    short = f"{cores} {cpu} CPU cores"
    return (f"{short}, {platform.system()} {platform.machine()}, Python {platform.python_version()}, "
            f"jax {jax.__version__} (CPU), {easylm}"), short


def sanitise(value, out):
    """Commands as a reader can rerun them: no path of this machine (OUT is ``--out``)."""
    if isinstance(value, str):
        return value.replace(out, "OUT").replace(sys.executable, "python")
    if isinstance(value, list):
        return [sanitise(v, out) for v in value]
    if isinstance(value, dict):
        return {k: sanitise(v, out) for k, v in value.items()}
    return value


# --- The experiment --------------------------------------------------------------------------


def run(args, argv):
    easylm_env()  # fail early, in one line, without EASYLM_DIR
    # The code as it is when the run starts: an edit made while a 40-minute run goes on must
    # not be credited to it (nor mark it dirty).
    commit = code_commit()
    import report
    import world
    from evaluate import evaluate, load_checkpoint

    size = "quick" if args.quick else "full"
    settings = json.loads(json.dumps(SETTINGS[size]))
    if args.seeds:
        settings["seeds"] = args.seeds
    for phase in ("pretrain", "align", "tune"):
        steps = getattr(args, f"{phase}_steps")
        if steps:
            # Warm-up keeps its share of the schedule.
            s = settings[phase]
            s["warmup"] = max(1, round(s["warmup"] * steps / s["steps"]))
            s["steps"] = steps
    seeds = list(range(args.first_seed, args.first_seed + settings["seeds"]))
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    started = time.time()
    # Progress goes to stderr: stdout is the report, and its first line is the precondition.
    log = (lambda *a: None) if args.quiet else (lambda *a: print("[toy]", *a, file=sys.stderr, flush=True))

    world_out = os.path.join(out, "world")
    manifest = os.path.join(world_out, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as fin:
            generated = json.load(fin)
        if (generated.get("world_seed", 0) != args.world_seed or generated.get("size") != size
                or generated.get("targets") != list(world.TARGETS)):
            raise RunError(f"{out} holds a world made with other settings; use another --out")
    else:
        log(f"writing the synthetic world ({size}, seed {args.world_seed}) to {world_out}")
        generated = world.generate(world_out, seed=args.world_seed, size=size)
        generated.update(world_seed=args.world_seed, size=size, targets=list(world.TARGETS))
        report.write_atomic(manifest, json.dumps(generated, indent=1))
    paths = generated["paths"]
    from transformers import AutoTokenizer

    vocab_size = len(AutoTokenizer.from_pretrained(paths["tokenizer"]))
    eval_sets = {}
    for key in world.EVAL_SETS:
        with open(paths[f"eval_{key}"], encoding="utf-8") as fin:
            eval_sets[key] = json.load(fin)

    common = dict(out=out, settings=settings, vocab_size=vocab_size, tokenizer=paths["tokenizer"])
    timings = {}

    log("pretraining (EasyLM's own llama_train, json dataset)")
    pretrained, info = train(
        "pretrain", "EasyLM.models.llama.llama_train",
        ["--train_dataset.type=json", f"--train_dataset.json_dataset.path={paths['corpus']}",
         "--train_dataset.text_processor.fields=text",
         f"--train_dataset.json_dataset.seq_length={settings['seq_length']}",
         f"--train_dataset.json_dataset.batch_size={settings['pretrain']['batch_size']}",
         f"--seed={args.world_seed}"],
        phase="pretrain", **common,
    )
    timings["pretrain"] = info
    log(f"  pretrain: loss {info['first_loss']} -> {info['last_loss']} in {info['seconds']} s")

    results_path = os.path.join(out, "results.json")
    runs = []
    cached = {}
    if os.path.exists(results_path):
        with open(results_path) as fin:
            for r in json.load(fin)["runs"]:
                cached[(r["condition"], r["seed"])] = r

    def score(condition, seed, checkpoint, info):
        # Scores are reused only for the very checkpoint they were computed on.
        made_by = sanitise(" ".join(info["command"]), out)
        old = cached.get((condition, seed))
        if old is not None and old.get("made_by") == made_by:
            runs.append(old)
            return
        start = time.time()
        model = load_checkpoint(checkpoint)
        row = dict(condition=condition, seed=seed, checkpoint=os.path.relpath(checkpoint, out),
                   made_by=made_by)
        for key, items in eval_sets.items():
            # Scored as its question language (the metric's normalisation), asked under its
            # template: xx (target-language template), xx+en (English template), ...
            r = evaluate(model, paths["tokenizer"], items, world.EVAL_SETS[key][0],
                         template=world.eval_template(paths, key))
            row[key] = dict(exact_match=r["exact_match"], f1=r["f1"], n=r["n"])
            # Per-item exact match, in evaluation order: the paired comparisons use it.
            row[f"{key}_em_items"] = "".join(str(int(p["exact_match"])) for p in r["predictions"])
            row[f"{key}_predictions"] = [
                dict(id=p["id"], prediction=p["prediction"], answers=p["answers"])
                for p in r["predictions"][:20]
            ]
        row["eval_seconds"] = round(time.time() - start, 1)
        log(f"  {condition} seed {seed}: EM " + " | ".join(
            f"{key} {row[key]['exact_match']:.1f}" for key in eval_sets))
        runs.append(row)
        report.write_atomic(results_path, json.dumps(dict(runs=runs), indent=1, ensure_ascii=False))

    launcher = "easylm_commit.llama_train"

    def tune(name, alpaca, mode, seed, load, lang="xx"):
        # lang: the target language the records are mixed into, or "joint" for every one
        # (the ``languages`` list, each record drawn into one language by weight).
        log(f"tuning {name}")
        flags = (commit_flags(alpaca, None, mode, seed, settings, languages=languages) if lang == "joint"
                 else commit_flags(alpaca, paths[f"dictionary_{lang}"], mode, seed, settings))
        ckpt, info = train(name, launcher, flags, phase="tune", load=load, **common)
        timings[name] = info
        log(f"  {name}: loss {info['first_loss']} -> {info['last_loss']} in {info['seconds']} s")
        return ckpt

    def aligned_then_commit(align, alpha, alpaca, seed):
        # Alignment (codemix_clm on the target-language corpus, xx words replaced by their
        # English entries with alpha 0.5), then COMMIT; and the Table 3 control: the same
        # alignment steps without mixing (alpha 0: plain target-language CLM), then COMMIT.
        log(f"aligning {align}-seed{seed} (alpha {alpha})")
        aligned, info = train(f"{align}-seed{seed}", launcher,
                              align_flags(paths["xx_corpus"], paths["dictionary_xx"], seed, settings, alpha),
                              phase="align", load=pretrained, **common)
        timings[f"{align}-seed{seed}"] = info
        return tune(f"{align}+commit-seed{seed}", alpaca, "commit", seed, aligned)

    # Every chain of training runs below depends only on the pretrained model, so they run
    # ``--jobs`` at a time: a llama_train of this size keeps about one CPU core busy, and
    # each run is seeded and deterministic whatever runs beside it.
    languages = write_languages(world_out)
    chains = {}
    for seed in seeds:
        alpaca = write_instructions(world_out, args.world_seed, seed, generated["sizes"]["instructions"])
        for mode in ("none", "naive", "commit"):
            chains[(mode, seed)] = (tune, (f"{mode}-seed{seed}", alpaca, mode, seed, pretrained))
        # yy's own COMMIT model, and the joint one: COMMIT on both languages at once, with the
        # same steps and instructions (each record mixed into xx or yy, half each).
        chains[("commit-yy", seed)] = (tune, (f"commit-yy-seed{seed}", alpaca, "commit", seed, pretrained, "yy"))
        chains[("joint-commit", seed)] = (tune, (f"joint-commit-seed{seed}", alpaca, "commit", seed, pretrained,
                                                 "joint"))
        for align, alpha in (("align", 0.5), ("align0", 0.0)):
            chains[(f"{align}+commit", seed)] = (aligned_then_commit, (align, alpha, alpaca, seed))
    checkpoints = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {key: pool.submit(fn, *fn_args) for key, (fn, fn_args) in chains.items()}
        for key, future in futures.items():
            checkpoints[key] = future.result()  # the first failure stops the run, in one line

    log("evaluating")
    for seed in seeds:
        # The pretrained model does not depend on the seed; it is scored once per seed (the
        # same scores each time), and the report shows it as the one checkpoint it is.
        score("pretrained", seed, pretrained, timings["pretrain"])
        for condition in report.TUNED:
            name = f"{condition}-seed{seed}"
            score(condition, seed, checkpoints[(condition, seed)], timings[name])

    wall = time.time() - started
    runs.sort(key=lambda r: (report.CONDITIONS.index(r["condition"]), r["seed"]))
    long_machine, short_machine = machine()
    results = dict(
        precondition=report.precondition(runs),
        provenance=dict(
            command=" ".join(["python", "examples/toy_reproduction/run.py", *sanitise(argv, out)]),
            code_commit=commit, machine=long_machine, machine_short=short_machine,
            training_runs=len(timings),
            trained_here=sum(not info["reused"] for info in timings.values()),
        ),
        setting=size, world_seed=args.world_seed, seeds=seeds, settings=settings,
        world=dict(sizes=generated["sizes"], target_paragraphs=generated["target_paragraphs"],
                   shape=generated.get("shape")),
        wall_seconds=round(wall, 1),
        training=sanitise(timings, out),
        summary=report.summarise(runs),
        paired=report.paired(runs),
        runs=runs,
    )
    report.write_atomic(results_path, json.dumps(results, indent=1, ensure_ascii=False))
    md = report.results_markdown(results)
    report.write_atomic(os.path.join(out, "results.md"), md)
    report.plot(results["summary"], os.path.join(out, "em.png"))
    if args.publish:
        shutil.copyfile(results_path, os.path.join(HERE, "results.json"))
        report.write_all(os.path.join(HERE, "results.json"))
        log("published results.json, results.md, em.png and the README tables next to run.py")
    log(f"done in {wall / 60:.1f} min; table in {os.path.join(out, 'results.md')}")
    print(results["precondition"]["line"], flush=True)
    if not args.quiet:
        print(md.split("\n", 1)[1])
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (world, runs, results)")
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized smoke run: a few minutes on 2 CPU cores, 1 seed")
    parser.add_argument("--seeds", type=int, default=0, help="number of tuning seeds (default: 3, quick: 1)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="first tuning seed (the setup was chosen on seeds 100-112, which the "
                             "committed run does not use)")
    parser.add_argument("--world-seed", type=int, default=0,
                        help="seed of the world and of pretraining (default 0, the committed run's)")
    for phase in ("pretrain", "align", "tune"):
        parser.add_argument(f"--{phase}-steps", type=int, default=0,
                            help=f"override the {phase} steps of the setting")
    parser.add_argument("--jobs", type=int, default=2,
                        help="EasyLM training runs at a time (default 2: one llama_train of this size "
                             "keeps about one CPU core busy)")
    parser.add_argument("--publish", action="store_true",
                        help="copy results.json next to run.py and regenerate results.md, em.png and "
                             "the README tables from it (report.py)")
    parser.add_argument("--quiet", action="store_true", help="no progress log, no table (first line only)")
    args = parser.parse_args(argv)
    from easylm_commit.errors import UserError

    try:
        return run(args, argv)
    except (UserError, RunError) as e:
        print(f"run.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
