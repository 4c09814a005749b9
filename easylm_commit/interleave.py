"""Several corpora read as one: ``codemix_clm`` with ``languages`` (one corpus per language).

Each position of an epoch is given to a corpus drawn by weight, in a sequence drawn from
``(seed, epoch)`` alone -- the same on every host and after a resume -- and that corpus's next
record goes there. ``stopping_strategy`` says when the epoch ends, as in
``datasets.interleave_datasets``:

- ``all_exhausted`` (the default): when every corpus has been read through at least once; a
  small corpus starts again (each pass gets its own mixing keys) while a large one goes on;
- ``first_exhausted``: when the first corpus has been read through.

Not ``datasets.interleave_datasets`` itself: its order comes from NumPy's generator, whose
streams NumPy does not promise across releases, and it cannot start at a position without
reading what comes before; we need both (every host alike, exact resume). The positions of an
epoch are laid out once per epoch (about a second per million records, ~9 bytes each), so a
map-style read jumps to any position as ``sources.RecordStream`` does.

The row of an item (its mixing key) is ``(pass * n + row) * L + i`` for record ``row`` of
corpus ``i`` of ``L`` in its ``pass``-th reading of ``n`` records: distinct for every text
and pass, and ``row % L`` names the language (``languages.MultilingualFormatter``). With one
corpus it is the record's row: the plain run's keys.
"""

from __future__ import annotations

import array
import random
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from easylm_commit.errors import UserError
from easylm_commit.mixer import derive_seed
from easylm_commit.records import Item
from easylm_commit.sources import _rows, epoch_order

if TYPE_CHECKING:
    from easylm_commit.sources import RecordStream

STOPPING = ("all_exhausted", "first_exhausted")


class _Draws:
    """The corpus of each position of one epoch, in order: a seeded weighted draw per position."""

    def __init__(self, seed, epoch, cumulative):
        self._rand = random.Random(derive_seed(seed, ("interleave", epoch))).random
        self._cumulative = cumulative
        self._total = cumulative[-1]

    def __next__(self):
        u = self._rand() * self._total
        for i, c in enumerate(self._cumulative):
            if u < c:
                return i
        return len(self._cumulative) - 1


class InterleavedStream:
    """``sources.RecordStream``'s interface over several streams, one per language.

    Args:
        streams: one ``RecordStream`` per language, all map-style or all streaming; their
            own ``shuffle`` and ``seed`` order each corpus within an epoch.
        weights: each corpus's share of the positions.
        seed: the seed of the interleaving.
        stopping_strategy: ``all_exhausted`` or ``first_exhausted`` (module docstring).
        wheres: what messages call each corpus (its path).

    Raises:
        UserError: streams of both kinds; an unknown stopping strategy.
    """

    def __init__(self, streams: Sequence[RecordStream], weights: Sequence[float], *, seed: int = 0,
                 stopping_strategy: str = "all_exhausted", wheres: Sequence[str] = ()) -> None:
        if stopping_strategy not in STOPPING:
            raise UserError(f"unknown stopping_strategy {stopping_strategy!r} (choose from "
                            f"{', '.join(STOPPING)})")
        kinds = {s.streaming for s in streams}
        if len(kinds) != 1:
            raise UserError("languages: the corpora must all be streamed or all map-style (set "
                            "streaming the same for every language)")
        self.streams = list(streams)
        self.streaming = kinds.pop()
        self.seed = seed
        self.stopping_strategy = stopping_strategy
        self.wheres = list(wheres) or [s.where for s in streams]
        total, self._cumulative = 0.0, []
        for w in weights:
            total += w
            self._cumulative.append(total)
        self._layout = (None, None)  # (epoch, (corpus, rows)): one epoch's positions, reused

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_layout"] = (None, None)
        return state

    # -- map-style -------------------------------------------------------------------------
    def _positions(self, epoch):
        """``(corpus, row key, record row)`` arrays of every position of ``epoch``."""
        if self._layout[0] == epoch:
            return self._layout[1]
        sizes = [len(s.dataset) for s in self.streams]
        orders = [epoch_order(n, s.seed, epoch) if s.shuffle else None
                  for n, s in zip(sizes, self.streams)]
        L = len(sizes)
        corpus, keys, rows = array.array("b"), array.array("q"), array.array("q")
        counts, done = [0] * L, [False] * L
        left = L
        draws = _Draws(self.seed, epoch, self._cumulative)
        first = self.stopping_strategy == "first_exhausted"
        while left:
            i = next(draws)
            n, c = sizes[i], counts[i]
            j = c % n
            row = orders[i][j] if orders[i] is not None else j
            corpus.append(i)
            keys.append((c // n * n + row) * L + i)
            rows.append(row)
            counts[i] = c + 1
            if counts[i] == n and not done[i]:
                done[i] = True
                left = 0 if first else left - 1
        self._layout = (epoch, (corpus, keys, rows))
        return self._layout[1]

    def ranges(self, epoch: int = 0, position: int = 0,
               size: int = 256) -> Iterator[tuple[int, int, int]]:
        """``(epoch, lo, hi)`` position ranges forever, cut at multiples of ``size``."""
        while True:
            n = len(self._positions(epoch)[0])
            cuts = [position, *range((position // size + 1) * size, n, size), n]
            for lo, hi in zip(cuts, cuts[1:]):
                if lo < hi:
                    yield epoch, lo, hi
            epoch, position = epoch + 1, 0

    def read(self, epoch: int, lo: int, hi: int) -> list[Item]:
        """The items at positions ``lo:hi`` of an epoch (map-style)."""
        corpus, keys, rows = self._positions(epoch)
        wanted: dict[int, list[int]] = {}
        for p in range(lo, hi):
            wanted.setdefault(corpus[p], []).append(rows[p])
        records = {}
        for i, want in wanted.items():
            got = _rows(self.streams[i].dataset[want])
            records[i] = iter(got)
        return [Item(epoch, p, keys[p], next(records[corpus[p]]),
                     f"{self.wheres[corpus[p]]} record {rows[p]}") for p in range(lo, hi)]

    # -- both --------------------------------------------------------------------------------
    def iterate(self, epoch: int = 0, position: int = 0) -> Iterator[Item]:
        while True:
            if self.streaming:
                items = self._streamed(epoch)
                for _ in range(position):  # a stream can only be read through to a position
                    next(items)
                yield from items
            else:
                n = len(self._positions(epoch)[0])
                for lo in range(position, n, 256):
                    yield from self.read(epoch, lo, min(lo + 256, n))
            epoch, position = epoch + 1, 0

    def _streamed(self, epoch):
        """One epoch of streamed corpora: the map-style layout, found as the streams end."""
        L = len(self.streams)
        readers = [_Reader(s, epoch) for s in self.streams]
        left = L
        draws = _Draws(self.seed, epoch, self._cumulative)
        first = self.stopping_strategy == "first_exhausted"
        position = 0
        while left:
            i = next(draws)
            reader = readers[i]
            passes = reader.passes
            item, last = next(reader)
            yield Item(epoch, position, (passes * reader.size + item.row) * L + i, item.record,
                       f"{self.wheres[i]} record {item.row}")
            position += 1
            if last and passes == 0:
                left = 0 if first else left - 1


class _Reader:
    """A streamed corpus's items, again from the start when read through, each with whether
    it is the last of its pass; ``size`` is known once the first pass ends."""

    def __init__(self, stream, epoch):
        self.stream, self.epoch = stream, epoch
        self.size = self.passes = 0
        self._it = self._items()

    def _items(self):
        while True:
            it = self.stream._epoch(self.epoch, 0)
            item = next(it, None)
            if item is None:
                raise UserError(f"{self.stream.where}: the dataset has no records")
            count = 1
            for following in it:
                yield item, False
                item = following
                count += 1
            # Counted before the last item goes out: the caller read ``passes`` for it already.
            self.size = count
            self.passes += 1
            yield item, True

    def __next__(self):
        return next(self._it)
