"""What a dictionary does to a data set, before any training: ``easylm-commit stats``.

- Coverage: the share of words (as the mixer segments them) that the dictionary holds. Only
  covered words can be replaced, so the expected share of replaced words is
  ``alpha x coverage`` (Eq. 2-4), per field. The observed share at the chosen seed and epoch
  is counted too, from the mixer's own report: words written as a different word. A draw
  that wrote a word as itself (an identity pair, MUSE's ``1 1``) is counted apart as
  ``identical``, so the expected share is about the observed one plus the identical one.
- The most frequent uncovered words: what to add to a dictionary, or a sign of a tokenization
  mismatch (e.g. a dictionary of lowercased words with diacritics stripped).
- Tokens: lengths of the formatted, mixed samples exactly as training builds them
  (``tokens.instruction_tokens``: BOS + prompt + response + EOS; ``tokens.text_tokens`` for a
  corpus) and the optimizer steps one epoch takes when samples are packed into
  ``batch_size x seq_length`` blocks, as EasyLM's JSON dataset does.

Plain functions and dataclasses, no printing: the command renders them, tests check them.
"""

import collections
import dataclasses
import math
import statistics

from easylm_commit.mixer import CodeMixer
from easylm_commit.records import BadRecords


def _share(part, whole):
    return part / whole if whole else 0.0


@dataclasses.dataclass
class FieldCoverage:
    """Word counts of one field over a data set."""

    field: str
    words: int = 0
    covered: int = 0
    replaced: int = 0           # written as a different word
    identical: int = 0          # drawn, but an identity pair wrote the word as itself
    protected: int = 0          # protected spans (code, URLs, e-mails, identifiers)
    protected_words: int = 0    # words inside them, which are never mixed
    uncovered: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def coverage(self):
        return _share(self.covered, self.words)

    @property
    def observed_mixing_rate(self):
        return _share(self.replaced, self.words)

    @property
    def identical_rate(self):
        return _share(self.identical, self.words)

    def expected_mixing_rate(self, alpha):
        return alpha * self.coverage

    def merge(self, other):
        self.words += other.words
        self.covered += other.covered
        self.replaced += other.replaced
        self.identical += other.identical
        self.protected += other.protected
        self.protected_words += other.protected_words
        self.uncovered.update(other.uncovered)

    def as_dict(self, alpha, top=20):
        return {
            "words": self.words,
            "covered": self.covered,
            "coverage": self.coverage,
            "expected_mixing_rate": self.expected_mixing_rate(alpha),
            "replaced": self.replaced,
            "observed_mixing_rate": self.observed_mixing_rate,
            "identical": self.identical,
            "identical_rate": self.identical_rate,
            "protected_spans": self.protected,
            "protected_words": self.protected_words,
            "top_uncovered": [[w, n] for w, n in self.uncovered.most_common(top)],
        }


class CoverageCounter:
    """Counts words per field through the mixer's own plan at alpha = 0 (same segmenter,
    protected spans and case policy), so that "covered" here means exactly "could be
    replaced" there.

    Uncovered words are counted lowercased.
    """

    def __init__(self, dictionary, segmenter=None, protect=True):
        self.mixer = CodeMixer(dictionary, 0.0, segmenter=segmenter, protect=protect) \
            if dictionary is not None else None
        self.protect = protect
        self.segmenter = segmenter
        self.fields = {}

    def field(self, name):
        if name not in self.fields:
            self.fields[name] = FieldCoverage(name)
        return self.fields[name]

    def add(self, name, text, replaced=0, identical=0):
        """Count ``text`` (the *unmixed* text) under ``name``; ``replaced`` and
        ``identical`` come from the mixer's report of the same text."""
        counts = self.field(name)
        counts.replaced += replaced
        counts.identical += identical
        if not text:
            return counts
        if self.mixer is None:
            from easylm_commit.mixer import split_words

            words = split_words(text)[1::2]
            counts.words += len(words)
            counts.uncovered.update(w.lower() for w in words)
            return counts
        report = self.mixer.mix_with_report(text)
        counts.words += report.words
        counts.covered += report.covered
        counts.uncovered.update(w.lower() for w in report.uncovered)
        counts.protected += len(report.protected)
        counts.protected_words += report.protected_words
        return counts

    def total(self):
        all_fields = FieldCoverage("all")
        for counts in self.fields.values():
            all_fields.merge(counts)
        return all_fields


@dataclasses.dataclass(frozen=True)
class TokenStats:
    """Token lengths of one epoch's samples and the steps they make."""

    records: int
    total_tokens: int
    mean: float
    median: float
    max: int
    batch_size: int
    seq_length: int
    steps_per_epoch: int
    longer_than_seq: int  # samples that a non-packing loader would truncate

    def as_dict(self):
        return dataclasses.asdict(self)


def token_stats(lengths, batch_size, seq_length):
    """Packed steps: all samples of an epoch concatenated and cut into ``batch_size`` rows of
    ``seq_length`` tokens, so steps = ceil(total tokens / (batch_size * seq_length))."""
    lengths = list(lengths)
    total = sum(lengths)
    return TokenStats(
        records=len(lengths),
        total_tokens=total,
        mean=statistics.fmean(lengths) if lengths else 0.0,
        median=float(statistics.median(lengths)) if lengths else 0.0,
        max=max(lengths, default=0),
        batch_size=batch_size,
        seq_length=seq_length,
        steps_per_epoch=math.ceil(total / (batch_size * seq_length)),
        longer_than_seq=sum(1 for n in lengths if n > seq_length),
    )


@dataclasses.dataclass
class DatasetStats:
    records: int
    skipped: int
    first_skip: str
    alpha: float
    mode: str
    fields: dict        # name -> FieldCoverage, in first-seen order
    total: FieldCoverage
    tokens: TokenStats = None  # only with a tokenizer

    def as_dict(self, top=20):
        return {
            "records": self.records,
            "skipped": self.skipped,
            "first_skip": self.first_skip,
            "alpha": self.alpha,
            "mode": self.mode,
            "fields": {name: c.as_dict(self.alpha, top) for name, c in self.fields.items()},
            "all": self.total.as_dict(self.alpha, top),
            "tokens": self.tokens.as_dict() if self.tokens else None,
            # Top level, for scripts: what an epoch costs (None without a tokenizer).
            "steps_per_epoch": self.tokens.steps_per_epoch if self.tokens else None,
        }


class _LengthCounter:
    """Tokenizes in chunks (the fast tokenizers batch in Rust) and keeps only lengths."""

    CHUNK = 512

    def __init__(self, tokenizer, text_mode):
        self.tokenizer = tokenizer
        self.text_mode = text_mode
        self.pending = []
        self.lengths = []

    def add(self, *texts):
        if self.tokenizer is None:
            return
        self.pending.append(texts)
        if len(self.pending) >= self.CHUNK:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        from easylm_commit import tokens

        if self.text_mode:
            encoded = tokens.text_tokens(self.tokenizer, [t for (t,) in self.pending])
        else:
            encoded = tokens.instruction_tokens(
                self.tokenizer, [p for p, _ in self.pending], [r for _, r in self.pending],
            )
        self.lengths.extend(len(t) for t, _ in encoded)
        self.pending = []


def dataset_stats(records, formatter, mixer=None, dictionary=None, alpha=None, epoch=0,
                  tokenizer=None, batch_size=16, seq_length=512, strict=False, bad=None):
    """Coverage (and token) statistics of ``records``: an iterable of ``(where, record)``.

    Records go through ``formatter`` -- a ``Formatter`` (its mode decides what is mixed) or
    a ``TextFormatter`` (a corpus field) -- exactly as training reads them. Record i uses
    the mixing key ``(epoch, i)`` as the training datasets do, so the observed rates and
    the token counts are those of that epoch. Bad records follow ``records.BadRecords``
    (``bad``, to read its reasons afterwards, or a new one with ``strict``).
    """
    if mixer is None:
        mixer = formatter.mixer
    if dictionary is None and mixer is not None:
        dictionary = mixer.dictionary
    mode = formatter.mode
    if alpha is None:
        alpha = mixer.alpha if mixer is not None else 0.0
    if mode == "none":
        alpha = 0.0  # nothing is mixed: coverage is still worth knowing, the rate is 0
    counter = CoverageCounter(
        dictionary, mixer.segmenter if mixer is not None else None,
        protect=mixer.protect if mixer is not None else True)
    lengths = _LengthCounter(tokenizer, text_mode=mode == "text")
    add = _add_text if mode == "text" else _add_instruction
    bad = BadRecords(strict) if bad is None else bad
    n = 0
    for index, (where, record) in enumerate(records):
        if bad.apply(where, add, record, counter, lengths, formatter, (epoch, index)) is not None:
            n += 1
    lengths.flush()
    return DatasetStats(
        records=n, skipped=bad.count, first_skip=bad.first, alpha=alpha, mode=mode,
        fields=dict(counter.fields), total=counter.total(),
        tokens=token_stats(lengths.lengths, batch_size, seq_length) if tokenizer is not None else None,
    )


def _add_text(record, counter, lengths, formatter, key):
    (text,) = formatter.read_fields(record)
    sample = formatter.format(record, key, report=True)
    report = sample.reports.get(formatter.field)
    counter.add(formatter.field, text, sample.replaced, report.identical if report else 0)
    lengths.add(sample.response)
    return True


def _add_instruction(record, counter, lengths, formatter, key):
    instruction, input_, output = formatter.read_fields(record)
    sample = formatter.format(record, key, report=True)
    reports = sample.reports

    def replaced(k):
        return (reports[k].replaced, reports[k].identical) if k in reports else (0, 0)

    counter.add("instruction", instruction, *replaced("instruction"))
    # An empty input is not shown to the model (the no-input template is used): its zero
    # words still make the field appear, so a data set without inputs says so.
    counter.add("input", input_, *replaced("input"))
    counter.add("output", output, *replaced("output"))
    if formatter.mode == "naive":
        # The template is mixed too (Table 4's naive code-mixing): count its words.
        template_keys = sorted(k for k in reports if isinstance(k, tuple) and k[0] == "template")
        pieces = [text for text, kind in sample.segments if kind == "template"]
        # Count the unmixed literal: undo the replacements recorded for each piece.
        from easylm_commit.mixer import unmix

        for k, mixed_piece in zip(template_keys, pieces):
            counter.add("template", unmix(mixed_piece, reports[k].replacements), *replaced(k))
    lengths.add(sample.prompt, sample.response)
    return True
