"""Where records come from: a Hugging Face dataset or a JSON / JSONL / Parquet file, local or
at a URL (``gs://``, ``s3://``, ``file://``, ...: ``datasets`` reads data files through
fsspec itself), read through ``datasets.load_dataset`` and walked epoch after epoch from any
position.

A position is ``(epoch, position)``: the ``position``-th record of that epoch's order. The
order is the file order, or -- with ``shuffle`` -- a permutation drawn from
``(seed, epoch)`` with ``random.Random.random()`` alone (Python guarantees that sequence;
NumPy does not promise its permutations across releases), so every host and every resumed
run walks the same order.

Map-style datasets are memory-mapped Arrow tables: constant memory whatever their size,
and ``select`` jumps to a position without reading what comes before. Streaming datasets
(``streaming=True``) read lazily and ``skip`` to a position by reading through it.

Records come as ``records.Item``s, as from ``records.read``: a record that Arrow could not
store as it was comes as an ``InvalidRecord`` in its place, for ``records.BadRecords``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from easylm_commit import fileio
from easylm_commit.errors import InvalidRecord, UserError
from easylm_commit.mixer import derive_seed
from easylm_commit.records import Item, copied

if TYPE_CHECKING:
    import datasets

LOCAL_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet"}
_SURROGATE = re.compile("[\ud800-\udfff]")
# A record that could not be stored as it was carries only this column: why. ``_rows``
# hands it out as an ``InvalidRecord``.
INVALID_FIELD = "__easylm_commit_invalid__"


def load_records(path: str, name: str = "", split: str = "train",
                 streaming: bool = False) -> datasets.Dataset | datasets.IterableDataset:
    """A ``datasets`` Dataset (or IterableDataset when streaming) for a hub name or a data
    file (a local path or a URL).

    Args:
        path: a Hugging Face dataset name, or a ``.json``, ``.jsonl`` or ``.parquet`` file.
        name: the dataset's configuration name, if any.
        split: the split to read.
        streaming: read lazily (an ``IterableDataset``) instead of memory-mapping.

    Raises:
        UserError: the file is missing, of an unknown type, or cannot be loaded.
    """
    import datasets

    if not path:
        raise UserError("dataset path is empty: give a Hugging Face dataset name or a local file")
    suffix = os.path.splitext(path)[1].lower()
    try:
        if fileio.isfile(path):
            if suffix not in LOCAL_BUILDERS:
                raise UserError(f"{path}: unknown data file type {suffix!r} (use .json, .jsonl or .parquet)")
            # file:// as the plain path: the same data, the same datasets cache entry. The
            # json builder logs an ERROR line for a file it cannot parse; we handle that case
            # below (bad records, or one error line of ours), so its log is not wanted.
            with _quiet_logger("datasets.packaged_modules.json.json"):
                return datasets.load_dataset(
                    LOCAL_BUILDERS[suffix], data_files=fileio.local_path(path) or path,
                    split=split or "train", streaming=streaming,
                )
        if suffix in LOCAL_BUILDERS:
            raise UserError(f"{path}: file not found")
        return datasets.load_dataset(
            path, name or None, split=split or None, streaming=streaming,
        )
    except UserError:
        raise
    except Exception as e:  # datasets wraps the parser's error; the cause says what is wrong
        cause = e.__cause__ or e
        if LOCAL_BUILDERS.get(suffix) == "json" and "JSON parse error" in str(cause):
            dataset = _with_bad_records_marked(path)
            if dataset is not None:
                return dataset.to_iterable_dataset() if streaming else dataset
        raise UserError(f"{path}: cannot load dataset: {type(cause).__name__}: {cause}") from None


@contextlib.contextmanager
def _quiet_logger(name):
    logger = logging.getLogger(name)
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


def _with_bad_records_marked(path):
    """The records of a JSON/JSONL file that Arrow's reader refuses, read with Python's
    ``json`` instead, each bad one (a line that is not JSON, a string holding a lone
    surrogate, which Arrow cannot store) replaced by ``{INVALID_FIELD: why}``: the datasets
    then skip and count it like any other bad record (``records.BadRecords``), or stop on it
    under ``strict``, as ``easylm-commit mix`` does. ``None`` if the records still do not
    make one table (a field that is a string in one record and a number in another)."""
    import datasets

    from easylm_commit.records import iter_records

    rows = []
    for where, record in iter_records(path):
        if isinstance(record, InvalidRecord):
            rows.append({INVALID_FIELD: f"{where}: {record}"})
        elif _holds_surrogate(record):
            rows.append({INVALID_FIELD: f"{where}: a field holds a lone surrogate (not valid Unicode text)"})
        else:
            rows.append(record)
    # Columns are the union of every record's keys (``from_list`` takes the first record's).
    columns = list(dict.fromkeys(k for row in rows for k in row))
    try:
        return datasets.Dataset.from_dict({k: [row.get(k) for row in rows] for k in columns})
    except Exception:  # noqa: BLE001 - the caller reports Arrow's own error
        return None


def _holds_surrogate(value):
    if isinstance(value, str):
        return not value.isascii() and _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_surrogate(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_surrogate(v) for v in value)
    return False


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """A permutation of range(n) that depends only on (n, seed, epoch)."""
    order = list(range(n))
    rand = random.Random(derive_seed(seed, ("shuffle", epoch))).random
    for i in range(n - 1, 0, -1):
        j = int(rand() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


class RecordStream:
    """Yields ``records.Item``s forever, from a given (epoch, position).

    ``row`` is the record's index in the dataset (the mixing key, so a record is mixed
    the same way whatever the order); ``position`` is its place in the epoch's order (what
    a resume needs); ``where`` is ``record ROW``.

    Args:
        dataset: a ``datasets`` Dataset or IterableDataset (``load_records``).
        shuffle: walk each epoch in its own order (map-style datasets only).
        seed: the seed of those orders.
        read_batch: records read from Arrow at a time.
        where: what messages call the dataset (its path).
        copies: give each record this many times in a row (``languages`` with
            ``language_sampling=each``): position ``p`` is record ``p // copies`` of the
            epoch's order, and its row ``row * copies + p % copies`` (the copy's mixing key;
            ``languages.MultilingualFormatter`` reads the copy from ``row % copies``).

    Raises:
        UserError: shuffle asked of a streaming dataset; a dataset without records.
    """

    def __init__(self, dataset: datasets.Dataset | datasets.IterableDataset, *, shuffle: bool = False,
                 seed: int = 0, read_batch: int = 256, where: str = "dataset",
                 copies: int = 1) -> None:
        import datasets

        self.dataset = dataset
        self.streaming = isinstance(dataset, datasets.IterableDataset)
        if shuffle and self.streaming:
            raise UserError(f"{where}: shuffle needs a map-style dataset (set streaming=False)")
        if not self.streaming and len(dataset) == 0:
            raise UserError(f"{where}: the dataset has no records")
        self.shuffle = shuffle
        self.seed = seed
        self.read_batch = read_batch
        self.where = where
        self.copies = copies
        self._order = (None, None)  # (epoch, its order): one permutation per epoch, reused

    def __getstate__(self):
        # Worker processes get the dataset (Arrow files are pickled by reference), not the
        # cached permutation.
        state = dict(self.__dict__)
        state["_order"] = (None, None)
        return state

    def iterate(self, epoch: int = 0, position: int = 0) -> Iterator[Item]:
        while True:
            empty = True
            for item in self._epoch(epoch, position):
                empty = False
                yield item
            if empty and position == 0:
                raise UserError(f"{self.where}: the dataset has no records")
            epoch, position = epoch + 1, 0

    def _epoch(self, epoch, start):
        if self.streaming:
            c = self.copies
            dataset = self.dataset.skip(start // c) if start >= c else self.dataset
            pos = start // c * c
            for batch in dataset.iter(batch_size=self.read_batch):
                for record in _rows(batch):
                    for item in self._copied(epoch, pos // c, pos // c, record):
                        if item.position >= start:
                            yield item
                    pos += c
            return
        for lo, hi in self._slices(start, self.read_batch * self.copies):
            yield from self.read(epoch, lo, hi)

    def _copied(self, epoch, position, row, record):
        return copied(Item(epoch, position, row, record, f"record {row}"), self.copies)

    def _slices(self, start, size):
        """``[lo, hi)`` ranges from ``start`` on, cut at multiples of ``size``: the same cuts
        whatever position a run (re)started from."""
        n = len(self.dataset) * self.copies
        cuts = [start, *range((start // size + 1) * size, n, size), n]
        return [(lo, hi) for lo, hi in zip(cuts, cuts[1:]) if lo < hi]

    def ranges(self, epoch: int = 0, position: int = 0,
               size: int = 256) -> Iterator[tuple[int, int, int]]:
        """``(epoch, lo, hi)`` position ranges forever (map-style datasets): what worker
        processes are sent instead of the records, which they ``read`` themselves."""
        while True:
            for lo, hi in self._slices(position, size):
                yield epoch, lo, hi
            epoch, position = epoch + 1, 0

    def read(self, epoch: int, lo: int, hi: int) -> list[Item]:
        """The items at positions ``lo:hi`` of an epoch (map-style datasets)."""
        c = self.copies
        if c > 1:
            first, last = lo // c, (hi - 1) // c + 1
            items = [i for pos, row, record in self._read_rows(epoch, first, last)
                     for i in self._copied(epoch, pos, row, record)]
            return items[lo - first * c: hi - first * c]
        return [Item(epoch, pos, row, record, f"record {row}")
                for pos, row, record in self._read_rows(epoch, lo, hi)]

    def _read_rows(self, epoch, lo, hi):
        if self.shuffle:
            if self._order[0] != epoch:
                self._order = (epoch, epoch_order(len(self.dataset), self.seed, epoch))
            rows = self._order[1][lo:hi]
            batch = self.dataset[rows]
        else:
            rows = range(lo, hi)
            batch = self.dataset[lo:hi]
        return zip(range(lo, hi), rows, _rows(batch))


def _rows(batch):
    """Columns (a dict of lists, as ``datasets`` hands out batches) to a list of records, a
    row marked as unreadable (``_with_bad_records_marked``) as an ``InvalidRecord``."""
    columns = list(batch)
    rows = [dict(zip(columns, values)) for values in zip(*(batch[c] for c in columns))]
    if INVALID_FIELD in batch:
        rows = [InvalidRecord(why) if (why := row.pop(INVALID_FIELD)) else row for row in rows]
    return rows
