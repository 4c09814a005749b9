"""``easylm-commit doctor``: is this environment ready to train with EasyLM?

One line per finding -- ``ok``, ``warn`` or ``FAIL`` -- and what to do about it. Exit
status 1 when anything FAILs, so scripts can gate a TPU job on it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from importlib import metadata


# Versions seen working together with EasyLM main (fe5b2c3) on Python 3.11; EasyLM's own
# scripts pin jax, flax, optax and transformers. Keep in step with setup.py's "easylm" extra.
KNOWN_WORKING = {
    "jax": "0.4.28",
    "jaxlib": "0.4.28",
    "flax": "0.8.3",
    "optax": "0.2.2",
    "transformers": "4.41.0",
    "mlxu": "0.2.0",
    "wandb": "0.19 - 0.21",
}


ROUTES = ("launcher", "patched")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--easylm-dir", help="EasyLM checkout (default: $EASYLM_DIR or the Python path)")
    parser.add_argument("--route", choices=ROUTES, default=os.environ.get("TRAIN_ROUTE") or None,
                        help="how you will train (default: $TRAIN_ROUTE, as in examples/): "
                             "'launcher' (python -m easylm_commit.llama_train) needs no patch, so "
                             "an unpatched checkout is ok; 'patched' makes it a FAIL")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _wandb_ok(v: str) -> bool:
    major_minor = tuple(int(x) for x in v.split(".")[:2])
    return (0, 19) <= major_minor <= (0, 21)


def findings(easylm_dir: str | None = None, route: str | None = None) -> list[tuple[str, str]]:
    """(level, message) pairs; level is ok | warn | FAIL. ``route`` is the train route the
    user chose (``launcher`` | ``patched``), or ``None`` when either may be used."""
    out = []
    for dist, want in KNOWN_WORKING.items():
        have = _version(dist)
        if have is None:
            out.append(("FAIL", f"{dist} is not installed (known to work: {want}); "
                                "pip install 'easylm-commit[easylm]'"))
        elif dist == "wandb":
            if _wandb_ok(have):
                out.append(("ok", f"wandb {have}"))
            else:
                out.append(("warn", f"wandb {have}: mlxu 0.2.0 passes start_method to wandb.Settings, "
                                    "which only 0.19-0.21 accept; pip install 'wandb>=0.19,<0.22'"))
        elif have == want:
            out.append(("ok", f"{dist} {have}"))
        else:
            out.append(("warn", f"{dist} {have} differs from {want}, the version known to work "
                                f"with EasyLM main; pip install '{dist}=={want}' if training fails"))

    d = easylm_dir or os.environ.get("EASYLM_DIR") or None
    if d and not os.path.isfile(os.path.join(d, "EasyLM", "data.py")):
        out.append(("FAIL", f"{d}: not an EasyLM checkout (no EasyLM/data.py)"))
        return out
    if d and d not in sys.path:
        sys.path.insert(0, os.path.abspath(d))
    try:
        with warnings.catch_warnings():
            # wandb (through mlxu) trips pydantic's warnings on import: noise, not findings.
            warnings.simplefilter("ignore")
            data = importlib.import_module("EasyLM.data")
    except ImportError as e:
        out.append(("FAIL", f"EasyLM is not importable ({e}); clone young-geng/EasyLM and set "
                            "EASYLM_DIR (or pass --easylm-dir)"))
        return out
    where = os.path.dirname(os.path.dirname(os.path.abspath(data.__file__)))
    out.append(("ok", f"EasyLM importable from {where}"))

    from easylm_commit import patching, registry

    try:
        state = patching.status(where)
    except Exception as e:  # git missing, say; not fatal for the launcher route
        state = None
        out.append(("warn", f"cannot check the patch: {e}"))
    if state == "applied":
        out.append(("ok", "the DatasetFactory registry patch is applied"))
    elif state == "clean" and route == "launcher":
        out.append(("ok", "EasyLM is not patched, as the launcher route needs "
                          "(python -m easylm_commit.llama_train registers the types at run time)"))
    elif state == "clean":
        out.append(("FAIL" if route == "patched" else "warn",
                    "EasyLM is not patched: use python -m easylm_commit.llama_train, or "
                    f"easylm-commit patch --easylm-dir {where}"))
    elif state == "mismatch":
        out.append(("FAIL" if route == "patched" else "warn",
                    f"EasyLM/data.py does not match {patching.TARGET}: the patch cannot "
                    "apply; the launcher python -m easylm_commit.llama_train may still work"))

    names = registry.entry_point_names()
    missing = [n for n in registry.dataset_types() if n not in names]
    if missing:
        out.append(("FAIL", f"entry points {', '.join(missing)} are not declared in group "
                            f"{registry.ENTRY_POINT_GROUP}: reinstall easylm-commit (pip install -e .)"))
    else:
        out.append(("ok", f"entry points declared: {', '.join(names)}"))
    if registry.is_patched(data.DatasetFactory):
        known = data.DatasetFactory.registered_types()
        lost = [n for n in registry.dataset_types() if n not in known]
        if lost:
            out.append(("FAIL", f"patched EasyLM does not see {', '.join(lost)}"))
        else:
            out.append(("ok", "--train_dataset.type=commit and codemix_clm are registered in EasyLM"))
    return out


def run(args: argparse.Namespace) -> int:
    results = findings(args.easylm_dir, route=args.route)
    for level, message in results:
        print(f"{level:>4}  {message}")
    return 1 if any(level == "FAIL" for level, _ in results) else 0
