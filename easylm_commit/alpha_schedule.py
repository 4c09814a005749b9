"""α over training: a schedule, and the step each chunk of records is mixed at.

Later code-switching work mixes on a schedule -- much mixing first, then less, then
monolingual text -- rather than at one α. ``Schedule`` says which α is in force at a batch
(``alpha_schedule``, ``alpha`` the start, ``alpha_end``, ``alpha_schedule_steps``).

Batches must stay a pure function of the config and the cursor: identical whatever
``tokenizer_processes`` is, on every host, and after a resume. But a batch's index is only
known once the records before it are tokenized, and workers mix chunks of records ahead of
the packer. So α is fixed per chunk (``records_per_chunk`` records, whose boundaries never
depend on where a run started), at a step predicted from history that is already known when
the chunk is sent to a worker (``ChunkSteps``): the batch count at which the chunk ``LOOKAHEAD``
chunks earlier entered the packer, extrapolated at the run's average batches per chunk. The
prediction lags the true batch index by a chunk or so (measured in tests/test_alpha_schedule.py)
and is the same in every run that reaches that chunk.

Pure Python: neither JAX nor NumPy.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from easylm_commit import options
from easylm_commit.errors import UserError

CONSTANT, LINEAR, COSINE, STEP = "constant", "linear", "cosine", "step"
KINDS = (CONSTANT, LINEAR, COSINE, STEP)

# Chunks between the one whose batch count is known and the one whose step is predicted from
# it: the most chunks that may be in the workers' hands at once is one less
# (``dataset_types.built_chunks``). 16 keeps 2 x 7 worker processes busy; larger would make
# the prediction lag behind a changing rate (records of another length) for longer.
LOOKAHEAD = 16


@dataclasses.dataclass(frozen=True)
class Schedule:
    """α at each batch: ``start`` until the schedule begins, ``end`` from ``steps`` on.

    - ``constant``: ``start`` always (``end`` and ``steps`` unused);
    - ``linear``: from ``start`` to ``end`` in a straight line over ``steps`` batches;
    - ``cosine``: from ``start`` to ``end`` along half a cosine (flat at both ends);
    - ``step``: ``start`` before batch ``steps``, ``end`` from it on (one step; a stage
      schedule of several steps is not offered).

    Args:
        kind: one of ``KINDS``.
        start: α at batch 0 (the ``alpha`` key), in [0, 1].
        end: α from batch ``steps`` on (``alpha_end``), in [0, 1].
        steps: batches the schedule takes (``alpha_schedule_steps``); at least 1 unless
            constant.

    Raises:
        UserError: an unknown kind, an α outside [0, 1], ``steps`` below 1 for a schedule
            that changes.
    """

    kind: str = CONSTANT
    start: float = 0.0
    end: float = 0.0
    steps: int = 0

    def __post_init__(self) -> None:
        options.check("alpha_schedule", self.kind)
        options.check("alpha", self.start)
        options.check("alpha_end", self.end)
        _check_steps(self.kind, self.steps)

    @property
    def constant(self) -> bool:
        """α never changes: nothing is tracked for it, and every chunk mixes at ``start``."""
        return self.kind == CONSTANT

    def at(self, step: int) -> float:
        """α at batch ``step`` (``end`` from ``steps`` on).

        Args:
            step: the batch index, from 0.
        """
        if self.kind == CONSTANT:
            return self.start
        if step >= self.steps:
            return self.end
        if self.kind == STEP:
            return self.start
        t = max(step, 0) / self.steps
        if self.kind == COSINE:
            t = (1 - math.cos(math.pi * t)) / 2
        return self.start + (self.end - self.start) * t

    def describe(self) -> str:
        """``linear 0.9 -> 0.0 over 1000 batches``, or ``constant 0.9``."""
        if self.constant:
            return f"constant {self.start}"
        return f"{self.kind} {self.start} -> {self.end} over {self.steps} batches"


_KEYS = ("alpha_schedule", "alpha", "alpha_end", "alpha_schedule_steps")


def _check_steps(kind: str, steps: int, flags: bool = False) -> None:
    # The one check across two keys (each key's own range is declared in options.py).
    if kind != CONSTANT and steps < 1:
        steps_name, kind_name = (("--alpha-schedule-steps", "--alpha-schedule ") if flags
                                 else ("alpha_schedule_steps", "alpha_schedule="))
        raise UserError(f"{steps_name} must be at least 1 with {kind_name}{kind}, got {steps}")


def from_config(config: Mapping[str, Any] | Any, *, flags: bool = False) -> Schedule:
    """The schedule a dataset config (or a command line) asks for.

    Args:
        config: a dataset config (``get_default_config``) or an ``argparse.Namespace`` with
            ``alpha_schedule``, ``alpha``, ``alpha_end`` and ``alpha_schedule_steps``.
        flags: name the options by their command-line flags in an error (``--alpha-end``).

    Raises:
        UserError: a value out of range, or ``alpha_schedule_steps`` below 1 for a schedule
            that changes; one line naming the key or flag.
    """
    values = {k: config[k] if isinstance(config, Mapping) else getattr(config, k) for k in _KEYS}
    for k in _KEYS:
        option = options.OPTIONS[k]
        option.check(values[k], option.flag.spelling if flags else None)
    _check_steps(values["alpha_schedule"], values["alpha_schedule_steps"], flags)
    return Schedule(values["alpha_schedule"], float(values["alpha"]), float(values["alpha_end"]),
                    int(values["alpha_schedule_steps"]))


class ChunkSteps:
    """The schedule step of every chunk of a run, from the batches counted so far.

    Chunk j (numbered from the run's first chunk, across epochs) is mixed at step
    ``s_j = max(s_{j-1}, p_j)``, where::

        p_j = origin                                    for j <= lookahead
        p_j = origin + (b_{j-L} - origin) * j // (j-L)  after that (L = lookahead)

    and b_j is the batch count when chunk j's first example entered the packer: the batches per
    chunk so far, extrapolated to chunk j. The running maximum keeps α from going back when a
    chunk of short records lowers the average (the extrapolation is noisy while the history is
    short). b_{j-L} is known before chunk j is sent to a worker as long as fewer than L chunks
    are in flight, so no step depends on the number of workers. ``origin`` is 0 for a run from
    the start; a run resumed from a state without this history (saved before the schedule
    existed, or under a constant one) numbers its chunks from the cursor's and starts at the
    saved batch count.

    Args:
        lookahead: L above.
    """

    def __init__(self, lookahead: int = LOOKAHEAD) -> None:
        if lookahead < 1:
            raise ValueError(f"lookahead must be at least 1, got {lookahead}")
        self.lookahead = lookahead
        self.origin = 0
        self.first = 0  # the chunk whose batch count is batches[0]
        self.batches: list[int] = []
        self.first_step = 0  # the chunk whose step is steps[0]
        self.steps: list[int] = []
        self.floor = 0  # s_{first_step - 1}: no step is below it

    def _predicted(self, chunk):
        lookahead = self.lookahead
        if chunk <= lookahead:
            return self.origin
        i = chunk - lookahead - self.first
        if not 0 <= i < len(self.batches):
            raise RuntimeError(f"the step of chunk {chunk} needs the batch count of chunk "
                               f"{chunk - lookahead}; known: chunks {self.first}-"
                               f"{self.first + len(self.batches) - 1}")
        return self.origin + (self.batches[i] - self.origin) * chunk // (chunk - lookahead)

    def step(self, chunk: int) -> int:
        """s_j of chunk ``chunk``; the steps of the chunks before it are worked out on the way
        (chunks are submitted in order).

        Raises:
            RuntimeError: b_{j-L} is not known yet (a chunk was submitted too early) or no
                longer (it was forgotten): a bug, not a user's error.
        """
        first, steps = self.first_step, self.steps
        if chunk < first:
            raise RuntimeError(f"the step of chunk {chunk} was forgotten (from chunk {first} on)")
        while first + len(steps) <= chunk:
            steps.append(max(steps[-1] if steps else self.floor, self._predicted(first + len(steps))))
        return steps[chunk - first]

    def entered(self, chunk: int, batches: int) -> None:
        """Chunk ``chunk``'s first example enters the packer at batch count ``batches``.

        A resumed run enters again the chunks from the cursor's on; those entered before the
        state was saved keep their saved count (the resumed run's count is later: the batches
        made of the rest of them were handed out before the save).
        """
        i = chunk - self.first
        if i < len(self.batches):
            return
        if i != len(self.batches):
            raise RuntimeError(f"chunk {chunk} entered after chunk {self.first + len(self.batches) - 1}")
        self.batches.append(batches)

    def forget_before(self, cursor_chunk: int) -> None:
        """Drop what no chunk from ``cursor_chunk`` on will need (a resumed run starts at the
        cursor's chunk): batch counts before ``cursor_chunk - lookahead``, and the steps before
        ``cursor_chunk`` (the last of them is kept as the floor of the next)."""
        drop = cursor_chunk - self.first_step
        if drop > 0:
            self.floor = self.step(cursor_chunk - 1)
            del self.steps[:drop]
            self.first_step = cursor_chunk
        drop = cursor_chunk - self.lookahead - self.first
        if drop > 0:
            del self.batches[:drop]
            self.first += drop

    def state(self, cursor_chunk: int) -> dict[str, Any]:
        """What a checkpoint saves so that a resumed run predicts the same steps."""
        if cursor_chunk != self.first_step:
            raise RuntimeError(f"the state of chunk {cursor_chunk} needs forget_before({cursor_chunk})")
        return dict(schedule_chunk=cursor_chunk, schedule_first=self.first,
                    schedule_batches=list(self.batches), schedule_origin=self.origin,
                    schedule_floor=self.floor)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], lookahead: int = LOOKAHEAD) -> tuple[ChunkSteps, int]:
        """``(steps, cursor_chunk)`` from a saved state; a state without a history (keys
        ``schedule_*``) starts one at its batch count, its cursor's chunk numbered 0."""
        steps = cls(lookahead)
        if "schedule_chunk" not in state:
            steps.origin = steps.floor = int(state.get("batches", 0))
            return steps, 0
        steps.origin = int(state["schedule_origin"])
        steps.first = int(state["schedule_first"])
        steps.batches = [int(b) for b in state["schedule_batches"]]
        steps.first_step = int(state["schedule_chunk"])
        steps.floor = int(state["schedule_floor"])
        return steps, steps.first_step
