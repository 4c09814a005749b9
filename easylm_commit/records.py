"""Records on their way to the transform (``transform.py``), and the one bad-record policy.

Every record reaches the transform as an ``Item``: its epoch, its place in the epoch's order,
its row (with the epoch, the mixing key), the record -- or an ``InvalidRecord`` in place of one
that could not be read -- and where it is, for messages. ``BadRecords`` then skips and counts
the bad ones, or stops on the first under ``strict``: the same for training and commands.

Two ways to walk records yield these items:

- ``read(path)`` (the commands: ``mix``, ``preview``, ``stats``): one JSON / JSONL file in
  file order, parsed by Python's ``json``, local or at a URL (``gs://``, ``s3://``,
  ``file://``, ...; see ``fileio.py``). Each record comes as written -- its own keys, their
  order, its numbers -- which ``mix`` writes back, and ``where`` names the file's line.
- ``sources.RecordStream`` (the datasets): a Hugging Face dataset or a data file through
  ``datasets``, memory-mapped or streaming, shuffled per epoch, resumed from any position,
  read by worker processes themselves. Arrow gives every record every column (``None`` where
  a record lacks one) and one type per column, so the commands do not read through it: a
  mixed file would not be the input with its texts mixed.

A file whose first non-blank character is ``[`` is an Alpaca-style JSON array; anything
else is JSON Lines (one object per line, blank lines ignored). Errors name the file and
the line, so a user can open the file at the right place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from easylm_commit import fileio
from easylm_commit.errors import InvalidRecord, UserError


class Item(NamedTuple):
    """One record on its way to the transform.

    Attributes:
        epoch: the pass over the data it belongs to.
        position: its place in that epoch's order (what a resume needs).
        row: its index in the data; ``(epoch, row)`` is its mixing key, so a record is mixed
            the same way whatever the order it comes in.
        record: the record, or an ``InvalidRecord`` in place of one that could not be read.
        where: where it is, for messages: ``path:LINE``, ``path:record N`` or ``record N``.
    """
    epoch: int
    position: int
    row: int
    record: Any
    where: str


def _open(path):
    path = os.fspath(path)
    try:
        return fileio.open_text(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a JSON or JSONL file") from None


def is_json_array(path: str | os.PathLike) -> bool:
    with _open(path) as f:
        while True:
            chunk = f.read(4096)
            if not chunk:
                return False
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0] == "["


def count_lines(path: str | os.PathLike) -> int | None:
    """The lines of a local file, or ``None`` for a URL (counting would read it twice).
    Newlines are counted in binary blocks: about a millisecond a megabyte from the page cache,
    next to the seconds that mixing a megabyte of records takes."""
    local = fileio.local_path(path)
    if local is None or not os.path.isfile(local):
        return None
    lines, last = 0, b"\n"
    with open(local, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def iter_records(path: str | os.PathLike,
                 on_total: Callable[[int], Any] | None = None) -> Iterator[tuple[str, Any]]:
    """Yield ``(where, record)``; ``where`` reads ``path:LINE`` (JSONL) or ``path:record N``
    (JSON array, 1-based), for messages. A JSONL line that is not JSON comes as an
    ``InvalidRecord`` in place of the record (see ``BadRecords``); a JSON array that does not
    parse is an error of the whole file.

    ``on_total(n)``, if given, is called before the first record when the number of records
    is known without reading them twice: a JSON array's length once loaded, a local JSONL
    file's line count (blank lines included, so at most a little high)."""
    path = os.fspath(path)
    try:
        if is_json_array(path):
            with _open(path) as f:
                try:
                    data = json.load(f)
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
            if not isinstance(data, list):
                raise UserError(f"{path}: expected a JSON array of records")
            if on_total is not None:
                on_total(len(data))
            for i, record in enumerate(data, 1):
                yield f"{path}:record {i}", record
            return
        if on_total is not None:
            total = count_lines(path)
            if total is not None:
                on_total(total)
        with _open(path) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    # A bad line is a bad record: the caller's policy (BadRecords) skips and
                    # counts it, or stops on it with --strict.
                    record = InvalidRecord(f"invalid JSON line ({e.msg})")
                yield f"{path}:{lineno}", record
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def read(path: str | os.PathLike, *, epoch: int = 0,
         on_total: Callable[[int], Any] | None = None) -> Iterator[Item]:
    """The records of one file as ``Item``s, in file order: record i (from 0) is at position
    and row i of ``epoch``, so it is mixed with the key ``(epoch, i)`` as the training
    datasets mix the file's record i in that epoch (unshuffled).

    Args:
        path: a JSON array or JSONL file, local or at a URL.
        epoch: the epoch whose mixing to reproduce.
        on_total: called with the number of records once known (``iter_records``).
    """
    for index, (where, record) in enumerate(iter_records(path, on_total=on_total)):
        yield Item(epoch, index, index, record, where)


def copied(item: Item, copies: int) -> list[Item]:
    """``item`` ``copies`` times, as ``language_sampling=each`` reads every record once per
    language: copy ``j`` of the record at position ``p`` and row ``r`` is at position
    ``p * copies + j`` and row ``r * copies + j`` (so ``row % copies`` is ``j``, its
    language). ``sources.RecordStream(copies=...)`` numbers its copies here too, so the
    commands mix each copy with the dataset's key."""
    if copies == 1:
        return [item]
    return [item._replace(position=item.position * copies + j, row=item.row * copies + j)
            for j in range(copies)]


class BadRecords:
    """The one policy for bad records, used by every command and both datasets: skip and
    count them, or, with ``strict``, stop on the first with its location.

    ``apply(where, fn, record, *args)`` returns ``fn(record, *args)``, or ``None`` for a
    skipped record (``fn`` itself never returns ``None``). A record that arrives as an
    ``InvalidRecord`` (a line that is not JSON, a row Arrow could not store) is bad without
    calling ``fn``.

    The field names of the skipped records are kept (``fields``, the first ``MAX_FIELDS``
    seen): when every record is skipped for a missing field, the error lists the fields the
    records do have, which is what points at the misspelt option.
    """

    MAX_FIELDS = 12

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.count = 0
        self.first = None
        self.reasons = set()
        self.fields = {}    # names of the skipped records' fields, in first-seen order

    def apply(self, where: str, fn: Callable[..., Any], record: Any, *args: Any) -> Any:
        try:
            if isinstance(record, InvalidRecord):
                raise record
            return fn(record, *args)
        except InvalidRecord as e:
            if self.strict:
                raise UserError(f"{where}: {e}") from None
            self.count += 1
            self.reasons.add(str(e))
            if self.first is None:
                self.first = f"{where}: {e}"
            if isinstance(record, dict) and len(self.fields) <= self.MAX_FIELDS:
                for name in record:
                    self.fields.setdefault(name, None)
            return None

    def summary(self) -> str:
        """``N bad record(s) skipped; first: WHERE: WHY``, or ``""`` when none were."""
        return f"skipped {self.count} bad record(s); first: {self.first}" if self.count else ""

    def merge(self, other: BadRecords) -> None:
        """Add the counts of another ``BadRecords`` (a later stretch of the same input)."""
        self.count += other.count
        self.reasons |= other.reasons
        self.first = self.first or other.first
        for name in other.fields:
            if len(self.fields) <= self.MAX_FIELDS:
                self.fields.setdefault(name, None)

    def all_skipped(self, what: str, check: str = "", every: bool = False) -> str:
        """The message for an input none of whose records could be used: ``all N record(s)
        of WHAT skipped: WHY (records have: a, b, c; CHECK)`` (``every record of WHAT``
        with ``every``, where the count spans more than one pass). One reason for every
        record is a wrong option (a misspelt field name) rather than bad data, hence the
        fields the records do have, and ``check`` (the options to look at) when the reason
        is a field."""
        head = f"every record of {what}" if every else f"all {self.count} record(s) of {what}"
        if len(self.reasons) == 1:
            (why,) = self.reasons
            message = f"{head} skipped: {why}"
        else:
            message = f"{head} skipped; first: {self.first}"
        notes = []
        if self.fields:
            names = list(self.fields)
            more = len(names) > self.MAX_FIELDS
            notes.append("records have: " + ", ".join(names[:self.MAX_FIELDS]) + (", ..." if more else ""))
        if check and any(why.startswith("field ") for why in self.reasons):
            notes.append(check)
        return message + (f" ({'; '.join(notes)})" if notes else "")
