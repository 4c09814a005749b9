"""What a dictionary does to a data set, before any training: ``easylm-commit stats``.

- Coverage: the share of words (as the mixer segments them) that the dictionary holds. Only
  covered words can be replaced, so the expected share of replaced words is
  ``alpha x coverage`` (Eq. 2-4), per field. The observed share at the chosen seed and epoch
  is counted too, from the mixer's own report: words written as a different word. A draw
  that wrote a word as itself (an identity pair, MUSE's ``1 1``) is counted apart as
  ``identical``, so the expected share is about the observed one plus the identical one.
- The most frequent uncovered words: what to add to a dictionary, or a sign of a tokenization
  mismatch (e.g. a dictionary of lowercased words with diacritics stripped).
- The code-mixing index (CMI, ``transform.cmi``), the mean over the records as the datasets'
  ``dataset_cmi``; with ``languages``, every count also for each language, from the records
  mixed into it.
- Tokens: lengths of the formatted, mixed samples exactly as training builds them
  (``transform.RecordTransform``: BOS + prompt + response + EOS, or BOS + text + EOS for a
  corpus) and the optimizer steps one epoch takes when samples are packed into
  ``batch_size x seq_length`` blocks, as EasyLM's JSON dataset does.

Every count comes from the transform's own samples and the mixer's report of each field, so
each field is mixed once, and "covered" here means exactly "could be replaced" there (where
the mode mixes nothing, the report is the mixer's at alpha = 0: see ``Formatter.format``).

Plain functions and dataclasses, no printing: the command renders them, tests check them.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import statistics
from collections.abc import Iterable

from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.mixer import CodeMixer, MixResult, Segmenter
from easylm_commit.records import BadRecords, Item
from easylm_commit.transform import RecordTransform, cmi


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
    def coverage(self) -> float:
        return _share(self.covered, self.words)

    @property
    def observed_mixing_rate(self) -> float:
        return _share(self.replaced, self.words)

    @property
    def identical_rate(self) -> float:
        return _share(self.identical, self.words)

    def expected_mixing_rate(self, alpha: float) -> float:
        return alpha * self.coverage

    def merge(self, other: FieldCoverage) -> None:
        self.words += other.words
        self.covered += other.covered
        self.replaced += other.replaced
        self.identical += other.identical
        self.protected += other.protected
        self.protected_words += other.protected_words
        self.uncovered.update(other.uncovered)

    def as_dict(self, alpha: float, top: int = 20) -> dict:
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
    """Word counts per field, from the mixer's reports (``add_report``), or of plain texts
    through the mixer's own draws at alpha = 0 (``add``: same segmenter, protected spans and
    case policy), so that "covered" here means exactly "could be replaced" there.

    Uncovered words are counted lowercased.

    Args:
        dictionary: the ``BilingualDictionary`` whose coverage ``add`` counts (``None``:
            every word is uncovered).
        segmenter: as ``CodeMixer``'s.
        protect: as ``CodeMixer``'s.
    """

    def __init__(self, dictionary: BilingualDictionary | None = None,
                 segmenter: str | Segmenter | None = None, protect: bool = True) -> None:
        self.dictionary = dictionary
        self.protect = protect
        self.segmenter = segmenter
        self._mixer = None
        self.fields = {}

    def field(self, name: str) -> FieldCoverage:
        if name not in self.fields:
            self.fields[name] = FieldCoverage(name)
        return self.fields[name]

    def add_report(self, name: str, report: MixResult) -> FieldCoverage:
        """Count under ``name`` the text that ``report`` (a ``MixResult``) describes: its
        words, covered and uncovered words, protected spans, and the words it replaced."""
        counts = self.field(name)
        counts.replaced += report.replaced
        counts.identical += report.identical
        counts.words += report.words
        counts.covered += report.covered
        counts.uncovered.update(w.lower() for w in report.uncovered)
        counts.protected += len(report.protected)
        counts.protected_words += report.protected_words
        return counts

    def add(self, name: str, text: str) -> FieldCoverage:
        """Count the plain ``text`` under ``name``: what the dictionary covers of it."""
        if self.dictionary is None:
            from easylm_commit.mixer import split_words

            counts = self.field(name)
            words = split_words(text)[1::2]
            counts.words += len(words)
            counts.uncovered.update(w.lower() for w in words)
            return counts
        if self._mixer is None:
            self._mixer = CodeMixer(self.dictionary, 0.0, segmenter=self.segmenter,
                                    protect=self.protect)
        return self.add_report(name, self._mixer.mix_with_report(text))

    def total(self) -> FieldCoverage:
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

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def token_stats(lengths: Iterable[int], batch_size: int, seq_length: int) -> TokenStats:
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
class LanguageStats:
    """The counts of the records mixed into one language (``languages``)."""

    lang: str
    alpha: float
    records: int = 0
    cmi_sum: float = 0.0
    counter: CoverageCounter = dataclasses.field(default_factory=CoverageCounter)

    @property
    def cmi(self) -> float:
        """The mean code-mixing index of its records (``transform.cmi``)."""
        return _share(self.cmi_sum, self.records)

    def as_dict(self, top: int = 20) -> dict:
        return {
            "records": self.records,
            "alpha": self.alpha,
            "cmi": self.cmi,
            "fields": {name: c.as_dict(self.alpha, top) for name, c in self.counter.fields.items()},
            "all": self.counter.total().as_dict(self.alpha, top),
        }


@dataclasses.dataclass
class DatasetStats:
    """The numbers of ``stats``. ``cmi`` is the mean code-mixing index of the records, as the
    datasets' ``dataset_cmi``. With ``languages`` (lang -> ``LanguageStats``), the totals'
    expected share of replaced words is the sum of each language's (its alpha x its covered
    words), and ``alpha`` is the alpha that gives it: the languages' alphas weighted by their
    covered words."""

    records: int
    skipped: int
    first_skip: str
    alpha: float
    mode: str
    fields: dict        # name -> FieldCoverage, in first-seen order
    total: FieldCoverage
    tokens: TokenStats = None  # only with a tokenizer
    cmi: float = 0.0
    languages: dict = dataclasses.field(default_factory=dict)

    def _alpha(self, name: str | None) -> float:
        """The alpha whose product with the coverage of field ``name`` (``None``: all fields)
        is the expected share of replaced words there."""
        if not self.languages:
            return self.alpha
        part = [(s.alpha, s.counter.fields.get(name) if name else s.counter.total())
                for s in self.languages.values()]
        covered = sum(c.covered for _, c in part if c is not None)
        return _share(sum(a * c.covered for a, c in part if c is not None), covered) if covered else self.alpha

    def as_dict(self, top: int = 20) -> dict:
        result = {
            "records": self.records,
            "skipped": self.skipped,
            "first_skip": self.first_skip,
            "alpha": self.alpha,
            "mode": self.mode,
            "fields": {name: c.as_dict(self._alpha(name), top) for name, c in self.fields.items()},
            "all": self.total.as_dict(self._alpha(None), top),
            "cmi": self.cmi,
            "tokens": self.tokens.as_dict() if self.tokens else None,
            # Top level, for scripts: what an epoch costs (None without a tokenizer).
            "steps_per_epoch": self.tokens.steps_per_epoch if self.tokens else None,
        }
        if self.languages:
            result["languages"] = {lang: s.as_dict(top) for lang, s in self.languages.items()}
        return result


def dataset_stats(items: Iterable[Item], transform: RecordTransform, *, batch_size: int = 16,
                  seq_length: int = 512, bad: BadRecords | None = None) -> DatasetStats:
    """Coverage (and, with the transform's tokenizer, token) statistics of ``items``.

    Records go through ``transform`` exactly as training reads them: each ``records.Item``
    is mixed with its key ``(epoch, row)``, as the training datasets mix it, so the observed
    rates and the token counts are those of that epoch. Each field is counted from the
    mixer's report of it, under its name (``instruction``, ``input``, ``output``,
    ``template`` for the template's pieces in ``naive`` mode, or the corpus field's name).

    Args:
        items: the records (``records.read``).
        transform: the formatter (with its mixer) and, for token counts, the tokenizer.
        batch_size: sequences per step, for the steps an epoch takes.
        seq_length: tokens per sequence.
        bad: the bad-record policy, to read its reasons afterwards (default: skip and count).

    Raises:
        UserError: the formatter has no mixer (no dictionary to count the coverage of).
    """
    mixer = transform.mixer
    if mixer is None:
        raise UserError("stats need a dictionary: the formatter has no mixer")
    mode = transform.formatter.mode
    alpha = 0.0 if mode == "none" else mixer.alpha  # none mixes nothing: the rate is 0
    counter = CoverageCounter(mixer.dictionary, mixer.segmenter, protect=mixer.protect)
    # With ``languages``: each record's counts also go to the language it was mixed into.
    per_language = {l.lang: LanguageStats(l.lang, 0.0 if mode == "none" else l.alpha)
                    for l in getattr(transform.formatter, "languages", ())}
    tokenize = transform.tokenizer is not None
    lengths, prompts, responses = [], [], []
    bad = BadRecords() if bad is None else bad
    n = 0
    cmi_sum = 0.0
    for _, sample in transform.samples(items, bad, report=True):
        n += 1
        index = cmi(sample.words, sample.replaced)
        cmi_sum += index
        language = per_language.get(sample.lang)
        if language is not None:
            language.records += 1
            language.cmi_sum += index
        for name, report in sample.reports.items():
            # Template pieces are mixed under ("template", j) in naive mode: one field.
            field = "template" if isinstance(name, tuple) else name
            counter.add_report(field, report)
            if language is not None:
                language.counter.add_report(field, report)
        if tokenize:
            prompts.append(sample.prompt_segments)
            responses.append(sample.response)
            if len(responses) >= _TOKENIZE_CHUNK:
                lengths += _lengths(transform, prompts, responses)
    if tokenize:
        lengths += _lengths(transform, prompts, responses)
    stats = DatasetStats(
        records=n, skipped=bad.count, first_skip=bad.first, alpha=alpha, mode=mode,
        fields=dict(counter.fields), total=counter.total(),
        tokens=token_stats(lengths, batch_size, seq_length) if tokenize else None,
        cmi=_share(cmi_sum, n), languages=per_language,
    )
    if per_language:
        stats.alpha = stats._alpha(None)
    return stats


# Samples tokenized at a time: the tokenizers encode in batches; only lengths are kept.
_TOKENIZE_CHUNK = 512


def _lengths(transform, prompts, responses):
    lengths = [len(tokens) for tokens, _ in transform.tokens(prompts, responses)] if responses else []
    prompts.clear()
    responses.clear()
    return lengths
