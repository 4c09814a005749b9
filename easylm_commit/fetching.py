"""Downloading the paper's public inputs into the layout the other commands read
(``easylm-commit fetch``).

What is fetched, from where, and what each file is checked against is data, not code:
``fetch_manifest.json`` beside this module (or ``--manifest``). Per source: ``base`` and
``file`` (the URL is ``base/file``; ``--mirror`` replaces every ``base``), ``to`` (the path under
``--out``), the pin (``size`` and ``sha256``, or ``git_blob``: the id git gives the file in the
repository the URL names), ``extract`` (zip members to write out) or ``jsonl`` (a parquet shard
to rewrite as JSON Lines).

A download goes to ``<to>.part`` and becomes ``<to>`` only when it is complete and matches its
pin, so a file that exists is whole. A ``.part`` left by an interrupted run is continued where
it stopped (an HTTP Range request; a seek for local, ``file://`` and fsspec mirrors). A file
that does not match its pin is removed and named in a one-line error.

The layout under ``--out`` (the manifest's ``to``/``extract``/``jsonl``):

    en-<lang>.txt          MUSE dictionary (--dictionary)
    alpaca_data.json       Stanford Alpaca (--instructions)
    qa/<set>.json          test sets, SQuAD format, named as eval/data.py's SETS (--qa-data)
    wiki/<lang>.jsonl      a Wikipedia shard as {"text": ...} lines (--corpus)
    downloads/             the archives and shards these were made from
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.resources
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Collection, Iterator
from typing import IO, Any

from easylm_commit import fileio
from easylm_commit.atomic import atomic_output, atomic_path
from easylm_commit.errors import UserError

INPUTS = ("dictionary", "alpaca", "eval", "wiki")
CHUNK = 1 << 20
USER_AGENT = "easylm-commit-fetch"
# One source of the manifest: its fields are listed in the module docstring (JSON values).
Source = dict[str, Any]


def default_manifest() -> str:
    """The manifest that ships with the package."""
    return str(importlib.resources.files("easylm_commit") / "fetch_manifest.json")


# -- the manifest ------------------------------------------------------------------------------

def load_manifest(path: str | None = None) -> dict[str, Source]:
    """The manifest's sources, ``{id: source}``, checked field by field.

    Raises:
        UserError: a missing file, invalid JSON or a field of the wrong type, named: a
            hand-edited manifest (``--manifest``) fails before anything is downloaded.
    """
    path = path or default_manifest()
    try:
        with fileio.open_text(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise UserError(f"{path}: manifest not found") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        raise UserError(f'{path}: expected an object with a "sources" object')
    for sid, src in sources.items():
        where = f"{path}: source {sid!r}"
        if not isinstance(src, dict):
            raise UserError(f"{where}: expected an object")
        if src.get("input") not in INPUTS:
            raise UserError(f'{where}: "input" must be one of {", ".join(INPUTS)}')
        for field in ("base", "file", "to", "sha256", "git_blob", "jsonl", "lang"):
            if src.get(field) is not None and not isinstance(src[field], str):
                raise UserError(f'{where}: "{field}" must be a string or null')
        if src.get("size") is not None and (not isinstance(src["size"], int) or src["size"] < 0):
            raise UserError(f'{where}: "size" must be a number of bytes or null')
        if src.get("sha256") is not None and len(src["sha256"]) != 64:
            raise UserError(f'{where}: "sha256" must be 64 hex digits or null')
        if src.get("file") and not src.get("to"):
            raise UserError(f'{where}: "to" (the path under --out) is missing')
        extract = src.get("extract")
        if extract is not None and not (isinstance(extract, dict)
                                        and all(isinstance(v, str) for v in extract.values())):
            raise UserError(f'{where}: "extract" must map zip members to paths under --out')
    return sources


def languages(sources: dict[str, Source]) -> list[str]:
    """The languages the sources name, sorted (what ``--langs`` accepts)."""
    return sorted({s["lang"] for s in sources.values() if s.get("lang")})


def select(sources: dict[str, Source], langs: Collection[str],
           inputs: Collection[str]) -> list[tuple[str, Source]]:
    """The sources for ``langs`` and ``inputs``, in manifest order; language-free sources
    (Alpaca) whenever their input is asked for."""
    return [(sid, s) for sid, s in sources.items()
            if s["input"] in inputs and (s.get("lang") is None or s["lang"] in langs)]


def source_url(src: Source, mirror: str | None = None) -> str:
    """Where ``src`` is downloaded from: ``base/file``, or ``mirror/file`` (a folder or a
    URL) to fetch everything from one place."""
    base = mirror if mirror else src["base"]
    if "://" not in base:
        base = "file://" + os.path.abspath(base)
    return base.rstrip("/") + "/" + src["file"]


def is_pinned(src: Source) -> bool:
    """Whether the manifest gives a hash to check the download against."""
    return bool(src.get("sha256") or src.get("git_blob"))


# -- hashing -----------------------------------------------------------------------------------

def digests(path: str) -> tuple[int, str, str]:
    """``(size, sha256 hex, git blob id)`` of a file, in one read."""
    size = os.path.getsize(path)
    sha256 = hashlib.sha256()
    # git names a file sha1("blob <size>\0" + content): a repository's tree pins its files.
    blob = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            sha256.update(chunk)
            blob.update(chunk)
    return size, sha256.hexdigest(), blob.hexdigest()


def mismatch(src: Source, size: int, sha256: str, blob: str) -> str | None:
    """What in the file disagrees with the source's pin, or None."""
    if src.get("size") is not None and size != src["size"]:
        return f"size {size} bytes, expected {src['size']}"
    if src.get("sha256") and sha256 != src["sha256"].lower():
        return f"sha256 {sha256}, expected {src['sha256']}"
    if src.get("git_blob") and blob != src["git_blob"].lower():
        return f"git blob id {blob}, expected {src['git_blob']}"
    return None


# -- transfer ----------------------------------------------------------------------------------

@contextlib.contextmanager
def _open_at(url: str, offset: int) -> Iterator[tuple[IO[bytes], bool, int | None]]:
    """``(stream, resumed, length)``: the bytes of ``url`` from ``offset`` when ``resumed``,
    else from the start; ``length``, the bytes the stream should hold, when known.

    HTTP goes through urllib, not fsspec: fsspec's HTTP filesystem needs aiohttp, which is no
    dependency of this package, and resuming needs no more than one Range header. Everything
    else (a local or ``file://`` mirror, ``gs://``, ``s3://``) is a seekable file.
    """
    if url.split("://", 1)[0].lower() in ("http", "https"):
        import urllib.error
        import urllib.request

        headers = {"User-Agent": USER_AGENT}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                              timeout=60)
        except urllib.error.HTTPError as e:
            if e.code == 416 and offset:  # the part is as long as the file, or longer: redo it
                with _open_at(url, 0) as again:
                    yield again
                return
            raise UserError(f"{url}: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise UserError(f"{url}: cannot download ({reason}); run the same command again "
                            "to resume, or use --mirror") from None
        with response:
            resumed = bool(offset) and response.status == 206
            length = response.headers.get("Content-Length")
            yield response, resumed, int(length) if length and length.isdigit() else None
        return
    try:
        stream = fileio.open_binary(url)
    except (FileNotFoundError, IsADirectoryError):
        raise UserError(f"{url}: not found") from None
    except OSError as e:
        raise UserError(f"{url}: cannot read ({e})") from None
    with stream:
        stream.seek(offset)
        yield stream, True, None


def download(url: str, part: str, expected_size: int | None = None) -> int:
    """Continue (or start) ``part`` from ``url`` until the stream ends. Returns the bytes
    that were already there and kept (0: started over).

    Args:
        expected_size: the pinned size, if any: a longer part is started over, and a
            stream is not read beyond it.
    """
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    if expected_size is not None and offset > expected_size:
        offset = 0
    if expected_size is not None and offset == expected_size:
        return offset  # complete already; the caller verifies it
    with _open_at(url, offset) as (stream, resumed, length):
        kept = offset if resumed else 0
        received = 0
        with open(part, "ab" if kept else "wb") as out:
            try:
                for chunk in iter(lambda: stream.read(CHUNK), b""):
                    out.write(chunk)
                    received += len(chunk)
                    if expected_size is not None and kept + received > expected_size:
                        break  # longer than the pin: the caller's check names it
            except OSError as e:  # a dropped connection (http.client.IncompleteRead is one)
                raise UserError(f"{url}: download interrupted after {kept + received} bytes "
                                f"({type(e).__name__}); run the same command again to "
                                "resume") from None
        if length is not None and received < length:
            raise UserError(f"{url}: download interrupted after {kept + received} bytes; run "
                            "the same command again to resume")
    return kept


@dataclasses.dataclass
class Result:
    """What ``fetch_file`` did with one file."""
    path: str
    status: str       # skipped | done | resumed
    size: int
    sha256: str
    verified: bool    # checked against a pin (unpinned files are only downloaded)


def fetch_file(src: Source, url: str, dest: str) -> Result:
    """Make ``dest`` the verified download of ``url``; resumable, atomic. A ``Result`` with
    status ``skipped`` (already there), ``done`` or ``resumed``."""
    if os.path.exists(dest):
        size, sha256, blob = digests(dest)
        if not is_pinned(src) or mismatch(src, size, sha256, blob) is None:
            return Result(dest, "skipped", size, sha256, is_pinned(src))
        os.unlink(dest)  # replaced by hand, or the pin changed: fetch it again
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    part = dest + ".part"  # a fixed name (not atomic.py's random one): the next run resumes it
    kept = download(url, part, src.get("size"))
    size, sha256, blob = digests(part)
    wrong = mismatch(src, size, sha256, blob)
    if wrong:
        os.unlink(part)
        raise UserError(f"{dest}: {wrong} (from {url}); the download was removed")
    os.replace(part, dest)
    return Result(dest, "resumed" if kept else "done", size, sha256, is_pinned(src))


# -- derived files -----------------------------------------------------------------------------

def extract(zip_path: str, member: str, dest: str) -> int:
    """Write ``member`` of a zip file to ``dest`` (atomically); its size in bytes."""
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    try:
        with zipfile.ZipFile(zip_path) as z, z.open(member) as f, atomic_path(dest) as tmp, \
                open(tmp, "wb") as out:
            shutil.copyfileobj(f, out, CHUNK)
    except KeyError:
        raise UserError(f"{zip_path}: no member {member}") from None
    except zipfile.BadZipFile as e:
        raise UserError(f"{zip_path}: not a zip file ({e})") from None
    return os.path.getsize(dest)


def parquet_to_jsonl(parquet: str, dest: str) -> int:
    """Every row of a parquet shard as one JSON object a line (the corpus format that
    ``stats``, ``plan`` and the ``codemix_clm`` dataset all read). Returns the row count."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError("turning the Wikipedia shard into JSONL needs pyarrow: "
                        "pip install pyarrow (or 'easylm-commit[easylm]')") from None
    rows = 0
    try:
        table = pq.ParquetFile(parquet)
        with atomic_output(dest) as out:
            for batch in table.iter_batches(batch_size=1000):
                for record in batch.to_pylist():
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    rows += 1
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise UserError(f"{parquet}: not a readable parquet file ({e})") from None
    return rows


# -- all of it ---------------------------------------------------------------------------------

def fetch(out: str, langs: Collection[str], inputs: Collection[str], sources: dict[str, Source], *,
          mirror: str | None = None, echo: Callable[[str], object] = print,
          ) -> tuple[list[str], list[str]]:
    """Fetch the selected sources into ``out``. Returns ``(unverified, missing)``: the
    destinations with no pin, and the sources that name no file (their notes).

    Args:
        out: the folder of the layout in the module docstring.
        langs, inputs: what to fetch (``select``).
        sources: ``load_manifest``'s answer.
        mirror: fetch every file from here instead of its ``base`` (``source_url``).
        echo: where the one line per file goes.
    """
    unverified, missing = [], []
    for sid, src in select(sources, langs, inputs):
        if not src.get("file"):
            where = src.get("jsonl") or src.get("to") or sid
            echo(f"{where}: not fetched: {src.get('pinned_from', 'the manifest names no file')}")
            missing.append(where)
            continue
        url = source_url(src, mirror)
        dest = os.path.join(out, src["to"])
        r = fetch_file(src, url, dest)
        rel = os.path.relpath(dest, out)
        if r.status == "skipped":
            state = "skipped, already verified" if r.verified else "skipped, already downloaded"
        else:
            state = "done" + (", resumed" if r.status == "resumed" else "")
            state += ", verified" if r.verified else ""
        if not r.verified:
            state += f", UNVERIFIED (no pin): sha256 {r.sha256}"
            unverified.append(rel)
        echo(f"{rel}: {r.size:,} bytes, {state}")
        fresh = r.status != "skipped"
        for member, to in (src.get("extract") or {}).items():
            target = os.path.join(out, to)
            if fresh or not os.path.exists(target):
                n = extract(dest, member, target)
                echo(f"{to}: {n:,} bytes, extracted from {rel}")
            else:
                echo(f"{to}: {os.path.getsize(target):,} bytes, skipped, already extracted")
        if src.get("jsonl"):
            target = os.path.join(out, src["jsonl"])
            if fresh or not os.path.exists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                rows = parquet_to_jsonl(dest, target)
                echo(f"{src['jsonl']}: {os.path.getsize(target):,} bytes, {rows} records "
                     f"written from {rel}")
            else:
                echo(f"{src['jsonl']}: {os.path.getsize(target):,} bytes, skipped, already written")
    return unverified, missing
