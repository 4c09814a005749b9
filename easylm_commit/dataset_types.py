"""EasyLM dataset types: ``commit`` (instruction tuning, Eq. 5) and ``codemix_clm``
(alignment, Eq. 6).

They follow ``EasyLM/data.py``: ``get_default_config(updates)`` built with
``mlxu.config_dict()``; iterating yields ``(batch, metrics)`` where the batch holds
``input_tokens``, ``target_tokens`` (int32) and ``loss_masks`` (float32), each
``(batch_size, seq_length)``; ``get_state_dict`` / ``load_state_dict`` carry the resume
state that EasyLM saves with every checkpoint and reloads with ``--load_dataset_state``.

Everything a batch holds is a pure function of the config and the cursor (see
``packing.py``): records are mixed with key ``(epoch, row)``, so every host of a pod builds
the same replicated batch, every epoch mixes anew, and a resumed run continues with the
batches the uninterrupted run would have produced (EasyLM's own HuggingfaceDataset
restarts from the first record).

Worker processes (``tokenizer_processes > 1``) mix and tokenise chunks of records in
parallel; results are consumed in submission order and the cursor only moves when a batch
is handed out, so batches are identical to the one-process run and resume stays exact.
They are spawned, not forked: forking a process that has started JAX's threads can hang.
A worker that dies (``kill -9``, the OOM killer) or raises is replaced and its chunks built
again -- chunks are pure functions of their positions, so no batch changes. Workers never
outlive their trainer: one that ends or drops the iterator stops them, Ctrl-C is left to the
trainer, and when the trainer dies without clean-up (``kill -9``, the OOM killer, SIGTERM,
``os._exit``) they exit too -- at once on Linux, within a second elsewhere (``_follow_parent``).

On a pod (several JAX processes) the hosts compare digests of the config, the dictionary
and the batches (``host_check_freq``; see ``pod.py``) and all stop if they differ.

Under an ``alpha_schedule`` each chunk of records is mixed at the α of a step predicted from
batches already counted (``alpha_schedule.ChunkSteps``, kept in the resume state by
``packing.Packed``), so the rules above still hold; the chunks' size then changes the batches.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import itertools
import multiprocessing.context
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import mlxu

from easylm_commit import __version__, alpha_schedule, languages, options, pod
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.interleave import InterleavedStream
from easylm_commit.mixer import CodeMixer
from easylm_commit.packing import Packed
from easylm_commit.sources import RecordStream, load_records
from easylm_commit.templates import FieldNames, Formatter, TextFormatter
from easylm_commit.transform import RecordTransform

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from easylm_commit.transform import Chunk

# Config keys whose change alters the batches (declared in options.py): a state saved under
# other values cannot resume "exactly", and we say so instead of silently producing other data.
_CONTENT_KEYS = options.batch_keys()


# -- worker processes ----------------------------------------------------------------------
_worker_builder = _worker_records = None

# How often a worker checks that the process that started it is still there. Only the path
# without a parent-death signal waits this long (see ``_follow_parent``).
PARENT_CHECK_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _follow_parent(parent_pid, spawned_by_main_thread):
    """End this worker when the trainer that started it is gone, however it ended.

    A trainer killed by ``kill -9``, the OOM killer, SIGTERM (Slurm, Kubernetes, TPU
    preemption) or ``os._exit`` runs none of its clean-up, and the executor's workers would
    otherwise wait on their queue for ever, holding memory and the trainer's stdout (a
    ``| tee`` after the trainer never returns). Two ways:

    * Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``; ctypes, as the
      standard library has no binding): immediate. The kernel sends it when the *thread*
      that started the worker ends, not the process, so it is only set when that was the
      trainer's main thread (whose end is the process's end); a worker started from another
      thread that later ends must not die with it.
    * A daemon thread that compares ``os.getppid()`` with the trainer's pid every
      ``PARENT_CHECK_SECONDS``: an orphan is re-parented (to init or a subreaper), so its
      parent pid changes (PyTorch's DataLoader workers watch theirs the same way).
      Portable (POSIX); it also covers a trainer that died before the signal was set (the
      first check runs at once) and workers started from another thread.
    """
    if spawned_by_main_thread and sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no usable libc: the thread below still watches
            pass

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="easylm-commit: exit with the trainer", daemon=True).start()


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    """A spawned worker that ends with its trainer (``_follow_parent``) and ignores Ctrl-C.

    Which thread starts a worker depends on the Python version and the executor's options
    (the submitting thread on 3.9-3.13, the executor's manager thread when it replaces a
    worker under ``max_tasks_per_child``), so ``start`` records it rather than assuming.
    """

    def start(self) -> None:
        main_thread = threading.current_thread() is threading.main_thread()
        self._trainer = (os.getpid(), main_thread)
        # Ctrl-C reaches the whole foreground process group. It is the trainer's to handle:
        # its exit (or death) ends the workers, and they print no KeyboardInterrupt
        # traceback each. A spawned child spends its first second importing what its task
        # needs, before ``run``; an ignored SIGINT survives exec and Python keeps it ignored,
        # so the child is started with it ignored (signal.signal works in the main thread
        # only; from another thread ``run`` still ignores it, after the imports).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
        try:
            super().start()
        finally:
            if main_thread:  # None: a handler not set from Python, which we cannot put back
                signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)

    def run(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _follow_parent(*self._trainer)
        super().run()


class _WorkerContext(multiprocessing.context.SpawnContext):
    Process = _WorkerProcess


def _worker_init(builder, records):
    global _worker_builder, _worker_records
    _worker_builder, _worker_records = builder, records


def _build(builder, items, step):
    # A constant alpha calls the builder as before schedules: any builder(items) still works.
    return builder(items) if step is None else builder(items, step=step)


def _worker_run(items, step=None):
    return _build(_worker_builder, items, step)


def _worker_run_range(task, step=None):
    return _build(_worker_builder, _worker_records.read(*task), step)


def _chunks(stream, size):
    """Consecutive items, cut at epoch ends and where the position reaches a multiple of
    ``size``: the same boundaries as ``RecordStream.ranges``, whatever position a run
    (re)started from (the resumed mixing counts rely on it; see ``packing.Packed``)."""
    items = []
    for item in stream:
        if items and (item[0] != items[-1][0] or item[1] % size == 0):
            yield items
            items = []
        items.append(item)
    if items:
        yield items


# A lost or failing worker is replaced; this many failures in a row (no chunk delivered in
# between) mean something is wrong with the data or the machine, and we stop.
MAX_RESPAWNS = 3


def _built(future):
    return future.done() and not future.cancelled() and future.exception() is None


def _describe(task):
    if isinstance(task, tuple):  # (epoch, lo, hi)
        return f"epoch {task[0]}, records {task[1]}-{task[2] - 1}"
    return f"epoch {task[0][0]}, records {task[0][1]}-{task[-1][1]}"


def built_chunks(builder: Callable[..., Chunk], records: RecordStream, epoch: int,
                 position: int, processes: int, chunk_records: int,
                 steps: Callable[[int], int] | None = None) -> Iterator[Chunk]:
    """Builder results over the records from (epoch, position) on, in order.

    With ``processes > 1`` a bounded number of chunks are in flight, so memory stays flat on
    endless streams. Map-style datasets send workers position ranges, which they read
    themselves (from the same memory-mapped Arrow files); streaming datasets can only be
    read in order, so the main process reads and sends the records (and keeps them until
    their chunk is back, to send them again if a worker is lost).

    ``concurrent.futures.ProcessPoolExecutor``, not ``multiprocessing.Pool``: when a worker
    dies the pool replaces the process but the task it held never completes, and the
    iterator waits forever; the executor instead fails every pending future with
    ``BrokenProcessPool``. We then start new workers and submit the unfinished chunks again
    in order. A chunk that raised is submitted again too, unless it raised ``UserError`` (a
    bad record under ``strict``: the same input fails the same way, so it is reported).

    Args:
        builder: what makes a chunk of consecutive items (the type's ``RecordTransform``);
            sent to the workers, so it must pickle.
        records: the dataset's records.
        epoch: the epoch to start in.
        position: the place in that epoch's order to start at.
        processes: worker processes; 1 or less builds in this process.
        chunk_records: records per chunk (chunks are also cut at epoch ends).
        steps: ``steps(i)``, the α schedule's step of the i-th chunk from (epoch, position)
            on, passed as ``builder(items, step=...)`` (``packing.Packed``); it is known only
            once the chunk ``alpha_schedule.LOOKAHEAD`` before has entered the packer, so
            fewer chunks than that are in flight. ``None``: α is constant; ``builder(items)``.
    """
    if processes <= 1:
        for i, items in enumerate(_chunks(records.iterate(epoch, position), chunk_records)):
            yield _build(builder, items, None if steps is None else steps(i))
        return
    if records.streaming:
        work, tasks = _worker_run, _chunks(records.iterate(epoch, position), chunk_records)
    else:
        work, tasks = _worker_run_range, records.ranges(epoch, position, chunk_records)
    ctx = _WorkerContext()

    def start():
        return concurrent.futures.ProcessPoolExecutor(
            processes, mp_context=ctx, initializer=_worker_init, initargs=(builder, records))

    def submit(task, step):
        try:
            return pool.submit(work, task, step)
        except concurrent.futures.process.BrokenProcessPool as e:  # broke since the last look
            future = concurrent.futures.Future()
            future.set_exception(e)
            return future

    # (task, its step): a chunk's step is fixed when it is first submitted and kept for
    # resubmissions, so a lost worker changes no batch.
    tasks = ((task, None if steps is None else steps(i)) for i, task in enumerate(tasks))
    in_flight = 2 * processes if steps is None else min(2 * processes, alpha_schedule.LOOKAHEAD - 1)
    pool = start()
    pending = collections.deque()  # [task, step, future], in chunk order
    failures = 0
    try:
        for task, step in itertools.islice(tasks, in_flight):
            pending.append([task, step, submit(task, step)])
        while pending:
            task, _, future = pending[0]
            try:
                result = future.result()
            except UserError:
                raise
            except Exception as e:
                failures += 1
                lost = isinstance(e, concurrent.futures.process.BrokenProcessPool)
                what = "a worker process died" if lost else f"a worker raised {type(e).__name__}: {e}"
                if failures > MAX_RESPAWNS:
                    raise UserError(
                        f"dataset workers failed {failures} times in a row on the chunk at "
                        f"{_describe(task)} (last: {what if not lost else e}); set "
                        "tokenizer_processes=1 to build it in the main process, or check the "
                        "machine's memory") from None
                if lost:  # every unfinished chunk of the old pool is built again
                    redo = [entry for entry in pending if not _built(entry[2])]
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = start()
                else:
                    redo = [pending[0]]
                pod.log.warning(
                    "%s%s before the chunk at %s was built: %s %d chunk(s) (retry %d of %d)",
                    pod.host_prefix(), what, _describe(task),
                    f"started {processes} new workers and resubmitted" if lost else "resubmitted",
                    len(redo), failures, MAX_RESPAWNS)
                for entry in redo:
                    entry[2] = submit(entry[0], entry[1])
                continue
            failures = 0
            pending.popleft()
            for task, step in itertools.islice(tasks, 1):
                pending.append([task, step, submit(task, step)])
            yield result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class _EasyLMDataset:
    """EasyLM's side of both types: the config, the state a checkpoint saves, the files
    loaded once, a pod's host checks. The batches are ``packing.Packed`` over the chunks
    that the type's ``RecordTransform`` makes of the records (``built_chunks``).

    Args:
        config: the type's config (``get_default_config`` fills what it lacks).
        tokenizer: EasyLM's tokenizer (a Hugging Face tokenizer with BOS and EOS tokens).
        text_processor: must be ``None``, as EasyLM's ``DatasetFactory`` passes it to a
            registered type (see ``_refuse_text_processor``).
    """

    _type = options.COMMIT  # the subclass's

    def __init__(self, config: mlxu.ConfigDict | dict | None, tokenizer: PreTrainedTokenizerBase,
                 text_processor: None = None) -> None:
        _refuse_text_processor(text_processor)
        self.config = self.get_default_config(config)
        self._tokenizer = tokenizer
        self._dictionaries = []  # (language label or "", BilingualDictionary) per mixer
        self.transform = None  # the type's RecordTransform, once its files are loaded
        self._stream = None
        c = self.config
        # On a pod, what this host failed to build (see ``_building``); None on a single host.
        self._failure = None
        # The language list is read here, before the checks: its codes name state keys. A file
        # that cannot be read is an error on this host like a missing dictionary (``_building``).
        self.languages = None
        with self._building():
            self.languages = languages.from_config(c, self._type)
        codes = [language.lang for language in self.languages or ()]
        # The schedules are checked with the rest of the config (``_check_config``); only
        # whether one changes α is needed here (every language may have its own).
        self.schedule = None
        kinds = [l.alpha_schedule for l in self.languages] if self.languages else [c.alpha_schedule]
        self._packed = Packed(self._chunks_from, batch_size=c.batch_size, seq_length=c.seq_length,
                              source=c.path, languages=codes,
                              scheduled=any(k != alpha_schedule.CONSTANT for k in kinds))
        # The cursor and the running totals behind the metrics: all are saved with a
        # checkpoint, so a resumed run's metrics carry on (``Packed.batches``).
        self._state = self._packed.state

    # EasyLM's dataset interface ----------------------------------------------------------
    @property
    def seq_length(self) -> int:
        return self.config.seq_length

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        return self._tokenizer

    @property
    def vocab_size(self) -> int:
        return len(self._tokenizer)

    def get_state_dict(self) -> dict:
        return dict(config=self.config, **self._state)

    def load_state_dict(self, state_dict: dict) -> None:
        saved = state_dict.get("config") or {}
        changed = [
            f"{k}: saved {saved[k]!r}, now {self.config[k]!r}"
            for k in _CONTENT_KEYS + self._schedule_keys()
            if k in saved and k in self.config and saved[k] != self.config[k]
        ]
        if changed:
            pod.warn_once(
                "easylm-commit: dataset state was saved under another config, so batches may "
                "differ from the uninterrupted run (%s)", "; ".join(changed))
        self._packed.load_state(state_dict)

    # Building ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _building(self):
        """Around loading the files (dictionary, template, data). On a single host an error
        stops the run here, as it comes. On a pod (and with the host checks on) it is kept
        for the first host check: a host that stopped alone would leave the others waiting in
        that check's gather until it times out (30 s with gloo, minutes on TPU), each saying
        only that a host is missing. Kept, the failed host carries on through EasyLM's model
        set-up like the others -- nothing there reads the dataset but its config -- and at the
        check every host stops at once, naming the failed hosts and their errors."""
        if pod.HostCheck.create(self.config.host_check_freq) is None:
            yield
            return
        try:
            yield
        except Exception as e:  # whatever it is, every host must hear of it
            if not isinstance(e, (UserError, OSError)):  # a bug: keep its traceback here
                pod.log.error("%scould not build the dataset", pod.host_prefix(), exc_info=True)
            self._failure = e

    def _check_config(self) -> None:
        options.check_config(self.config)
        self.schedule = alpha_schedule.from_config(self.config)

    def _labels(self):
        """How messages name each formatter: ``""`` for the plain keys, else each language's."""
        return [l.label for l in self.languages] if self.languages is not None else [""]

    def _formatter(self, build, mixing=True):
        """``build(mixer, values)`` for the plain keys, or for each language (then combined by
        a ``languages.MultilingualFormatter``); without ``mixing`` no dictionary is read."""
        if self.languages is None:
            return build(self._mixer() if mixing else None, self.config)
        return languages.multilingual_formatter(
            self.languages, build, lambda l: self._mixer(l.values, l.label) if mixing else None,
            seed=self.config.seed, sampling=self.config.get("language_sampling", "draw"),
            interleaved=self._type == options.CODEMIX_CLM)

    def _mixer(self, values=None, label=""):
        """The mixer of the dataset's keys, or of one language's (``values``: its keys)."""
        v = values or self.config
        if not v["dictionary"]:
            return None
        try:
            dictionary = BilingualDictionary.load(
                v["dictionary"], reverse=v["reverse_dictionary"], keep_identical=not v["drop_identical"],
            )
        except UserError as e:
            raise UserError(f"{label}: {e}") if label else e from None
        self._dictionaries.append((label, dictionary))
        return CodeMixer(dictionary, v["alpha"], seed=self.config.seed,
                         segmenter=self.config.segmenter, protect=self.config.protect)

    def _stream_of(self, path, name, split, label="", copies=1):
        c = self.config
        try:
            dataset = load_records(path, name, split, c.streaming)
            return RecordStream(dataset, shuffle=c.shuffle, seed=c.seed, where=path, copies=copies)
        except UserError as e:
            raise UserError(f"{label}: {e}") if label else e from None

    def _records(self):
        if self._stream is None:
            c = self.config
            langs = self.languages
            if langs is not None and self._type == options.CODEMIX_CLM:
                streams = [self._stream_of(l.path, l.name, l.split, l.label) for l in langs]
                self._stream = InterleavedStream(
                    streams, [l.weight for l in langs], seed=c.seed,
                    stopping_strategy=c.stopping_strategy, wheres=[l.path for l in langs])
            else:
                each = langs is not None and c.language_sampling == "each"
                self._stream = self._stream_of(c.path, c.name, c.split,
                                               copies=len(langs) if each else 1)
        return self._stream

    def _build_transform(self, formatter):
        """The type's transform, and what ``Packed`` says when every record is skipped."""
        self.formatter = formatter
        if self.languages is None:
            pairs = [(formatter.mixer, self.schedule)]
        else:  # each language's mixer follows its own schedule (its keys, else the dataset's)
            pairs = []
            for language, mixer in zip(self.languages, formatter.mixers):
                try:
                    pairs.append((mixer, alpha_schedule.from_config(language.values)))
                except UserError as e:
                    raise UserError(f"{language.label}: {e}") from None
        self.transform = RecordTransform(formatter, self._tokenizer, strict=self.config.strict,
                                         schedules=[(m, s) for m, s in pairs if m is not None])
        options = formatter.field_options.items()
        self._packed.check = "check " + ", ".join(f"{k}={v}" for k, v in options)

    def _chunks_from(self, epoch, position, steps=None):
        c = self.config
        return built_chunks(self.transform, self._records(), epoch, position,
                            c.tokenizer_processes, c.records_per_chunk, steps)

    def _schedule_keys(self):
        """Keys that change the batches only under an alpha schedule: alpha is fixed per chunk
        of records, and the chunks are numbered in the saved state."""
        return ("records_per_chunk",) if self._packed.scheduled else ()

    # Config keys that do not change a batch, and file names whose contents are compared
    # instead (the data file's through the batches): hosts may mount files at other paths.
    # Both declared in options.py.
    _NOT_COMPARED = options.not_compared_keys()

    def host_agreement_items(self):
        """What every host of a pod must have alike before the first batch, as
        ``{name: (digest, what this host has)}`` (see ``pod.HostCheck``)."""
        c = self.config
        items = {"easylm-commit version": (pod.digest(__version__), __version__)}
        for k in sorted(c):
            if k not in self._NOT_COMPARED or k in self._schedule_keys():
                items[k] = (pod.digest(repr(c[k])), f"{k}={c[k]!r}")
        if self.languages is not None:
            # Every value of every entry but file names (hosts compare contents: below).
            described = languages.describe(self.languages, files=False)
            items["languages"] = (pod.digest(described), described)
        for label, d in self._dictionaries or [("", None)]:
            name = f"dictionary contents ({label})" if label else "dictionary contents"
            if d is None:
                items[name] = (pod.digest(""), "no dictionary")
                continue
            # What the mixer uses (after reverse_dictionary and drop_identical), in file order:
            # about 0.1 s for 100K pairs, once, and only on a pod.
            # exact: case-sensitive entries; phrases: multi-word sources, matched before words.
            tables = [d.table, d.exact, d.phrases, d.phrase_exact]
            text = "\n\n".join("\n".join(s + "\t" + "\t".join(ts) for s, ts in t.items()) for t in tables)
            words = sum(len(t) for t in tables)
            items[name] = (pod.digest(text), f"{d.path}, {words} words")
        formatter = getattr(self, "formatter", None)
        for label, f in zip(self._labels(), getattr(formatter, "formatters", [formatter])):
            template = getattr(f, "template", None)
            if template is not None:
                items[f"template ({label})" if label else "template"] = (
                    pod.digest(template.prompt_input, template.prompt_no_input),
                    template.name if label else str(c.get("template", "")))
        s = self._state
        cursor = (s["epoch"], s["position"], s["offset"], s["batches"])
        items["dataset state (resume cursor)"] = (
            pod.digest(repr(cursor)), "epoch {}, position {}, offset {}, batch {}".format(*cursor))
        return items

    def __iter__(self):
        c = self.config
        check = pod.HostCheck.create(c.host_check_freq)
        if check is not None:
            items = {}
            if self._failure is None:
                with self._building():  # the data too: a missing file stops every host here
                    self._records()
                    items = self.host_agreement_items()
            check.compare("before the first batch", items, error=self._failure,
                          hint="Every host must run the same config with the same files")
        elif self._failure is not None:  # kept for a check this run no longer makes
            raise self._failure

        def on_batch(index, batch):
            if check.due(index):
                check.batch(index, batch)

        yield from self._packed.batches(on_batch if check is not None else None)


def _refuse_text_processor(text_processor):
    """EasyLM's ``TextProcessor`` turns a record into tokens by its own ``fields`` option;
    these types format records themselves (template, fields, mixing) and tokenize them with
    the loss on the response (``transform.py``), so one passed here could only be ignored --
    and a user who set ``--train_dataset.text_processor.*`` would train on something else
    than they asked for, silently. EasyLM never passes one to a registered type: its
    ``DatasetFactory`` patch and ``registry.install`` both pass ``None`` (the patch builds
    the ``TextProcessor`` only for its own ``huggingface`` and ``json`` types). So one that
    is not ``None`` comes from a caller's own code, and is refused."""
    if text_processor is not None:
        raise UserError(
            "text_processor must be None: the commit and codemix_clm dataset types format "
            f"records themselves (got a {type(text_processor).__name__}; set their template "
            "and field options instead)")


class CommitDataset(_EasyLMDataset):
    """``--train_dataset.type=commit``: Alpaca-style instruction tuning, code-mixed (Eq. 5).

    ``mode``: ``commit`` (template kept, I/X/Y mixed), ``naive`` (template mixed too) or
    ``none`` (plain Alpaca). Loss on the response and EOS only.

    Args:
        config: the ``commit`` config (``get_default_config``; EasyLM's
            ``--train_dataset.commit.*`` flags).
        tokenizer: EasyLM's tokenizer (a Hugging Face tokenizer with BOS and EOS tokens).
        text_processor: ``None``, as EasyLM passes it (``_refuse_text_processor``).

    Raises:
        UserError: a config value out of range, a missing file, a text processor.
    """

    _type = options.COMMIT

    @staticmethod
    def get_default_config(updates: "dict | mlxu.ConfigDict | None" = None) -> "mlxu.ConfigDict":
        """Every option of the type with its default (declared in ``options.py``), with
        ``updates`` merged.

        Args:
            updates: values to merge over the defaults, or None.
        """
        return options.config_dict(options.COMMIT, updates)

    def __init__(self, config: mlxu.ConfigDict | dict | None, tokenizer: PreTrainedTokenizerBase,
                 text_processor: None = None) -> None:
        super().__init__(config, tokenizer, text_processor)
        # Not deferred on a pod: EasyLM builds its model from seq_length before the check.
        self._check_config()
        c = self.config
        fields = FieldNames(c.instruction_field, c.input_field, c.output_field)

        def build(mixer, values):
            return Formatter(mixer, mode=c.mode, template=values["template"], fields=fields)

        with self._building():
            if self._failure is None:
                self._build_transform(self._formatter(build, mixing=c.mode != "none"))


class CodeMixCLMDataset(_EasyLMDataset):
    """``--train_dataset.type=codemix_clm``: causal LM on a target-language corpus mixed
    into English with the dictionary (Eq. 6). ``alpha=0`` is plain continual pretraining.

    ``reverse_dictionary`` defaults to True: dictionaries are MUSE en-xx files and the
    corpus is in xx, so the file is read xx -> en.

    Args:
        config: the ``codemix_clm`` config (``get_default_config``; EasyLM's
            ``--train_dataset.codemix_clm.*`` flags).
        tokenizer: EasyLM's tokenizer (a Hugging Face tokenizer with BOS and EOS tokens).
        text_processor: ``None``, as EasyLM passes it (``_refuse_text_processor``).

    Raises:
        UserError: a config value out of range, a missing file, a text processor.
    """

    _type = options.CODEMIX_CLM

    @staticmethod
    def get_default_config(updates: "dict | mlxu.ConfigDict | None" = None) -> "mlxu.ConfigDict":
        """Every option of the type with its default (declared in ``options.py``), with
        ``updates`` merged.

        Args:
            updates: values to merge over the defaults, or None.
        """
        return options.config_dict(options.CODEMIX_CLM, updates)

    def __init__(self, config: mlxu.ConfigDict | dict | None, tokenizer: PreTrainedTokenizerBase,
                 text_processor: None = None) -> None:
        super().__init__(config, tokenizer, text_processor)
        self._check_config()

        def build(mixer, values):
            return TextFormatter(mixer, values["text_field"])

        with self._building():
            if self._failure is None:
                self._build_transform(self._formatter(build))
        self.mixer = getattr(self.transform, "mixer", None)


DATASET_TYPES = {"commit": CommitDataset, "codemix_clm": CodeMixCLMDataset}
