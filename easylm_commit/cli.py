"""``easylm-commit``: the console script.

Each subcommand lives in its own module under ``easylm_commit/commands/`` with three names:
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported
only when their command runs, so ``easylm-commit mix`` never pays for importing lm-eval or
matplotlib.

Errors: a ``UserError`` (bad input the user can fix) becomes one line on stderr and exit
status 2; ``--debug`` shows the traceback instead.
"""

import argparse
import importlib
import sys

from easylm_commit.errors import UserError

# name -> module under easylm_commit.commands; the order is the order of ``--help``.
COMMANDS = {
    "mix": "mix",
    "preview": "preview",
    "stats": "stats",
    "doctor": "doctor",
    "patch": "patch",
    "eval": "evaluate",
    "report": "report",
}

# One-line help for every command without importing its module (keeps --help instant).
HELPS = {
    "mix": "code-mix instruction records or a text corpus into JSONL (Eq. 2-5)",
    "preview": "show formatted samples like the paper's Figure 1 (terminal or --html)",
    "stats": "dictionary coverage, expected mixing rate and tokens/steps per epoch",
    "doctor": "check EasyLM, package versions, the patch and the dataset registry",
    "patch": "apply (or --check / --revert) the dataset-registry patch to an EasyLM checkout",
    "eval": "run the paper's QA benchmarks with lm-eval",
    "report": "lm-eval results -> the paper's Tables 2 and 6; --select-by chooses a run",
}


def _common(parser):
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or chatter")


def build_parser():
    from easylm_commit import __version__

    parser = argparse.ArgumentParser(
        prog="easylm-commit",
        description="COMMIT: code-mixed instruction tuning for EasyLM's LLaMA.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        p = sub.add_parser(name, help=HELPS[name], description=HELPS[name])
        p.set_defaults(_command=name)
        _common(p)
    return parser, sub


def _load(name):
    return importlib.import_module(f"easylm_commit.commands.{COMMANDS[name]}")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, sub = build_parser()
    # Only the chosen command's module is imported and asked for its arguments. The only
    # top-level options are -h/--version, so the first non-option word is the command.
    name = next((a for a in argv if not a.startswith("-")), None)
    name = name if name in COMMANDS else None
    if name is not None:
        _load(name).add_arguments(sub.choices[name])
    args = parser.parse_args(argv)
    try:
        return int(_load(args._command).run(args) or 0)
    except UserError as e:
        if args.debug:
            raise
        print(f"easylm-commit {args._command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("easylm-commit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
