"""``easylm-commit mix``: the offline path.

Instruction records -> JSONL with the mixed ``instruction``, ``input``, ``output`` and the
exact ``prompt`` and ``response`` strings a model is trained on (prompt masked, response
trained). With ``--text-field F``, each record's F is mixed as plain text and written back.

Record i is mixed with key ``(epoch, i)`` -- the same key the ``commit`` and
``codemix_clm`` datasets use -- so ``mix --epoch 0`` writes what the first training epoch sees.

With ``--languages`` each output record also has ``lang``, the language it was mixed into
(``_common.read_items`` says which records are read and with which keys).
"""

from __future__ import annotations

import argparse
import json
import sys

from easylm_commit.atomic import atomic_output
from easylm_commit.commands._common import (
    add_mixing_arguments, field_options, input_name, mixing_formatter, read_items, resolve_demo,
)
from easylm_commit.errors import UserError
from easylm_commit.progress import Progress
from easylm_commit.records import BadRecords
from easylm_commit.templates import Sample
from easylm_commit.transform import RecordTransform


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``mix``'s flags: its input and output, and the mixing flags.

    Args:
        parser: the command's parser.
    """
    parser.add_argument("--input", help="Alpaca JSON array or JSONL file")
    parser.add_argument("--output", help="JSONL file to write (default: stdout)")
    add_mixing_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Write the mixed records; 0 on success.

    Args:
        args: the parsed command line.

    Raises:
        UserError: a bad option, or no record left to write because all failed the same way.
    """
    resolve_demo(args)
    transform = RecordTransform(mixing_formatter(args))
    bad = BadRecords(args.strict)
    written = 0
    progress = Progress("mix", quiet=args.quiet)
    items = progress.track(read_items(args, transform.formatter, on_total=progress.set_total))
    with atomic_output(args.output) as out:
        for item, sample in transform.samples(items, bad):
            out.write(json.dumps(mixed_record(item.record, sample), ensure_ascii=False) + "\n")
            written += 1
        if not written and len(bad.reasons) == 1:
            # Every record failed the same way: a wrong option (a misspelt --text-field), not
            # bad data. Raised inside the block, so no empty output file is left behind.
            raise UserError(bad.all_skipped(input_name(args, transform.formatter),
                                            field_options(transform.formatter)))
    if bad.count and not args.quiet:
        print(f"easylm-commit mix: {bad.summary()}", file=sys.stderr)
    if not args.quiet and args.output not in (None, "-"):
        print(f"easylm-commit mix: wrote {written} record(s) to {args.output}",
              file=sys.stderr)
    return 0


def mixed_record(record: dict, sample: Sample) -> dict:
    """The record with its fields as mixed (``Sample.mixed_fields``); other fields (an ``id``, a
    ``category``) pass through untouched. A sample with a prompt also gets the exact
    ``prompt`` and ``response`` strings a model is trained on, and with ``--languages`` the
    ``lang`` it was mixed into (over a ``lang`` of the input's own)."""
    row = dict(record)
    row.update(sample.mixed_fields)
    if sample.prompt_segments:
        row["prompt"], row["response"] = sample.prompt, sample.response
    if sample.lang:
        row["lang"] = sample.lang
    return row
