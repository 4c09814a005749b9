"""``easylm-commit dict``: inspect and build dictionary files.

- ``reverse FILE --output OUT``: every pair swapped (an en-xx file as xx-en);
- ``merge FILE... --output OUT``: the union in first-seen order, each pair once; sources the
  files translate differently are reported (``dictionary_tools.merge``);
- ``check FILE [--data DATA] [--json]``: pairs, sources, identical pairs, phrases,
  translations outside the target's main script, sources with many translations; with
  ``--data``, how much of a data set's words the dictionary covers, as the mixer sees them;
- ``filter FILE --output OUT``: ``--drop-identical``, ``--drop-other-script``,
  ``--max-translations N``, with what each rule dropped.

Every FILE is a local path or a URL; outputs are written whole or not at all
(``atomic.atomic_output``; ``-`` is stdout). Malformed lines are skipped with one warning, as
``mix`` does, or stop the command with ``--strict``. The work is in
``easylm_commit.dictionary_tools``.
"""

from __future__ import annotations

import argparse
import json
import sys

from easylm_commit import options
from easylm_commit.commands._common import warn_skipped_lines
from easylm_commit.errors import UserError


MANY = 5
TOP = 20


def _common(parser: argparse.ArgumentParser) -> None:
    # As the CLI adds them to every command: SUPPRESS keeps a value given before the command
    # (`easylm-commit --quiet dict check ...`) from being reset by this parser's default.
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    parser.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars or chatter")
    options.add_flag(parser, "strict", help="stop at the first malformed dictionary line (or, "
                                             "with --data, bad record) instead of skipping it")


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, metavar="OUT",
                        help="dictionary file to write, a path or a URL ('-': stdout)")


def _script(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--script", metavar="NAME",
                        help="the target's main script, e.g. Devanagari (default: the most common "
                             "script among the translations)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommands and their flags.

    Args:
        parser: the ``dict`` command's parser.
    """
    sub = parser.add_subparsers(dest="dict_command", metavar="SUBCOMMAND")
    sub.required = True

    p = sub.add_parser("reverse", help="swap every pair (en-xx -> xx-en)",
                       description="Write every pair swapped, in the file's order.")
    p.add_argument("file", metavar="FILE", help="dictionary file, a path or a URL")
    _output(p)
    _common(p)

    p = sub.add_parser("merge", help="the union of several files, each pair once",
                       description="Write the union of the files' pairs in first-seen order, each "
                                   "pair once; report the sources the files translate differently.")
    p.add_argument("files", nargs="+", metavar="FILE", help="dictionary files, paths or URLs")
    _output(p)
    _common(p)

    p = sub.add_parser("check", help="what a dictionary holds, and how much of a data set it covers",
                       description="Count pairs, sources, identical pairs, phrases, translations "
                                   "outside the target's main script and sources with many "
                                   "translations; with --data, the coverage of a data set's words.")
    p.add_argument("file", metavar="FILE", help="dictionary file, a path or a URL")
    p.add_argument("--data", metavar="DATA",
                   help="Alpaca JSON array or JSONL file (a corpus with --text-field) whose words "
                        "to look up, as the mixer segments them")
    p.add_argument("--many", type=int, default=MANY, metavar="N",
                   help=f"list sources with more than N translations (default {MANY})")
    p.add_argument("--top", type=int, default=TOP, metavar="N",
                   help=f"missing words of --data to list (default {TOP})")
    _script(p)
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    options.add_flag(p, "reverse_dictionary",
                     help="check the file read target->source (e.g. an en-xx file against xx data)")
    options.add_flag(p, "text_field", help="with --data: look up this field of each record (a corpus) "
                                           "instead of the instruction, input and output")
    for name in ("instruction_field", "input_field", "output_field", "segmenter"):
        options.add_flag(p, name)
    options.add_flag(p, "protect", help="with --data: count code, URLs, e-mails, identifiers and "
                                        "acronyms as words too, as mixing with --no-protect does")
    _common(p)

    p = sub.add_parser("filter", help="drop identical pairs, other scripts, excess translations",
                       description="Write the pairs that the given rules keep, in the file's order, "
                                   "and say how many each rule dropped.")
    p.add_argument("file", metavar="FILE", help="dictionary file, a path or a URL")
    _output(p)
    options.add_flag(p, "drop_identical")
    p.add_argument("--drop-other-script", action="store_true",
                   help="drop pairs whose translation is not in the target's main script")
    p.add_argument("--max-translations", type=int, metavar="N",
                   help="keep at most N translations per source, the first N in file order")
    _script(p)
    _common(p)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; 0 on success.

    Args:
        args: the parsed command line.
    """
    return {"reverse": _reverse, "merge": _merge, "check": _check, "filter": _filter}[args.dict_command](args)


def _read(path, args):
    from easylm_commit.dictionary_tools import read_dictionary

    file = read_dictionary(path, strict=args.strict)
    warn_skipped_lines(file, args)
    return file


def _say(args, message):
    if not args.quiet:
        print(f"easylm-commit dict {args.dict_command}: {message}", file=sys.stderr)


def _write(args, pairs):
    from easylm_commit.atomic import atomic_output
    from easylm_commit.dictionary_tools import write_pairs

    with atomic_output(args.output) as out:
        written = write_pairs(out, pairs)
    if args.output != "-":
        _say(args, f"wrote {written} pair(s) to {args.output}")
    return written


def _reverse(args):
    from easylm_commit.dictionary_tools import reverse_pairs

    _write(args, reverse_pairs(_read(args.file, args).pairs))
    return 0


# Conflicts shown on stderr; the count says how many more there are.
SHOWN_CONFLICTS = 5


def _merge(args):
    from easylm_commit.dictionary_tools import merge

    result = merge([_read(path, args) for path in args.files])
    _write(args, result.pairs)
    _say(args, f"{result.read} pair(s) read from {len(args.files)} file(s), "
               f"{result.read - len(result.pairs)} repeated")
    if result.conflicts and not args.quiet:
        print(f"easylm-commit dict merge: {len(result.conflicts)} source(s) translated differently "
              f"by different files (all translations kept); first:", file=sys.stderr)
        for c in result.conflicts[:SHOWN_CONFLICTS]:
            held = "; ".join(f"{path}: {', '.join(t)}" for path, t in c.translations)
            print(f"  {c.source}: {held}", file=sys.stderr)
    return 0


def _filter(args):
    from easylm_commit.dictionary_tools import filter_pairs

    if not (args.drop_identical or args.drop_other_script or args.max_translations is not None):
        raise UserError("nothing to filter: give --drop-identical, --drop-other-script or "
                        "--max-translations N")
    if args.max_translations is not None and args.max_translations < 1:
        raise UserError(f"--max-translations must be at least 1, got {args.max_translations}")
    if args.script and not args.drop_other_script:
        raise UserError("--script names the script --drop-other-script keeps; give both")
    file = _read(args.file, args)
    result = filter_pairs(file.pairs, drop_identical=args.drop_identical,
                          drop_other_script=args.drop_other_script,
                          max_translations=args.max_translations, script=args.script, path=file.path)
    _write(args, result.pairs)
    d = result.dropped
    rules = []
    if args.drop_identical:
        rules.append(f"{d['identical']} identical")
    if args.drop_other_script:
        rules.append(f"{d['other_script']} not in {result.script}")
    if args.max_translations is not None:
        rules.append(f"{d['max_translations']} beyond {args.max_translations} translation(s)")
    _say(args, f"kept {len(result.pairs)} of {len(file.pairs)} pair(s); dropped " + ", ".join(rules))
    return 0


def _check(args):
    from easylm_commit import dictionary_tools

    if args.many < 0:
        raise UserError(f"--many must be 0 or more, got {args.many}")
    if args.top < 0:
        raise UserError(f"--top must be 0 or more, got {args.top}")
    file = _read(args.file, args)
    if args.reverse_dictionary:
        file = file.reversed()
    report = dictionary_tools.check(file, many=args.many, script=args.script)
    result = report.as_dict()
    result["reverse_dictionary"] = args.reverse_dictionary
    result["data"] = _coverage(args) if args.data else None
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_tables(result, args)
    return 0


def _coverage(args):
    from easylm_commit.dictionary import BilingualDictionary
    from easylm_commit.dictionary_tools import data_coverage
    from easylm_commit.progress import Progress
    from easylm_commit.records import BadRecords, iter_records
    from easylm_commit.templates import FieldNames, Formatter, TextFormatter

    options.check_args(args, "segmenter")
    # The dictionary exactly as mixing loads it, so "covered" is "could be replaced".
    dictionary = BilingualDictionary.load(args.file, reverse=args.reverse_dictionary)
    if args.text_field:
        read = TextFormatter(None, args.text_field).read_fields
        check_fields = f"check --text-field {args.text_field}"
    else:
        fields = FieldNames(args.instruction_field, args.input_field, args.output_field)
        read = Formatter(None, mode="none", fields=fields).read_fields
        check_fields = (f"check --instruction-field {args.instruction_field}, --input-field "
                        f"{args.input_field}, --output-field {args.output_field}")
    bad = BadRecords(args.strict)
    progress = Progress("dict check", quiet=args.quiet)
    records = progress.track(iter_records(args.data, on_total=progress.set_total))
    texts = (t for t in (bad.apply(where, read, record) for where, record in records) if t is not None)
    coverage = data_coverage(dictionary, texts, segmenter=args.segmenter, protect=args.protect)
    if not coverage.records:
        raise UserError(bad.all_skipped(args.data, check_fields) if bad.count
                        else f"{args.data}: no valid record")
    if bad.count:
        _say(args, bad.summary())
    return dict(input=args.data, skipped_records=bad.count, **coverage.as_dict(args.top))


def _pct(x):
    return f"{100 * x:.1f}%"


def _pairs(pairs, n=3):
    return ", ".join(f"{s} → {t}" for s, t in pairs[:n])


def _print_tables(r, args):
    from rich.console import Console
    from rich.table import Table

    console = Console()
    # soft_wrap: one line in a pipe or a log, as stats prints it.
    console.print(
        f"{r['dictionary']}{' (reversed)' if r['reverse_dictionary'] else ''}: {r['pairs']} pairs, "
        f"{r['sources']} sources ({r['mean_translations']:.2f} translations each), "
        f"{r['entries'] - r['pairs']} repeated, {r['skipped_lines']} malformed line(s) skipped"
        + (f" (first: line {r['first_skipped_line']})" if r["skipped_lines"] else ""),
        highlight=False, markup=False, soft_wrap=True,
    )
    script = r["main_script"] or "-"
    table = Table(title=f"Dictionary check (main script of the translations: {script})")
    table.add_column("finding", no_wrap=True)
    # Pairs for the first three rows, sources for the last: the labels say which.
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column("first examples")
    examples = r["examples"]
    for label, key in (("identical pairs (x x)", "identical"), ("multi-word entries", "multiword"),
                       (f"translations not in {script}", "other_script")):
        table.add_row(label, str(r[key]), _pct(r[key] / r["pairs"]), _pairs(examples[key]) or "-")
    top = ", ".join(f"{s} ({n})" for s, n in r["top_translations"][:5])
    table.add_row(f"sources with > {r['many_threshold']} translations", str(r["many_translations"]),
                  _pct(r["many_translations"] / r["sources"]), top or "-")
    others = ", ".join(f"{name} {n}" for name, n in r["scripts"].items())
    table.caption = f"Translations by script: {others}" if others else None
    _fit(console, table)
    console.print(table)
    d = r["data"]
    if d:
        cov = Table(title=f"Coverage of {d['input']} (words as mixing splits them)")
        for col in ("records", "words", "covered", "coverage", "distinct missing"):
            cov.add_column(col, justify="right")
        cov.add_row(str(d["records"]), str(d["words"]), str(d["covered"]), _pct(d["coverage"]),
                    str(d["distinct_missing"]))
        console.print(cov)
        if args.top:
            missing = ", ".join(f"{w} ({n})" for w, n in d["top_missing"]) or "-"
            console.print(f"Most frequent missing words (top {args.top}): {missing}",
                          highlight=False, markup=False, soft_wrap=True)


def _fit(console, table):
    if not console.is_terminal:
        # A pipe or a log has no screen to fit (as in stats): the table gets its natural width.
        wide = console.options.update_width(1 << 16)
        console.width = max(console.width, console.measure(table, options=wide).maximum)
