"""Code-mixing (Eq. 2-4): replace each dictionary word with probability alpha.

For every word w_i of a text, x_i ~ Bernoulli(alpha); if x_i = 1 and w_i is in the
dictionary, w_i is written as one of its translations, chosen uniformly; otherwise w_i is
kept. Everything that is not a replaced word -- whitespace of every kind, punctuation glued
to words, digits not in the dictionary -- is copied through unchanged.

What a word is
    A maximal run of letters, combining marks and digits (Unicode categories L*, M*, N*),
    where an apostrophe (' or U+2019) between two such characters joins ("don't", "o'clock").
    Marks are part of words because Indic vowel signs are marks: ``हैं`` is one word, whereas
    Python's ``re`` ``\\w`` would cut it after ``ह``. A hyphen separates words, so each part of
    "state-of-the-art" can be mixed (MUSE has few hyphenated entries); the hyphen stays.
    Underscores and everything else are separators.

Determinism
    The draws for one call come from a generator seeded by a hash (BLAKE2b) of
    ``(seed, key)``, where ``key`` is whatever the caller uses to name the text -- e.g.
    ``(epoch, record_index, field)``. Nothing depends on the process, ``PYTHONHASHSEED``,
    global ``random``/NumPy state or call order. That is what lets every host of a TPU pod
    build the same replicated batch, and a resumed run see the data it would have seen.
    Only ``random.Random.random()`` is used: Python guarantees its sequence for a given
    integer seed across versions, which it does not for ``randrange`` or ``choice``.

    One uniform u_i is drawn per *covered* word (the dictionary is fixed for a run, so this
    is the same Bernoulli process as drawing for every word, and half the work); x_i is
    ``u_i < alpha`` and, given x_i = 1, ``u_i / alpha`` is again uniform on [0, 1) and picks
    the translation. A consequence worth having: with the same seed and key, the words
    replaced at a smaller alpha are a subset of those replaced at a larger one.
"""

import dataclasses
import hashlib
import itertools
import random
import re

import regex

try:  # The C generator behind random.Random: same MT19937 seeding and random(), without the
    # Python-level seed() wrapper (a few microseconds per mixed field).
    from _random import Random as _FastRandom
except ImportError:  # pragma: no cover - not CPython
    _FastRandom = random.Random

from easylm_commit.dictionary import restore_case

_WORD = r"[\p{L}\p{M}\p{N}]+(?:['\u2019][\p{L}\p{M}\p{N}]+)*"
# One capturing group: split() alternates separator, word, separator, ..., separator.
_SPLIT = regex.compile(f"({_WORD})")
# The same split for ASCII text, where letters, marks and digits are exactly [A-Za-z0-9]
# (no ASCII character is a mark, and U+2019 is not ASCII): the standard ``re`` engine does
# it in half the time of ``regex``'s Unicode property lookups.
_SPLIT_ASCII = re.compile(r"([A-Za-z0-9]+(?:'[A-Za-z0-9]+)*)")
# Scripts written without spaces between words; an English word put into such text gets
# spaces around it so that it stays readable (and tokenizes like English).
_SPACELESS = regex.compile(r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Han}\p{Hiragana}\p{Katakana}]")


@dataclasses.dataclass(frozen=True)
class Replacement:
    """One replaced word: ``text[start:end] == source`` and ``mixed[out_start:out_end]``
    holds ``target`` (plus any space the mixer put around it in a spaceless script)."""
    start: int
    end: int
    out_start: int
    out_end: int
    source: str
    target: str


@dataclasses.dataclass
class MixResult:
    text: str
    replacements: list
    words: int      # words seen
    covered: int    # words in the dictionary
    kept: list      # (out_start, out_end) of covered words that the draw kept in English

    @property
    def replaced(self):
        return len(self.replacements)


def derive_seed(seed, key):
    """A 64-bit integer from ``(seed, key)`` that is the same in every process."""
    if not isinstance(key, tuple):
        key = (key,)
    digest = hashlib.blake2b(repr((seed,) + key).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class RegexSegmenter:
    """Words as defined in the module docstring; one regex split, no per-character Python."""

    spaceless = False

    def split(self, text):
        """``[sep0, word1, sep1, ..., wordN, sepN]``: the pieces concatenate to ``text``."""
        return (_SPLIT_ASCII if text.isascii() else _SPLIT).split(text)


class ThaiSegmenter(RegexSegmenter):
    """Thai has no spaces between words: runs of Thai are cut into words with pythainlp's
    dictionary-based ``newmm`` tokenizer (an optional extra: ``pip install easylm-commit[thai]``).
    Without this, a whole Thai sentence would be one "word" and alignment on Thai text
    would never mix."""

    spaceless = True
    _thai = regex.compile(r"\p{Thai}")

    def __init__(self, engine="newmm"):
        try:
            from pythainlp.tokenize import word_tokenize
        except ImportError:  # pragma: no cover - depends on the environment
            from easylm_commit.errors import UserError
            raise UserError(
                "the Thai segmenter needs pythainlp: pip install 'easylm-commit[thai]'"
            ) from None
        self._tokenize = word_tokenize
        self._engine = engine

    def split(self, text):
        pieces = _SPLIT.split(text)
        if not self._thai.search(text):
            return pieces
        out = [pieces[0]]
        for word, sep in zip(pieces[1::2], pieces[2::2]):
            if self._thai.search(word):
                parts = [p for p in self._tokenize(word, engine=self._engine, keep_whitespace=True) if p]
                for i, part in enumerate(parts):
                    if i:
                        out.append("")
                    out.append(part)
            else:
                out.append(word)
            out.append(sep)
        return out


SEGMENTERS = {"default": RegexSegmenter, "thai": ThaiSegmenter}


def get_segmenter(segmenter):
    """``None``/"default", "thai", or an object with ``split(text)`` and ``spaceless``."""
    if segmenter is None:
        return RegexSegmenter()
    if isinstance(segmenter, str):
        if segmenter not in SEGMENTERS:
            from easylm_commit.errors import UserError
            raise UserError(
                f"unknown segmenter {segmenter!r} (choose from {', '.join(sorted(SEGMENTERS))})"
            )
        return SEGMENTERS[segmenter]()
    return segmenter


class _SurfaceTable(dict):
    """Surface word -> its translations with the word's case already restored, or None.

    ``mix`` looks every word up here with C-level ``map``: one dict probe instead of
    ``lower()`` + probe + ``restore_case`` per word. Lowercase, Title and UPPER forms of every
    dictionary source are filled in up front; any other surface form is computed on first
    sight by ``__missing__`` and remembered while the table is below ``limit`` entries, so
    memory stays bounded on an endless corpus.
    """

    def __init__(self, table, limit):
        super().__init__()
        self._table = table
        self._limit = limit
        for source in table:
            for form in (source, source[:1].upper() + source[1:], source.upper()):
                if form.lower() == source and form not in self:
                    self[form] = self._restored(form)
        self._limit = max(limit, len(self) + limit // 2)

    def _restored(self, word):
        translations = self._table.get(word.lower())
        if translations is None:
            return None
        return tuple(restore_case(word, t) for t in translations)

    def __missing__(self, word):
        value = self._restored(word)
        if len(self) < self._limit:
            self[word] = value
        return value


def _pick(translations, u, alpha):
    """Given u < alpha, u / alpha is uniform on [0, 1): it picks a translation uniformly."""
    n = len(translations)
    if n == 1:
        return translations[0]
    return translations[min(int(u / alpha * n), n - 1)]


class CodeMixer:
    """Eq. 2-4. Stateless: ``mix(text, key)`` depends only on its arguments and the
    mixer's (dictionary, alpha, seed)."""

    def __init__(self, dictionary, alpha, seed=0, segmenter=None):
        alpha = float(alpha)
        if not 0.0 <= alpha <= 1.0:
            from easylm_commit.errors import UserError
            raise UserError(f"alpha must be in [0, 1], got {alpha}")
        self.dictionary = dictionary
        self.alpha = alpha
        self.seed = seed
        self.segmenter = get_segmenter(segmenter)

    # Surface forms remembered beyond the dictionary's own (see _SurfaceTable).
    SURFACE_CACHE = 1 << 17

    def __getstate__(self):
        # Worker processes rebuild the surface table rather than receive it pickled.
        state = dict(self.__dict__)
        state.pop("_surface", None)
        return state

    def _surface_table(self):
        surface = self.__dict__.get("_surface")
        if surface is None or surface._table is not self.dictionary.table:
            surface = self._surface = _SurfaceTable(self.dictionary.table, self.SURFACE_CACHE)
        return surface

    def mix(self, text, key=(), counts=None):
        """The mixed text alone (the fast path used by the training datasets).

        ``counts``, if given, is any object with integer ``words`` and ``replaced``
        attributes; they are increased by this text's words seen and words replaced.

        Same draws and output as the word-by-word definition (``mix_with_report``), with the
        per-word work done by C-level ``map``/``compress`` and one generator call per
        covered word: the hot loop of the training datasets.
        """
        if self.segmenter.spaceless:
            return self._mix_spaceless(text, key, counts)
        if self.alpha == 0.0 or not text:
            if counts is not None and text:
                counts.words += len(self.segmenter.split(text)) // 2
            return text
        pieces = self.segmenter.split(text)
        hits = list(map(self._surface_table().__getitem__, pieces[1::2]))
        # Piece index of every covered word, and its (case-restored) translations, in order.
        positions = list(itertools.compress(range(1, len(pieces), 2), hits))
        changed = 0
        if positions:
            found = list(filter(None, hits))
            rng = _FastRandom(derive_seed(self.seed, key)).random
            draws = list(itertools.starmap(rng, itertools.repeat((), len(positions))))
            alpha = self.alpha
            for i, translations, u in zip(positions, found, draws):
                if u < alpha:
                    n = len(translations)
                    pieces[i] = translations[0] if n == 1 else translations[min(int(u / alpha * n), n - 1)]
                    changed += 1
        if counts is not None:
            counts.words += len(pieces) // 2
            counts.replaced += changed
        return "".join(pieces) if changed else text

    def _mix_spaceless(self, text, key=(), counts=None):
        """``mix`` for segmenters of spaceless scripts, whose replacements may need padding."""
        if counts is not None:
            counts.words += (len(self.segmenter.split(text)) // 2) if text and self.alpha == 0.0 else 0
        if self.alpha == 0.0 or not text:
            return text
        table = self.dictionary.table
        alpha = self.alpha
        pieces = self.segmenter.split(text)
        spaceless = self.segmenter.spaceless
        rng = None
        changed = 0
        for i in range(1, len(pieces), 2):
            word = pieces[i]
            translations = table.get(word.lower())
            if translations is None:
                continue
            if rng is None:
                rng = random.Random(derive_seed(self.seed, key)).random
            u = rng()
            if u < alpha:
                pieces[i] = restore_case(word, _pick(translations, u, alpha))
                changed += 1
                if spaceless:
                    pieces[i] = self._pad(pieces, i, pieces[i])
        if counts is not None:
            counts.words += len(pieces) // 2
            counts.replaced += changed
        return "".join(pieces) if changed else text

    @staticmethod
    def _pad(pieces, i, target):
        """Spaces around a spaced-script word placed between spaceless-script words."""
        if _SPACELESS.search(target):
            return target
        left = " " if pieces[i - 1] == "" and i > 1 else ""
        right = " " if pieces[i + 1] == "" and i + 2 < len(pieces) else ""
        # The left neighbour may already have padded itself on the right.
        if left and pieces[i - 2].endswith(" "):
            left = ""
        return left + target + right

    def mix_with_report(self, text, key=()):
        """The mixed text and what was done to it, for previews, stats and metrics.

        Draws exactly as ``mix`` does, so ``mix_with_report(t, k).text == mix(t, k)``.
        """
        table = self.dictionary.table
        alpha = self.alpha
        pieces = self.segmenter.split(text) if text else [text]
        spaceless = self.segmenter.spaceless
        rng = random.Random(derive_seed(self.seed, key)).random
        replacements, kept = [], []
        words = covered = 0
        in_pos = len(pieces[0])
        out = [pieces[0]]
        out_pos = len(pieces[0])
        for i in range(1, len(pieces), 2):
            word = pieces[i]
            words += 1
            translations = table.get(word.lower())
            written = word
            if translations is not None:
                covered += 1
                u = rng()
                if alpha > 0.0 and u < alpha:
                    target = restore_case(word, _pick(translations, u, alpha))
                    written = self._pad(pieces, i, target) if spaceless else target
                    pieces[i] = written
                    replacements.append(Replacement(
                        start=in_pos, end=in_pos + len(word),
                        out_start=out_pos, out_end=out_pos + len(written),
                        source=word, target=target,
                    ))
                else:
                    kept.append((out_pos, out_pos + len(word)))
            out.append(written)
            out.append(pieces[i + 1])
            in_pos += len(word) + len(pieces[i + 1])
            out_pos += len(written) + len(pieces[i + 1])
        return MixResult(
            text="".join(out), replacements=replacements,
            words=words, covered=covered, kept=kept,
        )


def unmix(mixed, replacements):
    """Put the source words back: ``unmix(r.text, r.replacements)`` is the input text."""
    out, pos = [], 0
    for r in replacements:
        out.append(mixed[pos:r.out_start])
        out.append(r.source)
        pos = r.out_end
    out.append(mixed[pos:])
    return "".join(out)
