"""Reading instruction records and corpora from JSON / JSONL files, local or at a URL
(``gs://``, ``s3://``, ``file://``, ...; see ``fileio.py``).

A file whose first non-blank character is ``[`` is an Alpaca-style JSON array; anything
else is JSON Lines (one object per line, blank lines ignored). Errors name the file and
the line, so a user can open the file at the right place.
"""

import json
import os

from easylm_commit import fileio
from easylm_commit.errors import InvalidRecord, UserError


def _open(path):
    path = os.fspath(path)
    try:
        return fileio.open_text(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a JSON or JSONL file") from None


def is_json_array(path):
    with _open(path) as f:
        while True:
            chunk = f.read(4096)
            if not chunk:
                return False
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0] == "["


def iter_records(path):
    """Yield ``(where, record)``; ``where`` reads ``path:LINE`` (JSONL) or ``path:record N``
    (JSON array, 1-based), for messages. A JSONL line that is not JSON comes as an
    ``InvalidRecord`` in place of the record (see ``BadRecords``); a JSON array that does not
    parse is an error of the whole file."""
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
            for i, record in enumerate(data, 1):
                yield f"{path}:record {i}", record
            return
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


def read_records(path):
    """All records of a file as a list (Alpaca-sized data; corpora should stream)."""
    return [record for _, record in iter_records(path)]


# A record that could not be stored as it was (see sources.py) carries only this field: why.
INVALID_FIELD = "__easylm_commit_invalid__"


class BadRecords:
    """The one policy for bad records, used by every command and both datasets: skip and
    count them, or, with ``strict``, stop on the first with its location.

    ``apply(where, fn, record, *args)`` returns ``fn(record, *args)``, or ``None`` for a
    skipped record (``fn`` itself never returns ``None``). A record that arrives as an
    ``InvalidRecord`` (a JSONL line that is not JSON) is bad without calling ``fn``.
    """

    def __init__(self, strict=False):
        self.strict = strict
        self.count = 0
        self.first = None
        self.reasons = set()

    def apply(self, where, fn, record, *args):
        try:
            if isinstance(record, InvalidRecord):
                raise record
            if isinstance(record, dict) and record.get(INVALID_FIELD):
                raise InvalidRecord(record[INVALID_FIELD])
            return fn(record, *args)
        except InvalidRecord as e:
            if self.strict:
                raise UserError(f"{where}: {e}") from None
            self.count += 1
            self.reasons.add(str(e))
            if self.first is None:
                self.first = f"{where}: {e}"
            return None

    def summary(self):
        """``N bad record(s) skipped; first: WHERE: WHY``, or ``""`` when none were."""
        return f"skipped {self.count} bad record(s); first: {self.first}" if self.count else ""
