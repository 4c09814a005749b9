"""The one record transform: record -> formatted, mixed ``Sample`` -> tokens and loss mask.

Two steps, each with its contract checked where it hands over (the idea of torchtune's
``SFTTransform``: a message transform, then a model transform):

1. The formatter turns a record into a ``templates.Sample``: the prompt as named pieces,
   masked out of the loss, and the response, trained on. ``templates.Formatter`` reads
   instruction records (Eq. 1 and 5), ``templates.TextFormatter`` a corpus field (Eq. 6).
   Choosing one is the only place where "instruction records or text?" is decided: the
   dataset type chooses (``commit`` or ``codemix_clm``), and so does the commands'
   ``--text-field`` (``commands._common.build_formatter``); nothing downstream asks again.
2. ``tokens.tokens_and_masks`` turns the Samples into ``BOS + prompt + response + EOS`` and
   the loss mask, many at a time (the tokenizers encode in batches).

``RecordTransform`` runs both over ``records.Item``s under the one bad-record policy
(``records.BadRecords``). Its callers are adapters:

- the datasets build chunks of examples with it (``__call__``), which
  ``packing.Packed`` packs into batches;
- ``easylm-commit mix`` writes each Sample's fields back into its record, ``preview``
  colours its pieces by their mixing reports, and ``stats`` counts those reports and the
  token lengths; each iterates ``samples``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from easylm_commit.errors import UserError
from easylm_commit.records import BadRecords, Item
from easylm_commit.templates import Formatter, Sample, TextFormatter

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from easylm_commit.alpha_schedule import Schedule
    from easylm_commit.mixer import CodeMixer
    from easylm_commit.tokens import Example

# NumPy and the tokenizer code are imported where tokens are made: ``mix`` and ``preview``
# make none, and start without them.


@dataclasses.dataclass
class Chunk:
    """What the transform makes of consecutive records: their examples and mixing counts.

    Attributes:
        examples: ``(epoch, position, tokens, loss_masks)`` of each record kept, in order.
        words: words seen in the mixed parts of those records.
        replaced: words replaced there.
        skipped: bad records skipped.
        start: ``(epoch, position)`` of the chunk's first record (``None``: no records).
        bad: the skipped records' reasons and fields, for the error when all are skipped.
        records: records kept.
        cmi: the sum of their code-mixing indices (``cmi``).
        by_lang: with ``languages``, ``lang -> [words, replaced, records, cmi]`` of the
            records mixed into each language.
        step: the schedule step the chunk was mixed at (``None``: α does not change).
        alpha: the α it was mixed at (``None``: unknown, as from a stand-in transform); the
            first schedule's where there are several (``RecordTransform``), and with
            ``languages`` the mean of its records' languages' α.
        alphas: with ``languages``, each language's α.
    """
    examples: list
    words: int = 0
    replaced: int = 0
    skipped: int = 0
    start: tuple = None
    bad: BadRecords = None
    records: int = 0
    cmi: float = 0.0
    by_lang: dict = dataclasses.field(default_factory=dict)
    step: int = None
    alpha: float = None
    alphas: dict = dataclasses.field(default_factory=dict)

    def __getstate__(self):
        # Sent back from worker processes as a few flat arrays rather than hundreds of small
        # ones: unpickling is the main process's work, and the main process is on the
        # critical path of every batch.
        import numpy as np

        ex = self.examples
        lengths = np.array([len(t) for _, _, t, _ in ex], dtype=np.int64)
        return dict(
            epochs=np.array([e for e, _, _, _ in ex], dtype=np.int64),
            positions=np.array([p for _, p, _, _ in ex], dtype=np.int64),
            lengths=lengths,
            tokens=np.concatenate([t for _, _, t, _ in ex]) if ex else np.zeros(0, np.int32),
            masks=np.concatenate([m for _, _, _, m in ex]) if ex else np.zeros(0, np.float32),
            words=self.words, replaced=self.replaced, skipped=self.skipped,
            start=self.start, bad=self.bad, records=self.records, cmi=self.cmi,
            by_lang=self.by_lang, step=self.step, alpha=self.alpha, alphas=self.alphas,
        )

    def __setstate__(self, state):
        import numpy as np

        cuts = np.cumsum(state["lengths"])[:-1]
        self.examples = list(zip(
            state["epochs"].tolist(), state["positions"].tolist(),
            np.split(state["tokens"], cuts), np.split(state["masks"], cuts),
        )) if len(state["lengths"]) else []
        self.words, self.replaced, self.skipped = state["words"], state["replaced"], state["skipped"]
        self.start, self.bad = state.get("start"), state.get("bad")
        self.records, self.cmi = state.get("records", 0), state.get("cmi", 0.0)
        self.by_lang = state.get("by_lang", {})
        self.step, self.alpha = state.get("step"), state.get("alpha")
        self.alphas = state.get("alphas", {})


def cmi(words: int, replaced: int) -> float:
    """The code-mixing index of a text (Gambäck and Das, 2014), 0 to 100: ``100 * (1 -
    max_i w_i / (n - u))``, the share of its words outside its dominant language, where
    ``n - u`` are the words that belong to a language -- here the words the mixer looked up
    (``words``; punctuation, numbers and protected spans are not) -- and ``w_i`` those of each
    language: ``replaced`` in one, the rest in the other. 0 for a text without such words, as
    in the paper; 50 is the most mixed two languages can be."""
    if not words:
        return 0.0
    return 100.0 * min(replaced, words - replaced) / words


class RecordTransform:
    """Record -> ``Sample`` -> ``(tokens, loss_masks)``: the formatter, then the tokenizer.

    Picklable: worker processes receive it and build chunks with it.

    Args:
        formatter: a ``templates.Formatter`` (instruction records) or
            ``templates.TextFormatter`` (a corpus field): anything whose
            ``format(record, key, report=...)`` returns a ``Sample``.
        tokenizer: a Hugging Face tokenizer with BOS and EOS tokens; ``None`` where no
            tokens are made (``mix``, ``preview``).
        strict: stop on the first bad record instead of skipping and counting it, where this
            transform keeps its own count (``__call__``).
        schedules: ``(CodeMixer, alpha_schedule.Schedule)`` pairs: a chunk built at a step
            (``__call__``) sets each mixer's α to its schedule's there. A list, as each
            language of a multilingual mix may have its own mixer and schedule.

    Raises:
        UserError: the tokenizer has no BOS or EOS token.
    """

    def __init__(self, formatter: Formatter | TextFormatter,
                 tokenizer: PreTrainedTokenizerBase | None = None, *, strict: bool = False,
                 schedules: Sequence[tuple[CodeMixer, Schedule]] = ()) -> None:
        if not callable(getattr(formatter, "format", None)):
            raise TypeError(f"a formatter needs a format(record, key, report=...) method, "
                            f"got {type(formatter).__name__}")
        if tokenizer is not None and (tokenizer.bos_token_id is None or tokenizer.eos_token_id is None):
            raise UserError(f"the tokenizer ({type(tokenizer).__name__}) has no BOS or EOS token: "
                            "every example is laid out BOS + prompt + response + EOS")
        self.formatter = formatter
        self.tokenizer = tokenizer
        self.strict = strict
        self.schedules = list(schedules)

    @property
    def mixer(self) -> CodeMixer | None:
        """The formatter's ``CodeMixer`` (``None``: nothing is mixed)."""
        return self.formatter.mixer

    def sample(self, record: dict, key: tuple = (), *, report: bool = False) -> Sample:
        """The formatter's ``Sample`` of one record, mixed with ``key``.

        Raises:
            InvalidRecord: the record lacks a field or has one of the wrong type.
            TypeError: the formatter returned something else than a ``Sample``.
        """
        sample = self.formatter.format(record, key, report=report)
        if not isinstance(sample, Sample):
            raise TypeError(f"{type(self.formatter).__name__}.format returned a "
                            f"{type(sample).__name__}, not a templates.Sample")
        return sample

    def _sample(self, record, key, report):  # for BadRecords.apply, which passes positionally
        return self.sample(record, key, report=report)

    def samples(self, items: Iterable[Item], bad: BadRecords, *,
                report: bool = False) -> Iterator[tuple[Item, Sample]]:
        """``(item, Sample)`` of each good record, each mixed with its key ``(epoch, row)``;
        bad records go to ``bad`` (skipped and counted, or an error under its ``strict``).

        Args:
            items: ``records.Item``s (``records.read``, ``sources.RecordStream``).
            bad: the policy, and afterwards the count and reasons of the skipped records.
            report: keep the mixer's reports in each Sample (``Formatter.format``).
        """
        apply, sample = bad.apply, self._sample
        for item in items:
            s = apply(item.where, sample, item.record, (item.epoch, item.row), report)
            if s is not None:
                yield item, s

    def tokens(self, prompts: Sequence[Sequence[tuple[str, str]]],
               responses: Sequence[str]) -> list[Example]:
        """``(tokens, loss_masks)`` of Samples given by their ``prompt_segments`` and
        ``response`` (``tokens.tokens_and_masks``).

        Raises:
            ValueError: this transform has no tokenizer.
        """
        from easylm_commit.tokens import tokens_and_masks

        if self.tokenizer is None:
            raise ValueError("this RecordTransform has no tokenizer to make tokens with")
        return tokens_and_masks(self.tokenizer, prompts, responses)

    def __call__(self, items: Sequence[Item], step: int | None = None) -> Chunk:
        """The examples of consecutive records (a chunk: a worker's unit of work), with the
        mixing counts and skipped records behind the metrics.

        Args:
            items: the records, in order.
            step: the schedule step to mix them at (``alpha_schedule.ChunkSteps``): each
                mixer of ``schedules`` is set to its α there, and keeps it until the next
                chunk -- a process builds one chunk at a time. ``None``: α as it is.
        """
        for mixer, schedule in self.schedules if step is not None else ():
            mixer.alpha = schedule.at(step)
        if self.schedules:
            alpha = self.schedules[0][0].alpha
        else:
            alpha = self.mixer.alpha if self.mixer is not None else 0.0
        # Only the prompt pieces, response and counts of each Sample are kept: a chunk's worth
        # of Samples alive until the chunk is tokenized would be promoted through the garbage
        # collector's generations for nothing.
        keep, prompts, responses = [], [], []
        words = replaced = 0
        index = 0.0
        by_lang: dict[str, list] = {}
        bad = BadRecords(self.strict)
        for item, sample in self.samples(items, bad):
            keep.append((item.epoch, item.position))
            prompts.append(sample.prompt_segments)
            responses.append(sample.response)
            words += sample.words
            replaced += sample.replaced
            c = cmi(sample.words, sample.replaced)
            index += c
            if sample.lang:
                counts = by_lang.setdefault(sample.lang, [0, 0, 0, 0.0])
                counts[0] += sample.words
                counts[1] += sample.replaced
                counts[2] += 1
                counts[3] += c
        alphas = {}
        languages = getattr(self.formatter, "languages", None)
        if languages:
            alphas = {l.lang: m.alpha if m is not None else 0.0
                      for l, m in zip(languages, self.formatter.mixers)}
            if keep:  # the α of the chunk's records, each at its language's
                alpha = sum(alphas[lang] * counts[2] for lang, counts in by_lang.items()) / len(keep)
        encoded = self.tokens(prompts, responses) if keep else []
        return Chunk(
            examples=[k + e for k, e in zip(keep, encoded)],
            words=words, replaced=replaced, skipped=bad.count,
            start=tuple(items[0][:2]) if items else None, bad=bad,
            records=len(keep), cmi=index, by_lang=by_lang, step=step, alpha=alpha, alphas=alphas,
        )
