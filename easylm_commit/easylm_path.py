"""Finding EasyLM, which is not on PyPI: an importable ``EasyLM`` package, or the checkout
named by ``--easylm-dir`` or the ``EASYLM_DIR`` environment variable."""

from __future__ import annotations

import os
import sys

from easylm_commit.errors import UserError

# The commit patches/ was made against and the tests run on. EasyLM has no releases and main
# moves, so every clone this package suggests or makes checks this commit out: a newer main may
# still work, but it is not what was tested (``easylm-commit doctor`` says whether the patch
# applies to the checkout you have).
EASYLM_COMMIT = "fe5b2c354e25d697fce7cd225e23bbbe72570da3"
CLONE = (f"git clone https://github.com/young-geng/EasyLM && "
         f"git -C EasyLM checkout {EASYLM_COMMIT}")

HOW_TO_GET = (
    f"EasyLM is not on PyPI: `{CLONE}`, then set EASYLM_DIR to the checkout (or pass --easylm-dir)"
)


def checkout_dir(easylm_dir: str | None = None, required: bool = True) -> str | None:
    """The checkout directory (holding ``EasyLM/data.py``), or None if not required.

    Args:
        easylm_dir: the checkout; default ``$EASYLM_DIR``.
        required: whether having none is an error (``UserError``) rather than ``None``.
    """
    d = easylm_dir or os.environ.get("EASYLM_DIR", "")
    if not d:
        if required:
            raise UserError(f"no EasyLM checkout given. {HOW_TO_GET}")
        return None
    if not os.path.isfile(os.path.join(d, "EasyLM", "data.py")):
        raise UserError(f"{d}: not an EasyLM checkout (no EasyLM/data.py). {HOW_TO_GET}")
    return os.path.abspath(d)


def ensure_importable(easylm_dir: str | None = None) -> str | None:
    """Put the checkout first on ``sys.path`` (if one is named) and import ``EasyLM``."""
    d = checkout_dir(easylm_dir, required=False)
    if d and d not in sys.path:
        sys.path.insert(0, d)
    try:
        import EasyLM  # noqa: F401
    except ImportError:
        raise UserError(f"cannot import EasyLM. {HOW_TO_GET}") from None
    return d
