"""Writing output files so that an error never leaves a half-written one: write a temporary
file beside the target, move it into place (``os.replace``, atomic on one file system) only
when everything was written.

A URL target (``gs://``, ``s3://``, ``memory://``; see ``fileio.py``) is written to a local
temporary file and uploaded in one piece when the block succeeds; object stores replace an
object whole. ``file://`` URLs are local paths.

The file gets the permissions ``open()`` would have given it -- ``0666`` less the user's
umask, or the mode of the file it replaces -- not ``mkstemp``'s private ``0600``, so a group
that shares a cluster can read what was written.

A failure to write -- a full disk, a quota, a read-only file system, a folder without write
permission -- is a ``UserError`` naming the output and the cause (``out.jsonl: cannot write: No
space left on device``): the user can fix it, and a traceback would hide the one line that says
which file. The temporary file is removed in every case, an interruption (Ctrl-C, the CLI's
SIGTERM) included.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

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


# Errors that only writing gives. An OSError raised in the caller's block without a file name
# (``f.write`` and ``f.close`` give none) is the output's when its errno is one of these; with
# a file name it is the output's only when it names the output, so that an input that cannot
# be read is still reported as that input.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _is_write_error(e, *paths):
    if e.filename is None:
        return e.errno in _WRITE_ERRNOS
    return e.filename in paths


def _cannot_write(path, e):
    return UserError(f"{path}: cannot write: {e.strerror or e}")


def _mode_for(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside ``path``; it becomes ``path`` if the block succeeds.

    Args:
        path: a local path or a URL (uploaded in one piece when the block succeeds).

    Raises:
        UserError: the folder does not exist, or the file cannot be written (a full disk,
            no permission): the message names ``path``, not the temporary file.
    """
    path = os.fspath(path)
    local = fileio.local_path(path)
    if local is None:
        with _remote(path) as tmp:
            yield tmp
        return
    directory = os.path.dirname(os.path.abspath(local))
    if not os.path.isdir(directory):
        raise UserError(f"{path}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(local)}.", suffix=".tmp", dir=directory)
    except OSError as e:  # a read-only folder or file system, no inode left
        raise _cannot_write(path, e) from None
    try:
        os.close(fd)
        yield tmp
        os.chmod(tmp, _mode_for(local))
        os.replace(tmp, local)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and _is_write_error(e, tmp, local):
            raise _cannot_write(path, e) from None
        raise


@contextlib.contextmanager
def _remote(url):
    fileio.filesystem(url)  # an unusable URL fails before any work is done
    try:
        fd, tmp = tempfile.mkstemp(prefix=".easylm-commit-", suffix=".tmp")
    except OSError as e:
        raise UserError(f"{url}: cannot write its local copy in {tempfile.gettempdir()}: "
                        f"{e.strerror or e}") from None
    try:
        os.close(fd)
        try:
            yield tmp
        except OSError as e:
            if _is_write_error(e, tmp):  # the local copy is in TMPDIR: say so
                raise UserError(f"{url}: cannot write its local copy {tmp}: {e.strerror or e}") from None
            raise
        try:
            fileio.upload(tmp, url)
        except OSError as e:
            raise UserError(f"{url}: cannot write ({type(e).__name__}: {e})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str] | None) -> Iterator[IO[str]]:
    """A text file (UTF-8) written through ``atomic_path``; ``-`` or ``None`` is stdout.

    Stdout gets the same promise: the output is spooled (in memory up to 8 MB, then in a
    temporary file) and copied to stdout only when the block succeeds, so a run that stops
    half-way leaves nothing half-written in a pipe either.
    """
    if path in (None, "-"):
        with tempfile.SpooledTemporaryFile(8 << 20, mode="w+", encoding="utf-8") as spool:
            try:
                yield spool
            except OSError as e:
                if _is_write_error(e):  # the spool went past 8 MB onto a full TMPDIR
                    raise UserError(f"cannot spool the output in {tempfile.gettempdir()}: "
                                    f"{e.strerror or e}") from None
                raise
            spool.seek(0)
            try:
                shutil.copyfileobj(spool, sys.stdout)
                sys.stdout.flush()
            except OSError as e:
                if _is_write_error(e):  # `> out.jsonl` onto a full disk
                    raise _cannot_write("stdout", e) from None
                raise
        return
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        yield f


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[str]:
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
