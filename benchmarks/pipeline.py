"""Records per second of the code-mixing data pipeline, against EasyLM's own loader, the
paper's code and SentencePiece's encoder, on Mistral 7B's LLaMA-family tokenizer.

    pip install --no-deps mistral-common==1.13.1    # ships the tokenizer file (or the [bench] extra)
    EASYLM_DIR=/path/to/EasyLM python benchmarks/pipeline.py            # a few minutes
    EASYLM_DIR=/path/to/EasyLM python benchmarks/pipeline.py --quick    # the headline table only
    EASYLM_DIR=/path/to/EasyLM python benchmarks/pipeline.py --memory   # + streaming RSS, 0.1 -> 1 GB

Why records and not tokens: a LLaMA tokenizer spells Devanagari letter by letter, so a mixed
record makes about twice the tokens of the English one, and tokens per second would
flatter mixing. A record is the unit of work every row shares.

Headline (one process, start-up included, ``--records`` Alpaca-like records, batches of
``8 x 512``): each pipeline is timed from its construction (dictionary, dataset files,
tokenizer checks) to the last whole batch that the records fill. Rows run in turn, in a
rotating order, ``--repeat`` times; medians and the ratios of medians are reported, because
the machine may be shared. The whole process is pinned to one CPU core, so that thread pools
(SentencePiece's batch encoder uses every core by default) cannot make "one process" more
than one core. See README.md in this folder for what each row runs and how records are
counted.

Two languages (issue 21): ``commit`` with ``languages`` Hindi and Greek at weight 1:1 on the
same records and tokenizer, side by side with the one-language rows (Hindi, the ``commit``
row, and Greek alone), with and without the dictionary loads; and the peak RSS of a child
process running the two-language pipeline over N and 4N records (``--languages-only`` runs
just these rows and that check).

Then: where the time goes in a ``commit`` run, stage by stage; the dictionary load; 1 vs 2
worker processes in steady state (unpinned); with ``--memory``, peak RSS while streaming a
0.1 GB and a 1 GB corpus through ``codemix_clm``.
"""

import argparse
import gc
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings

warnings.filterwarnings("ignore")
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("PYTHONWARNINGS", "ignore")  # also silences the spawned workers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import inputs  # noqa: E402
import paper_code  # noqa: E402

BATCH_SIZE, SEQ_LENGTH = 8, 512
CHUNK = BATCH_SIZE * SEQ_LENGTH

TARGETS = dict(              # records/s, one process, protection on (issue 10)
    vs_easylm=1.2,           # commit >= 1.2x EasyLM JsonDataset on pre-formatted records
    vs_paper=5.0,            # commit >= 5x the paper-code re-creation
    vs_sentencepiece=0.5,    # commit >= 0.5x SentencePiece's encoder alone, English texts
    workers=1.7,             # 1 -> 2 worker processes (earlier issue)
    dict_load_s=1.0,         # 100K-pair dictionary
    phrases=0.75,            # commit with 20% phrase entries >= 0.75x commit (issue 22)
    memory_growth=0.10,      # streaming RSS, 0.1 GB -> 1 GB of corpus
    two_languages=0.90,      # commit, hi+el at 1:1 >= 0.9x commit, hi alone (issue 21)
    languages_memory_growth=0.10,  # two-language commit, peak RSS, N -> 4N records
)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# -- the tokenizer --------------------------------------------------------------------------
def mistral_tokenizer_dir(workdir):
    """Mistral 7B v0.1's 32K SentencePiece BPE (a LLaMA-family tokenizer, from the
    ``mistral-common`` wheel), saved as a Hugging Face LLaMA tokenizer directory: slow
    (``tokenizer.model``) and fast (``tokenizer.json``) files, so that EasyLM's
    ``AutoTokenizer`` gets the fast one as it would from the hub."""
    out = os.path.join(workdir, "mistral_7b_v0.1_tokenizer")
    if os.path.isfile(os.path.join(out, "tokenizer.json")):
        return out
    try:
        import mistral_common
    except ImportError:
        sys.exit("benchmarks/pipeline.py: needs the tokenizer file of mistral-common: "
                 "pip install --no-deps mistral-common==1.13.1 (or 'easylm-commit[bench]')")
    from transformers import AutoTokenizer, LlamaTokenizer

    model = os.path.join(os.path.dirname(mistral_common.__file__), "data", "tokenizer.model.v1")
    tmp = out + ".tmp"
    LlamaTokenizer(vocab_file=model, legacy=True).save_pretrained(tmp)
    AutoTokenizer.from_pretrained(tmp).save_pretrained(tmp)  # converts once: tokenizer.json
    # Without this key the fast tokenizer loads tokenizer.json as it is instead of
    # converting the slow one again (a second per load); the slow one's default is the same.
    config_file = os.path.join(tmp, "tokenizer_config.json")
    with open(config_file, encoding="utf-8") as f:
        config = json.load(f)
    config.pop("add_prefix_space", None)
    with open(config_file, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    os.replace(tmp, out)
    return out


def fast_tokenizer(path):
    """What EasyLM's LLaMA config loads (``AutoTokenizer``): the fast tokenizer."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def paper_tokenizer(path):
    """The paper's tokenizer: EasyLM's SentencePiece (slow) LLaMA tokenizer from
    ``--tokenizer.vocab_file``, BOS and EOS added, a pad token (Alpaca adds ``[PAD]``)."""
    from transformers import LlamaTokenizer

    tok = LlamaTokenizer.from_pretrained(path, add_bos_token=True, add_eos_token=True, legacy=True)
    tok.add_special_tokens({"pad_token": "[PAD]"})
    tok.model_max_length = 2048  # LLaMA's
    return tok


# -- the pipelines --------------------------------------------------------------------------
# Each ``make_*`` builds a pipeline from nothing but paths and a loaded tokenizer (what a
# training script has before its data loader) and returns ``(batches, records_read)``:
# an iterator of batches and a function saying how many records it has read so far, which
# checks that the timed run stayed inside the first pass over the records.
def two_languages(paths, codes=("hi", "el")):
    """The ``languages`` list of the two-language rows: each language's generated 100K-pair
    dictionary, weight 1 each, every other key the dataset's (alpha 0.9, protection on)."""
    files = dict(hi=paths["dictionary"], el=paths["dictionary_el"])
    return json.dumps([dict(lang=code, dictionary=files[code]) for code in codes])


# What each ``commit`` row changes in the config of ``make_commit`` (and of its token count).
COMMIT_ROWS = {
    "commit": lambda p: {},
    "commit_plain": lambda p: dict(protect=False),
    "commit_phrases": lambda p: dict(dictionary=p["phrase_dictionary"]),
    "commit_el": lambda p: dict(dictionary=p["dictionary_el"]),
    "commit_two": lambda p: dict(languages=two_languages(p)),
}
LANGUAGE_ROWS = ("commit", "commit_el", "commit_two")


def commit_config(paths, **updates):
    config = dict(path=paths["records"], dictionary=paths["dictionary"], alpha=0.9,
                  seq_length=SEQ_LENGTH, batch_size=BATCH_SIZE)
    config.update(updates)
    return config


def make_commit(paths, tokenizer, **updates):
    """``commit`` on raw Alpaca records: formatted, mixed at alpha 0.9 with protected spans
    kept, tokenized and packed on the fly (the defaults)."""
    from easylm_commit.dataset_types import CommitDataset

    config = commit_config(paths, **updates)
    ds = CommitDataset(CommitDataset.get_default_config(config), tokenizer)
    last = [None]

    def batches():
        for batch, metrics in ds:
            last[0] = metrics
            yield batch

    def read():
        m = last[0]
        return 0 if m is None else m["dataset_epoch"] * paths["n_records"] + m["dataset_example_index"]
    return batches(), read


def make_easylm(paths, tokenizer):
    """EasyLM's ``JsonDataset`` on the same records already formatted, prompt masked
    (``text_processor.fields='[prompt],response'``): an EasyLM user's run without mixing."""
    from EasyLM.data import DatasetFactory

    config = DatasetFactory.get_default_config()
    config.type = "json"
    config.text_processor.fields = "[prompt],response"
    config.json_dataset.path = paths["formatted"]
    config.json_dataset.seq_length = SEQ_LENGTH
    config.json_dataset.batch_size = BATCH_SIZE
    config.json_dataset.tokenizer_processes = 1
    ds = DatasetFactory.load_dataset(config, tokenizer)
    last = [None]

    def batches():
        for batch, metrics in ds:
            last[0] = metrics
            yield batch

    # JsonDataset's example index restarts at 0 after the end of the file; the run stops
    # before it gets there (checked by the token count, see ``epoch_tokens``).
    return batches(), lambda: 0 if last[0] is None else last[0]["dataset_example_index"] + 1


def make_paper(paths, tokenizer):
    """``paper_code.py``: the COMMIT authors' EasyLM fork re-created, on its slow tokenizer."""
    import datasets

    random.seed(0)  # their mixing draws from the global generator
    table = paper_code.load_dict(paths["dictionary"])
    processor = paper_code.PaperProcessor(table, 0.9, tokenizer)
    dataset = datasets.load_dataset("json", data_files=paths["records"], split="train")
    count = [0]

    class Rows:
        def __iter__(self):
            for row in dataset:
                count[0] += 1
                yield row

    return paper_code.paper_batches(Rows(), processor, BATCH_SIZE, SEQ_LENGTH), lambda: count[0]


PIPELINES = {**{name: (lambda p, t, updates=updates: make_commit(p, t, **updates(p)))
                for name, updates in COMMIT_ROWS.items()},
             "easylm": make_easylm, "paper": make_paper}


def epoch_tokens(name, paths, tokenizer):
    """Tokens that pipeline ``name`` makes of one pass over the records (BOS/EOS included),
    counted by its own example function, untimed."""
    n = paths["n_records"]
    if name.startswith("commit"):
        from easylm_commit.dataset_types import CommitDataset, built_chunks

        ds = CommitDataset(CommitDataset.get_default_config(
            commit_config(paths, **COMMIT_ROWS[name](paths))), tokenizer)
        chunks = built_chunks(ds.transform, ds._records(), 0, 0, 1, n)
        return sum(len(t) for _, _, t, _ in next(chunks).examples)
    if name == "easylm":
        from EasyLM.data import TextProcessor

        processor = TextProcessor(TextProcessor.get_default_config(
            dict(fields="[prompt],response")), tokenizer)
        with open(paths["formatted"], encoding="utf-8") as f:
            return sum(len(processor(json.loads(line))[0]) for line in f)
    if name == "paper":
        # Its slow tokenizer would take as long as a timed run: the ids are SentencePiece's
        # (BOS and EOS added), checked against the processor itself on the first records.
        import datasets
        import sentencepiece

        sp = sentencepiece.SentencePieceProcessor(model_file=tokenizer.vocab_file)
        random.seed(0)
        processor = paper_code.PaperProcessor(paper_code.load_dict(paths["dictionary"]), 0.9, tokenizer)
        total = 0
        for i, row in enumerate(datasets.load_dataset("json", data_files=paths["records"], split="train")):
            state = random.getstate()
            source, target = processor.texts(row)
            n = len(sp.encode(source + target)) + 2
            if i < 32:
                random.setstate(state)
                if len(processor(row)[0]) != n:
                    raise RuntimeError("paper code: token count check failed")
            total += n
        return total
    raise KeyError(name)


class Timed:
    """One headline row: its wall times, and the records a run is credited with.

    A run yields the whole batches that one pass over the N records fills, ``(T - 2) //
    CHUNK`` of them where T is the pass's token count (the ``- 2``: EasyLM's loader needs
    more than ``CHUNK + 1`` tokens in hand to cut a batch), and is credited with the
    records those batches hold, ``batches * CHUNK / T * N``: slightly fewer than N, though
    every record was read, mixed and tokenized.
    """

    def __init__(self, label, tokens_per_pass=None, n_records=0):
        self.label, self.times, self.cpu_times = label, [], []
        self.load_times, self.load_cpu_times = [], []  # the dictionary loads inside each run
        self.tokens = tokens_per_pass
        self.n = n_records
        if tokens_per_pass:
            self.batches = (tokens_per_pass - 2) // CHUNK
            self.records = self.batches * CHUNK / tokens_per_pass * n_records
        else:
            self.batches, self.records = 0, n_records

    def add(self, wall_cpu, load=None):
        self.times.append(wall_cpu[0])
        self.cpu_times.append(wall_cpu[1])
        if load is not None:
            self.load_times.append(load[0])
            self.load_cpu_times.append(load[1])

    @property
    def seconds(self):
        return statistics.median(self.times)

    @property
    def cpu_seconds(self):
        return statistics.median(self.cpu_times)

    @property
    def rps(self):
        return self.records / self.seconds

    @property
    def cpu_rps(self):
        return self.records / self.cpu_seconds

    @property
    def rps_without_load(self):
        """Records/s with the dictionary loads taken out of each run (median of the runs)."""
        return self.records / statistics.median(t - l for t, l in zip(self.times, self.load_times))

    @property
    def cpu_rps_without_load(self):
        return self.records / statistics.median(t - l for t, l in zip(self.cpu_times, self.load_cpu_times))

    @property
    def load_seconds(self):
        return statistics.median(self.load_times)

    @property
    def tokens_per_record(self):
        return self.tokens / self.n if self.tokens else float("nan")


class Clock:
    """Wall time and this process's CPU time (all its threads) of a ``with`` block. Pinned
    to one core, CPU time is the wall time minus the time other programs held the core:
    the steadier measure on a shared machine."""

    def __enter__(self):
        gc.collect()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0

    @property
    def times(self):
        return self.wall, self.cpu


class LoadClock:
    """Wall and CPU time spent in ``BilingualDictionary.load`` inside a ``with`` block (the
    dictionary loads of a dataset's construction: one per language)."""

    def __enter__(self):
        from easylm_commit.dictionary import BilingualDictionary

        self.wall = self.cpu = 0.0
        self._raw = BilingualDictionary.__dict__["load"]
        load = self._raw.__func__

        def timed(cls, *args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return load(cls, *args, **kwargs)
            finally:
                self.wall += time.perf_counter() - t0
                self.cpu += time.process_time() - c0

        BilingualDictionary.load = classmethod(timed)
        return self

    def __exit__(self, *exc):
        from easylm_commit.dictionary import BilingualDictionary

        BilingualDictionary.load = self._raw

    @property
    def times(self):
        return self.wall, self.cpu


def time_pipeline(make, paths, tokenizer, row):
    """``(wall, cpu)`` of one whole run, and the same of its dictionary loads."""
    with LoadClock() as loads, Clock() as clock:
        batches, read = make(paths, tokenizer)
        for _ in range(row.batches):
            next(batches)
    if read() > paths["n_records"]:
        raise RuntimeError(f"{row.label}: read {read()} records, past the first pass")
    del batches
    return clock.times, loads.times


# -- stages alone ---------------------------------------------------------------------------
def formatted_texts(paths):
    with open(paths["formatted"], encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r["prompt"] for r in rows], [r["response"] for r in rows]


def time_sentencepiece(model_file, prompts, responses):
    """SentencePiece's C++ encoder alone, from loading the model: a floor no loader beats
    without caching, on the English texts (the records are not mixed: nothing to mix)."""
    import sentencepiece

    with Clock() as clock:
        sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
        for i in range(0, len(prompts), 1024):
            sp.encode(prompts[i:i + 1024])
            sp.encode(responses[i:i + 1024])
    return clock.times


def time_mixing(formatter, records):
    """Formatting and mixing alone (``Formatter.format``: the template, three fields mixed
    with protection), dictionary already loaded."""
    with Clock() as clock:
        samples = [formatter.format(r, (0, i)) for i, r in enumerate(records)]
    return clock.times, samples


def time_encoding(tokenizer, prompts, responses):
    """The datasets' encoding alone (``tokens.instruction_tokens``: ids and loss masks), on
    the mixed texts, 1,024 records a call as the dataset's chunks; the prompts as their
    pieces (template text and fields), as the datasets give them."""
    from easylm_commit.tokens import instruction_tokens

    with Clock() as clock:
        for i in range(0, len(prompts), 1024):
            instruction_tokens(tokenizer, prompts[i:i + 1024], responses[i:i + 1024])
    return clock.times


# -- where the time goes ---------------------------------------------------------------------
def _stages():
    """(label, [(owner, attribute)] whose inclusive time it is, [...] nested inside them and
    subtracted). ``owner`` is where the name is looked up at run time: a class, or the
    module that imported the function."""
    from easylm_commit import dataset_types, mixer, packing, sources, templates, tokens
    from easylm_commit.dictionary import BilingualDictionary

    load = (BilingualDictionary, "load")
    surface = (mixer._SurfaceTable, "__init__")
    protect = (mixer, "protected_spans")
    mix = (mixer.CodeMixer, "mix_counted")
    create = (tokens._SentencePieceEncoder, "create")
    return (
        ("start-up: dictionary load", [load], []),
        ("start-up: the rest of the dataset's construction", [(dataset_types.CommitDataset, "__init__")], [load]),
        ("start-up: records file (datasets.load_dataset)", [(dataset_types, "load_records")], []),
        ("start-up: mixer's surface table", [surface], []),
        ("start-up: SentencePiece encoder and its checks", [create], []),
        ("reading records (Arrow rows to dicts)", [(sources.RecordStream, "read")], []),
        ("mixing: protected-span checks", [protect], []),
        ("mixing: split, lookups, draws, writing", [mix], [protect, surface]),
        ("formatting (template, fields, Sample)", [(templates.Formatter, "format")], [mix]),
        ("tokenizing (SentencePiece C++, ids and masks)", [(tokens, "tokens_and_masks")], [create]),
        ("packing (Packer)", [(packing.Packer, "add"), (packing.Packer, "pop")], []),
    )


class _StageTimer:
    """Wraps the stages' functions for one run with a timer (inclusive wall time; nested
    calls of the same function are counted once). The wrappers cost ~1 us a call, ~1%
    of a run; the profiler they replace slowed Python code several times more than C code
    and so misplaced the shares."""

    def __init__(self, stages):
        self.stages = stages
        self.spent = {}
        self._saved = []

    def _wrap(self, owner, name):
        raw = owner.__dict__[name]
        is_classmethod = isinstance(raw, classmethod)
        fn = raw.__func__ if is_classmethod else raw
        key, spent, depth = (owner, name), self.spent, [0]
        spent[key] = 0.0
        clock = time.perf_counter

        def timed(*args, **kwargs):
            if depth[0]:
                return fn(*args, **kwargs)
            depth[0] += 1
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += clock() - t0
                depth[0] -= 1

        self._saved.append((owner, name, raw))
        setattr(owner, name, classmethod(timed) if is_classmethod else timed)

    def __enter__(self):
        for _, add, sub in self.stages:
            for owner, name in add + sub:
                if (owner, name) not in self.spent:
                    self._wrap(owner, name)
        return self

    def __exit__(self, *exc):
        for owner, name, raw in reversed(self._saved):
            setattr(owner, name, raw)

    def shares(self, total):
        out = [(label, (sum(self.spent[k] for k in add) - sum(self.spent[k] for k in sub)) / total)
               for label, add, sub in self.stages]
        out.append(("other (dataset loop, bad-records policy, hand-offs)", 1.0 - sum(v for _, v in out)))
        return out


def time_breakdown(paths, tok_dir, row, repeat=3):
    """Where one whole headline ``commit`` run spends its time, stage by stage (median
    shares over ``repeat`` runs, a fresh tokenizer each)."""
    runs = []
    for _ in range(repeat):
        tokenizer = fast_tokenizer(tok_dir)
        with _StageTimer(_stages()) as timer:
            gc.collect()
            t0 = time.perf_counter()
            batches, _ = make_commit(paths, tokenizer)
            for _ in range(row.batches):
                next(batches)
            wall = time.perf_counter() - t0
        del batches
        runs.append((wall, timer.shares(wall)))
    walls = [w for w, _ in runs]
    shares = [(label, statistics.median(r[1][i][1] for r in runs)) for i, (label, _) in enumerate(runs[0][1])]
    return shares, statistics.median(walls)


# -- worker processes (earlier issue: 1 -> 2 processes) ---------------------------------------
class Stepper:
    """Steady-state records/s of a ``(batch, metrics)`` iterator, read from its cursor. The
    first ``digest`` batches are hashed, to compare runs."""

    WAITED_S = 0.05  # a batch that took this long waited for a worker's chunk

    def __init__(self, iterator, n_records, digest=0):
        self.iterator, self.n = iterator, n_records
        self.digest_n, self._seen, self._hash = digest, 0, hashlib.sha256()
        self._metrics = None

    def cursor(self):
        m = self._metrics
        return 0 if m is None else m["dataset_epoch"] * self.n + m["dataset_example_index"]

    def _next(self):
        t0 = time.perf_counter()
        batch, self._metrics = next(self.iterator)
        waited = time.perf_counter() - t0
        self._seen += 1
        if self._seen <= self.digest_n:
            for k in ("input_tokens", "target_tokens", "loss_masks"):
                self._hash.update(batch[k].tobytes())
        return waited

    def advance(self, records):
        """Untimed: take the cursor ``records`` further."""
        r0 = self.cursor()
        while self.cursor() - r0 < records:
            self._next()

    def _until_a_wait(self, limit):
        r0 = self.cursor()
        while self._next() < self.WAITED_S and self.cursor() - r0 < limit:
            pass

    def window(self, records, sync=False):
        """(records, seconds) of the batches that take the cursor ``records`` further. With
        ``sync`` (worker processes) the window starts and ends just after a batch that had
        to wait for a worker, so that it neither starts on chunks finished in advance nor
        stops before the last one it asked for is used."""
        if sync:
            self._until_a_wait(records)
        r0, t0 = self.cursor(), time.perf_counter()
        while self.cursor() - r0 < records:
            self._next()
        if sync:
            self._until_a_wait(records)
        return self.cursor() - r0, time.perf_counter() - t0

    def digest(self):
        while self._seen < self.digest_n:
            self._next()
        return self._hash.hexdigest()


def measure_workers(paths, tok_dir, repeat):
    """1 process vs 2 spawned worker processes, steady state, in alternating windows of 8
    chunks (8,192 records): each 2-process window starts a fresh pipeline, lets it spawn,
    import and build its first 4 chunks (untimed), is timed, and is closed before the next
    1-process window. The first batches are hashed and compared with the 1-process run."""
    import psutil

    from easylm_commit.dataset_types import CommitDataset

    n = paths["n_worker_records"]
    chunk = CommitDataset.get_default_config().records_per_chunk
    wpaths = dict(paths, records=paths["worker_records"], n_records=n)
    one = Stepper(make_commit_metrics(wpaths, fast_tokenizer(tok_dir), 1), n, digest=64)
    one.advance(chunk)
    digest_one = one.digest()
    windows, cores, identical = [], [], True
    me = psutil.Process()

    def cpu(procs):
        return [sum(p.cpu_times()[:2]) for p in procs]

    for _ in range(repeat):
        c0 = cpu([me])
        r1, s1 = one.window(8 * chunk)
        one_cores = (cpu([me])[0] - c0[0]) / s1
        two = Stepper(make_commit_metrics(wpaths, fast_tokenizer(tok_dir), 2), n, digest=64)
        two.advance(4 * chunk)
        procs = [me] + me.children(recursive=True)
        c0 = cpu(procs)
        r2, s2 = two.window(8 * chunk, sync=True)
        used = [(b - a) / s2 for a, b in zip(c0, cpu(procs))]
        cores.append((one_cores, sum(used), used[0]))
        identical = identical and two.digest() == digest_one
        windows.append((r1, s1, r2, s2))
        del two  # closes the pipeline: its pool of workers ends
        gc.collect()
    one_rps = sum(w[0] for w in windows) / sum(w[1] for w in windows)
    two_rps = sum(w[2] for w in windows) / sum(w[3] for w in windows)
    return dict(one=one_rps, two=two_rps, identical=identical,
                one_cores=statistics.mean(c[0] for c in cores),
                cores=statistics.mean(c[1] for c in cores), main=max(c[2] for c in cores))


def make_commit_metrics(paths, tokenizer, processes):
    from easylm_commit.dataset_types import CommitDataset

    ds = CommitDataset(CommitDataset.get_default_config(dict(
        path=paths["records"], dictionary=paths["dictionary"], alpha=0.9,
        seq_length=SEQ_LENGTH, batch_size=BATCH_SIZE, tokenizer_processes=processes)), tokenizer)
    return iter(ds)


# -- memory (earlier issue: streaming stays flat) ---------------------------------------------
def make_big_corpus(src, dst, size):
    """``size`` bytes of JSONL by cycling the generated documents (each line gets a new id)."""
    with open(src, encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f]
    written, i = 0, 0
    with open(dst, "w", encoding="utf-8") as f:
        while written < size:
            line = json.dumps({"id": i, "text": docs[i % len(docs)]}, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode("utf-8"))
            i += 1
    return i, written


def memory_child(args):
    """Stream a corpus through ``codemix_clm`` and report peak RSS (this process and its
    workers) when 10% and 100% of the file has been read."""
    import psutil

    from easylm_commit.dataset_types import CodeMixCLMDataset

    ds = CodeMixCLMDataset(CodeMixCLMDataset.get_default_config(dict(
        path=args.corpus, dictionary=args.dictionary, alpha=0.5, streaming=True,
        seq_length=SEQ_LENGTH, batch_size=BATCH_SIZE)), fast_tokenizer(args.tokenizer))
    me = psutil.Process()
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:
                continue
            peak[0] = max(peak[0], rss)
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    marks, out = [args.docs // 10, args.docs], {}
    t0 = time.perf_counter()
    for _, metrics in ds:
        done = metrics["dataset_epoch"] * args.docs + metrics["dataset_example_index"]
        if done >= marks[0]:
            out[f"{marks[0] / args.docs:.0%}"] = dict(
                records=done, peak_rss=peak[0], seconds=time.perf_counter() - t0)
            marks.pop(0)
            if not marks:
                break
    stop.set()
    print(json.dumps(out))


def measure_memory(paths, workdir, size_gb, tok_dir):
    """RSS at 10% and 100% of a ``size_gb`` corpus streamed from disk."""
    big = os.path.join(workdir, "big_corpus.jsonl")
    try:
        docs, written = make_big_corpus(paths["corpus"], big, int(size_gb * 1e9))
        cmd = [sys.executable, os.path.abspath(__file__), "--memory-child",
               "--corpus", big, "--dictionary", paths["dictionary"], "--tokenizer", tok_dir,
               "--docs", str(docs)]
        env = dict(os.environ, HF_DATASETS_CACHE=os.path.join(workdir, "hf_cache"))
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        return written, json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if os.path.exists(big):
            os.remove(big)


# -- memory with two languages (issue 21: it grows with the dictionaries, not the records) ----
class PeakRSS:
    """Peak RSS of this process and its children, sampled every 50 ms in a thread; and the
    peak of its anonymous part (RSS less the resident pages of mapped files, such as the
    memory-mapped Arrow records: pages the kernel may drop and read again)."""

    def __init__(self):
        import psutil

        self.me, self.peak, self.peak_anon, self._error = psutil.Process(), 0, 0, psutil.Error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def sizes(self):
        """(RSS, RSS less file-backed and shared pages), over this process and its children."""
        try:
            infos = [p.memory_info() for p in [self.me] + self.me.children(recursive=True)]
        except self._error:
            return 0, 0
        return sum(i.rss for i in infos), sum(i.rss - getattr(i, "shared", 0) for i in infos)

    def rss(self):
        return self.sizes()[0]

    def _sample(self):
        while not self._stop.is_set():
            rss, anon = self.sizes()
            self.peak, self.peak_anon = max(self.peak, rss), max(self.peak_anon, anon)
            time.sleep(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join()
        rss, anon = self.sizes()
        self.peak, self.peak_anon = max(self.peak, rss), max(self.peak_anon, anon)
        return self.peak


def languages_memory_child(args):
    """One pass of ``commit`` over ``--records-file`` (``--languages``, or Hindi alone), as a
    training run reads it; prints the RSS once the dataset is built (dictionaries loaded) and
    the peak RSS of the pass, as JSON."""
    from easylm_commit.dataset_types import CommitDataset

    sampler = PeakRSS()
    start = sampler.rss()
    paths = dict(records=args.records_file, dictionary=args.dictionary)
    updates = dict(languages=args.languages) if args.languages else {}
    ds = CommitDataset(CommitDataset.get_default_config(commit_config(paths, **updates)),
                       fast_tokenizer(args.tokenizer))
    built = sampler.rss()
    t0, done, batches = time.perf_counter(), 0, 0
    for _, metrics in ds:
        batches += 1
        done = metrics["dataset_epoch"] * args.docs + metrics["dataset_example_index"]
        if done >= args.docs:
            break
    peak = sampler.stop()
    # The word forms each mixer's lookup table learnt on first sight (mixer._SurfaceTable:
    # bounded by CodeMixer.SURFACE_CACHE), what a pass adds to the dictionaries' memory.
    mixers = getattr(ds.formatter, "mixers", [ds.formatter.mixer])
    learnt = [len(m.__dict__.get("_surface") or ()) - len(m.dictionary.table) for m in mixers]
    print(json.dumps(dict(records=done, batches=batches, rss_start=start, rss_built=built,
                          peak_rss=peak, peak_anon=sampler.peak_anon, learnt_forms=learnt,
                          seconds=time.perf_counter() - t0)))


def measure_languages_memory(paths, workdir, n, tok_dir, log=log):
    """Peak RSS of a child process making one pass of ``commit`` over N and 4N records, with
    two languages and with Hindi alone: ``{(languages, records): child's JSON}``. The records
    files are converted to Arrow beforehand, in this process (the datasets cache, as on any
    run after a project's first), so that the children measure the pipeline."""
    from easylm_commit.sources import load_records

    files = {n: paths["records"]}
    big = inputs.build(workdir, 4 * n, 0, log=log)
    files[4 * n] = big["records"]
    for f in files.values():
        load_records(f)
    out = {}
    for langs, count in (("hi+el", n), ("hi+el", 4 * n), ("hi", n), ("hi", 4 * n)):
        cmd = [sys.executable, os.path.abspath(__file__), "--languages-memory-child",
               "--records-file", files[count], "--dictionary", paths["dictionary"],
               "--tokenizer", tok_dir, "--docs", str(count)]
        if langs == "hi+el":
            cmd += ["--languages", two_languages(paths)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        out[langs, count] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = out[langs, count]
        log(f"  {langs}, {count} records: built {r['rss_built'] / 2**20:.0f} MiB, "
            f"peak {r['peak_rss'] / 2**20:.0f} MiB (anonymous {r['peak_anon'] / 2**20:.0f} MiB; "
            f"{r['records']} records, {r['seconds']:.1f} s)")
    return out


# -- main -------------------------------------------------------------------------------------
def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=3000, help="Alpaca-like records (default 3000)")
    p.add_argument("--repeat", type=int, default=5, help="interleaved repeats of every row (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="the headline table and its profile only, 3 repeats")
    p.add_argument("--worker-records", type=int, default=20000,
                   help="records for the 1 -> 2 worker-process check (default 20000)")
    p.add_argument("--worker-repeat", type=int, default=2,
                   help="alternating 1-/2-process windows (default 2)")
    p.add_argument("--memory", action="store_true",
                   help="also stream a 0.1 and a 1 GB corpus and compare peak RSS (~10 min on 2 busy cores)")
    p.add_argument("--memory-gb", type=float, default=1.0, help="largest corpus streamed for the memory check")
    p.add_argument("--languages-only", action="store_true",
                   help="only the two-language rows (issue 21) beside commit, and their memory check")
    p.add_argument("--skip-workers", action="store_true")
    p.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU core")
    p.add_argument("--workdir", help="keep inputs here and reuse them (default: a temp dir, deleted)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    # internal: the memory child
    p.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    p.add_argument("--dictionary", help=argparse.SUPPRESS)
    p.add_argument("--tokenizer", help=argparse.SUPPRESS)
    p.add_argument("--docs", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--languages-memory-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--records-file", help=argparse.SUPPRESS)
    p.add_argument("--languages", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child:
        return memory_child(args)
    if args.languages_memory_child:
        return languages_memory_child(args)
    if args.quick:
        args.repeat, args.memory, args.skip_workers = 3, False, True
    if args.languages_only:
        args.memory, args.skip_workers = False, True

    easylm_dir = os.environ.get("EASYLM_DIR", "")
    if not easylm_dir or not os.path.isfile(os.path.join(easylm_dir, "EasyLM", "data.py")):
        sys.exit("benchmarks/pipeline.py: set EASYLM_DIR to an EasyLM checkout (young-geng/EasyLM, "
                 "not on PyPI): one row is EasyLM's own JsonDataset")
    sys.path.insert(0, easylm_dir)

    workdir = args.workdir or tempfile.mkdtemp(prefix="easylm_commit_bench_")
    os.environ["HF_DATASETS_CACHE"] = os.path.join(workdir, "hf_cache")
    try:
        run(args, workdir)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def pin_one_core():
    """Pin this process (and the threads and processes it starts) to one core, the least
    busy one now. Returns a description for the report."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    cpus = sorted(os.sched_getaffinity(0))
    try:
        import psutil
        load = psutil.cpu_percent(interval=0.5, percpu=True)
        cpu = min(cpus, key=lambda c: load[c] if c < len(load) else 100.0)
    except ImportError:
        cpu = cpus[-1]
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu} of {len(cpus)}"


def run(args, workdir):
    from easylm_commit.dictionary import BilingualDictionary
    from easylm_commit.mixer import CodeMixer
    from easylm_commit.templates import Formatter
    from easylm_commit.tokens import _ENCODERS, encode_batch

    log(f"inputs in {workdir}")
    paths = inputs.build(workdir, args.records, 4000 if args.memory else 0, log=log)
    paths.update(n_records=args.records)
    tok_dir = mistral_tokenizer_dir(workdir)
    model_file = os.path.join(tok_dir, "tokenizer.model")
    pinned = "not pinned (--no-pin)" if args.no_pin else pin_one_core()
    log(pinned)

    # Untimed first pass of every row: counts its tokens per pass, converts the records
    # file to Arrow once (the datasets cache, as on any run after a project's first), and
    # loads the modules.
    rows = {}
    labels = {
        "commit": "commit, raw Alpaca, alpha 0.9, protection on (default)",
        "commit_plain": "commit, protection off (the paper's word model)",
        "commit_phrases": "commit, a dictionary of 20% phrase entries",
        "commit_el": "commit, Greek alone (en-el, 100K pairs)",
        "commit_two": "commit, two languages (hi+el, weight 1:1)",
        "easylm": "EasyLM JsonDataset, pre-formatted records",
        "paper": "paper code re-created (slow SentencePiece tokenizer)",
    }
    names = list(LANGUAGE_ROWS) if args.languages_only else list(PIPELINES)
    for name in names:
        tok = paper_tokenizer(tok_dir) if name == "paper" else fast_tokenizer(tok_dir)
        rows[name] = Timed(labels[name], epoch_tokens(name, paths, tok), args.records)
        log(f"{name}: {rows[name].tokens_per_record:.0f} tokens a record, {rows[name].batches} batches a pass")
    routes = {}
    tok = fast_tokenizer(tok_dir)
    encode_batch(tok, ["probe"])
    routes["datasets"] = "SentencePiece C++ (ids checked)" if _ENCODERS.get(tok) else "Hugging Face tokenizer"

    prompts, responses = formatted_texts(paths)
    records = inputs.read_jsonl(paths["records"])
    rows["sentencepiece"] = Timed("SentencePiece C++ encoder alone, English prompt+response", None, args.records)
    rows["mixing"] = Timed("  mixing alone (format + mix, protection on)", None, args.records)
    rows["encoding"] = Timed("  encoding alone (ids + masks of the mixed texts)", None, args.records)
    rows["dict_load"] = Timed("  dictionary load (100K pairs)", None, 0)

    order = names + ([] if args.languages_only else ["sentencepiece", "stages"])
    for r in range(args.repeat):
        for name in order[r % len(order):] + order[:r % len(order)]:
            if name in PIPELINES:
                tok = paper_tokenizer(tok_dir) if name == "paper" else fast_tokenizer(tok_dir)
                rows[name].add(*time_pipeline(PIPELINES[name], paths, tok, rows[name]))
            elif name == "sentencepiece":
                rows[name].add(time_sentencepiece(model_file, prompts, responses))
            else:
                with Clock() as clock:
                    dictionary = BilingualDictionary.load(paths["dictionary"])
                rows["dict_load"].add(clock.times)
                formatter = Formatter(CodeMixer(dictionary, 0.9))
                formatter.format(records[0])  # builds the mixer's surface table: start-up
                times, samples = time_mixing(formatter, records)
                rows["mixing"].add(times)
                tok = fast_tokenizer(tok_dir)
                encode_batch(tok, ["probe"])
                rows["encoding"].add(time_encoding(
                    tok, [s.prompt_segments for s in samples], [s.response for s in samples]))
        log(f"repeat {r + 1}/{args.repeat} (load {os.getloadavg()[0]:.2f}), records/s wall (cpu): " + "  ".join(
            f"{k}={rows[k].records / rows[k].times[-1]:,.0f} ({rows[k].records / rows[k].cpu_times[-1]:,.0f})"
            for k in rows if rows[k].times and rows[k].records))

    languages_memory = None
    if not args.quick:
        log(f"memory: one pass of commit over {args.records} and {4 * args.records} records, "
            "two languages and Hindi alone (child processes)")
        languages_memory = measure_languages_memory(paths, workdir, args.records, tok_dir)
    if args.languages_only:
        return report_languages(args, rows, pinned, languages_memory)

    log("where the time goes in commit")
    shares, profiled_wall = time_breakdown(paths, tok_dir, rows["commit"])

    workers = None
    if not args.skip_workers:
        log(f"worker processes: 1 vs 2 ({args.worker_records} records)")
        wpaths = inputs.build(workdir, args.worker_records, 0, log=log)
        paths.update(worker_records=wpaths["records"], n_worker_records=args.worker_records)
        if not args.no_pin and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count())))  # two processes need two cores
        workers = measure_workers(paths, tok_dir, args.worker_repeat)
    memory = None
    if args.memory:
        memory = {}
        for gb in sorted({min(0.1, args.memory_gb / 2), args.memory_gb}):
            log(f"memory: streaming a {gb} GB corpus through codemix_clm")
            memory[gb] = measure_memory(paths, workdir, gb, tok_dir)

    report(args, rows, routes, pinned, shares, profiled_wall, workers, memory, languages_memory)
    print()
    report_languages(args, rows, pinned, languages_memory, header=False)


def report_languages(args, rows, pinned, memory, header=True):
    """The two-language rows (issue 21) and their memory check."""
    one, el, two = (rows[k] for k in LANGUAGE_ROWS)
    if header:
        print(f"Records per second, one process, start-up included: {args.records} Alpaca-like records, "
              f"{BATCH_SIZE}x{SEQ_LENGTH} batches,")
        print(f"Mistral 7B v0.1 tokenizer (32K SentencePiece BPE, from mistral-common); medians of "
              f"{args.repeat} interleaved repeats;")
        print(f"{pinned}; load average {os.getloadavg()[0]:.2f} at the end.")
        print()
    print("Two languages in one run (issue 21): the same records and tokenizer, side by side; "
          "'without loads':")
    print("each run less its dictionary loads (one 100K-pair dictionary for one language, two for two).")
    print(f"{'':58s} {'------------ wall clock ------------':>36s} {'--------- CPU time ---------':>29s}")
    print(f"{'':58s} {'records/s':>10s} {'spread':>7s} {'w/o loads':>10s} {'loads':>6s} "
          f"{'records/s':>10s} {'w/o loads':>10s} {'tok/rec':>8s}")
    for r in (one, el, two):
        spread = (max(r.times) - min(r.times)) / r.seconds
        print(f"{r.label:58s} {r.rps:10,.0f} {spread:7.0%} {r.rps_without_load:10,.0f} "
              f"{r.load_seconds:5.2f}s {r.cpu_rps:10,.0f} {r.cpu_rps_without_load:10,.0f} "
              f"{r.tokens_per_record:8.0f}")
    target = TARGETS["two_languages"]
    print(f"  {'':44s} {'wall':>7s} {'CPU':>7s}")
    for label, a, b in (
            ("two languages / Hindi alone, start-up included", two.rps / one.rps, two.cpu_rps / one.cpu_rps),
            ("two languages / Hindi alone, without the loads", two.rps_without_load / one.rps_without_load,
             two.cpu_rps_without_load / one.cpu_rps_without_load),
            ("two languages / Greek alone, start-up included", two.rps / el.rps, two.cpu_rps / el.cpu_rps)):
        print(f"  {label:44s} {a:6.2f}x {b:6.2f}x  {'PASS' if a >= target else 'FAIL'} (target >= {target}x)")
    # The loads are paid once per run, the rest per record: what the start-up-included ratio
    # comes to over a pass of real Alpaca, from the measured parts (not a measured run).
    alpaca = 52002

    def pass_seconds(r):
        return r.load_seconds + alpaca / r.rps_without_load

    print(f"  (projected from these parts for one pass over Alpaca's {alpaca:,} records, loads included: "
          f"{pass_seconds(one) / pass_seconds(two):.2f}x)")
    if memory:
        n = args.records
        two_n, two_4n = memory["hi+el", n], memory["hi+el", 4 * n]
        one_n, one_4n = memory["hi", n], memory["hi", 4 * n]
        growth = two_4n["peak_rss"] / two_n["peak_rss"] - 1
        mib = 2 ** 20
        print()
        print("Peak RSS of a child process making one pass of commit (built: once the dataset is "
              "constructed, its dictionaries loaded;")
        print("anonymous: RSS less the resident pages of mapped files, e.g. the memory-mapped Arrow records):")
        for label, r_n, r_4n in (("two languages (hi+el)", two_n, two_4n), ("Hindi alone", one_n, one_4n)):
            print(f"  {label:22s} {n:6d} records: built {r_n['rss_built'] / mib:4.0f} MiB, peak "
                  f"{r_n['peak_rss'] / mib:4.0f} MiB (anonymous {r_n['peak_anon'] / mib:4.0f}); "
                  f"{4 * n:6d} records: peak {r_4n['peak_rss'] / mib:4.0f} MiB "
                  f"({r_4n['peak_rss'] / r_n['peak_rss'] - 1:+.1%}; anonymous {r_4n['peak_anon'] / mib:4.0f}, "
                  f"{r_4n['peak_anon'] / r_n['peak_anon'] - 1:+.1%})")
        print(f"  {f'two languages, N -> 4N records: peak RSS within 10%':54s} "
              f"{growth:+6.1%}  {'PASS' if growth <= TARGETS['languages_memory_growth'] else 'FAIL'}")
        print(f"  the second language's dictionary at {n} records: "
              f"{(two_n['peak_rss'] - one_n['peak_rss']) / mib:+.0f} MiB of peak RSS "
              f"({(two_n['rss_built'] - one_n['rss_built']) / mib:+.0f} MiB once built); "
              f"{3 * n} more records with two languages: {(two_4n['peak_rss'] - two_n['peak_rss']) / mib:+.0f} MiB "
              f"of peak RSS ({(two_4n['peak_anon'] - two_n['peak_anon']) / mib:+.0f} MiB anonymous)")
        from easylm_commit.mixer import CodeMixer

        print(f"  word forms the mixers' lookup tables learnt on first sight (each bounded at "
              f"{CodeMixer.SURFACE_CACHE:,}): {n} records {two_n['learnt_forms']}, "
              f"{4 * n} records {two_4n['learnt_forms']} (hi, el)")
    if header and args.json:
        with open(args.json, "w") as f:
            json.dump(dict(
                records_per_s={k: rows[k].rps for k in LANGUAGE_ROWS},
                records_per_cpu_s={k: rows[k].cpu_rps for k in LANGUAGE_ROWS},
                seconds={k: rows[k].times for k in LANGUAGE_ROWS},
                cpu_seconds={k: rows[k].cpu_times for k in LANGUAGE_ROWS},
                tokens_per_record={k: rows[k].tokens_per_record for k in LANGUAGE_ROWS},
                **languages_json(rows, memory)), f, indent=1)


def languages_json(rows, memory):
    return dict(
        records_per_s_without_loads={k: rows[k].rps_without_load for k in LANGUAGE_ROWS},
        load_seconds={k: rows[k].load_times for k in LANGUAGE_ROWS},
        languages_memory={f"{langs} {n}": v for (langs, n), v in (memory or {}).items()})


def report(args, rows, routes, pinned, shares, profiled_wall, workers, memory, languages_memory=None):
    c = rows["commit"]
    print(f"Records per second, one process, start-up included: {args.records} Alpaca-like records, "
          f"{BATCH_SIZE}x{SEQ_LENGTH} batches,")
    print(f"Mistral 7B v0.1 tokenizer (32K SentencePiece BPE, from mistral-common); medians of "
          f"{args.repeat} interleaved repeats;")
    print(f"{pinned}; load average {os.getloadavg()[0]:.2f} at the end. Datasets encode with "
          f"{routes['datasets']};")
    print("EasyLM gets the fast tokenizer, as its AutoTokenizer loads it; the paper code its slow one.")
    print()
    print(f"{'':58s} {'--------- wall clock ---------':>30s} {'------ CPU time ------':>23s}")
    print(f"{'':58s} {'records/s':>10s} {'spread':>7s} {'commit is':>11s} {'records/s':>10s} "
          f"{'commit is':>11s} {'tok/rec':>8s}")
    for key in ("commit", "commit_plain", "commit_phrases", "easylm", "paper", "sentencepiece",
                "mixing", "encoding"):
        r = rows[key]
        spread = (max(r.times) - min(r.times)) / r.seconds
        ratio = "" if key == "commit" else f"{c.rps / r.rps:.2f}x"
        cpu_ratio = "" if key == "commit" else f"{c.cpu_rps / r.cpu_rps:.2f}x"
        tpr = f"{r.tokens_per_record:.0f}" if r.tokens else ""
        print(f"{r.label:58s} {r.rps:10,.0f} {spread:7.0%} {ratio:>11s} {r.cpu_rps:10,.0f} "
              f"{cpu_ratio:>11s} {tpr:>8s}")
    d = rows["dict_load"]
    print(f"{d.label:58s} {d.seconds:9.3f}s {'':19s} {d.cpu_seconds:9.3f}s")
    print()
    checks = [
        ("commit >= 1.2x EasyLM JsonDataset", "easylm", TARGETS["vs_easylm"]),
        ("commit >= 5x the paper-code re-creation", "paper", TARGETS["vs_paper"]),
        ("commit >= 0.5x SentencePiece alone (English texts)", "sentencepiece", TARGETS["vs_sentencepiece"]),
    ]
    print(f"Targets, records/s {'wall':>37s} {'CPU':>7s}")
    for name, key, target in checks:
        value, cpu = c.rps / rows[key].rps, c.cpu_rps / rows[key].cpu_rps
        print(f"  {name:54s} {value:6.2f}x {cpu:6.2f}x  {'PASS' if value >= target else 'FAIL'}"
              f"{'' if (cpu >= target) == (value >= target) else ' (CPU time: ' + ('PASS' if cpu >= target else 'FAIL') + ')'}")
    p = rows["commit_phrases"]
    value, cpu = p.rps / c.rps, p.cpu_rps / c.cpu_rps
    print(f"  {'commit, 20% phrase entries >= 0.75x commit':54s} {value:6.2f}x {cpu:6.2f}x  "
          f"{'PASS' if value >= TARGETS['phrases'] else 'FAIL'}")
    print(f"  {'100K-pair dictionary loads in < 1 s':54s} {d.seconds:6.2f}s  {'':7s} "
          f"{'PASS' if d.seconds < TARGETS['dict_load_s'] else 'FAIL'}")
    if workers:
        ratio = workers["two"] / workers["one"]
        print(f"  {'commit 1 -> 2 worker processes >= 1.7x (steady state)':54s} {ratio:6.2f}x {'':7s} "
              f"{'PASS' if ratio >= TARGETS['workers'] else 'FAIL'}")
        print(f"    ({workers['one']:,.0f} -> {workers['two']:,.0f} records/s on {workers['one_cores']:.2f} -> "
              f"{workers['cores']:.2f} CPU cores obtained (main process {workers['main']:.2f});")
        print(f"     per core obtained {workers['two'] / workers['cores'] / (workers['one'] / workers['one_cores']):.2f}x; "
              f"batches identical: {'yes' if workers['identical'] else 'NO'})")
    if memory:
        (small_gb, (_, small)), (big_gb, (written, big)) = sorted(memory.items())
        rss_small, rss_big = small["100%"]["peak_rss"], big["100%"]["peak_rss"]
        growth = rss_big / rss_small - 1
        value = f"{rss_small / 2**20:.0f} -> {rss_big / 2**20:.0f} MiB ({growth:+.1%})"
        print(f"  {f'streaming peak RSS flat within 10% ({small_gb} -> {big_gb} GB corpus)':48s} "
              f"{value:>29s}  {'PASS' if growth <= TARGETS['memory_growth'] else 'FAIL'}")
    print()
    print(f"Where the time goes in a commit run ({profiled_wall:.2f} s; each stage's functions timed "
          "inside it, median shares of 3 runs):")
    for label, share in shares:
        print(f"  {share:6.1%}  {label}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(
                records_per_s={k: r.rps for k, r in rows.items() if r.records},
                records_per_cpu_s={k: r.cpu_rps for k, r in rows.items() if r.records},
                cpu_seconds={k: r.cpu_times for k, r in rows.items()},
                seconds={k: r.times for k, r in rows.items()},
                tokens_per_record={k: r.tokens_per_record for k, r in rows.items() if r.tokens},
                profile=dict(shares), workers=workers,
                memory={str(k): v for k, v in (memory or {}).items()},
                **languages_json(rows, languages_memory),
            ), f, indent=1)


if __name__ == "__main__":
    main()
