"""Running as one host of a pod: which host this is, warnings once per pod, CPU collectives
for the launcher, and the check that every host feeds the same batch.

On a pod every host runs the same ``llama_train`` and EasyLM hands the batch to the train
step as a replicated array (``PS()``): JAX trusts that the hosts agree and each device
takes its slice from its own host's copy. A host with a stale dictionary or data file
therefore trains a silently different model. ``HostCheck`` compares digests of what each
host built, across processes with ``jax.experimental.multihost_utils.process_allgather``,
and stops every host with the same error when they differ, or when a host could not build
its dataset (a file missing there: it brings its error to the first check rather than stop
alone and leave the others waiting in the gather until it times out).

Nothing here imports JAX unless it is already imported (the core stays JAX-free), and
nothing starts a JAX backend: a process whose backend is not started is one host.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from easylm_commit.errors import UserError

log = logging.getLogger("easylm_commit")

# Digests are gathered as a fixed-size uint32 array, so every check has the same shape (one
# compiled all-gather) and hosts running different code still meet in the same collective.
MAX_ITEMS = 64
_WORDS = 4  # 128-bit BLAKE2b digests as 4 uint32 (int64 would need jax_enable_x64)
# Below the digests, the UTF-8 text of this host's error (a host that could not build its
# dataset; zeros when none), so a failed host still meets the others in the first check and
# every host stops at once naming it. Folded into the one array rather than gathered apart:
# one compiled shape, and 512 bytes more per check is nothing next to a train step.
MAX_ERROR_BYTES = 512
_ERROR_ROWS = MAX_ERROR_BYTES // (4 * _WORDS)
_ROWS = MAX_ITEMS + _ERROR_ROWS


def _jax():
    """JAX if this process has imported it and started a backend (or joined a
    ``jax.distributed`` run), else None."""
    jax = sys.modules.get("jax")
    if jax is None:
        return None
    try:
        from jax._src import distributed, xla_bridge

        if xla_bridge.backends_are_initialized() or distributed.global_state.client is not None:
            return jax
        return None
    except (ImportError, AttributeError):  # another JAX layout: ask it directly
        return jax


def process_index() -> int:
    """This host's index on a pod; 0 where JAX has not started (one host)."""
    jax = _jax()
    return jax.process_index() if jax is not None else 0


def process_count() -> int:
    """The number of hosts; 1 where JAX has not started."""
    jax = _jax()
    return jax.process_count() if jax is not None else 1


def host_prefix() -> str:
    """``host I: `` on a pod (for messages about one host's own events), else ``''``."""
    return f"host {process_index()}: " if process_count() > 1 else ""


def warn_once(message: str, *args: object) -> None:
    """A warning every host would give alike (about the shared config or data): logged by
    process 0 only, so a 64-host pod prints it once, not 64 times."""
    if process_index() == 0:
        log.warning(message, *args)


def select_cpu_collectives(jax_distributed: object) -> str | None:
    """Before ``jax.distributed.initialize``: give the CPU backend cross-process collectives.

    JAX 0.4.28's CPU client has none unless ``jax_cpu_collectives_implementation`` is set
    before the backend starts, and this version does not read the option's environment
    variable, so a multi-process CPU run (a pod on one machine, CI) fails at its first
    collective. We select gloo (or the variable's value) when ``jax_distributed`` is
    initialised and nobody chose otherwise. The option only concerns the CPU client: on
    TPU and GPU hosts the train step runs on the accelerator client and this is inert.

    Args:
        jax_distributed: EasyLM's ``--jax_distributed`` config (``initialize_jax_distributed``).

    Returns:
        The implementation in use, or ``None`` when none was selected.
    """
    if not getattr(jax_distributed, "initialize_jax_distributed", False):
        return None
    import jax
    from jax._src import xla_bridge

    current = jax.config.values.get("jax_cpu_collectives_implementation", "none")
    if current != "none":  # chosen by the user (jax.config.update in their own wrapper)
        return current
    wanted = os.environ.get("JAX_CPU_COLLECTIVES_IMPLEMENTATION", "gloo")

    if xla_bridge.backends_are_initialized():
        log.warning("JAX backends already started: cannot select %s CPU collectives", wanted)
        return None
    jax.config.update("jax_cpu_collectives_implementation", wanted)
    return wanted


# -- host agreement --------------------------------------------------------------------------
def digest(*parts: bytes | str | np.ndarray) -> bytes:
    """A 128-bit digest of bytes / str / numpy arrays (dtype and shape included)."""
    h = hashlib.blake2b(digest_size=4 * _WORDS)
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype.str}{part.shape}".encode())
            part = np.ascontiguousarray(part).data
        elif isinstance(part, str):
            part = part.encode("utf-8")
        h.update(part)
        h.update(b"\x00")
    return h.digest()


def _gather(rows):
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(rows))


def host_ranges(hosts: Iterable[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``hosts 0-2, 5``; ``[3]`` -> ``host 3``."""
    hosts = sorted(hosts)
    spans, start = [], hosts[0]
    for prev, cur in zip(hosts, hosts[1:] + [None]):
        if cur != prev + 1:
            spans.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = cur
    return ("hosts " if len(hosts) > 1 else "host ") + ", ".join(spans)


def error_text(error: BaseException) -> str:
    """One line for a host's error: a ``UserError``'s message, else the exception's type
    and message; at most ``MAX_ERROR_BYTES`` of UTF-8."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    if not isinstance(error, UserError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    text = text or type(error).__name__  # an empty message would read as "no error"
    raw = text.encode("utf-8")
    if len(raw) > MAX_ERROR_BYTES:  # cut on a character boundary, and say it was cut
        text = raw[:MAX_ERROR_BYTES - 3].decode("utf-8", "ignore") + "\u2026"
    return text


def _error_rows(text):
    raw = text.encode("utf-8")
    buf = np.zeros(_ERROR_ROWS * _WORDS * 4, dtype=np.uint8)
    buf[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return buf.view("<u4").reshape(_ERROR_ROWS, _WORDS)


def _error_of(rows):
    raw = np.ascontiguousarray(rows).astype("<u4").tobytes().rstrip(b"\x00")
    return raw.decode("utf-8", "replace") if raw else None


class HostCheck:
    """Compare what every host built: named digests, one all-gather per check.

    ``create(freq)`` is None on a single host (a one-process run pays nothing) and when
    ``freq`` is 0. Batches are checked at the first batch of an iteration (also the first
    after a resume, where hosts might have loaded different states) and at every batch
    whose index is a multiple of ``freq``.

    Args:
        freq: check every ``freq``-th batch.
        me: this host's index.
        count: the number of hosts.
        gather: the all-gather of one ``(rows, 4)`` uint32 array per host (tests replace
            JAX's with threads).
    """

    def __init__(self, freq: int, *, me: int, count: int,
                 gather: Callable[[np.ndarray], np.ndarray] = _gather) -> None:
        self.freq = freq
        self.me = me
        self.count = count
        self._gather = gather
        self._first = True

    @classmethod
    def create(cls, freq: int) -> HostCheck | None:
        """A check for this pod, or ``None`` when there is nothing to check (see above)."""
        if freq <= 0:
            return None
        count = process_count()
        if count <= 1:
            return None
        return cls(freq, me=process_index(), count=count)

    def compare(self, where: str, items: Mapping[str, tuple[bytes, str]], *, hint: str = "",
                error: BaseException | None = None) -> None:
        """``items``: ``{name: (digest bytes, what this host has, for the message)}``, in the
        same order on every host. Raises ``UserError`` on every host if any differ.

        ``error``: the exception this host met building what it compares (its ``items`` are
        then not looked at). Every host raises one ``UserError`` naming each failed host and
        its error, instead of the failed host stopping alone and the others waiting in the
        gather until it times out."""
        if len(items) > MAX_ITEMS:  # fold the tail into one slot rather than drop it
            names = list(items)
            rest = names[MAX_ITEMS - 1:]
            items = {n: items[n] for n in names[:MAX_ITEMS - 1]} | {
                ", ".join(rest): (digest(*(items[n][0] for n in rest)), "")}
        names = list(items) if error is None else []
        rows = np.zeros((_ROWS, _WORDS), dtype=np.uint32)
        for i, name in enumerate(names):
            rows[i] = np.frombuffer(items[name][0], dtype="<u4")
        if error is not None:
            rows[MAX_ITEMS:] = _error_rows(error_text(error))
        try:
            everyone = self._gather(rows).reshape(self.count, _ROWS, _WORDS)
        except (RuntimeError, ValueError) as e:  # XlaRuntimeError: a host never came
            raise UserError(
                f"host {self.me}: the host check {where} could not reach every host; another "
                f"host has probably stopped with an error (see its log) ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''})") from None
        failed = {}
        for host in range(self.count):
            text = _error_of(everyone[host, MAX_ITEMS:])
            if text is not None:
                failed.setdefault(text, []).append(host)
        if failed:
            raise UserError(
                "; ".join(f"{host_ranges(h)}: {text}" for text, h in failed.items())
                + f". Every host stops {where}: the dataset could not be built on "
                + host_ranges([h for hosts in failed.values() for h in hosts]))
        everyone = everyone[:, :MAX_ITEMS]
        differ = [i for i in range(len(names)) if not (everyone[:, i] == everyone[0, i]).all()]
        if not differ:
            return
        parts = []
        for i in differ:
            groups = {}
            for host in range(self.count):
                groups.setdefault(everyone[host, i].astype("<u4").tobytes().hex()[:8], []).append(host)
            shown = items[names[i]][1]
            parts.append(
                f"{names[i]} ("
                + "; ".join(f"{host_ranges(h)}: {d}" for d, h in groups.items())
                + (f"; here, host {self.me}: {shown}" if shown else "")
                + ")"
            )
        raise UserError(f"hosts disagree {where} on " + ", ".join(parts) + (f". {hint}" if hint else ""))

    def due(self, index: int) -> bool:
        """Whether batch ``index`` is one to check."""
        return self._first or index % self.freq == 0

    def batch(self, index: int, batch: Mapping[str, np.ndarray]) -> None:
        """Check the batch with index ``index`` (counted from the start of training)."""
        self._first = False
        items = {k: (digest(np.asarray(batch[k])), "") for k in sorted(batch)}
        self.compare(
            f"at batch {index}", items,
            hint="Every host must build the same replicated batch: check that the data files, "
                 "dictionary, tokenizer and easylm-commit are the same on every host",
        )
