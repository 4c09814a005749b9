"""``easylm-commit preview``: look at formatted, mixed samples before training on them.

Prints N samples coloured like the paper's Figure 1 (template grey, replaced words purple,
covered words kept in English green), or with ``--html OUT`` writes the same as a page instead.
Record i is mixed with the key ``(epoch, i)``, so the preview shows exactly what
``easylm-commit mix`` writes and the training datasets feed for that epoch. With
``--languages`` each sample is titled with the language it was mixed into, and the page gives
each language its own colour.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from easylm_commit.atomic import atomic_output
from easylm_commit.commands._common import (
    add_mixing_arguments, field_options, input_name, mixing_formatter, read_items, reads_corpora,
    resolve_demo,
)
from easylm_commit.errors import UserError
from easylm_commit.records import BadRecords
from easylm_commit.transform import RecordTransform

if TYPE_CHECKING:
    from easylm_commit.preview import PreviewSample
    from easylm_commit.records import Item


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``preview``'s flags: its input, how many samples from where, the page, and the
    mixing flags.

    Args:
        parser: the command's parser.
    """
    parser.add_argument("--input", help="Alpaca JSON array or JSONL file (a corpus with --text-field)")
    parser.add_argument("-n", "--num-samples", type=int, default=3, metavar="N",
                        help="how many samples to show (default 3)")
    parser.add_argument("--offset", type=int, default=0, metavar="K",
                        help="skip the first K records (default 0)")
    parser.add_argument("--html", metavar="OUT",
                        help="write the samples as a standalone HTML page instead of printing them")
    add_mixing_arguments(parser)


def collect(transform: RecordTransform, items: Iterable[Item], n: int, offset: int = 0,
            bad: BadRecords | None = None,
            path: str | None = None) -> tuple[list[PreviewSample], BadRecords]:
    """The first ``n`` valid samples (``preview.PreviewSample``) after skipping ``offset``
    records, and the ``BadRecords`` that were skipped on the way.

    Titles are the records' locations (``file:record N`` or ``file:LINE``) with the file's
    base name, which is what a user opens to find the record.

    Args:
        transform: what formats and mixes each record.
        items: the records (``records.read``).
        n: samples to collect at most.
        offset: records at earlier positions are skipped, not mixed.
        bad: where bad records are counted (a new ``BadRecords`` if None).
        path: the input file, whose directory is cut from the titles.
    """
    from easylm_commit.preview import preview_sample

    bad = BadRecords() if bad is None else bad
    samples = []
    items = (item for item in items if item.position >= offset)
    for item, sample in transform.samples(items, bad, report=True):
        where = item.where
        title = os.path.basename(path) + where[len(path):] if path and where.startswith(path) else where
        samples.append(preview_sample(sample, title))
        if len(samples) >= n:
            break
    return samples, bad


def run(args: argparse.Namespace) -> int:
    """Print the samples, or write them as a page with ``--html``; 0 on success.

    Args:
        args: the parsed command line.

    Raises:
        UserError: a bad option, or no valid record to show.
    """
    from easylm_commit.preview import render_html, render_terminal

    if args.num_samples < 1:
        raise UserError(f"-n/--num-samples must be at least 1, got {args.num_samples}")
    if args.offset < 0:
        raise UserError(f"--offset must be 0 or more, got {args.offset}")
    resolve_demo(args)
    formatter = mixing_formatter(args)
    transform = RecordTransform(formatter)
    source = input_name(args, formatter)
    samples, bad = collect(transform, read_items(args, formatter), args.num_samples,
                           args.offset, bad=BadRecords(args.strict), path=args.input)
    if not samples:
        if bad.count:
            after = f" from record {args.offset} on" if args.offset else ""
            raise UserError(bad.all_skipped(source + after, field_options(transform.formatter)))
        raise UserError(f"{source}: no valid record to show from record {args.offset} on")
    langs = getattr(formatter, "languages", None)
    if langs:
        mixing = "; ".join(f"{l.lang}: alpha {m.alpha if m else 0}, dictionary {l.dictionary}"
                           + (" (reversed)" if l.reverse_dictionary else "")
                           for l, m in zip(langs, formatter.mixers))
        meta = (f"{source} - {formatter.description}, seed {args.seed}, epoch {args.epoch}, "
                f"language sampling {'by corpus' if reads_corpora(args, formatter) else args.language_sampling}"
                + (f", batch {args.step}" if args.step else "") + "; " + mixing)
    else:
        mixer = formatter.mixer
        alpha = f"alpha {mixer.alpha if mixer else 0}"
        if mixer and args.alpha_schedule != "constant":
            alpha += (f" (batch {args.step} of {args.alpha_schedule} {args.alpha} -> {args.alpha_end} "
                      f"over {args.alpha_schedule_steps})")
        meta = (f"{source} - {formatter.description}, {alpha}, seed {args.seed}, "
                f"epoch {args.epoch}, dictionary {args.dictionary or '-'}"
                + (" (reversed)" if args.reverse_dictionary else ""))
    codes = [l.lang for l in langs or ()]
    if args.html:
        # The page replaces the terminal preview: a thousand samples asked for a page should
        # not also scroll past in the terminal.
        page = render_html(samples, heading="COMMIT preview", meta=meta, languages=codes)
        with atomic_output(args.html) as f:
            f.write(page)
    else:
        from rich.console import Console

        render_terminal(samples, Console(), heading=None if args.quiet else meta,
                        legend=not args.quiet, languages=codes)
    if not args.quiet:
        if bad.count:
            print(f"easylm-commit preview: {bad.summary()}", file=sys.stderr)
        if args.html:
            print(f"easylm-commit preview: wrote {len(samples)} sample(s) to {args.html}", file=sys.stderr)
    return 0
