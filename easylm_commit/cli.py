"""``easylm-commit``: the console script.

Each subcommand lives in its own module under ``easylm_commit/commands/`` with two names:
``add_arguments(parser)`` and ``run(args) -> int``; its one line of help is in ``HELPS`` here.
Modules are imported only when their command runs, so ``easylm-commit mix`` never pays for
importing lm-eval or matplotlib, and ``--help`` imports none of them.

Errors: a ``UserError`` (bad input the user can fix) becomes one line on stderr and exit
status 2; ``--debug`` shows the traceback instead. Usage errors (``--alpha abc``, an unknown
option) are one line too, with a pointer to ``--help`` rather than argparse's usage block, which
buries the one line that matters under a dozen lines of options.

``--debug`` and ``--quiet`` are accepted before the command (``easylm-commit --debug mix ...``)
and after it.

Stopping: Ctrl-C prints one line and exits 130; SIGTERM -- what Slurm, Kubernetes and a
preempted TPU VM send before they kill -- the same with 143 (128 + 15). Both unwind as an
exception, so every output being written removes its temporary file and nothing half-written
is left (``easylm_commit.atomic``); ``plan`` stops the step it is running too.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType, ModuleType
from typing import NoReturn

from easylm_commit.errors import UserError

# name -> module under easylm_commit.commands; the order is the order of ``--help``.
COMMANDS = {
    "mix": "mix",
    "preview": "preview",
    "stats": "stats",
    "dict": "dictcmd",
    "doctor": "doctor",
    "patch": "patch",
    "eval": "evaluate",
    "report": "report",
    "plan": "plan",
    "fetch": "fetch",
}

# One-line help for every command without importing its module (keeps --help instant).
HELPS = {
    "mix": "code-mix instruction records or a text corpus into JSONL (Eq. 2-5)",
    "preview": "show formatted samples like the paper's Figure 1 (terminal or --html)",
    "stats": "dictionary coverage, expected mixing rate and tokens/steps per epoch",
    "dict": "reverse, merge, check and filter bilingual dictionary files",
    "doctor": "check EasyLM, package versions, the patch and the dataset registry",
    "patch": "apply (or --check / --revert) the dataset-registry patch to an EasyLM checkout",
    "eval": "run the paper's QA benchmarks with lm-eval",
    "report": "lm-eval results -> the paper's Tables 2 and 6; --select-by chooses a run; "
              "--separate: a joint model beside each language's own",
    "plan": "the paper's experiment for one language (or one joint model for several: "
            "--languages): checks, then every step, resumable",
    "fetch": "download the dictionaries, Alpaca, the test sets and a Wikipedia shard, verified",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error printed as one line naming the option, then exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    # The command's copies default to SUPPRESS: argparse copies a subparser's defaults over the
    # main parser's values, which would undo `easylm-commit --debug mix`.
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show tracebacks on errors")
    parser.add_argument("--quiet", action="store_true", default=default,
                        help="no progress bars or chatter")


def build_parser() -> tuple[OneLineParser, argparse._SubParsersAction]:
    """The parser and its subparsers, one per command, each without the command's own
    arguments (``main`` adds those of the command that runs only)."""
    from easylm_commit import __version__

    parser = OneLineParser(
        prog="easylm-commit",
        description="COMMIT: code-mixed instruction tuning for EasyLM's LLaMA.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in COMMANDS:
        p = sub.add_parser(name, help=HELPS[name], description=HELPS[name])
        p.set_defaults(_command=name)
        _common(p)
    return parser, sub


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is. A KeyboardInterrupt, so that code which cleans up
    after Ctrl-C (``atomic_path``, ``subprocess``, the plan's runner) does so for SIGTERM too."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the command runs, SIGTERM raises ``Terminated``; the previous handler comes back
    afterwards (``main`` is also called in-process, by tests and scripts)."""
    raised = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if not raised:  # a second SIGTERM must not break into the cleanup of the first
            raised.append(signum)
            raise Terminated()

    if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        # Whoever started us chose to ignore SIGTERM; Python keeps an ignored SIGINT too.
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"easylm_commit.commands.{COMMANDS[name]}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command, as the console script does; its exit status (module docstring).

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``); tests and
            scripts call ``main`` in-process with their own.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, sub = build_parser()
    # Only the chosen command's module is imported and asked for its arguments. The top-level
    # options (-h, --version, --debug, --quiet) take no value, so the first non-option word is
    # the command.
    name = next((a for a in argv if not a.startswith("-")), None)
    name = name if name in COMMANDS else None
    if name is not None:
        _load(name).add_arguments(sub.choices[name])
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse would blame the top-level parser; the command's is the one to read
        (sub.choices[name] if name else parser).error(f"unrecognized arguments: {' '.join(extra)}")
    args.deferred_warnings = []  # printed after a successful run (commands/_common.py)
    try:
        with _sigterm_raises():
            status = int(_load(args._command).run(args) or 0)
        if status == 0 and not args.quiet:
            for message in args.deferred_warnings:
                print(message, file=sys.stderr)
        return status
    except UserError as e:
        if args.debug:
            raise
        print(f"easylm-commit {args._command}: error: {e}", file=sys.stderr)
        return 2
    except Terminated:
        print(f"easylm-commit {args._command}: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("easylm-commit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
