"""Packing token sequences into ``batch_size x seq_length`` batches, EasyLM's way, with a
cursor that makes resuming exact.

EasyLM's datasets concatenate every example's tokens into one stream and cut it into
chunks of ``batch_size * seq_length``: inputs are ``stream[c : c + chunk]``, targets are
``stream[c + 1 : c + chunk + 1]`` (with their loss masks), and the next batch starts at
``c + chunk``. We do the same, so a batch here is a batch there.

The cursor ``(epoch, position, offset)`` names the first input token of the next batch:
``offset`` tokens into the example at ``position`` of ``epoch``. Examples are a pure
function of their (epoch, position), so a resumed run re-tokenises that one example, drops
``offset`` tokens and goes on with exactly the batches it would have produced.

``Packed`` wraps whatever makes the examples (the idea of torchtune's
``PackedDataset(ds, max_seq_len=...)``): it is handed a function that gives the chunks of
examples from a cursor on -- for the datasets, ``transform.RecordTransform`` over their
records, in worker processes or not (``dataset_types.built_chunks``) -- and yields EasyLM's
``(batch, metrics)``, keeping the cursor and the running counts that a checkpoint saves --
and, under an α schedule, the batch counts at which chunks entered, from which the step of
every later chunk is predicted (``alpha_schedule.ChunkSteps``).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from easylm_commit.alpha_schedule import ChunkSteps
from easylm_commit.errors import UserError
from easylm_commit.records import BadRecords


# What each language's records add up to (``transform.Chunk.by_lang``), in that order.
_LANGUAGE_COUNTS = ("words_seen", "words_replaced", "records", "cmi_sum")


class Packer:
    """Examples in, ``batch_size x seq_length`` batches out, EasyLM's way (module
    docstring), with the cursor of the next batch.

    Args:
        batch_size: rows of a batch.
        seq_length: tokens of a row.
    """

    def __init__(self, batch_size: int, seq_length: int) -> None:
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.chunk = batch_size * seq_length
        # (epoch, position, tokens, masks); the first one is read from self.offset on.
        self._queue = collections.deque()
        self._available = 0
        self.offset = 0

    def add(self, epoch: int, position: int, tokens: np.ndarray, masks: np.ndarray,
            offset: int = 0) -> None:
        """Append one example; ``offset`` drops its first tokens (only when resuming).

        Raises:
            ValueError: ``tokens`` and ``masks`` differ in length (a transform broke its
                contract: one loss mask per token).
        """
        if len(tokens) != len(masks):
            raise ValueError(f"the example at epoch {epoch}, position {position} has "
                             f"{len(tokens)} tokens but {len(masks)} loss masks")
        if not self._queue:
            self.offset = offset
        elif offset:
            raise ValueError("only the first example after a resume may start at an offset")
        self._queue.append((epoch, position, tokens, masks))
        self._available += len(tokens) - offset if len(self._queue) == 1 else len(tokens)

    def ready(self) -> bool:
        return self._available >= self.chunk + 1

    def cursor(self) -> tuple[int, int, int]:
        """(epoch, position, offset) of the next batch's first input token."""
        epoch, position, _, _ = self._queue[0]
        return epoch, position, self.offset

    def pop(self) -> dict[str, np.ndarray]:
        """The next batch (requires ``ready()``); the cursor moves ``chunk`` tokens on."""
        need = self.chunk + 1
        tokens, masks = [], []
        got, first = 0, True
        for _, _, t, m in self._queue:
            start = self.offset if first else 0
            take = min(len(t) - start, need - got)
            tokens.append(t[start:start + take])
            masks.append(m[start:start + take])
            got += take
            first = False
            if got == need:
                break
        tokens = np.concatenate(tokens)
        masks = np.concatenate(masks)
        # Advance by chunk tokens: the last target token is the next batch's first input.
        advance = self.chunk
        self._available -= advance
        while advance:
            _, _, t, _ = self._queue[0]
            left = len(t) - self.offset
            if advance < left:
                self.offset += advance
                advance = 0
            else:
                advance -= left
                self._queue.popleft()
                self.offset = 0
        shape = (self.batch_size, self.seq_length)
        return {
            "input_tokens": tokens[:-1].astype(np.int32).reshape(shape),
            "target_tokens": tokens[1:].astype(np.int32).reshape(shape),
            "loss_masks": masks[1:].astype(np.float32).reshape(shape),
        }


class Packed:
    """``(batch, metrics)`` packed from chunks of examples, with a resume cursor.

    The cursor and the running totals behind the metrics are ``state``: a checkpoint saves
    them, so a resumed run continues with the batches and metrics of the uninterrupted one.

    Args:
        chunks: ``chunks(epoch, position)`` gives the chunks of examples from that cursor on,
            in order, without end: objects with ``examples`` (``(epoch, position, tokens,
            loss_masks)``), ``words``, ``replaced``, ``skipped``, ``start`` and ``bad``
            (``transform.Chunk``). Their boundaries must not depend on where a run started
            (see the counts in ``batches``).
        batch_size: rows of a batch.
        seq_length: tokens of a row.
        source: what the records are called in the error raised when none can be used.
        check: the options to check then, as written in that error.
        languages: the codes of ``languages`` (``languages.py``), each counted on its own
            (chunks' ``by_lang``); empty: one language.
        scheduled: α follows a schedule: ``chunks`` is called as ``chunks(epoch, position,
            steps)``, where ``steps(i)`` is the schedule step to build the i-th chunk from
            that cursor at (``alpha_schedule.ChunkSteps``), and the state keeps the history
            that predicts the steps, so a resumed run mixes at the same ones.
    """

    def __init__(self, chunks: Callable[..., Iterable], *, batch_size: int,
                 seq_length: int, source: str = "", check: str = "",
                 languages: Sequence[str] = (), scheduled: bool = False) -> None:
        self.chunks = chunks
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.source = source
        self.check = check
        self.languages = tuple(languages)
        self.state = dict(epoch=0, position=0, offset=0, total_tokens=0, batches=0,
                          words_seen=0, words_replaced=0, records_skipped=0, records=0,
                          cmi_sum=0.0)
        for lang in self.languages:
            for k in _LANGUAGE_COUNTS:
                self.state[f"{k}_{lang}"] = 0.0 if k == "cmi_sum" else 0
        # A constant α tracks nothing (and its state is what it was before schedules).
        self.scheduled = scheduled
        if scheduled:
            self.state.update(ChunkSteps().state(0))
        self._resumed_counts = False
        self._alpha = None  # of the latest chunk entered: ``dataset_alpha``
        self._alphas = {}  # and each language's: ``dataset_alpha_<lang>``

    def load_state(self, state_dict: dict) -> None:
        """Continue from a saved ``state`` (a checkpoint's)."""
        for k, v in self.state.items():
            if k in state_dict:
                value = state_dict[k]
                if isinstance(value, (list, tuple)):  # the schedule's history
                    self.state[k] = [int(x) for x in value]
                else:  # ints, and floats for the code-mixing index sums
                    self.state[k] = type(v)(value)
        if self.scheduled and "schedule_chunk" not in state_dict:
            # Saved before schedules, or under a constant one: no history to predict from.
            self.state.update(ChunkSteps.from_state(state_dict)[0].state(0))
        # States saved before the counts were kept start them from zero.
        self._resumed_counts = "words_seen" in state_dict

    def metrics(self) -> dict[str, int | float]:
        """The metrics logged with each batch (EasyLM's ``dataset_*`` names and ours).

        ``dataset_cmi`` is the mean code-mixing index of the records so far
        (``transform.cmi``); with ``languages``, each language's counts, rate and index
        follow under names ending ``_<lang>``."""
        state = self.state
        words, replaced = state["words_seen"], state["words_replaced"]
        metrics = {
            "dataset_epoch": state["epoch"],
            "dataset_example_index": state["position"],
            "dataset_total_tokens": state["total_tokens"],
            "dataset_words_seen": words,
            "dataset_words_replaced": replaced,
            "dataset_mixing_rate": replaced / words if words else 0.0,
            "dataset_records_skipped": state["records_skipped"],
            "dataset_cmi": state["cmi_sum"] / state["records"] if state["records"] else 0.0,
            **({} if self._alpha is None else {"dataset_alpha": self._alpha}),
        }
        for lang in self.languages:
            words, replaced = state[f"words_seen_{lang}"], state[f"words_replaced_{lang}"]
            records = state[f"records_{lang}"]
            metrics.update({
                f"dataset_records_{lang}": records,
                f"dataset_words_seen_{lang}": words,
                f"dataset_words_replaced_{lang}": replaced,
                f"dataset_mixing_rate_{lang}": replaced / words if words else 0.0,
                f"dataset_cmi_{lang}": state[f"cmi_sum_{lang}"] / records if records else 0.0,
            })
            if lang in self._alphas:
                metrics[f"dataset_alpha_{lang}"] = self._alphas[lang]
        return metrics

    def __iter__(self) -> Iterator[tuple[dict, dict]]:
        return self.batches()

    def batches(self, on_batch: Callable[[int, dict], None] | None = None
                ) -> Iterator[tuple[dict, dict]]:
        """The batches from the cursor on, each with its metrics; ``on_batch(index, batch)``
        is called before a batch is handed out (a pod's host check)."""
        state = self.state
        packer = Packer(self.batch_size, self.seq_length)
        resume_offset = state["offset"]
        # Mixing counts are added chunk by chunk as records enter the packing buffer. A
        # batch is handed out right after the example holding the next batch's first token
        # entered, so the saved counts include the whole chunk around the cursor; chunk
        # boundaries do not depend on where a run started (``dataset_types._chunks``), so a
        # resumed run's first chunk is the rest of that chunk and is not counted again.
        recount = not (self._resumed_counts and state["batches"] > 0)
        empty = None  # (start, BadRecords) of the chunks since the last one with an example
        if self.scheduled:
            # The chunks are numbered from the run's first; the cursor's chunk is the first
            # one here. ``starts``: (number, start) of the chunks that may hold the cursor.
            clock, number = ChunkSteps.from_state(state)
            starts = collections.deque()
            chunks = self.chunks(state["epoch"], state["position"],
                                 lambda i, first=number: clock.step(first + i))
        else:
            chunks = self.chunks(state["epoch"], state["position"])
        for chunk in chunks:
            if self.scheduled:
                clock.entered(number, state["batches"])
                built_at = getattr(chunk, "step", None)
                if built_at is not None and built_at != clock.step(number):
                    raise RuntimeError(f"chunk {number} was built at step {built_at}, "
                                       f"not at its step {clock.step(number)}")
                if chunk.start is not None:
                    starts.append((number, chunk.start))
                number += 1
            if getattr(chunk, "alpha", None) is not None:
                self._alpha = chunk.alpha
                self._alphas = getattr(chunk, "alphas", None) or self._alphas
            if chunk.examples or chunk.start is None:
                empty = None
            else:
                # Without this, data whose every record is skipped (a misspelt field name)
                # would be read epoch after epoch without a batch, silently, forever.
                empty = empty or (chunk.start, BadRecords())
                (first_epoch, first_position), bad = empty
                if chunk.start[0] > first_epoch + (first_position > 0):  # a whole epoch behind
                    raise UserError("no batch can be made: "
                                    + bad.all_skipped(self.source, self.check, every=True))
                if chunk.bad is not None:
                    bad.merge(chunk.bad)
            if recount:
                state["words_seen"] += chunk.words
                state["words_replaced"] += chunk.replaced
                state["records_skipped"] += chunk.skipped
                state["records"] += chunk.records
                state["cmi_sum"] += chunk.cmi
                for lang, counts in chunk.by_lang.items():
                    for k, c in zip(_LANGUAGE_COUNTS, counts):
                        state[f"{k}_{lang}"] += c
            recount = True
            for epoch, position, tokens, masks in chunk.examples:
                packer.add(epoch, position, tokens, masks, offset=resume_offset)
                resume_offset = 0
                while packer.ready():
                    batch = packer.pop()
                    if on_batch is not None:
                        on_batch(state["batches"], batch)
                    state["epoch"], state["position"], state["offset"] = packer.cursor()
                    state["total_tokens"] += packer.chunk
                    state["batches"] += 1
                    if self.scheduled:
                        cursor = (state["epoch"], state["position"])
                        while len(starts) > 1 and starts[1][1] <= cursor:
                            starts.popleft()
                        clock.forget_before(starts[0][0])
                        state.update(clock.state(starts[0][0]))
                    self._resumed_counts = True
                    yield batch, self.metrics()
