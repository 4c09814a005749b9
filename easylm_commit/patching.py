"""Applying ``patches/*.patch`` (the DatasetFactory registry) to an EasyLM checkout.

``git apply`` does the work: it is exact about context and works in a plain directory as
well as in a clone. A checkout is *applied* when every patch reverses cleanly, *clean*
when every patch applies cleanly, and otherwise it does not match the EasyLM main these
patches were made against (fe5b2c3).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

from easylm_commit.easylm_path import checkout_dir
from easylm_commit.errors import UserError

TARGET = "young-geng/EasyLM main (fe5b2c3)"


def patches_dir() -> str:
    """Installed wheels carry the patches in ``easylm_commit/_patches`` (setup.py copies
    them there); a source checkout reads the top-level ``patches/``."""
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (os.path.join(here, "_patches"), os.path.join(os.path.dirname(here), "patches")):
        if glob.glob(os.path.join(d, "*.patch")):
            return d
    raise UserError("the EasyLM patches are missing from this installation (reinstall easylm-commit)")


def patch_files() -> list[str]:
    """The patches, in the order they apply."""
    return sorted(glob.glob(os.path.join(patches_dir(), "*.patch")))


def _git_apply(directory: str, patch: str, *flags: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        raise UserError("patching needs git on the PATH (git apply)")
    env = dict(os.environ)
    # Never let git find a repository *above* the checkout: paths would be taken from there.
    env["GIT_CEILING_DIRECTORIES"] = os.path.dirname(directory)
    return subprocess.run(
        ["git", "apply", *flags, patch], cwd=directory, env=env,
        capture_output=True, text=True,
    )


def status(easylm_dir: str | None = None) -> str:
    """``applied``, ``clean`` or ``mismatch`` for a checkout (module docstring).

    Args:
        easylm_dir: the checkout (default: ``$EASYLM_DIR``).
    """
    d = checkout_dir(easylm_dir)
    files = patch_files()
    if all(_git_apply(d, p, "--reverse", "--check").returncode == 0 for p in reversed(files)):
        return "applied"
    if all(_git_apply(d, p, "--check").returncode == 0 for p in files):
        return "clean"
    return "mismatch"


def apply(easylm_dir: str | None = None) -> str:
    """Patch the checkout; ``"patched"`` or ``"already patched"``.

    Raises:
        UserError: the checkout is neither the EasyLM these patches were made for nor that
            with the patches applied.
    """
    d = checkout_dir(easylm_dir)
    state = status(d)
    if state == "applied":
        return "already patched"
    if state == "mismatch":
        raise UserError(f"{d}: EasyLM/data.py does not match {TARGET}; the patch does not apply")
    for p in patch_files():
        r = _git_apply(d, p)
        if r.returncode:
            raise UserError(f"{d}: git apply {os.path.basename(p)} failed: {r.stderr.strip()}")
    return "patched"


def revert(easylm_dir: str | None = None) -> str:
    """Take the patches out; ``"reverted"`` or ``"not patched"`` (``UserError`` as ``apply``)."""
    d = checkout_dir(easylm_dir)
    state = status(d)
    if state == "clean":
        return "not patched"
    if state == "mismatch":
        raise UserError(f"{d}: EasyLM/data.py is neither {TARGET} nor that with the patch; not reverting")
    for p in reversed(patch_files()):
        r = _git_apply(d, p, "--reverse")
        if r.returncode:
            raise UserError(f"{d}: git apply --reverse {os.path.basename(p)} failed: {r.stderr.strip()}")
    return "reverted"
