"""Every EasyLM clone this project suggests or makes checks out the commit that patches/ was
made against and the tests run on (``easylm_path.EASYLM_COMMIT``): EasyLM has no releases and
its main moves, so "clone main" would give a user an untested checkout."""

import re
from pathlib import Path

from easylm_commit import patching
from easylm_commit.easylm_path import EASYLM_COMMIT, HOW_TO_GET

ROOT = Path(__file__).resolve().parent.parent
CLONE = re.compile(r"git clone[^\n]*github\.com/young-geng/EasyLM")


def files():
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs").glob("*.md"))
    yield from sorted((ROOT / "examples").glob("*.sh"))
    yield from sorted((ROOT / "easylm_commit").rglob("*.py"))


def test_the_pinned_commit_is_the_one_the_patch_names():
    assert re.fullmatch(r"[0-9a-f]{40}", EASYLM_COMMIT)
    short = re.search(r"\(([0-9a-f]{7})\)", patching.TARGET).group(1)
    assert EASYLM_COMMIT.startswith(short)
    assert EASYLM_COMMIT in HOW_TO_GET


def test_every_clone_checks_the_pinned_commit_out():
    unpinned = []
    for path in files():
        text = path.read_text(encoding="utf-8")
        for m in CLONE.finditer(text):
            # The checkout follows the clone in the same command (a line, or the `{ ...; }`
            # group the quickstart uses); the quickstart and easylm_path.py name the constant.
            after = text[m.start():m.start() + 600]
            if not any(pin in after for pin in (EASYLM_COMMIT, "$EASYLM_COMMIT", "{EASYLM_COMMIT}")):
                line = text.count("\n", 0, m.start()) + 1
                unpinned.append(f"{path.relative_to(ROOT)}:{line}")
    assert not unpinned, f"EasyLM cloned without checking out {EASYLM_COMMIT}: {unpinned}"
