"""Writing output files so that an error never leaves a half-written one: write a temporary
file beside the target, move it into place (``os.replace``, atomic on one file system) only
when everything was written."""

import contextlib
import os
import sys
import tempfile

from easylm_commit.errors import UserError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; it becomes ``path`` if the block succeeds."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UserError(f"{path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_output(path):
    """A text file (UTF-8) written through ``atomic_path``; ``-`` or ``None`` is stdout."""
    if path in (None, "-"):
        yield sys.stdout
        return
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        yield f
