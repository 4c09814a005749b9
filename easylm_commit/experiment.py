"""The paper's experiment for one target language, as a list of resumable steps.

    HF LLaMA --convert_hf_to_easylm--> EasyLM checkpoint
      [--codemix_clm (alpha 0.5, or 0 for plain CLM)--> aligned checkpoint]
      --commit / none / naive / MT tuning--> tuned checkpoints
      --convert_easylm_to_hf--> HF models --easylm-commit eval--> results --report--> tables

The settings are the paper's (and ``examples/align.sh`` / ``commit.sh``'s): lr 2e-5 decaying
to 0, no weight decay, batch 16 x 512; alignment 10K steps with 300 warmup steps; COMMIT 3
epochs with 3% warmup, the steps of an epoch measured on the user's data with the user's
tokenizer (``easylm-commit stats``), since EasyLM counts steps and code-mixed text tokenizes
longer than English.

The EasyLM model configuration is read from the Hugging Face ``config.json`` and passed as
explicit ``--llama.*`` flags, not taken from a preset name: LLaMA-2's ``rms_norm_eps`` and
context length differ from EasyLM's ``llama_7b`` preset, and a preset that disagrees with
the weights converts without complaint and trains a different model.

Several target languages (``plan --languages``, ``easylm_commit.joint``) make one joint model:
the same steps, with the alignment and the tuning reading the language lists
(``--train_dataset.<type>.languages``) instead of one dictionary and corpus, and each language's
test sets evaluated. With ``--separate`` each language also gets its own model, built by the same
steps from its one-entry lists under ``separate/<lang>/`` (``build_steps(prefix=..., base=...)``:
the base checkpoint is converted once), and the report sets the joint model's scores beside them.

``build_steps`` only builds commands (``resumable.Step``); nothing here runs them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence

from easylm_commit import options
from easylm_commit.errors import UserError
from easylm_commit.resumable import Step

# Phases in the order they run; ``--until PHASE`` stops after one (e.g. train on a TPU host,
# evaluate on a GPU host).
PHASES = ("convert", "align", "train", "to_hf", "eval", "report")


@dataclasses.dataclass(frozen=True)
class Run:
    label: str            # the row name in the report, as the paper names it
    mode: str = None      # commit dataset mode; None: no tuning (the base model)
    align: str = None     # alignment before tuning: key of ALIGNMENTS
    data: str = "instructions"  # "instructions" or "mt" (the translated Alpaca)
    target_template: bool = False  # prompt template in the target language (MT row)
    about: str = ""


# The rows of Tables 2-6 a user can ask for.
RUNS = {
    "llama": Run("LLaMA", about="the base model as is (no tuning)"),
    "none": Run("Alpaca", mode="none", about="plain Alpaca tuning, nothing mixed"),
    "naive": Run("naive", mode="naive", about="code-mixed with the template mixed too (Table 4)"),
    "commit": Run("COMMIT", mode="commit", about="COMMIT: code-mixed, English template kept"),
    "align+commit": Run("Align+COMMIT", mode="commit", align="align",
                        about=f"code-mixed alignment (alpha {options.default('alpha', options.CODEMIX_CLM)}), "
                              "then COMMIT"),
    "clm+commit": Run("CLM+COMMIT", mode="commit", align="clm",
                      about="plain causal LM on the corpus (alpha 0), then COMMIT (Table 3)"),
    "mt": Run("MT", mode="none", data="mt", target_template=True,
              about="machine-translated Alpaca, target-language template (Tables 5-6)"),
}
DEFAULT_RUNS = ("none", "commit", "align+commit")
# Alignment phases: alpha (the paper's, codemix_clm's default; 0 is plain causal LM), and the
# step's name (its run folder is runs/<key>).
ALIGNMENTS = {"align": (options.default("alpha", options.CODEMIX_CLM), "align"), "clm": (0.0, "align_clm")}

# HF LlamaConfig field -> EasyLM LLaMAConfigurator field (the same names), with defaults for
# configs that predate a field (LLaMA-1 has no num_key_value_heads nor rope_theta).
LLAMA_FIELDS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                "rms_norm_eps", "rope_theta")


def slug(run: str) -> str:
    """A run's folder name: ``align+commit`` -> ``align_commit``."""
    return run.replace("+", "_")


def read_hf_config(model_dir: str) -> dict:
    """A LLaMA model's ``config.json``, with the fields older configs lack filled in.

    Args:
        model_dir: a Hugging Face model folder.

    Raises:
        UserError: no config.json, not JSON, not a LLaMA model, or a field missing.
    """
    path = os.path.join(model_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        raise UserError(f"{model_dir}: not a Hugging Face model folder (no config.json)") from None
    except ValueError as e:
        raise UserError(f"{path}: not JSON ({e})") from None
    if config.get("model_type") != "llama":
        raise UserError(f"{path}: model_type is {config.get('model_type')!r}, not 'llama' "
                        "(EasyLM's converters handle LLaMA only)")
    config.setdefault("num_key_value_heads", config.get("num_attention_heads"))
    config.setdefault("rope_theta", 10000.0)
    missing = [k for k in LLAMA_FIELDS if config.get(k) is None]
    if missing:
        raise UserError(f"{path}: missing {', '.join(missing)}")
    return config


def llama_flags(config: dict, base_model: str = "llama_7b") -> list[str]:
    """EasyLM ``--llama.*`` flags reproducing the HF model's configuration exactly.

    Args:
        config: the model's configuration (``read_hf_config``).
        base_model: the EasyLM preset the flags override.
    """
    return [f"--llama.base_model={base_model}"] + [
        f"--llama.{k}={config[k]}" for k in LLAMA_FIELDS]


def param_count(config: dict) -> int:
    """Parameters of the LLaMA model ``config`` (``read_hf_config``) describes."""
    h, v = config["hidden_size"], config["vocab_size"]
    kv = h * config["num_key_value_heads"] // config["num_attention_heads"]
    layer = 2 * h * h + 2 * h * kv + 3 * h * config["intermediate_size"] + 2 * h
    return 2 * v * h + config["num_hidden_layers"] * layer + h


def default_tasks(target: str) -> list[str]:
    """The target language's test sets, with the target-language and the English prompt."""
    from easylm_commit.eval import DATASETS

    sets = [d for d in DATASETS if d.rsplit("_", 1)[1] == target]
    return [f"commit_{d}{suffix}" for suffix in ("", "_en") for d in sets]


def tasks_of(tasks: Sequence[str], lang: str) -> list[str]:
    """The tasks of ``tasks`` whose test set is in language ``lang`` (``commit_xquad_el_en`` is el)."""
    from easylm_commit.eval import task_set

    return [t for t in tasks if task_set(t).split("_")[1] == lang]


def segmenter(args: argparse.Namespace) -> str:
    """The word segmenter of the run: ``thai`` (pythainlp required) when a target is Thai.

    Args:
        args: ``plan``'s resolved command line (``target``, or ``joint``'s languages).
    """
    joint = getattr(args, "joint", None)
    codes = joint.codes if joint is not None else [args.target]
    return "thai" if "th" in codes else "default"


def language_files(out: str) -> dict[str, str]:
    """Where a joint run's language lists are written, per dataset type: ``OUT/languages/<type>.json``."""
    return {t: os.path.join(out, "languages", f"{t}.json") for t in (options.COMMIT, options.CODEMIX_CLM)}


def _dtype_bytes(dtype):
    return 4 if dtype in ("fp32", "float32") else 2


def disk_bytes(steps: Sequence[Step], config: dict, args: argparse.Namespace) -> int:
    """Disk the outputs of ``steps`` take: an EasyLM checkpoint in ``--checkpoint-dtype`` per
    conversion or training run, fp16 weights per HF model, plus one more fp16 copy while
    EasyLM's converter runs (it writes shards to a temporary folder, then the model).

    Args:
        steps: the steps to run (``build_steps``).
        config: the model's configuration (``read_hf_config``).
        args: ``plan``'s resolved command line (``checkpoint_dtype``).
    """
    n = param_count(config)
    phases = [s.phase for s in steps]
    need = sum(n * _dtype_bytes(args.checkpoint_dtype) for p in phases if p in ("convert", "align", "train"))
    need += sum(2 * n for p in phases if p == "to_hf")
    return need + (2 * n if "to_hf" in phases else 0)


def corpus_flags(args: argparse.Namespace) -> list[str]:
    """Where the alignment corpus comes from: a local file, or a hub dataset streamed.

    Args:
        args: ``plan``'s resolved command line (``corpus``, ``corpus_name``, ``target``).
    """
    if os.path.exists(args.corpus):
        return options.easylm_flags(options.CODEMIX_CLM, path=os.path.abspath(args.corpus),
                                    streaming=False)
    name = args.corpus_name
    if name is None and args.corpus == "graelo/wikipedia":
        name = f"20230601.{args.target}"
    return options.easylm_flags(options.CODEMIX_CLM, path=args.corpus,
                                **({"name": name} if name else {}), streaming=True)


def _schedule(lr, steps, warmup):
    return ["--optimizer.type=adamw", f"--optimizer.adamw_optimizer.lr={lr}",
            "--optimizer.adamw_optimizer.end_lr=0", "--optimizer.adamw_optimizer.weight_decay=0",
            f"--optimizer.adamw_optimizer.lr_warmup_steps={warmup}",
            f"--optimizer.adamw_optimizer.lr_decay_steps={steps}"]


def build_steps(args: argparse.Namespace, config: dict, steps_per_epoch: dict,
                python: str | None = None, easylm_dir: str | None = None, *,
                prefix: str = "", base: str | None = None,
                compare: Sequence[tuple[str, str, str]] = ()) -> list[Step]:
    """The steps for ``args.runs``. The dataset flags are written by ``options.easylm_flags``,
    which refuses a key the dataset type does not have. With ``args.joint`` (several
    languages) the datasets read ``language_files(args.out)`` instead of one dictionary and
    corpus.

    Args:
        args: ``plan``'s resolved command line.
        config: the Hugging Face ``config.json`` of the model (``read_hf_config``).
        steps_per_epoch: ``(data, mode, template)`` -> the packed steps of one epoch (None
            where unknown: the command shows a placeholder).
        python: the interpreter the steps run (default this one).
        easylm_dir: EasyLM checkout put on ``PYTHONPATH`` (default ``$EASYLM_DIR``).
        prefix: put before every step's name (``hi.``: the steps of language hi's own model
            in a joint run's list; the conversion ``convert_base`` keeps its name).
        base: an EasyLM checkpoint of the base model that another step named
            ``convert_base`` makes: no conversion step of their own.
        compare: ``(row name, results file, step)`` of other models' runs for the report's
            joint-vs-separate table (``report --separate``); the report comes after each step.
    """
    python = python or sys.executable
    out = os.path.abspath(args.out)
    env = {"PYTHONPATH": easylm_dir or "$EASYLM_DIR", "WANDB_MODE": "disabled",
           **getattr(args, "step_env", {})}
    llama = llama_flags(config, args.base_model)
    train_module = ("easylm_commit.llama_train" if args.train_route == "launcher"
                    else "EasyLM.models.llama.llama_train")
    segmenter_name = segmenter(args)
    joint = getattr(args, "joint", None)
    lists = language_files(out)
    shared_base = base is not None
    base = base or os.path.join(out, "base", "streaming_params")
    runs = [r for r in args.runs]
    tuned = [r for r in runs if RUNS[r].mode]
    steps = []

    def common_train(run_name, load, total, warmup, log_freq):
        return [python, "-m", train_module, f"--mesh_dim={args.mesh_dim}", f"--dtype={args.dtype}",
                *llama, f"--tokenizer={args.tokenizer}", f"--load_checkpoint=params::{load}",
                f"--total_steps={total}", f"--log_freq={log_freq}",
                f"--save_model_freq={args.save_freq}",
                *_schedule(args.lr, total, warmup),
                "--checkpointer.save_optimizer_state=False",
                f"--checkpointer.float_dtype={args.checkpoint_dtype}",
                "--logger.online=False", f"--logger.output_dir={os.path.join(out, 'runs')}",
                f"--logger.experiment_id={run_name}"]

    if tuned and not shared_base:
        steps.append(Step(
            "convert_base", "Hugging Face LLaMA -> EasyLM checkpoint (EasyLM's convert_hf_to_easylm)",
            [python, "-m", "EasyLM.models.llama.convert_hf_to_easylm",
             f"--hf_model={args.hf_model}", f"--output_file={base}", "--streaming=True",
             f"--float_dtype={args.checkpoint_dtype}", *llama],
            outputs=[base], inputs=[args.hf_model], env=env, phase="convert"))

    for key in sorted({RUNS[r].align for r in tuned if RUNS[r].align}, key=list(ALIGNMENTS).index):
        alpha, step_name = ALIGNMENTS[key]
        run_dir = os.path.join(out, "runs", key)
        # optax's warmup-cosine schedule needs at least one step after the warmup.
        warmup = min(args.align_warmup, args.align_steps - 1)
        if joint is None:
            data_flags = [*corpus_flags(args), *options.easylm_flags(
                options.CODEMIX_CLM, text_field=args.corpus_field, dictionary=args.dictionary)]
            inputs = [args.dictionary] + ([args.corpus] if os.path.exists(args.corpus) else [])
        else:
            # Each entry names its corpus; streaming reads a hub corpus lazily (and a local
            # file as well), so one local-only list memory-maps its files as one corpus would.
            local = all(os.path.exists(l.path) for l in joint.codemix_clm)
            data_flags = options.easylm_flags(
                options.CODEMIX_CLM, languages=lists[options.CODEMIX_CLM],
                text_field=args.corpus_field, streaming=not local,
                stopping_strategy=args.stopping_strategy)
            inputs = [lists[options.CODEMIX_CLM], *joint_inputs(joint, options.CODEMIX_CLM)]
        argv = common_train(key, base, args.align_steps, warmup, args.log_freq) + [
            f"--train_dataset.type={options.CODEMIX_CLM}", *data_flags,
            *options.easylm_flags(
                options.CODEMIX_CLM, reverse_dictionary=True, segmenter=segmenter_name, alpha=alpha,
                seq_length=args.seq_length, batch_size=args.batch_size,
                tokenizer_processes=args.tokenizer_processes),
            *args.train_flag]
        what = (f"code-mixed alignment, target-language text mixed into English (alpha {alpha})"
                if alpha else "plain causal LM on the target-language corpus (alpha 0)")
        if joint is not None:
            what = what.replace("target-language", "/".join(joint.codes))
            if len(joint.codes) > 1:
                what = what.replace("corpus", "corpora, interleaved")
        steps.append(Step(prefix + step_name, f"{what}, {args.align_steps} steps", argv,
                          outputs=[run_dir], inputs=inputs, env=env,
                          after=["convert_base"] if not shared_base else [], phase="align"))

    checkpoints = {}
    for r in tuned:
        run = RUNS[r]
        name = slug(r)
        data = args.mt_instructions if run.data == "mt" else args.instructions
        template = args.target if run.target_template else "en"
        spe = steps_per_epoch.get((run.data, run.mode, template))
        if spe is None:
            total = warmup = "<epochs x steps per epoch: unknown until the checks pass>"
        else:
            total = args.epochs * spe
            warmup = min(-(-total * 3 // 100), total - 1)  # 3%, rounded up
        load = base
        after = ["convert_base"] if not shared_base else []
        if run.align:
            load = os.path.join(out, "runs", run.align, "streaming_params")
            after = [prefix + ALIGNMENTS[run.align][1]]
        if joint is None:
            data_flags = options.easylm_flags(options.COMMIT, dictionary=args.dictionary)
            inputs = [data, args.dictionary]
        else:
            data_flags = options.easylm_flags(options.COMMIT, languages=lists[options.COMMIT],
                                              language_sampling=args.language_sampling)
            inputs = [data, lists[options.COMMIT], *joint_inputs(joint, options.COMMIT)]
        argv = common_train(name, load, total, warmup, args.log_freq) + [
            f"--train_dataset.type={options.COMMIT}",
            *options.easylm_flags(options.COMMIT, path=data), *data_flags,
            *options.easylm_flags(
                options.COMMIT, mode=run.mode,
                alpha=args.alpha, template=template, segmenter=segmenter_name,
                seq_length=args.seq_length, batch_size=args.batch_size),
            *args.train_flag]
        epochs = f"{args.epochs} epoch(s) = {total} steps" if spe else f"{args.epochs} epoch(s)"
        about = run.about + (f", languages {', '.join(joint.codes)}" if joint is not None else "")
        steps.append(Step(f"{prefix}train_{name}", f"{about}; {epochs}", argv,
                          outputs=[os.path.join(out, "runs", name)],
                          inputs=inputs, env=env, after=after, phase="train"))
        checkpoints[r] = os.path.join(out, "runs", name, "streaming_params")

    for r in tuned:
        name = slug(r)
        steps.append(Step(
            f"{prefix}to_hf_{name}",
            "EasyLM checkpoint -> Hugging Face model (EasyLM's convert_easylm_to_hf)",
            [python, "-m", "EasyLM.models.llama.convert_easylm_to_hf",
             f"--load_checkpoint=params::{checkpoints[r]}",
             f"--output_dir={os.path.join(out, 'hf', name)}", *llama],
            outputs=[os.path.join(out, "hf", name)], env=env, after=[f"{prefix}train_{name}"],
            phase="to_hf"))

    results, labels = [], []
    for r in runs:
        name = slug(r)
        model = os.path.join(out, "hf", name) if RUNS[r].mode else args.hf_model
        result = os.path.join(out, "results", f"{name}.json")
        argv = [python, "-m", "easylm_commit.cli", "eval", "--model-path", model,
                "--tokenizer", args.tokenizer, "--tasks", ",".join(args.tasks),
                "--device", args.eval_device, "--batch-size", args.eval_batch_size,
                "--dtype", args.eval_dtype, "--log-samples", "--output", result]
        if args.qa_data:
            argv += ["--local-data", args.qa_data]
        if args.eval_limit:
            argv += ["--limit", str(args.eval_limit)]
        steps.append(Step(
            f"{prefix}eval_{name}", f"{RUNS[r].label}: {', '.join(args.tasks)}", argv,
            outputs=[result, os.path.splitext(result)[0] + ".samples.jsonl"],
            inputs=[] if RUNS[r].mode else [args.hf_model],
            after=[f"{prefix}to_hf_{name}"] if RUNS[r].mode else [], phase="eval"))
        results.append(result)
        labels.append(RUNS[r].label)

    report = os.path.join(out, "report")
    separate = [a for label, path, _ in compare for a in ("--separate", f"{label}={path}")]
    title = "the paper's tables from every result (easylm-commit report)"
    if compare:
        title += ", and the joint model's scores beside each language's own model's"
    steps.append(Step(
        prefix + "report", title,
        [python, "-m", "easylm_commit.cli", "report", *results, "--names", *labels,
         *separate, "--out-dir", report],
        outputs=[report], after=[f"{prefix}eval_{slug(r)}" for r in runs] + [s for _, _, s in compare],
        phase="report"))
    return steps


def joint_inputs(joint: object, dataset_type: str) -> list[str]:
    """The local files a joint run's list of ``dataset_type`` names (dictionaries, corpora,
    templates): a step whose input changed is redone.

    Args:
        joint: the run's languages (``joint.JointLanguages``).
        dataset_type: ``commit`` or ``codemix_clm``.
    """
    files = []
    for language in joint.of(dataset_type):
        for key, value in language.values.items():
            if options.OPTIONS[key].file and value and os.path.isfile(value) and value not in files:
                files.append(value)
    return files


def until(steps: list[Step], phase: str | None) -> list[Step]:
    """The steps up to and including ``phase`` (steps are in phase order)."""
    if phase is None:
        return steps
    last = PHASES.index(phase)
    return [s for s in steps if PHASES.index(s.phase) <= last]
