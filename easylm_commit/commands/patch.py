"""``easylm-commit patch``: give an EasyLM checkout the DatasetFactory registry."""

from __future__ import annotations

import argparse

from easylm_commit import patching


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--easylm-dir", help="EasyLM checkout (default: $EASYLM_DIR)")
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true",
                   help="only say whether the checkout is patched; exit 1 if not")
    g.add_argument("--revert", action="store_true", help="take the patch out again")


def run(args: argparse.Namespace) -> int:
    d = patching.checkout_dir(args.easylm_dir)
    if args.check:
        state = patching.status(d)
        print({
            "applied": f"{d}: patched",
            "clean": f"{d}: not patched (run: easylm-commit patch --easylm-dir {d})",
            "mismatch": f"{d}: does not match {patching.TARGET}; the patch cannot apply",
        }[state])
        return 0 if state == "applied" else 1
    result = patching.revert(d) if args.revert else patching.apply(d)
    print(f"{d}: {result}")
    return 0
