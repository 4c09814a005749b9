"""Opening files by local path or by URL: one place for every input and output file.

Pod users keep data in buckets. A path with a scheme (``gs://``, ``s3://``, ``file://``,
``memory://``, ``hf://``, ...) is opened through fsspec, the library that ``datasets`` (and,
for ``gs://``, ``mlxu.open_file``) already read remote files with; the filesystem for a
scheme comes from its own package (``gcsfs`` for ``gs://``, ``s3fs`` for ``s3://``).
A plain path is opened with the built-in ``open``, so local files behave, fail and cost
exactly as before. ``file://`` URLs become plain paths.

Callers keep their own ``except FileNotFoundError`` / ``IsADirectoryError`` /
``UnicodeDecodeError`` handling: fsspec raises the same built-in exceptions.
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

from easylm_commit.errors import UserError


def _split(path: str) -> tuple[str | None, str]:
    from fsspec.core import split_protocol

    return split_protocol(path)


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError:  # a core install without fsspec: only URLs need it
        raise UserError("paths with a scheme (gs://, s3://, ...) need fsspec: pip install fsspec") from None
    return fsspec


def local_path(path: str | os.PathLike[str]) -> str | None:
    """``path`` as a local path when it is one (``file://`` stripped), else ``None``."""
    path = os.fspath(path)
    if "://" not in path:
        return path
    protocol, rest = _split(path)
    if protocol in ("file", "local"):
        return rest
    return None


def filesystem(path: str | os.PathLike[str]) -> tuple[AbstractFileSystem, str]:
    """``(fsspec filesystem, path inside it)`` for a URL.

    Raises:
        UserError: fsspec, or the package of the URL's scheme (gcsfs, s3fs), is missing, or
            the scheme is unknown.
    """
    try:
        return _fsspec().core.url_to_fs(os.fspath(path))
    except (ImportError, ValueError) as e:  # e.g. gcsfs / s3fs not installed, unknown scheme
        raise UserError(f"{path}: cannot open this URL ({e})") from None


def open_text(path: str | os.PathLike[str], encoding: str = "utf-8-sig") -> IO[str]:
    """A text file opened for reading; the caller closes it (``with``). ``utf-8-sig`` drops a
    BOM; newlines are universal, as with ``open``."""
    local = local_path(path)
    if local is not None:
        return open(local, encoding=encoding)
    fs, inner = filesystem(path)
    if fs.isdir(inner):
        raise IsADirectoryError(path)
    return fs.open(inner, "rt", encoding=encoding)


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """A file opened for reading bytes (``fetch`` copies mirrors with it); the caller closes it."""
    local = local_path(path)
    if local is not None:
        return open(local, "rb")
    fs, inner = filesystem(path)
    return fs.open(inner, "rb")


def exists(path: str | os.PathLike[str]) -> bool:
    """``os.path.exists`` for a local path or a URL."""
    local = local_path(path)
    if local is not None:
        return os.path.exists(local)
    fs, inner = filesystem(path)
    return fs.exists(inner)


def isfile(path: str | os.PathLike[str]) -> bool:
    """``os.path.isfile`` for a local path or a URL."""
    local = local_path(path)
    if local is not None:
        return os.path.isfile(local)
    fs, inner = filesystem(path)
    return fs.isfile(inner)


def upload(local: str, url: str) -> None:
    """Copy the local file ``local`` to ``url`` in one piece (an object store's single
    PUT: readers see the old object or the whole new one)."""
    fs, inner = filesystem(url)
    fs.put_file(local, inner)
