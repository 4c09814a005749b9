"""``easylm-commit stats``: what a dictionary does to a data set, and what an epoch costs.

Per field: word coverage of the dictionary, the expected share of replaced words
(alpha x coverage) next to the share replaced at this seed and epoch, and the most frequent
uncovered words. With ``--tokenizer``: tokens per formatted, mixed sample and the steps of one
epoch at ``--batch-size`` x ``--seq-length`` (packed). ``--json`` prints the same numbers for
scripts (``steps_per_epoch`` at the top level), and the code-mixing index (``cmi``). With
``--languages``, each language's records, words, replaced words, mixing rate, CMI and coverage
beside the totals (``languages`` in the JSON). The computations are in
``easylm_commit.coverage``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from easylm_commit import options
from easylm_commit.commands._common import (
    add_mixing_arguments, field_options, input_name, mixing_formatter, read_items, resolve_demo,
)
from easylm_commit.errors import UserError
from easylm_commit.progress import Progress
from easylm_commit.records import BadRecords
from easylm_commit.transform import RecordTransform

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


TOP = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``stats``' flags: its input and output, the batch shape, and the mixing flags.

    Args:
        parser: the command's parser.
    """
    parser.add_argument("--input", help="Alpaca JSON array or JSONL file (a corpus with --text-field)")
    parser.add_argument("--tokenizer", metavar="TOK_DIR",
                        help="Hugging Face tokenizer (directory or hub name) to count tokens and steps")
    # The paper's (and examples/commit.sh's) batch: 16 sequences of 512 tokens on a TPUv3-8.
    options.add_flag(parser, "batch_size")
    options.add_flag(parser, "seq_length")
    parser.add_argument("--top", type=int, default=TOP,
                        help=f"uncovered words to list per field (default {TOP})")
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    add_mixing_arguments(parser)


def load_tokenizer(spec: str) -> PreTrainedTokenizerBase:
    """The Hugging Face tokenizer of ``--tokenizer``.

    Args:
        spec: a tokenizer directory or hub name.

    Raises:
        UserError: transformers missing, no such folder, a tokenizer that cannot be loaded
            or has no BOS or EOS token.
    """
    import os

    from easylm_commit.hf_paths import locate

    try:
        from transformers import AutoTokenizer
    except ImportError:  # pragma: no cover - depends on the environment
        raise UserError("--tokenizer needs transformers: pip install 'easylm-commit[easylm]'") from None
    # A missing folder fails here at once, instead of as a hub name after minutes of retries.
    locate(spec, "--tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec)
    except (OSError, ValueError) as e:
        where = "directory" if os.path.isdir(spec) else "name or directory"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(
            f"--tokenizer {spec}: cannot load a tokenizer from this {where} ({first})") from None
    if tokenizer.bos_token_id is None or tokenizer.eos_token_id is None:
        raise UserError(f"--tokenizer {spec}: the tokenizer has no BOS or EOS token")
    return tokenizer


def collect(args: argparse.Namespace) -> dict:
    """The numbers ``stats --json`` prints, as one dict (``plan``'s checks call this too).

    Args:
        args: the parsed command line (``stats``' options).

    Raises:
        UserError: a bad option or input, or no valid record.
    """
    from easylm_commit.coverage import dataset_stats

    options.check_args(args, "batch_size", "seq_length")
    if args.top < 0:
        raise UserError(f"--top must be 0 or more, got {args.top}")
    resolve_demo(args)
    if not args.dictionary and not getattr(args, "languages", ""):
        raise UserError("--dictionary is required (or --demo for the embedded demo dictionary)")
    formatter = mixing_formatter(args)
    tokenizer = load_tokenizer(args.tokenizer) if args.tokenizer else None
    transform = RecordTransform(formatter, tokenizer)

    progress = Progress("stats", quiet=args.quiet)
    items = progress.track(read_items(args, formatter, on_total=progress.set_total))
    bad = BadRecords(args.strict)
    stats = dataset_stats(items, transform, batch_size=args.batch_size,
                          seq_length=args.seq_length, bad=bad)
    source = input_name(args, formatter)
    if stats.records == 0:
        if bad.count:
            raise UserError(bad.all_skipped(source, field_options(transform.formatter)))
        raise UserError(f"{source}: no valid record")
    result = stats.as_dict(top=args.top)
    langs = getattr(formatter, "languages", None)
    # With --languages the dictionaries are each language's (under "languages").
    mixer = None if langs else formatter.mixer
    result.update(input=source, dictionary=args.dictionary if mixer else None,
                  reverse_dictionary=args.reverse_dictionary if mixer else None, seed=args.seed,
                  epoch=args.epoch, dictionary_stats=mixer.dictionary.stats().as_dict() if mixer else None,
                  tokenizer=args.tokenizer)
    for language, mixer in zip(langs or (), getattr(formatter, "mixers", ())):
        result["languages"][language.lang].update(
            weight=language.weight, dictionary=language.dictionary,
            reverse_dictionary=language.reverse_dictionary,
            dictionary_stats=mixer.dictionary.stats().as_dict())
    if stats.skipped and not args.quiet:
        print(f"easylm-commit stats: skipped {stats.skipped} bad record(s); first: {stats.first_skip}",
              file=sys.stderr)
    return result


def run(args: argparse.Namespace) -> int:
    """Print the numbers; 0 on success.

    Args:
        args: the parsed command line.
    """
    result = collect(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_tables(result, args)
    return 0


def _pct(x):
    return f"{100 * x:.1f}%"


def _dictionary(r):
    """``dictionary D (reversed): N pairs, ...``: a dictionary's line of the header."""
    d = r["dictionary_stats"]
    return (f"dictionary {r['dictionary']}{' (reversed)' if r['reverse_dictionary'] else ''}: "
            f"{d['pairs']} pairs, {d['sources']} words, {d['skipped_lines']} malformed line(s) skipped"
            + (f" (first: line {d['first_skipped_line']})" if d["skipped_lines"] else ""))


def _print_tables(r, args):
    from rich.console import Console
    from rich.table import Table

    console = Console()
    langs = r.get("languages") or {}
    if langs:
        head = f"{r['input']}: {r['records']} records ({r['mode']}); " + "; ".join(
            f"{lang} (alpha {l['alpha']}, weight {l['weight']:g}): {_dictionary(l)}"
            for lang, l in langs.items())
    else:
        head = f"{r['input']}: {r['records']} records ({r['mode']}, alpha {r['alpha']}); {_dictionary(r)}"
    # soft_wrap: one line in a pipe or a log too, where rich would cut it at 80 columns.
    console.print(head, highlight=False, markup=False, soft_wrap=True)
    console.print(f"code-mixing index (CMI, mean per record): {r['cmi']:.1f}",
                  highlight=False, markup=False, soft_wrap=True)
    identical = r["all"]["identical"]
    # Identity pairs in a caption, not a column: an eighth column no longer fits 80 columns.
    caption = (f"Not counted as mixed: {identical} word(s) ({_pct(r['all']['identical_rate'])}) "
               "drawn but written as themselves by an identity pair such as '1 1' "
               "(--drop-identical removes those pairs)") if identical else None
    table = Table(title="Dictionary coverage (words as the mixer splits them)", caption=caption)
    for col in ("field", "words", "covered", "coverage", "expected mixed (alpha x cov.)",
                f"mixed at seed {r['seed']}, epoch {r['epoch']}", "protected spans (words)"):
        # Field names never wrap: the other columns give way first (a narrow terminal).
        table.add_column(col, justify="left" if col == "field" else "right", no_wrap=col == "field")
    rows = list(r["fields"].items()) + [("all", r["all"])]
    for name, f in rows:
        table.add_row(name, str(f["words"]), str(f["covered"]), _pct(f["coverage"]),
                      _pct(f["expected_mixing_rate"]), _pct(f["observed_mixing_rate"]),
                      f"{f['protected_spans']} ({f['protected_words']})",
                      end_section=name == rows[-2][0])
    if not console.is_terminal:
        # A pipe or a log has no screen to fit: rich's default of 80 columns there squeezed
        # the field names ("instruct…"). The coverage table gets its natural width and the
        # other tables wrap at it.
        wide = console.options.update_width(1 << 16)
        console.width = max(console.width, console.measure(table, options=wide).maximum)
    console.print(table)
    if langs:
        per = Table(title=f"Languages (mixed at seed {r['seed']}, epoch {r['epoch']})")
        for col in ("language", "records", "words", "replaced", "mixing rate", "CMI", "coverage"):
            per.add_column(col, justify="left" if col == "language" else "right", no_wrap=col == "language")
        for lang, l in [*langs.items(), ("all", r)]:
            a = l["all"]
            per.add_row(lang, str(l["records"]), str(a["words"]), str(a["replaced"]),
                        _pct(a["observed_mixing_rate"]), f"{l['cmi']:.1f}", _pct(a["coverage"]),
                        end_section=lang == list(langs)[-1])
        console.print(per)
    if args.top:
        top = Table(title=f"Most frequent uncovered words (top {args.top})")
        top.add_column("field", no_wrap=True)
        top.add_column("word (count)")
        for name, f in rows:
            words = ", ".join(f"{w} ({n})" for w, n in f["top_uncovered"])
            top.add_row(name, words or "-", end_section=True)
        console.print(top)
    t = r["tokens"]
    if t:
        layout = "BOS + text + EOS" if r["mode"] == "text" else "BOS + prompt + response + EOS"
        tok = Table(title=f"Tokens ({layout})")
        tok.add_column("", no_wrap=True)
        tok.add_column("", justify="right")
        for label, value in (
            ("tokens per record: mean", f"{t['mean']:.1f}"),
            ("tokens per record: median", f"{t['median']:.1f}"),
            ("tokens per record: max", str(t["max"])),
            ("tokens per epoch", str(t["total_tokens"])),
            (f"records longer than {t['seq_length']}", str(t["longer_than_seq"])),
            (f"steps per epoch (packed, {t['batch_size']} x {t['seq_length']})", str(t["steps_per_epoch"])),
        ):
            tok.add_row(label, value)
        console.print(tok)
