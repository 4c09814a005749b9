"""``easylm-commit mix``: the offline path.

Instruction records -> JSONL with the mixed ``instruction``, ``input``, ``output`` and the
exact ``prompt`` and ``response`` strings a model is trained on (prompt masked, response
trained). With ``--text-field F``, each record's F is mixed as plain text and written back.

Record i is mixed with key ``(epoch, i)`` -- the same key the ``commit`` and
``codemix_clm`` datasets use -- so ``mix --epoch 0`` writes what the first training epoch sees.
"""

import json
import sys

from tqdm import tqdm

from easylm_commit.atomic import atomic_output
from easylm_commit.commands._common import (
    add_mixing_arguments, build_formatter, build_mixer, resolve_demo,
)
from easylm_commit.errors import UserError
from easylm_commit.records import iter_records
from easylm_commit.templates import InvalidRecord

HELP = "code-mix instruction records or a text corpus into JSONL"


def add_arguments(parser):
    parser.add_argument("--input", help="Alpaca JSON array or JSONL file")
    parser.add_argument("--output", help="JSONL file to write (default: stdout)")
    add_mixing_arguments(parser)


def run(args):
    resolve_demo(args)
    mixer = build_mixer(args)
    formatter = None if args.text_field else build_formatter(args, mixer)
    written = skipped = 0
    first_skip = None
    reasons = set()
    records = iter_records(args.input)
    with atomic_output(args.output) as out:
        for index, (where, record) in enumerate(
            tqdm(records, desc="mix", unit=" rec", disable=True if args.quiet else None, mininterval=0.5)
        ):
            key = (args.epoch, index)
            try:
                row = _mix_text(mixer, record, args.text_field, key) if args.text_field \
                    else _mix_instruction(formatter, record, key)
            except InvalidRecord as e:
                if args.strict:
                    raise UserError(f"{where}: {e}") from None
                skipped += 1
                first_skip = first_skip or f"{where}: {e}"
                reasons.add(str(e))
                continue
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
        if not written and len(reasons) == 1:
            # Every record failed the same way: a wrong option (a misspelt --text-field), not
            # bad data. Raised inside the block, so no empty output file is left behind.
            raise UserError(f"all {skipped} record(s) of {args.input} skipped: {reasons.pop()}"
                            f"{_field_hint(args)}")
    if skipped and not args.quiet:
        print(f"easylm-commit mix: skipped {skipped} bad record(s); first: {first_skip}",
              file=sys.stderr)
    if not args.quiet and args.output not in (None, "-"):
        print(f"easylm-commit mix: wrote {written} record(s) to {args.output}",
              file=sys.stderr)
    return 0


def _field_hint(args):
    if args.text_field:
        return f" (check --text-field {args.text_field})"
    return (f" (check --instruction-field {args.instruction_field}, --input-field "
            f"{args.input_field}, --output-field {args.output_field})")


def _mix_instruction(formatter, record, key):
    s = formatter.format(record, key)
    return {"instruction": s.instruction, "input": s.input, "output": s.output,
            "prompt": s.prompt, "response": s.response}


def _mix_text(mixer, record, field, key):
    if not isinstance(record, dict) or not isinstance(record.get(field), str):
        raise InvalidRecord(f"field {field!r} is missing or not a string")
    row = dict(record)
    row[field] = mixer.mix(record[field], key + (field,)) if mixer else record[field]
    return row
