"""Options shared by the commands that mix (``mix``, ``preview``, ``stats``) and the code
that turns them into a dictionary, a mixer and a formatter -- one place, so the commands
cannot drift apart in what ``--alpha`` or ``--demo`` means. The flags that set a dataset
option are declared with it in ``easylm_commit.options``, with their spelling, default, help and
checks."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from easylm_commit import languages, options, records
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.languages import Language
from easylm_commit.mixer import CodeMixer
from easylm_commit.records import Item
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
                        "(with --text-field: the Hindi demo corpus, mixed into English; "
                        "--languages demo: the Hindi and Greek demos)")
    for name in ("dictionary", "languages", "language_sampling", "stopping_strategy", "reverse_dictionary",
                 "drop_identical", "alpha", "alpha_schedule", "alpha_end", "alpha_schedule_steps", "seed"):
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
    # With --languages every entry names its dictionary, and a corpus per language is read
    # from the list unless --input is given (``read_items``).
    listed = bool(getattr(args, "languages", ""))
    corpora = listed and args.text_field
    if getattr(args, "demo", False):
        from easylm_commit import demo

        if not args.dictionary and not listed:
            args.dictionary = demo.DEMO_DICTIONARY
            if args.text_field:
                # The demo corpus is Hindi; alignment mixes it into English (Eq. 6).
                args.reverse_dictionary = True
        if not getattr(args, input_attr, None) and not corpora:
            setattr(args, input_attr, demo.DEMO_CORPUS if args.text_field else demo.DEMO_INSTRUCTIONS)
    if not args.dictionary and not listed and not (args.mode == "none" and not args.text_field):
        raise UserError("--dictionary is required (or --demo for the embedded demo dictionary)")
    if not getattr(args, input_attr, None) and not corpora:
        raise UserError(f"--{input_attr.replace('_', '-')} is required (or --demo for the embedded demo data)")


def build_mixer(args: argparse.Namespace, language: Language | None = None) -> CodeMixer | None:
    """The mixer the command line asks for, or None without a dictionary.

    Args:
        args: the parsed command line; a missing ``--alpha`` is filled in.
        language: one entry of ``--languages``: its dictionary and alpha instead of the
            flags', and its errors named by the entry, as the datasets name them.

    Raises:
        UserError: a value an option does not accept, a dictionary that cannot be read.
    """
    if args.alpha is None:
        args.alpha = options.default("alpha", dataset_type(args))
    options.check_args(args, "mode", "alpha")
    v = language.values if language is not None else vars(args)
    alpha = mixing_alpha(args, language)
    if not v["dictionary"]:
        return None
    try:
        dictionary = BilingualDictionary.load(
            v["dictionary"], reverse=v["reverse_dictionary"], keep_identical=not v["drop_identical"],
            strict=getattr(args, "strict", False),
        )
    except UserError as e:
        raise UserError(f"{language.label}: {e}") if language is not None else e from None
    warn_skipped_lines(dictionary, args)
    return CodeMixer(dictionary, alpha, seed=args.seed, segmenter=args.segmenter,
                     protect=args.protect)


def mixing_alpha(args: argparse.Namespace, language: Language | None = None) -> float:
    """The alpha in force at ``--step`` under the schedule the command line asks for
    (``--alpha`` itself without ``--alpha-schedule``), or under one language's.

    Args:
        args: the parsed command line, ``--alpha`` filled in.
        language: one entry of ``--languages``: its alpha and schedule keys.

    Raises:
        UserError: a schedule flag out of range, ``--step`` below 0.
    """
    from easylm_commit import alpha_schedule

    step = getattr(args, "step", 0)
    if step < 0:
        raise UserError(f"--step must be 0 or more, got {step}")
    if language is not None:
        try:
            return alpha_schedule.from_config(language.values).at(step)
        except UserError as e:
            raise UserError(f"{language.label}: {e}") from None
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


def build_formatter(args: argparse.Namespace, mixer: CodeMixer | None,
                    values: Mapping[str, Any] | None = None) -> Formatter | TextFormatter:
    """A ``TextFormatter`` with ``--text-field`` (a corpus), else a ``Formatter``: the
    commands then read every record the same way.

    Args:
        args: the parsed command line (its field, mode and template flags).
        mixer: what mixes the records (``build_mixer``); ``None`` mixes nothing.
        values: one language's template or text field instead of the flags'.
    """
    v = values if values is not None else vars(args)
    if args.text_field:
        return TextFormatter(mixer, v["text_field"])
    fields = FieldNames(args.instruction_field, args.input_field, args.output_field)
    return Formatter(mixer, mode=args.mode, template=v["template"], fields=fields)


def parse_languages(args: argparse.Namespace) -> list[Language] | None:
    """The languages of ``--languages``, or ``None`` without it. An entry's keys left out
    take the command line's values, as a dataset's take its config's (``languages.parse``):
    the config of the dataset type the command mixes for (``dataset_type``), with the flags'
    values over its defaults -- but with ``--text-field`` a dictionary is read reversed, as
    ``codemix_clm`` reads it (its corpora are in the target language), unless an entry
    says otherwise.

    Raises:
        UserError: the dataset's one-line errors, naming the entry.
    """
    spec = getattr(args, "languages", "")
    if not spec:
        return None
    kind = dataset_type(args)
    config = {}
    for option in options.options_of(kind):
        value = getattr(args, option.name, None)
        config[option.name] = option.defaults[kind] if value is None else value
    if kind == options.CODEMIX_CLM:
        config["reverse_dictionary"] = True
    return languages.parse(spec, config, kind)


def reads_corpora(args: argparse.Namespace, formatter: object) -> bool:
    """Whether the records are the languages' own corpora (``--text-field`` and
    ``--languages`` without ``--input``), interleaved as the ``codemix_clm`` dataset reads them."""
    return isinstance(formatter, languages.MultilingualFormatter) and bool(args.text_field) \
        and not args.input


def mixing_formatter(args: argparse.Namespace) -> Formatter | TextFormatter | languages.MultilingualFormatter:
    """What mixes the records: ``build_formatter`` over ``build_mixer``, or with
    ``--languages`` one of those per language, combined as the datasets combine them
    (``languages.multilingual_formatter``).

    Raises:
        UserError: a bad option or list entry, a dictionary that cannot be read.
    """
    langs = parse_languages(args)
    if langs is None:
        return build_formatter(args, build_mixer(args))
    if args.dictionary:
        # Every entry names its own dictionary, so this one would be read by no language.
        raise UserError("--dictionary with --languages: each language names its dictionary in "
                        "the list (drop --dictionary)")
    interleaved = bool(args.text_field) and not args.input
    if interleaved and args.language_sampling == "each":
        raise UserError("--language-sampling each: with --text-field and no --input each "
                        "language's corpus is read, every text in its own language (give "
                        "--input to mix one file into every language)")
    return languages.multilingual_formatter(
        langs, lambda mixer, values: build_formatter(args, mixer, values),
        lambda language: build_mixer(args, language), seed=args.seed,
        sampling=args.language_sampling, interleaved=interleaved)


def read_items(args: argparse.Namespace, formatter: object,
               on_total: Callable[[int], Any] | None = None) -> Iterator[Item]:
    """The records the command mixes, each with the key the dataset would mix it with:
    ``--input`` in file order (``records.read``), every record once per language with
    ``--language-sampling each`` (numbered as the dataset's copies), or -- with
    ``--text-field`` and ``--languages`` but no ``--input`` -- one epoch of the languages'
    corpora interleaved by weight, as the ``codemix_clm`` dataset reads them.

    Args:
        args: the parsed command line.
        formatter: ``mixing_formatter``'s.
        on_total: called with the number of records once known (``records.read``).

    Raises:
        UserError: a corpus that cannot be read, named by its entry (before any record).
    """
    if reads_corpora(args, formatter):
        return _interleaved(args, formatter.languages)
    copies = 1
    if isinstance(formatter, languages.MultilingualFormatter) and args.language_sampling == "each":
        copies = len(formatter.languages)
    if copies == 1:
        return records.read(args.input, epoch=args.epoch, on_total=on_total)
    total = None if on_total is None else (lambda n: on_total(n * copies))
    return (c for item in records.read(args.input, epoch=args.epoch, on_total=total)
            for c in records.copied(item, copies))


def _interleaved(args, langs):
    import datasets

    from easylm_commit.interleave import InterleavedStream
    from easylm_commit.sources import RecordStream, load_records

    for language in langs:
        if not language.path:
            raise UserError(f"{language.label}: path is required with --text-field and no --input "
                            "(the language's corpus), or give --input")
    streams = []
    # The corpora are read through ``datasets``, as the dataset reads them (so the keys are
    # its keys); its bars for preparing each file would interleave with ours.
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        for language in langs:
            try:
                streams.append(RecordStream(load_records(language.path, language.name, language.split),
                                            seed=args.seed, where=language.path))
            except UserError as e:
                raise UserError(f"{language.label}: {e}") from None
    finally:
        if bars:
            datasets.enable_progress_bars()
    stream = InterleavedStream(streams, [l.weight for l in langs], seed=args.seed,
                               stopping_strategy=args.stopping_strategy, wheres=[l.path for l in langs])
    return itertools.takewhile(lambda item: item.epoch == args.epoch, stream.iterate(args.epoch, 0))


def input_name(args: argparse.Namespace, formatter: object) -> str:
    """What messages call the records read: ``--input``, or the languages' corpora."""
    if reads_corpora(args, formatter):
        return ", ".join(language.path for language in formatter.languages)
    return args.input
