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
"""

import collections
import concurrent.futures
import contextlib
import ctypes
import dataclasses
import itertools
import multiprocessing.context
import os
import signal
import sys
import threading
import time

import mlxu
import numpy as np

from easylm_commit import __version__, options, pod
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.mixer import CodeMixer
from easylm_commit.packing import Packer
from easylm_commit.sources import RecordStream, load_records
from easylm_commit.records import BadRecords
from easylm_commit.templates import FieldNames, Formatter, TextFormatter
from easylm_commit.tokens import instruction_tokens, text_tokens

# Config keys whose change alters the batches (declared in options.py): a state saved under
# other values cannot resume "exactly", and we say so instead of silently producing other data.
_CONTENT_KEYS = options.batch_keys()


@dataclasses.dataclass
class Chunk:
    """What a builder makes of consecutive records: their examples and mixing counts."""
    examples: list      # (epoch, position, tokens, masks)
    words: int = 0
    replaced: int = 0
    skipped: int = 0
    start: tuple = None  # (epoch, position) of its first record
    bad: BadRecords = None  # the skipped records' reasons and fields, for the error below

    def __getstate__(self):
        # Sent back from worker processes as a few flat arrays rather than hundreds of small
        # ones: unpickling is the main process's work, and the main process is on the
        # critical path of every batch.
        ex = self.examples
        lengths = np.array([len(t) for _, _, t, _ in ex], dtype=np.int64)
        return dict(
            epochs=np.array([e for e, _, _, _ in ex], dtype=np.int64),
            positions=np.array([p for _, p, _, _ in ex], dtype=np.int64),
            lengths=lengths,
            tokens=np.concatenate([t for _, _, t, _ in ex]) if ex else np.zeros(0, np.int32),
            masks=np.concatenate([m for _, _, _, m in ex]) if ex else np.zeros(0, np.float32),
            words=self.words, replaced=self.replaced, skipped=self.skipped,
            start=self.start, bad=self.bad,
        )

    def __setstate__(self, state):
        cuts = np.cumsum(state["lengths"])[:-1]
        self.examples = list(zip(
            state["epochs"].tolist(), state["positions"].tolist(),
            np.split(state["tokens"], cuts), np.split(state["masks"], cuts),
        )) if len(state["lengths"]) else []
        self.words, self.replaced, self.skipped = state["words"], state["replaced"], state["skipped"]
        self.start, self.bad = state.get("start"), state.get("bad")


class SampleBuilder:
    """Records -> formatted, mixed, tokenised examples: the one record path of both types.

    ``formatter`` is a ``templates.Formatter`` (instruction tuning, Eq. 1/5: loss on the
    response) or a ``templates.TextFormatter`` (alignment, Eq. 6: loss on every token).
    Bad records follow ``records.BadRecords``, as in every command.
    """

    def __init__(self, formatter, tokenizer, strict=False):
        self.formatter = formatter
        self.tokenizer = tokenizer
        self.strict = strict

    def __call__(self, items):
        # Only the texts and counts of each Sample are kept: a chunk's worth of Samples
        # (segment lists, tuples) alive until the chunk is tokenized would be promoted
        # through the garbage collector's generations for nothing.
        keep, prompts, responses = [], [], []
        words = replaced = 0
        bad = BadRecords(self.strict)
        fmt = self.formatter.format
        pieces = not isinstance(self.formatter, TextFormatter)
        for epoch, position, row, record in items:
            sample = bad.apply(f"record {row}", fmt, record, (epoch, row))
            if sample is not None:
                keep.append((epoch, position))
                # The prompt as its pieces: the template's are encoded once, not per record
                # (tokens.encode_prompts).
                prompts.append(sample.segments[:-1] if pieces else sample.prompt)
                responses.append(sample.response)
                words += sample.words
                replaced += sample.replaced
        if isinstance(self.formatter, TextFormatter):
            encoded = text_tokens(self.tokenizer, responses)
        else:
            encoded = instruction_tokens(self.tokenizer, prompts, responses)
        return Chunk(
            examples=[k + e for k, e in zip(keep, encoded)],
            words=words, replaced=replaced, skipped=bad.count,
            start=tuple(items[0][:2]) if items else None, bad=bad,
        )


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

    def start(self):
        self._trainer = (os.getpid(), threading.current_thread() is threading.main_thread())
        super().start()

    def run(self):
        # Ctrl-C reaches the whole foreground process group. It is the trainer's to handle:
        # its exit (or death) ends the workers, and they print no KeyboardInterrupt
        # traceback each.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _follow_parent(*self._trainer)
        super().run()


class _WorkerContext(multiprocessing.context.SpawnContext):
    Process = _WorkerProcess


def _worker_init(builder, records):
    global _worker_builder, _worker_records
    _worker_builder, _worker_records = builder, records


def _worker_run(items):
    return _worker_builder(items)


def _worker_run_range(task):
    return _worker_builder(_worker_records.read(*task))


def _chunks(stream, size):
    """Consecutive items, cut at epoch ends and where the position reaches a multiple of
    ``size``: the same boundaries as ``RecordStream.ranges``, whatever position a run
    (re)started from (the resumed mixing counts rely on it; see ``_PackedDataset``)."""
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


def built_chunks(builder, records, epoch, position, processes, chunk_records):
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
    """
    if processes <= 1:
        for items in _chunks(records.iterate(epoch, position), chunk_records):
            yield builder(items)
        return
    if records.streaming:
        work, tasks = _worker_run, _chunks(records.iterate(epoch, position), chunk_records)
    else:
        work, tasks = _worker_run_range, records.ranges(epoch, position, chunk_records)
    ctx = _WorkerContext()

    def start():
        return concurrent.futures.ProcessPoolExecutor(
            processes, mp_context=ctx, initializer=_worker_init, initargs=(builder, records))

    def submit(task):
        try:
            return pool.submit(work, task)
        except concurrent.futures.process.BrokenProcessPool as e:  # broke since the last look
            future = concurrent.futures.Future()
            future.set_exception(e)
            return future

    pool = start()
    pending = collections.deque()  # [task, future], in chunk order
    failures = 0
    try:
        for task in itertools.islice(tasks, 2 * processes):
            pending.append([task, submit(task)])
        while pending:
            task, future = pending[0]
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
                    redo = [entry for entry in pending if not _built(entry[1])]
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
                    entry[1] = submit(entry[0])
                continue
            failures = 0
            pending.popleft()
            for task in itertools.islice(tasks, 1):
                pending.append([task, submit(task)])
            yield result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class _PackedDataset:
    """The machinery shared by both types: records -> builder -> packer -> batches."""

    def __init__(self, config, tokenizer, text_processor=None, **kwargs):
        # ``text_processor`` is EasyLM's; our types format text themselves.
        self.config = self.get_default_config(config)
        self._tokenizer = tokenizer
        self._dictionary = None
        # The cursor and the running totals behind the metrics: all are saved with a
        # checkpoint, so a resumed run's metrics carry on (see __iter__ for the counts).
        self._state = dict(epoch=0, position=0, offset=0, total_tokens=0, batches=0,
                           words_seen=0, words_replaced=0, records_skipped=0)
        self._resumed_counts = False
        self._stream = None
        # On a pod, what this host failed to build (see ``_building``); None on a single host.
        self._failure = None

    # EasyLM's dataset interface ----------------------------------------------------------
    @property
    def seq_length(self):
        return self.config.seq_length

    @property
    def tokenizer(self):
        return self._tokenizer

    @property
    def vocab_size(self):
        return len(self._tokenizer)

    def get_state_dict(self):
        return dict(config=self.config, **self._state)

    def load_state_dict(self, state_dict):
        saved = state_dict.get("config") or {}
        changed = [
            f"{k}: saved {saved[k]!r}, now {self.config[k]!r}"
            for k in _CONTENT_KEYS
            if k in saved and k in self.config and saved[k] != self.config[k]
        ]
        if changed:
            pod.warn_once(
                "easylm-commit: dataset state was saved under another config, so batches may "
                "differ from the uninterrupted run (%s)", "; ".join(changed))
        for k in self._state:
            if k in state_dict:
                self._state[k] = int(state_dict[k])
        # States saved before the counts were kept start them from zero.
        self._resumed_counts = "words_seen" in state_dict

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

    def _load_dictionary(self, reverse):
        if not self.config.dictionary:
            return None
        self._dictionary = BilingualDictionary.load(
            self.config.dictionary, reverse=reverse, keep_identical=not self.config.drop_identical,
        )
        return self._dictionary

    def _mixer(self, reverse):
        dictionary = self._load_dictionary(reverse)
        if dictionary is None:
            return None
        return CodeMixer(dictionary, self.config.alpha, seed=self.config.seed,
                         segmenter=self.config.segmenter, protect=self.config.protect)

    def _records(self):
        if self._stream is None:
            c = self.config
            dataset = load_records(c.path, c.name, c.split, c.streaming)
            self._stream = RecordStream(dataset, shuffle=c.shuffle, seed=c.seed, where=c.path)
        return self._stream

    def _builder(self):
        raise NotImplementedError

    def _all_skipped(self, bad):
        c = self.config
        names = ("text_field",) if "text_field" in c else (
            "instruction_field", "input_field", "output_field")
        check = "check " + ", ".join(f"{k}={c[k]}" for k in names)
        return "no batch can be made: " + bad.all_skipped(c.path, check, every=True)

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
            if k not in self._NOT_COMPARED:
                items[k] = (pod.digest(repr(c[k])), f"{k}={c[k]!r}")
        d = self._dictionary
        if d is not None:
            # What the mixer uses (after reverse_dictionary and drop_identical), in file order:
            # about 0.1 s for 100K pairs, once, and only on a pod.
            tables = [d.table, getattr(d, "exact", {})]  # exact: case-sensitive entries
            text = "\n\n".join("\n".join(s + "\t" + "\t".join(ts) for s, ts in t.items()) for t in tables)
            words = sum(len(t) for t in tables)
            items["dictionary contents"] = (pod.digest(text), f"{d.path}, {words} words")
        else:
            items["dictionary contents"] = (pod.digest(""), "no dictionary")
        template = getattr(getattr(self, "formatter", None), "template", None)
        if template is not None:
            items["template"] = (pod.digest(template.prompt_input, template.prompt_no_input),
                                 str(c.get("template", "")))
        s = self._state
        cursor = (s["epoch"], s["position"], s["offset"], s["batches"])
        items["dataset state (resume cursor)"] = (
            pod.digest(repr(cursor)), "epoch {}, position {}, offset {}, batch {}".format(*cursor))
        return items

    def __iter__(self):
        c = self.config
        state = self._state
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
        builder = self._builder()
        packer = Packer(c.batch_size, c.seq_length)
        resume_offset = state["offset"]
        # Mixing counts are added chunk by chunk as records enter the packing buffer. A
        # batch is handed out right after the example holding the next batch's first token
        # entered, so the saved counts include the whole chunk around the cursor; chunk
        # boundaries do not depend on where a run started (``_chunks``), so a resumed run's
        # first chunk is the rest of that chunk and is not counted again.
        recount = not (self._resumed_counts and state["batches"] > 0)
        chunks = built_chunks(builder, self._records(), state["epoch"], state["position"],
                              c.tokenizer_processes, c.records_per_chunk)
        empty = None  # (start, BadRecords) of the chunks since the last one with an example
        for chunk in chunks:
            if chunk.examples or chunk.start is None:
                empty = None
            else:
                # Without this, data whose every record is skipped (a misspelt field name)
                # would be read epoch after epoch without a batch, silently, forever.
                empty = empty or (chunk.start, BadRecords())
                (first_epoch, first_position), bad = empty
                if chunk.start[0] > first_epoch + (first_position > 0):  # a whole epoch behind
                    raise UserError(self._all_skipped(bad))
                if chunk.bad is not None:
                    bad.merge(chunk.bad)
            if recount:
                state["words_seen"] += chunk.words
                state["words_replaced"] += chunk.replaced
                state["records_skipped"] += chunk.skipped
            recount = True
            for epoch, position, tokens, masks in chunk.examples:
                packer.add(epoch, position, tokens, masks, offset=resume_offset)
                resume_offset = 0
                while packer.ready():
                    batch = packer.pop()
                    if check is not None and check.due(state["batches"]):
                        check.batch(state["batches"], batch)
                    state["epoch"], state["position"], state["offset"] = packer.cursor()
                    state["total_tokens"] += packer.chunk
                    state["batches"] += 1
                    self._resumed_counts = True
                    words, replaced = state["words_seen"], state["words_replaced"]
                    metrics = {
                        "dataset_epoch": state["epoch"],
                        "dataset_example_index": state["position"],
                        "dataset_total_tokens": state["total_tokens"],
                        "dataset_words_seen": words,
                        "dataset_words_replaced": replaced,
                        "dataset_mixing_rate": replaced / words if words else 0.0,
                        "dataset_records_skipped": state["records_skipped"],
                    }
                    yield batch, metrics


class CommitDataset(_PackedDataset):
    """``--train_dataset.type=commit``: Alpaca-style instruction tuning, code-mixed (Eq. 5).

    ``mode``: ``commit`` (template kept, I/X/Y mixed), ``naive`` (template mixed too) or
    ``none`` (plain Alpaca). Loss on the response and EOS only.
    """

    @staticmethod
    def get_default_config(updates: "dict | mlxu.ConfigDict | None" = None) -> "mlxu.ConfigDict":
        """Every option of the type with its default (declared in ``options.py``), with
        ``updates`` merged.

        Args:
            updates: values to merge over the defaults, or None.
        """
        return options.config_dict(options.COMMIT, updates)

    def __init__(self, config, tokenizer, text_processor=None, **kwargs):
        super().__init__(config, tokenizer, text_processor, **kwargs)
        # Not deferred on a pod: EasyLM builds its model from seq_length before the check.
        self._check_config()
        c = self.config
        with self._building():
            mixer = self._mixer(c.reverse_dictionary) if c.mode != 'none' else None
            fields = FieldNames(c.instruction_field, c.input_field, c.output_field)
            self.formatter = Formatter(mixer, mode=c.mode, template=c.template, fields=fields)

    def _builder(self):
        return SampleBuilder(self.formatter, self._tokenizer, strict=self.config.strict)


class CodeMixCLMDataset(_PackedDataset):
    """``--train_dataset.type=codemix_clm``: causal LM on a target-language corpus mixed
    into English with the dictionary (Eq. 6). ``alpha=0`` is plain continual pretraining.

    ``reverse_dictionary`` defaults to True: dictionaries are MUSE en-xx files and the
    corpus is in xx, so the file is read xx -> en.
    """

    @staticmethod
    def get_default_config(updates: "dict | mlxu.ConfigDict | None" = None) -> "mlxu.ConfigDict":
        """Every option of the type with its default (declared in ``options.py``), with
        ``updates`` merged.

        Args:
            updates: values to merge over the defaults, or None.
        """
        return options.config_dict(options.CODEMIX_CLM, updates)

    def __init__(self, config, tokenizer, text_processor=None, **kwargs):
        super().__init__(config, tokenizer, text_processor, **kwargs)
        self._check_config()
        with self._building():
            self.mixer = self._mixer(self.config.reverse_dictionary)
            self.formatter = TextFormatter(self.mixer, self.config.text_field)

    def _builder(self):
        return SampleBuilder(self.formatter, self._tokenizer, strict=self.config.strict)


DATASET_TYPES = {"commit": CommitDataset, "codemix_clm": CodeMixCLMDataset}
