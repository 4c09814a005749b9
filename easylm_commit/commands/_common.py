"""Options shared by the commands that mix (``mix``, ``preview``, ``stats``) and the code
that turns them into a dictionary, a mixer and a formatter -- one place, so the commands
cannot drift apart in what ``--alpha`` or ``--demo`` means. The flags that set a dataset
option are declared with it in ``easylm_commit.options``, with their spelling, default, help and
checks."""

from __future__ import annotations

import argparse
import sys

from easylm_commit import options
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.mixer import CodeMixer
from easylm_commit.templates import FieldNames, Formatter, TextFormatter


def add_mixing_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mix``, ``stats`` and ``preview`` that say what to mix and how, in the
    order of ``--help``.

    Args:
        parser: the command's parser; the flags go into its group "mixing".
    """
    g = parser.add_argument_group("mixing")
    g.add_argument("--demo", action="store_true",
                   help="use the embedded English-Hindi demo dictionary and data where none is given "
                        "(with --text-field: the Hindi demo corpus, mixed into English)")
    for name in ("dictionary", "reverse_dictionary", "drop_identical", "alpha", "alpha_schedule",
                 "alpha_end", "alpha_schedule_steps", "seed"):
        options.add_flag(g, name)
    g.add_argument("--epoch", type=int, default=0,
                   help="epoch whose mixing to reproduce; 0 matches a training run's first epoch")
    # A batch index, not an epoch: the schedule counts batches, and which epoch a batch falls
    # in depends on the batch shape; --epoch still names the records' mixing keys.
    g.add_argument("--step", type=int, default=0, metavar="N",
                   help="mix at the alpha the schedule (--alpha-schedule) has at batch N (default 0: "
                        "--alpha); training fixes it per chunk of records, within a chunk or so of N")
    for name in ("segmenter", "protect", "mode", "template", "text_field", "instruction_field",
                 "input_field", "output_field", "strict"):
        options.add_flag(g, name)


def dataset_type(args: argparse.Namespace) -> str:
    """The dataset type whose defaults the command takes: ``codemix_clm`` with
    ``--text-field`` (a corpus), else ``commit``.

    Args:
        args: the parsed command line.
    """
    return options.CODEMIX_CLM if args.text_field else options.COMMIT


def resolve_demo(args: argparse.Namespace, input_attr: str = "input") -> None:
    """Fill --dictionary and the input from the embedded demo when --demo is given, and
    the default alpha for what is being mixed.

    Args:
        args: the parsed command line, changed in place.
        input_attr: the attribute holding the input file (``--input``).

    Raises:
        UserError: no dictionary or no input, and no ``--demo`` to supply them.
    """
    if args.alpha is None:
        args.alpha = options.default("alpha", dataset_type(args))
    if getattr(args, "demo", False):
        from easylm_commit import demo

        if not args.dictionary:
            args.dictionary = demo.DEMO_DICTIONARY
            if args.text_field:
                # The demo corpus is Hindi; alignment mixes it into English (Eq. 6).
                args.reverse_dictionary = True
        if not getattr(args, input_attr, None):
            setattr(args, input_attr, demo.DEMO_CORPUS if args.text_field else demo.DEMO_INSTRUCTIONS)
    if not args.dictionary and not (args.mode == "none" and not args.text_field):
        raise UserError("--dictionary is required (or --demo for the embedded demo dictionary)")
    if not getattr(args, input_attr, None):
        raise UserError(f"--{input_attr.replace('_', '-')} is required (or --demo for the embedded demo data)")


def build_mixer(args: argparse.Namespace) -> CodeMixer | None:
    """The mixer the command line asks for, or None without a dictionary.

    Args:
        args: the parsed command line; a missing ``--alpha`` is filled in.

    Raises:
        UserError: a value an option does not accept, a dictionary that cannot be read.
    """
    if args.alpha is None:
        args.alpha = options.default("alpha", dataset_type(args))
    options.check_args(args, "mode", "alpha")
    alpha = mixing_alpha(args)
    if not args.dictionary:
        return None
    dictionary = BilingualDictionary.load(
        args.dictionary, reverse=args.reverse_dictionary, keep_identical=not args.drop_identical,
        strict=getattr(args, "strict", False),
    )
    warn_skipped_lines(dictionary, args)
    return CodeMixer(dictionary, alpha, seed=args.seed, segmenter=args.segmenter,
                     protect=args.protect)


def mixing_alpha(args: argparse.Namespace) -> float:
    """The alpha in force at ``--step`` under the schedule the command line asks for
    (``--alpha`` itself without ``--alpha-schedule``).

    Args:
        args: the parsed command line, ``--alpha`` filled in.

    Raises:
        UserError: a schedule flag out of range, ``--step`` below 0.
    """
    from easylm_commit import alpha_schedule

    step = getattr(args, "step", 0)
    if step < 0:
        raise UserError(f"--step must be 0 or more, got {step}")
    return alpha_schedule.from_config(args, flags=True).at(step)


def warn_skipped_lines(dictionary: BilingualDictionary, args: argparse.Namespace) -> None:
    """One line on stderr when dictionary lines were skipped: a dictionary that lost lines
    mixes less than its user thinks, and nothing else would say so. The line is printed by
    the CLI when the command has succeeded (``args.deferred_warnings``), so that a failing
    command still says one thing only: its error."""
    s = dictionary.stats()
    if s.skipped_lines:
        command = getattr(args, "_command", None)
        message = (f"easylm-commit{' ' + command if command else ''}: skipped {s.skipped_lines} "
                   f"malformed line(s) of dictionary {dictionary.path}; first: line "
                   f"{s.first_skipped_line} (--strict stops there)")
        if hasattr(args, "deferred_warnings"):
            args.deferred_warnings.append(message)
        elif not getattr(args, "quiet", False):
            print(message, file=sys.stderr)


def field_options(formatter: Formatter | TextFormatter) -> str:
    """``check --text-field F`` (or the three instruction fields): the formatter's field
    options as flags, what to look at when records lack a field (``BadRecords.all_skipped``)."""
    return "check " + ", ".join(f"--{name.replace('_', '-')} {value}"
                                for name, value in formatter.field_options.items())


def build_formatter(args: argparse.Namespace, mixer: CodeMixer | None) -> Formatter | TextFormatter:
    """A ``TextFormatter`` with ``--text-field`` (a corpus), else a ``Formatter``: the
    commands then read every record the same way.

    Args:
        args: the parsed command line (its field, mode and template flags).
        mixer: what mixes the records (``build_mixer``); ``None`` mixes nothing.
    """
    if args.text_field:
        return TextFormatter(mixer, args.text_field)
    fields = FieldNames(args.instruction_field, args.input_field, args.output_field)
    return Formatter(mixer, mode=args.mode, template=args.template, fields=fields)
