"""Every option of the two dataset types, declared once.

An option is its name, type, default for each dataset type (``commit``, ``codemix_clm``), what
it means, the values it accepts, whether it changes the batches, and -- where it has one -- its
spelling on the command line of ``mix``, ``stats``, ``preview`` (and ``plan``). Everything else
is derived from ``OPTIONS``:

- each type's ``get_default_config()`` (``config_dict``), and with it EasyLM's flags
  ``--train_dataset.<type>.<key>``, as EasyLM derives its own from ``get_default_config()``;
- the checks of a value, with one message wherever the value comes from (``check``,
  ``check_config``, ``check_args``);
- the commands' flags (``add_flag``);
- the EasyLM flag strings that ``plan`` writes (``easylm_flags``);
- the pod's agreement keys and the resume check of a saved state (``batch_keys``,
  ``not_compared_keys``);
- README's table of keys (``markdown_table``: ``python -m easylm_commit.options --markdown``).

A small dataclass per option rather than a schema language: the declaration is plain Python a
reader can follow, and what EasyLM needs from it is the ``mlxu.config_dict`` it already knows.
CONTRIBUTING.md says how to add one. Pure Python: mlxu is imported only where a config dict is
built, so the core stays importable without EasyLM's stack.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from easylm_commit.errors import UserError

if TYPE_CHECKING:
    from ml_collections import ConfigDict

COMMIT = "commit"
CODEMIX_CLM = "codemix_clm"
# The dataset types, as ``--train_dataset.type`` names them.
TYPES = (COMMIT, CODEMIX_CLM)

# The paper's alphas: 0.9 for COMMIT's instruction data, 0.5 for the alignment corpus.
_ALPHA = {COMMIT: 0.9, CODEMIX_CLM: 0.5}
# The paper's batch (and examples/commit.sh's): 16 sequences of 512 tokens on a TPUv3-8. The
# commands that count steps (``stats``, ``plan``) use it; the dataset types keep EasyLM's
# smaller default.
PAPER_BATCH_SIZE = 16


class _CommitDefault:
    """A flag's default when it is the ``commit`` type's: the commands mix instruction records
    unless told ``--text-field``."""

    def __repr__(self) -> str:
        return "the commit type's default"


COMMIT_DEFAULT: Any = _CommitDefault()


@dataclasses.dataclass(frozen=True)
class Flag:
    """An option's spelling on the command line of ``mix``, ``stats``, ``preview``, ``plan``.

    Args:
        spelling: the option string, ``--alpha``. A bool option is a switch: ``--no-X`` stores
            False, any other spelling stores True.
        help: the ``--help`` text.
        default: the value when the flag is not given (``None``: the command decides, e.g.
            ``--alpha`` from ``--text-field``); ``COMMIT_DEFAULT``, the ``commit`` type's.
        argparse_choices: argparse refuses values outside the option's choices; otherwise the
            command checks them itself (``check_args``).
    """

    spelling: str
    help: str | None = None
    default: Any = COMMIT_DEFAULT
    argparse_choices: bool = False


@dataclasses.dataclass(frozen=True)
class Option:
    """One key of the dataset types' config.

    Args:
        name: the config key, ``--train_dataset.<type>.<name>``.
        type: ``str``, ``int``, ``float`` or ``bool``; every default is exactly this type, so
            EasyLM's flag parses a value as it.
        defaults: dataset type -> default; a type missing here does not have the option.
        help: what it means, in Markdown (README's table).
        changes_batches: another value gives other batches, so a state saved under another
            value does not resume exactly (the dataset says so when it loads one).
        per_host: hosts of a pod may differ in it (it changes no batch): not compared there.
        file: names a file (or a built-in) whose contents hosts compare instead of the name,
            since hosts may mount files at other paths.
        minimum: smallest value accepted, if any.
        maximum: largest value accepted, if any (with ``minimum``: a closed range).
        choices: the values accepted, if only some are.
        flag: its spelling on the command line, if it has one.
    """

    name: str
    type: type
    defaults: Mapping[str, Any]
    help: str
    changes_batches: bool = False
    per_host: bool = False
    file: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    flag: Flag | None = None

    def __post_init__(self) -> None:
        # A declaration that contradicts itself fails at import, before anything derives from
        # it (raised, not asserted: ``python -O`` must not let one through).
        unknown = set(self.defaults) - set(TYPES)
        if not self.defaults or unknown:
            raise ValueError(f"option {self.name}: dataset types {sorted(unknown) or 'none'}")
        if self.maximum is not None and self.minimum is None:
            raise ValueError(f"option {self.name}: a maximum needs a minimum")
        for kind, value in self.defaults.items():
            if type(value) is not self.type:
                raise TypeError(f"option {self.name}: the {kind} default {value!r} is not "
                                f"{self.type.__name__}")
            self.check(value)
        if self.flag is not None:
            if self.flag.default is COMMIT_DEFAULT and COMMIT not in self.defaults:
                raise ValueError(f"option {self.name}: flag {self.flag.spelling} needs a default")
            # A switch: --no-X when the default is True, --X when it is False.
            if self.type is bool and self.cli_default is not self.flag.spelling.startswith("--no-"):
                raise ValueError(f"option {self.name}: flag {self.flag.spelling} cannot change "
                                 f"the default {self.cli_default}")

    @property
    def cli_default(self) -> Any:
        """The flag's default, ``COMMIT_DEFAULT`` resolved."""
        default = self.flag.default
        return self.defaults[COMMIT] if default is COMMIT_DEFAULT else default

    def check(self, value: Any, label: str | None = None) -> None:
        """Raise ``UserError`` if ``value`` is not accepted.

        Args:
            value: the value to check.
            label: how the message names the option (``--alpha``); default its name.
        """
        if self.choices is not None and value not in self.choices:
            where = f"{label}: " if label else ""
            raise UserError(f"{where}unknown {self.name} {value!r} (choose from {', '.join(self.choices)})")
        label = label or self.name
        if self.maximum is not None and not self.minimum <= value <= self.maximum:
            raise UserError(f"{label} must be in [{self.minimum}, {self.maximum}], got {value}")
        if self.minimum is not None and not value >= self.minimum:
            raise UserError(f"{label} must be at least {self.minimum}, got {value}")


def _both(value: Any) -> dict[str, Any]:
    return {COMMIT: value, CODEMIX_CLM: value}


# In the order of README's table (and, for the keys that change batches, of the resume
# warning). mlxu's ConfigDict lists its keys sorted, whatever the order here.
_DECLARED = (
    Option("path", str, _both(""), changes_batches=True, file=True,
           help="Hugging Face dataset name (`tatsu-lab/alpaca`, `graelo/wikipedia`) or a "
                "`.json`/`.jsonl`/`.parquet` file, local or a URL (`gs://`, `s3://`, `file://`, …)"),
    Option("name", str, _both(""), changes_batches=True,
           help="dataset configuration, passed to `datasets.load_dataset` (`20230601.hi` for Wikipedia)"),
    Option("split", str, _both("train"), changes_batches=True,
           help="split, passed to `datasets.load_dataset`"),
    Option("streaming", bool, _both(False),
           help="stream the dataset (`datasets.load_dataset(streaming=True)`): memory stays "
                "constant whatever the corpus size"),
    Option("dictionary", str, _both(""), changes_batches=True, file=True,
           help="MUSE file, one `source translation` pair a line, or `phrase<TAB>translation` (a path or a URL)",
           flag=Flag("--dictionary", default=None,
                     help="MUSE-format dictionary (one 'source translation' pair a line; a line "
                          "with a tab is 'phrase<TAB>translation')")),
    Option("reverse_dictionary", bool, {COMMIT: False, CODEMIX_CLM: True}, changes_batches=True,
           help="read the file target → source (alignment mixes xx text into English with the "
                "en-xx file)",
           flag=Flag("--reverse-dictionary",
                     help="use the dictionary target->source (alignment: target-language text "
                          "into English)")),
    Option("drop_identical", bool, _both(False), changes_batches=True,
           help="drop `x x` pairs (numbers, names), which MUSE holds many of",
           flag=Flag("--drop-identical", help="drop 'x x' pairs (numbers, names) that MUSE holds many of")),
    Option("alpha", float, _ALPHA, changes_batches=True, minimum=0, maximum=1,
           help="replacement probability; `codemix_clm` with 0 is the plain-CLM baseline (Table 3)",
           flag=Flag("--alpha", default=None,
                     help=f"replacement probability (default {_ALPHA[COMMIT]} for instruction "
                          f"records, {_ALPHA[CODEMIX_CLM]} with --text-field, as in the paper)")),
    # A schedule of alpha over training (alpha_schedule.py): alpha is its start. alpha_end's
    # default is 0.0, not alpha: a schedule that ends in monolingual text, as later
    # code-switching work does, is one key shorter, and a constant schedule ignores it.
    Option("alpha_schedule", str, _both("constant"), changes_batches=True,
           choices=("constant", "linear", "cosine", "step"),  # alpha_schedule.KINDS
           help="`constant` (`alpha` throughout), or from `alpha` to `alpha_end` over "
                "`alpha_schedule_steps` batches: `linear`, `cosine`, or `step` (all at once "
                "there); fixed per chunk of records ([docs/mixing.md](docs/mixing.md#an-α-schedule))",
           flag=Flag("--alpha-schedule", argparse_choices=True,
                     help="alpha over training: constant (default), or from --alpha to --alpha-end "
                          "over --alpha-schedule-steps batches: linear, cosine, step")),
    Option("alpha_end", float, _both(0.0), changes_batches=True, minimum=0, maximum=1,
           help="α from batch `alpha_schedule_steps` on (not `constant`)",
           flag=Flag("--alpha-end", help="alpha at the schedule's end (default 0.0)")),
    Option("alpha_schedule_steps", int, _both(0), changes_batches=True, minimum=0,
           help="batches the schedule takes, at least 1 unless `constant`",
           flag=Flag("--alpha-schedule-steps",
                     help="batches the alpha schedule takes (at least 1 unless constant)")),
    Option("languages", str, _both(""), changes_batches=True, file=True,
           help="several target languages in one run: a JSON list (inline, a file or URL, or `demo`) of "
                "`{\"lang\", \"dictionary\", …}` objects whose other keys override this table's "
                "([Many languages](docs/languages.md)); empty: the keys above",
           flag=Flag("--languages",
                     help="several target languages: a JSON list (inline, a file or URL, or 'demo') of "
                          "{\"lang\", \"dictionary\", ...} objects, as the datasets' languages key; "
                          "keys an entry leaves out take these flags' values (with --text-field "
                          "the dictionaries are read reversed, as codemix_clm does, unless an entry "
                          "says otherwise). Instruction records are each mixed into a language drawn "
                          "by weight (see --language-sampling). With --text-field and no --input, "
                          "each language's corpus (its \"path\") is read, interleaved by weight as "
                          "the codemix_clm dataset reads them; with --input, each text of that file "
                          "is mixed with a language drawn by weight. Each entry names its "
                          "dictionary: no --dictionary")),
    Option("language_sampling", str, {COMMIT: "draw"}, changes_batches=True, choices=("draw", "each"),
           help="with `languages`: `draw` mixes each record into one language drawn by weight; "
                "`each` gives every record once per language",
           flag=Flag("--language-sampling", argparse_choices=True,
                     help="with --languages: 'draw' (default) mixes each record into one language "
                          "drawn by weight from (seed, epoch, record), as the commit dataset; 'each' "
                          "gives every record once per language")),
    Option("stopping_strategy", str, {CODEMIX_CLM: "all_exhausted"}, changes_batches=True,
           choices=("all_exhausted", "first_exhausted"),
           help="with `languages`: an epoch of the interleaved corpora ends when every corpus was "
                "read (a small one repeats) or when the first runs out, as in "
                "`datasets.interleave_datasets`",
           flag=Flag("--stopping-strategy", default="all_exhausted", argparse_choices=True,
                     help="with --languages and --text-field (no --input): the interleaved corpora's "
                          "epoch ends when all were read (all_exhausted) or the first (first_exhausted)")),
    Option("mode", str, {COMMIT: "commit"}, changes_batches=True, choices=("commit", "naive", "none"),
           help="`commit` (template kept, instruction, input and response mixed), `naive` "
                "(template mixed too) or `none` (plain Alpaca): Table 4",
           flag=Flag("--mode", help="commit (default) | naive | none")),
    Option("template", str, {COMMIT: "en"}, changes_batches=True, file=True,
           help="`en` (Alpaca), `hi` `el` `th` `ta` `bn`, or a JSON file with "
                "`prompt_input`/`prompt_no_input`",
           flag=Flag("--template", help="prompt template: en (Alpaca), hi, el, th, ta, bn, or a JSON file")),
    Option("segmenter", str, _both("default"), changes_batches=True,
           choices=("default", "regex", "thai"),  # mixer.SEGMENTERS, sorted
           help="`default` segments Thai words with pythainlp when installed; `thai` requires "
                "it; `regex` never segments",
           flag=Flag("--segmenter", argparse_choices=True,
                     help="word segmenter: 'default' cuts Thai text into words with pythainlp when "
                          "it is installed; 'thai' requires pythainlp; 'regex' never segments Thai")),
    Option("protect", bool, _both(True), changes_batches=True,
           help="keep code, URLs, e-mails, identifiers and acronyms as written (`protect.py`); "
                "False is the paper's plain word model",
           flag=Flag("--no-protect",
                     help="mix code, URLs, e-mails, identifiers and acronyms too: the paper's plain "
                          "word model (default: keep them as written)")),
    Option("seed", int, _both(0), changes_batches=True,
           help="mixing seed, and shuffling seed with `shuffle`",
           flag=Flag("--seed", help="mixing seed (default 0)")),
    Option("shuffle", bool, _both(False), changes_batches=True,
           help="draw a new order of the records every epoch (map-style data)"),
    Option("seq_length", int, _both(512), changes_batches=True, minimum=1,
           help="tokens per sequence",
           flag=Flag("--seq-length", help="tokens per sequence (default 512)")),
    Option("batch_size", int, _both(8), changes_batches=True, minimum=1,
           help="sequences per batch",
           flag=Flag("--batch-size", default=PAPER_BATCH_SIZE,
                     help=f"sequences per step (default {PAPER_BATCH_SIZE})")),
    Option("text_field", str, {CODEMIX_CLM: "text"}, changes_batches=True,
           help="the corpus column",
           flag=Flag("--text-field", default=None,
                     help="mix this field of each record as plain text (an alignment corpus)")),
    Option("instruction_field", str, {COMMIT: "instruction"}, changes_batches=True,
           help="the instruction column", flag=Flag("--instruction-field")),
    Option("input_field", str, {COMMIT: "input"}, changes_batches=True,
           help="the input column (missing or empty: the prompt without input)", flag=Flag("--input-field")),
    Option("output_field", str, {COMMIT: "output"}, changes_batches=True,
           help="the response column", flag=Flag("--output-field")),
    Option("tokenizer_processes", int, _both(1), per_host=True,
           help="worker processes (spawned) mixing and tokenizing chunks of records; 1: the "
                "main process does it",
           flag=Flag("--tokenizer-processes")),  # plan's, with its own default and help
    # Alpaca records are short: a thousand a task keeps worker-process overhead (task and
    # result pickling, pool threads) small next to the work (benchmarks/).
    Option("records_per_chunk", int, {COMMIT: 1024, CODEMIX_CLM: 256}, per_host=True, minimum=1,
           help="records a worker mixes and tokenizes at a time; under an `alpha_schedule`, "
                "also the records mixed at one α (it then changes the batches)"),
    Option("strict", bool, _both(False),
           help="stop at a bad record instead of skipping and counting it",
           flag=Flag("--strict", help="stop at the first bad record or malformed dictionary line "
                                      "instead of skipping and counting it")),
    Option("host_check_freq", int, _both(100), per_host=True,
           help="on a pod: compare every host's batch at the first batch and every N batches; 0 "
                "turns the host checks off ([Running on a pod](docs/pods.md))"),
)

OPTIONS: dict[str, Option] = {o.name: o for o in _DECLARED}
if len(OPTIONS) != len(_DECLARED):
    raise ValueError("an option is declared twice")


def _type(dataset_type: str) -> str:
    if dataset_type not in TYPES:
        raise ValueError(f"unknown dataset type {dataset_type!r} (one of {', '.join(TYPES)})")
    return dataset_type


def options_of(dataset_type: str) -> tuple[Option, ...]:
    """The options a dataset type has, in declaration order.

    Args:
        dataset_type: ``commit`` or ``codemix_clm``.
    """
    return tuple(o for o in OPTIONS.values() if _type(dataset_type) in o.defaults)


def default(name: str, dataset_type: str) -> Any:
    """An option's default for a dataset type.

    Args:
        name: the option.
        dataset_type: ``commit`` or ``codemix_clm``.

    Raises:
        ValueError: the type has no such option.
    """
    option = OPTIONS.get(name)
    if option is None or _type(dataset_type) not in option.defaults:
        raise ValueError(f"dataset type {dataset_type} has no option {name!r}")
    return option.defaults[dataset_type]


def config_dict(dataset_type: str, updates: Mapping[str, Any] | None = None) -> ConfigDict:
    """A dataset type's ``get_default_config(updates)``: an ``mlxu.config_dict`` of every
    option's default, with ``updates`` merged as EasyLM's components do.

    Args:
        dataset_type: ``commit`` or ``codemix_clm``.
        updates: values to merge over the defaults (a dict or a ConfigDict), or None.
    """
    import mlxu

    check_keys(dataset_type, updates or {})
    config = mlxu.config_dict()
    for option in options_of(dataset_type):
        setattr(config, option.name, option.defaults[dataset_type])
    return mlxu.update_config_dict(config, updates)


def unknown_key_message(dataset_type: str, key: str, label: str | None = None) -> str:
    """``commit has no option 'alpah' (did you mean 'alpha'?)``: the one line for a misspelt key.

    Args:
        dataset_type: ``commit`` or ``codemix_clm``.
        key: the key that is not an option of the type.
        label: how the message names the key (a flag, say); default the key itself.
    """
    import difflib

    names = [o.name for o in options_of(dataset_type)]
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {near[0]!r}?" if near else f"its options: {', '.join(names)}"
    return f"{label or repr(key)}: dataset type {dataset_type} has no option {key!r} ({hint})"


def check_keys(dataset_type: str, config: Mapping[str, Any]) -> None:
    """Refuse a key of ``config`` that is not an option of ``dataset_type``.

    ``mlxu.update_config_dict`` adds any key it is given, so without this a misspelt
    ``alpah=0.5`` would be kept beside the real ``alpha`` and silently do nothing.

    Args:
        dataset_type: ``commit`` or ``codemix_clm``.
        config: the keys a caller asks for.

    Raises:
        UserError: naming the first unknown key and the nearest valid one.
    """
    names = {o.name for o in options_of(dataset_type)}
    for key in config:
        if key not in names:
            raise UserError(unknown_key_message(dataset_type, key))


def check_flag_keys(argv: Iterable[str]) -> None:
    """Refuse an EasyLM flag ``--train_dataset.<type>.<key>`` (or ``--eval_dataset...``) of
    one of this package's types whose key the type does not have -- one line, before EasyLM's
    own flag parser stops on it with a traceback.

    Args:
        argv: the command line.

    Raises:
        UserError: naming the flag and the nearest valid key.
    """
    for arg in argv:
        parts = arg.split("=", 1)[0].lstrip("-").split(".")
        if len(parts) == 3 and parts[0] in ("train_dataset", "eval_dataset") and parts[1] in TYPES:
            if parts[2] not in {o.name for o in options_of(parts[1])}:
                raise UserError(unknown_key_message(parts[1], parts[2], label=arg.split("=", 1)[0]))


def check(name: str, value: Any, label: str | None = None) -> None:
    """Raise ``UserError`` if option ``name`` does not accept ``value``.

    Args:
        name: the option.
        value: its value.
        label: how the message names it (``--alpha``); default the option's name.
    """
    OPTIONS[name].check(value, label)


def check_config(config: Mapping[str, Any]) -> None:
    """Check every declared option of a dataset config; other keys are left alone.

    Args:
        config: a dataset type's config.

    Raises:
        UserError: the first value not accepted, named by its key.
    """
    for name, option in OPTIONS.items():
        if name in config:
            option.check(config[name])


def check_args(args: argparse.Namespace, *names: str) -> None:
    """Check options given on a command line, each named by its flag (``--alpha``).

    Args:
        args: the parsed command line.
        names: the options to check, in this order.
    """
    for name in names:
        option = OPTIONS[name]
        option.check(getattr(args, name), option.flag.spelling)


def add_flag(group: argparse._ActionsContainer, name: str, **overrides: Any) -> argparse.Action:
    """Add an option's flag to a parser or argument group, as declared.

    Args:
        group: the parser or argument group.
        name: the option; the flag stores into ``args.<name>``.
        overrides: ``add_argument`` keywords that differ for this command (``plan``'s
            ``--alpha`` defaults to COMMIT's alpha and says so), e.g. ``default``, ``help``.
    """
    option = OPTIONS[name]
    flag = option.flag
    if flag is None:
        raise ValueError(f"option {name!r} has no command-line flag")
    kwargs: dict[str, Any] = dict(dest=name, help=flag.help)
    if option.type is bool:
        kwargs["action"] = "store_false" if flag.spelling.startswith("--no-") else "store_true"
    else:
        kwargs["default"] = option.cli_default
        if option.type is not str:  # argparse's own (no type) for strings, as before
            kwargs["type"] = option.type
        if flag.argparse_choices:
            kwargs["choices"] = list(option.choices)
    kwargs.update(overrides)
    return group.add_argument(flag.spelling, **kwargs)


def easylm_flags(dataset_type: str, **values: Any) -> list[str]:
    """EasyLM flags ``--train_dataset.<type>.<key>=<value>`` for ``values``, in their order.

    Args:
        dataset_type: ``commit`` or ``codemix_clm``.
        values: option name -> value; each must be an option of that type, of its type, and
            accepted by it.

    Raises:
        ValueError: a key the type does not have (a misspelt key would otherwise reach EasyLM,
            which stops at its flag parsing, after a plan's earlier steps have run).
        TypeError: a value of another type than the option's.
        UserError: a value the option does not accept.
    """
    known = {o.name: o for o in options_of(dataset_type)}
    flags = []
    for key, value in values.items():
        option = known.get(key)
        if option is None:
            raise ValueError(f"dataset type {dataset_type} has no option {key!r} "
                             f"(its options: {', '.join(known)})")
        number = option.type is float and type(value) is int
        if not (type(value) is option.type or number):
            raise TypeError(f"--train_dataset.{dataset_type}.{key}: {value!r} is not {option.type.__name__}")
        option.check(value, f"--train_dataset.{dataset_type}.{key}")
        flags.append(f"--train_dataset.{dataset_type}.{key}={value}")
    return flags


def batch_keys() -> tuple[str, ...]:
    """The keys whose change alters the batches: a state saved under other values is
    resumed with a warning naming them."""
    return tuple(o.name for o in OPTIONS.values() if o.changes_batches)


def not_compared_keys() -> tuple[str, ...]:
    """The keys the hosts of a pod do not compare: those each host may set (they change no
    batch) and file names (hosts compare the contents instead)."""
    return tuple(o.name for o in OPTIONS.values() if o.per_host or o.file)


def _cell(option: Option, dataset_type: str) -> str:
    if dataset_type not in option.defaults:
        return "–"
    value = option.defaults[dataset_type]
    if isinstance(value, str):
        return f"`{value}`" if value else "`''`"
    return str(value)


def markdown_table(options: Iterable[Option] | None = None) -> str:
    """README's table of keys: each option's default for each type and what it means.

    Args:
        options: the options to list; default all, in declaration order.
    """
    rows = ["| key | " + " | ".join(f"`{t}`" for t in TYPES) + " | meaning |",
            "| --- | " + " | ".join("---" for _ in TYPES) + " | --- |"]
    for option in OPTIONS.values() if options is None else options:
        cells = [f"`{option.name}`", *(_cell(option, t) for t in TYPES), option.help]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m easylm_commit.options --markdown``: print README's table of keys.

    Args:
        argv: the command line after the program name; default ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(prog="python -m easylm_commit.options",
                                     description="The dataset types' options.")
    parser.add_argument("--markdown", action="store_true", required=True,
                        help="print README's table of keys (the section 'Dataset types')")
    parser.parse_args(argv)
    print(markdown_table(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
