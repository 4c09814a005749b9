"""Writing output files so that an error never leaves a half-written one: write a temporary
file beside the target, move it into place (``os.replace``, atomic on one file system) only
when everything was written.

A URL target (``gs://``, ``s3://``, ``memory://``; see ``fileio.py``) is written to a local
temporary file and uploaded in one piece when the block succeeds; object stores replace an
object whole. ``file://`` URLs are local paths.

The file gets the permissions ``open()`` would have given it -- ``0666`` less the user's
umask, or the mode of the file it replaces -- not ``mkstemp``'s private ``0600``, so a group
that shares a cluster can read what was written.
"""

import contextlib
import os
import shutil
import stat
import sys
import tempfile

from easylm_commit import fileio
from easylm_commit.errors import UserError


def _umask():
    # /proc tells without changing anything; os.umask can only be read by setting it, which
    # for a moment would apply to files that other threads create.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; it becomes ``path`` if the block succeeds."""
    path = os.fspath(path)
    local = fileio.local_path(path)
    if local is None:
        with _remote(path) as tmp:
            yield tmp
        return
    directory = os.path.dirname(os.path.abspath(local))
    if not os.path.isdir(directory):
        raise UserError(f"{path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(local)}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _mode_for(local))
        os.replace(tmp, local)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _remote(url):
    fileio.filesystem(url)  # an unusable URL fails before any work is done
    fd, tmp = tempfile.mkstemp(prefix=".easylm-commit-", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        try:
            fileio.upload(tmp, url)
        except OSError as e:
            raise UserError(f"{url}: cannot write ({type(e).__name__}: {e})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_output(path):
    """A text file (UTF-8) written through ``atomic_path``; ``-`` or ``None`` is stdout.

    Stdout gets the same promise: the output is spooled (in memory up to 8 MB, then in a
    temporary file) and copied to stdout only when the block succeeds, so a run that stops
    half-way leaves nothing half-written in a pipe either.
    """
    if path in (None, "-"):
        with tempfile.SpooledTemporaryFile(8 << 20, mode="w+", encoding="utf-8") as spool:
            yield spool
            spool.seek(0)
            shutil.copyfileobj(spool, sys.stdout)
            sys.stdout.flush()
        return
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        yield f


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary folder beside ``path`` (local only); it becomes ``path`` if the block
    succeeds, and is removed if it fails. A folder made this way exists whole or not at all,
    so its existence is the proof that it is complete. If ``path`` appeared meanwhile (another
    process built it), that one is kept and ``FileExistsError`` raised."""
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if os.path.lexists(path):
            raise FileExistsError(path)
        try:
            os.rename(tmp, path)
        except OSError:  # made by another process since the check (ENOTEMPTY)
            if os.path.lexists(path):
                raise FileExistsError(path) from None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
