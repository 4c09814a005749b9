"""Progress of the commands that read a whole input (``mix``, ``stats``), on stderr.

On a terminal: tqdm's bar, with the total and the time left once the number of records is
known (``records.iter_records`` says so: at once for a local JSONL file, whose lines are
counted, and once a JSON array is loaded). In a log (stderr not a terminal): nothing for a
run shorter than ``interval()``, then one plain line every interval, and a last one at the
end::

    easylm-commit mix: 52000/200000 records (26%), 10410.31 records/s, 00:05 elapsed, ETA 00:14

tqdm does the counting, the rates and the timing in both cases (``mininterval`` spaces the
lines, ``delay`` keeps short runs quiet); ``_Lines`` only turns its in-place redraws
(carriage returns, which a log keeps as one ever-growing line) into one line each.
``--quiet`` shows neither.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

_T = TypeVar("_T")

# Seconds between two lines in a log; the environment variable overrides it (tests).
LOG_INTERVAL = 10.0
INTERVAL_ENV = "EASYLM_COMMIT_PROGRESS_INTERVAL"

_LOG_FORMAT = "{desc}: {n_fmt}/{total_fmt} records ({percentage:.0f}%), {rate_fmt}, {elapsed} elapsed, ETA {remaining}"
_LOG_FORMAT_NO_TOTAL = "{desc}: {n_fmt} records, {rate_fmt}, {elapsed} elapsed"


def interval() -> float:
    """Seconds between two progress lines in a log (``$EASYLM_COMMIT_PROGRESS_INTERVAL``)."""
    value = os.environ.get(INTERVAL_ENV)
    try:
        return float(value) if value else LOG_INTERVAL
    except ValueError:
        return LOG_INTERVAL


class _Lines:
    """The file tqdm writes to in a log: each redraw becomes one line of its own."""

    def __init__(self, file: TextIO) -> None:
        self.file = file

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.file.write(line + "\n")

    def flush(self) -> None:
        self.file.flush()


class Progress:
    """``track(items)`` yields ``items`` and shows their progress; ``set_total(n)`` gives
    the number of items once it is known (``iter_records(path, on_total=...)``).

    Args:
        command: the command's name, shown on every line.
        quiet: show nothing (``--quiet``).
        file: where progress goes (default: stderr, read when the object is made).
    """

    def __init__(self, command: str, *, quiet: bool = False, file: TextIO | None = None) -> None:
        self.command = command
        self.quiet = quiet
        self.file = file or sys.stderr
        self.bar = None
        self.total = None
        self.log = False    # stderr is not a terminal: plain lines (set by ``track``)

    def set_total(self, total: int) -> None:
        """The number of items, once known: the bar gains a percentage and the time left."""
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            if self.log:
                self.bar.bar_format = _LOG_FORMAT

    def track(self, items: Iterable[_T]) -> Iterator[_T]:
        """``items``, one by one, with the progress shown as they are taken."""
        if self.quiet:
            yield from items
            return
        from tqdm import tqdm

        isatty = getattr(self.file, "isatty", None)
        self.log = not (isatty and isatty())
        if self.log:
            every = interval()
            self.bar = tqdm(
                total=self.total, desc=f"easylm-commit {self.command}", unit=" records",
                file=_Lines(self.file), mininterval=every, maxinterval=max(every, 10.0),
                delay=every,
                bar_format=_LOG_FORMAT if self.total is not None else _LOG_FORMAT_NO_TOTAL,
            )
        else:
            self.bar = tqdm(total=self.total, desc=self.command, unit=" rec", mininterval=0.5,
                            file=self.file)
        finished = False
        try:
            for item in items:
                yield item
                self.bar.update()
            finished = True
        finally:
            if finished and self.bar.total is not None and self.bar.n != self.bar.total:
                # Blank lines of a JSONL file were counted in the total, not read as records.
                self.bar.total = self.bar.n
            self.bar.close()
