"""Options shared by the commands that mix (``mix``, ``preview``, ``stats``) and the code
that turns them into a dictionary, a mixer and a formatter -- one place, so the commands
cannot drift apart in what ``--alpha`` or ``--demo`` means."""

import sys

from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.mixer import SEGMENTERS, CodeMixer
from easylm_commit.templates import MODES, FieldNames, Formatter, TextFormatter


# The paper's alphas: 0.9 for COMMIT's instruction data, 0.5 for the alignment corpus.
ALPHA_INSTRUCTIONS = 0.9
ALPHA_CORPUS = 0.5


def add_mixing_arguments(parser):
    g = parser.add_argument_group("mixing")
    g.add_argument("--demo", action="store_true",
                   help="use the embedded English-Hindi demo dictionary and data where none is given "
                        "(with --text-field: the Hindi demo corpus, mixed into English)")
    g.add_argument("--dictionary", help="MUSE-format dictionary (one 'source translation' pair a line)")
    g.add_argument("--reverse-dictionary", action="store_true",
                   help="use the dictionary target->source (alignment: target-language text into English)")
    g.add_argument("--drop-identical", action="store_true",
                   help="drop 'x x' pairs (numbers, names) that MUSE holds many of")
    g.add_argument("--alpha", type=float, default=None,
                   help=f"replacement probability (default {ALPHA_INSTRUCTIONS} for instruction "
                        f"records, {ALPHA_CORPUS} with --text-field, as in the paper)")
    g.add_argument("--seed", type=int, default=0, help="mixing seed (default 0)")
    g.add_argument("--epoch", type=int, default=0,
                   help="epoch whose mixing to reproduce; 0 matches a training run's first epoch")
    g.add_argument("--segmenter", choices=sorted(SEGMENTERS), default="default",
                   help="word segmenter: 'default' cuts Thai text into words with pythainlp when "
                        "it is installed; 'thai' requires pythainlp; 'regex' never segments Thai")
    g.add_argument("--no-protect", dest="protect", action="store_false",
                   help="mix code, URLs, e-mails, identifiers and acronyms too: the paper's plain "
                        "word model (default: keep them as written)")
    g.add_argument("--mode", default="commit", help="commit (default) | naive | none")
    g.add_argument("--template", default="en",
                   help="prompt template: en (Alpaca), hi, el, th, ta, bn, or a JSON file")
    g.add_argument("--text-field",
                   help="mix this field of each record as plain text (an alignment corpus)")
    g.add_argument("--instruction-field", default="instruction")
    g.add_argument("--input-field", default="input")
    g.add_argument("--output-field", default="output")
    g.add_argument("--strict", action="store_true",
                   help="stop at the first bad record or malformed dictionary line instead of "
                        "skipping and counting it")


def resolve_demo(args, input_attr="input"):
    """Fill --dictionary and the input from the embedded demo when --demo is given, and
    the default alpha for what is being mixed."""
    if args.alpha is None:
        args.alpha = ALPHA_CORPUS if args.text_field else ALPHA_INSTRUCTIONS
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


def build_mixer(args):
    if args.alpha is None:
        args.alpha = ALPHA_CORPUS if args.text_field else ALPHA_INSTRUCTIONS
    if args.mode not in MODES:
        raise UserError(f"--mode: unknown mode {args.mode!r} (choose from {', '.join(MODES)})")
    if not 0.0 <= args.alpha <= 1.0:
        raise UserError(f"--alpha must be in [0, 1], got {args.alpha}")
    if not args.dictionary:
        return None
    dictionary = BilingualDictionary.load(
        args.dictionary, reverse=args.reverse_dictionary, keep_identical=not args.drop_identical,
        strict=getattr(args, "strict", False),
    )
    warn_skipped_lines(dictionary, args)
    return CodeMixer(dictionary, args.alpha, seed=args.seed, segmenter=args.segmenter,
                     protect=args.protect)


def warn_skipped_lines(dictionary, args):
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


def field_options(formatter):
    """``check --text-field F`` (or the three instruction fields): the formatter's field
    options as flags, what to look at when records lack a field (``BadRecords.all_skipped``)."""
    return "check " + ", ".join(f"--{name.replace('_', '-')} {value}"
                                for name, value in formatter.field_options.items())


def build_formatter(args, mixer):
    """A ``TextFormatter`` with ``--text-field`` (a corpus), else a ``Formatter``: the
    commands then read every record the same way."""
    if args.text_field:
        return TextFormatter(mixer, args.text_field)
    fields = FieldNames(args.instruction_field, args.input_field, args.output_field)
    return Formatter(mixer, mode=args.mode, template=args.template, fields=fields)
