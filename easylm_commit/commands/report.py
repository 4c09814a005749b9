"""``easylm-commit report``: lm-eval result files -> the paper's Tables 2 and 6 (Markdown, CSV,
PNG), with ``--select-by`` the run that wins on a validation task (the paper's choice of α), and
with ``--separate`` a joint model's scores beside each language's own model's."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULTS.json",
                        help="result files written by easylm-commit eval (or lm_eval)")
    parser.add_argument("--names", nargs="+", default=None, metavar="NAME",
                        help="one row name per results file, as the paper's rows read (LLaMA, "
                             "Alpaca, naive, MT, COMMIT, Align+COMMIT; default: the model "
                             "directory's name from the file, else the file name)")
    parser.add_argument("--select-by", default=None, metavar="TASK",
                        help="choose the run with the best EM on TASK, F1 breaking ties (e.g. "
                             "commit_mlqa_hi_dev); prints 'selected: NAME' and writes the choice "
                             "into report.md and selection.json")
    parser.add_argument("--separate", action="append", default=[], metavar="NAME=FILE",
                        help="a results file of one language's own model, compared with the joint "
                             "model's run NAME (one of --names) in a joint-vs-separate table "
                             "(report.md, joint_vs_separate.csv); repeat it for every language "
                             "and run (plan --languages ... --separate writes them)")
    parser.add_argument("--out-dir", required=True,
                        help="where to write report.md, table2/table6 .csv and _em.png")


def run(args: argparse.Namespace) -> int:
    from easylm_commit.errors import UserError
    from easylm_commit.eval.report import (collect, compare, markdown_report, parse_separate,
                                           select, write_report)

    names = args.names or [None] * len(args.results)
    if len(names) != len(args.results):
        raise UserError(
            f"--names gives {len(names)} names for {len(args.results)} results files"
        )
    entries = collect(list(zip(args.results, names)))
    # Everything that can fail on the input fails before the first file is written.
    selection = select(entries, args.select_by) if args.select_by else None
    comparison = None
    if args.separate:
        comparison = compare(entries, collect((path, name) for name, path in parse_separate(args.separate)))
    paths = write_report(entries, args.out_dir, selection, comparison)
    if selection is not None and selection.ties():
        print(f"easylm-commit report: warning: {selection.selected.model} ties with "
              f"{', '.join(selection.ties())} on {selection.task} EM and F1; the run listed "
              f"first is selected", file=sys.stderr)
    if not args.quiet:
        print(markdown_report(entries, selection, comparison))
        print("wrote " + ", ".join(str(p) for p in paths))
    elif selection is not None:
        print(f"selected: {selection.selected.model}")
    return 0
