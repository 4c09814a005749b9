"""Code-mixing (Eq. 2-4): replace each dictionary word with probability alpha.

For every word w_i of a text, x_i ~ Bernoulli(alpha); if x_i = 1 and w_i is in the
dictionary, w_i is written as one of its translations, chosen uniformly; otherwise w_i is
kept. Everything that is not a replaced word -- whitespace of every kind, punctuation glued
to words, digits not in the dictionary, and every protected span -- is copied through
unchanged.

One path
    ``draws(text, key)`` segments the text into typed pieces -- words, separators, and
    protected spans (code, URLs, e-mails, identifiers: ``protect.py``), which are folded into
    the separators so they can never be drawn -- looks every word up and draws once. The
    ``Draws`` are then applied: ``mix`` returns the text, ``mix_counted`` the text and its
    counts (the training datasets), ``mix_with_report`` everything that was done (preview,
    stats). The three cannot drift apart because there is one segmentation and one draw.

What is counted as replaced
    A word written as a *different* word. A draw that picks a translation equal to the word
    -- an identity pair such as MUSE's ``1 1`` or ``paris paris``, which MUSE files hold by
    the thousand -- leaves the word as it was: it is counted apart (``MixResult.identical``)
    and not as replaced, so a mixing rate is the share of words that really changed. Only
    the counts make this distinction; the draws and the text are those of Eq. 2-4.

What a word is
    A maximal run of letters, combining marks and digits (Unicode categories L*, M*, N*),
    where an apostrophe (' or U+2019) or invisible format characters (zero-width joiner and
    non-joiner, U+200C/U+200D, and the rest of category Cf) between two such characters join
    (``don't``, Bengali ``র‍্যাব``). Marks are part of words because Indic vowel signs are marks:
    ``हैं`` is one word, whereas Python's ``re`` ``\\w`` would cut it after ``ह``. A hyphen
    separates words, so each part of "state-of-the-art" can be mixed (MUSE has few hyphenated
    entries); the hyphen stays.

Thai
    Thai is written without spaces between words, so a run of Thai letters is cut into words
    with pythainlp's ``newmm`` -- by the default segmenter, without any flag -- and a word
    that the dictionary lacks but that splits wholly into dictionary words (``กินข้าว`` =
    ``กิน`` + ``ข้าว``) is mixed part by part. The repetition mark ``ๆ`` repeats the word
    before it (``มากๆ``, also written ``มาก ๆ``, is ``มาก มาก``), so the pair is one word:
    one draw, counted once, written as the translation twice (``very very``; without the
    space in a spaceless target script), never ``very ๆ``. A dictionary entry for the pair
    itself (``มากๆ``) comes first; a mark after a word the dictionary lacks, or at the start
    of the text, is kept as written. ``ๆๆ`` is emphasis, still one repetition. Only the
    Thai segmenters do this: ``regex`` keeps the plain word model.
    A word written into Thai (or other spaceless) text gets spaces around it.

Phrases
    A dictionary source of several words (``ice cream``, ``New York``: a tab line, see
    ``dictionary.py``) is matched over the segmented words, after segmentation and before
    any draw: at each word, the longest phrase starting there wins, left to right, and the
    words it covers become one unit -- one draw, one translation, counted as one word in
    ``words``, ``covered`` and ``replaced`` (``MixResult.phrases`` and ``.phrase_words`` say
    how many units are phrases and how many words they cover). A phrase's words are its
    source as the mixer's own segmenter cuts it; between two of them the text may hold only
    spaces (Unicode space separators: a space, a no-break space, ...) or nothing (touching
    words in Thai): never a newline, a tab, punctuation or a protected span, so a phrase
    never runs across a sentence, a line, a table cell or code. Case and NFC are as for one
    word (``dictionary.phrase_case``; the case pattern is put back on the translation).
    Thai: a phrase written with spaces (``กิน ข้าว``) also matches as pythainlp cuts it
    written without them (``กินข้าว``). A phrase whose words the segmenter never produces
    with only spaces between them (punctuation inside: ``U.S. army``) can never match: one
    warning says how many. A dictionary without phrases takes none of this path, so it mixes
    draw for draw as before.

Case, normalisation
    See ``BilingualDictionary``: acronyms (``WHO``, ``US``) match only entries written in
    capitals, longer capitals and Title case mix with their case put back, mixed case matches
    exactly; lookup is in NFC.

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

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import operator
import random
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

import regex

try:  # The C generator behind random.Random: same MT19937 seeding and random(), without the
    # Python-level seed() wrapper (a few microseconds per mixed field).
    from _random import Random as _FastRandom
except ImportError:  # pragma: no cover - not CPython
    _FastRandom = random.Random

from easylm_commit import options
from easylm_commit.dictionary import (BilingualDictionary, nfc, phrase_case, restore_case,
                                      without_format_chars)
from easylm_commit.errors import UserError
from easylm_commit.protect import Span, protected_spans

logger = logging.getLogger("easylm_commit")

_WORD = r"[\p{L}\p{M}\p{N}]+(?:(?:['\u2019]|\p{Cf}+)[\p{L}\p{M}\p{N}]+)*"
# One capturing group: split() alternates separator, word, separator, ..., separator.
_SPLIT = regex.compile(f"({_WORD})")
# The same split for ASCII text, where letters, marks and digits are exactly [A-Za-z0-9]
# (no ASCII character is a mark or a format character, and U+2019 is not ASCII): the
# standard ``re`` engine does it in half the time of ``regex``'s Unicode property lookups.
_SPLIT_ASCII = re.compile(r"([A-Za-z0-9]+(?:'[A-Za-z0-9]+)*)")
# Without an apostrophe in the text the optional group never matches; leaving it out saves
# the engine a try after every word.
_SPLIT_ASCII_PLAIN = re.compile(r"([A-Za-z0-9]+)")
_THAI = regex.compile(r"\p{Thai}")
_THAI_REPEAT = "\u0e46"  # ๆ, mai yamok
# A word and its repetition marks, each written right after it or after one space: "มากๆ",
# "มาก ๆ", "ดีๆๆ". A newline is not a space here: the pair would swallow it when replaced.
_REPEATED = regex.compile(r"(.*[^\sๆ])\p{Zs}?ๆ+(?:\p{Zs}ๆ+)*", regex.S)
_SPACE = regex.compile(r"\p{Zs}")
# Scripts written without spaces between words; a word of another script put into such text
# gets spaces around it so that it stays readable (and tokenizes like English).
_SPACELESS = regex.compile(r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Han}\p{Hiragana}\p{Katakana}]")
# What may stand between two words of a phrase (module docstring, Phrases).
_PHRASE_GAP = regex.compile(r"\p{Zs}*")
_THAI_SPACES = regex.compile(r"(?<=\p{Thai})\s+(?=\p{Thai})")
_ASCII_PHRASE = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*(?: [A-Za-z0-9]+(?:'[A-Za-z0-9]+)*)+")

# The kinds of a report's spans.
PROTECTED = "protected"


def split_words(text: str) -> list[str]:
    """``[sep0, word1, sep1, ..., wordN, sepN]`` by the word definition above (no Thai
    segmentation): the pieces concatenate to ``text``."""
    if not text.isascii():
        return _SPLIT.split(text)
    return (_SPLIT_ASCII if "'" in text else _SPLIT_ASCII_PLAIN).split(text)


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


@dataclasses.dataclass(frozen=True)
class ProtectedSpan:
    """Text copied byte for byte: ``mixed[out_start:out_end] == text[start:end]``."""
    start: int
    end: int
    out_start: int
    out_end: int
    kind: str        # code | url | email | identifier (protect.py)
    words: int       # words of prose-like shape inside it, which were not mixed


@dataclasses.dataclass
class MixResult:
    """``replacements`` holds every word the draw wrote as a translation, identity pairs
    included (``unmix`` and the preview's spans need them all); ``replaced`` counts those
    that changed the word, ``identical`` the others: ``replaced + identical + len(kept) ==
    covered``."""
    text: str
    replacements: list[Replacement]
    words: int                     # words seen (outside protected spans), a phrase as one
    covered: int                   # words (and phrases) in the dictionary
    kept: list[tuple[int, int]]    # (out_start, out_end) of covered words the draw kept
    protected: list[ProtectedSpan] = dataclasses.field(default_factory=list)  # in order
    uncovered: list[str] = dataclasses.field(default_factory=list)  # words the dictionary lacks
    # A matched phrase is one unit in ``words`` and ``covered`` (and, replaced, in
    # ``replaced``); these say how many units are phrases and how many words they cover, so
    # the text's words are ``words - phrases + phrase_words``.
    phrases: int = 0
    phrase_words: int = 0

    @property
    def replaced(self) -> int:
        """Words written as a different word: the numerator of a mixing rate."""
        return len(self.replacements) - self.identical

    @property
    def identical(self) -> int:
        """Words the draw wrote as themselves (an identity pair such as ``1 1``)."""
        return sum(r.source == r.target for r in self.replacements)

    @property
    def protected_words(self) -> int:
        """Words of prose-like shape inside protected spans, which were not mixed."""
        return sum(p.words for p in self.protected)


def derive_seed(seed: int, key: object) -> int:
    """A 64-bit integer from ``(seed, key)`` that is the same in every process.

    Args:
        seed: the run's mixing seed.
        key: what names the text, e.g. ``(epoch, record_index, field)``; a value that is
            not a tuple counts as a tuple of one. Only its ``repr`` is used, so it must be
            the same in every process (ints, strings and tuples of them are).
    """
    if not isinstance(key, tuple):
        key = (key,)
    digest = hashlib.blake2b(repr((seed,) + key).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# -- segmenters ----------------------------------------------------------------------------
class Segmenter(Protocol):
    """What ``CodeMixer(segmenter=...)`` accepts besides a name. A segmenter may also have
    ``bind(dictionary)``, returning one that knows the dictionary (``DefaultSegmenter``
    splits Thai compounds into dictionary words), and ``thai_repetition``, whether a word
    ending in ``ๆ`` is looked up as the word repeated."""

    def split(self, text: str) -> list[str]:
        """``[sep0, word1, sep1, ..., wordN, sepN]``: the pieces concatenate to ``text``;
        two words may touch (an empty separator between them)."""
        ...


class RegexSegmenter:
    """Words as defined in the module docstring; one regex split, no per-character Python.
    Thai runs stay whole: the paper's plain word model, for users who force it."""

    # Whether a word ending in ``ๆ`` is looked up as its word repeated (module docstring).
    thai_repetition = False

    def split(self, text: str) -> list[str]:
        """``[sep0, word1, sep1, ..., wordN, sepN]``: the pieces concatenate to ``text``."""
        return split_words(text)

    def bind(self, dictionary: BilingualDictionary) -> RegexSegmenter:
        """This segmenter: words are split without looking at the dictionary."""
        return self


def _load_thai_tokenizer(required):
    try:
        from pythainlp.tokenize import word_tokenize
    except ImportError:
        if required:
            raise UserError("the Thai segmenter needs pythainlp: pip install 'easylm-commit[thai]'") from None
        return None
    return word_tokenize


_warned_no_thai = False


def _warn_no_thai():
    global _warned_no_thai
    if not _warned_no_thai:
        _warned_no_thai = True
        logger.warning(
            "easylm-commit: Thai text found but pythainlp is not installed, so Thai words are "
            "not segmented and will not be mixed: pip install 'easylm-commit[thai]'")


class DefaultSegmenter(RegexSegmenter):
    """The word regex, plus Thai segmentation wherever a word holds Thai letters.

    Without pythainlp, Thai runs stay whole (unmixable) and a warning says so once per
    process; ``ThaiSegmenter`` (``segmenter='thai'``) makes pythainlp a requirement instead.

    Args:
        engine: pythainlp's ``word_tokenize`` engine.
        dictionary: whose Thai words a run is split into when pythainlp leaves a compound
            the dictionary lacks (``bind`` sets it).
    """

    _required = False
    thai_repetition = True

    def __init__(self, engine: str = "newmm",
                 dictionary: BilingualDictionary | None = None) -> None:
        self._engine = engine
        self._tokenize = None
        self._loaded = False
        self._words = None          # Thai words of the bound dictionary
        self._dictionary = dictionary
        self._splits = {}           # compound -> its dictionary parts (or None)
        if self._required:
            self._tokenize = _load_thai_tokenizer(required=True)
            self._loaded = True

    def bind(self, dictionary: BilingualDictionary) -> DefaultSegmenter:
        """A segmenter that knows ``dictionary``'s Thai words (to split compounds)."""
        bound = type(self)(self._engine, dictionary)
        bound._tokenize, bound._loaded = self._tokenize, self._loaded
        return bound

    def __getstate__(self):
        # Worker processes load pythainlp themselves; the function does not pickle.
        state = dict(self.__dict__)
        state.update(_tokenize=None, _loaded=False, _words=None, _splits={})
        return state

    def split(self, text: str) -> list[str]:
        """``split_words``, with each Thai run cut into words and ``ๆ`` kept with its word."""
        pieces = split_words(text)
        if text.isascii() or not _THAI.search(text):
            return pieces
        if not self._loaded:
            self._tokenize = _load_thai_tokenizer(required=self._required)
            self._loaded = True
        thai_words = self._thai_words
        if self._tokenize is None:
            _warn_no_thai()
            if _THAI_REPEAT not in text:
                return pieces
            # Runs stay whole, but "มาก ๆ" is still one word, as "มากๆ" is: never "very ๆ".
            thai_words = _whole
        out = [pieces[0]]
        for word, sep in zip(pieces[1::2], pieces[2::2]):
            parts = thai_words(word) if _THAI.search(word) else [word]
            if (parts[0][0] == _THAI_REPEAT and len(out) > 1
                    and not out[-1].strip() and len(out[-1]) <= 1):
                # "มาก ๆ": the mark, written after a space, still repeats the word before;
                # Thai glued after the mark ("มาก ๆแล้ว") is segmented as usual.
                space = out.pop()
                out[-1] += space + parts[0]
            else:
                out.append(parts[0])
            for part in parts[1:]:
                out.append("")
                out.append(part)
            out.append(sep)
        return out

    def _thai_words(self, run):
        parts = [p for p in self._tokenize(run, engine=self._engine, keep_whitespace=True) if p]
        words = []
        for part in parts:
            if part.startswith(_THAI_REPEAT) and words:
                words[-1] += part       # ๆ stays with the word it repeats
                continue
            words.extend(self._dictionary_parts(part))
        return words

    def _dictionary_parts(self, word):
        """``word`` cut into dictionary words when it is not one itself but splits wholly
        into them (fewest parts); else ``[word]``."""
        if self._dictionary is None:
            return [word]
        if self._words is None:
            self._words = {w for w in self._dictionary.table if _THAI.search(w)}
        words = self._words
        if word in words or len(word) > 40:
            return [word]
        if word in self._splits:
            return self._splits[word] or [word]
        n = len(word)
        best = [None] * (n + 1)     # best[i]: fewest parts covering word[:i]
        best[0] = []
        for i in range(1, n + 1):
            for j in range(i):
                if best[j] is not None and word[j:i] in words:
                    if best[i] is None or len(best[j]) + 1 < len(best[i]):
                        best[i] = best[j] + [word[j:i]]
        found = best[n] if best[n] is not None and len(best[n]) > 1 else None
        if len(self._splits) < 1 << 16:
            self._splits[word] = found
        return found or [word]


def _whole(run):
    return [run]


class ThaiSegmenter(DefaultSegmenter):
    """``DefaultSegmenter`` that requires pythainlp (an error, not a warning, without it)."""

    _required = True


SEGMENTERS = {"default": DefaultSegmenter, "thai": ThaiSegmenter, "regex": RegexSegmenter}
# Segmenters that cut ASCII text with split_words and nothing else.
_WORD_REGEX_ON_ASCII = (RegexSegmenter, DefaultSegmenter, ThaiSegmenter)


def get_segmenter(segmenter: str | Segmenter | None,
                  dictionary: BilingualDictionary | None = None) -> Segmenter:
    """``None``/"default", "thai", "regex", or an object with ``split(text)`` (returning
    ``[sep, word, sep, ..., sep]``; two words may touch, and a word written between touching
    words gets spaces, see ``_pad``); bound to ``dictionary`` where the segmenter has ``bind``.

    Raises:
        UserError: an unknown name (it comes from a flag or a config).
    """
    if segmenter is None:
        segmenter = "default"
    if isinstance(segmenter, str):
        options.check("segmenter", segmenter)  # SEGMENTERS' names are the option's choices
        segmenter = SEGMENTERS[segmenter]()
    bind = getattr(segmenter, "bind", None)
    return bind(dictionary) if bind is not None and dictionary is not None else segmenter


# -- lookup table --------------------------------------------------------------------------
class _SurfaceTable(dict):
    """Surface word -> its translations with the word's case already restored, or None.

    ``draws`` looks every word up here with C-level ``map``: one dict probe instead of the
    dictionary's case policy, NFC and ``restore_case`` per word. Start-up is one C-level
    copy of the dictionary's table, whose keys are their own surface forms (lowercase, NFC);
    any other form (Title case at a sentence start, capitals, ...) is computed on first
    sight by ``__missing__`` and remembered while the table is below ``limit`` entries, so
    memory stays bounded on an endless corpus. (Filling in every key's Title form up front
    cost more than mixing a few thousand records.)
    """

    # The dictionary's phrases as the mixer matches them (_PhraseMatcher), or None: a
    # dictionary without phrases never enters phrase matching.
    phrases = None

    def __init__(self, dictionary, limit, case_policy=True, thai_repetition=False):
        super().__init__(dictionary.table)
        self._dictionary = dictionary
        self._table = dictionary.table
        self._case_policy = case_policy
        self._thai_repetition = thai_repetition
        # A key that NFC or lower() would still change (possible outside ASCII) is not its
        # own surface form: it gets whatever the dictionary says for it as a word of text.
        for key in [k for k in dictionary.table if not k.isascii()]:
            if nfc(key) != key or key.lower() != key:
                self[key] = dictionary.translations(key, case_policy)
        self._limit = max(limit, len(self) + limit // 2)

    def __missing__(self, word):
        value = self._dictionary.translations(word, self._case_policy)
        if value is None and self._thai_repetition and word[-1] == _THAI_REPEAT:
            value = self._repeated(word)
        if len(self) < self._limit:
            self[word] = value
        return value

    def _repeated(self, word):
        """``มากๆ`` / ``มาก ๆ``: an entry for the pair as usually written, else each
        translation of the word before the mark, twice. ``None`` when neither exists."""
        compact = _SPACE.sub("", word)
        if compact != word:
            value = self._dictionary.translations(compact, self._case_policy)
            if value is not None:
                return value
        match = _REPEATED.fullmatch(word)
        if match is None or not _THAI.search(base := match.group(1)):
            return None  # a mark after a newline, or after a word of another script
        found = self[base]
        if not found:
            return found
        return tuple(t + t if _SPACELESS.search(t) else f"{t} {t}" for t in found)


# -- phrases -------------------------------------------------------------------------------
_warned_unmatchable = set()


def _warn_unmatchable(dictionary, segmenter, count, example):
    key = (dictionary.path or id(dictionary), type(segmenter).__name__)
    if key not in _warned_unmatchable:
        _warned_unmatchable.add(key)
        logger.warning(
            "easylm-commit: %d phrase entr%s of %s can never match: a phrase is words with only "
            "spaces between them, as the segmenter cuts text (punctuation inside?), e.g. %r",
            count, "y" if count == 1 else "ies", dictionary.path or "the dictionary", example)


def _loose_key(word):
    """The form phrase words are compared in: NFC, lowercase, without joiners."""
    return word.lower() if word.isascii() else without_format_chars(nfc(word).lower())


class _Keys(dict):
    """Surface word -> ``_loose_key(word)``, remembered while below ``limit`` entries."""

    def __init__(self, limit):
        super().__init__()
        self._limit = limit

    def __missing__(self, word):
        key = _loose_key(word)
        if len(self) < self._limit:
            self[word] = key
        return key


def _gap_ok(separator):
    return separator == " " or _PHRASE_GAP.fullmatch(separator) is not None


class _PhraseMatcher:
    """The dictionary's phrases as the mixer's segmenter cuts them, and their matching
    (module docstring, Phrases). Built once per mixer, only for a dictionary with phrases.

    A phrase is found under the tuple of its words' ``_loose_key`` forms (an entry written
    exactly, ``dictionary.phrase_exact``, under its words as written). A text is scanned
    with one C-level set probe per pair of neighbouring words against the phrases' first two
    words; only where a pair starts some phrase does Python look further: one dict probe per
    length, from the longest phrase starting with that word down, however many phrases share
    it. An ASCII word's key is its ``lower()`` (no NFC or joiner to undo), made without
    the cache that other words go through.
    """

    def __init__(self, dictionary, segmenter, case_policy, limit):
        self._case_policy = case_policy
        plain_ascii = type(segmenter) in _WORD_REGEX_ON_ASCII
        loose, exact = {}, {}       # word keys -> translations; words as written -> ...
        first_keys = []             # the loose keys of every exact entry's form
        unmatchable, example = 0, None
        for source, translations in dictionary.phrases.items():
            if plain_ascii and source.isascii() and _ASCII_PHRASE.fullmatch(source):
                # Lowercase ASCII words between single spaces (most of a file): what
                # split_words makes of them, and their own keys, without the split.
                loose[tuple(source.split(" "))] = translations
                continue
            forms = self._forms(source, segmenter)
            if not forms:
                unmatchable += 1
                example = example or source
            for words in forms:
                _merge(loose, tuple(map(_loose_key, words)), translations)
        for source, translations in dictionary.phrase_exact.items():
            forms = self._forms(source, segmenter)
            if not forms:
                unmatchable += 1
                example = example or source
            for words in forms:
                _merge(exact, tuple(map(nfc, words)), translations)
                first_keys.append(tuple(map(_loose_key, words)))
        every = [*loose, *first_keys]
        self._loose, self._exact = loose, exact
        self._pairs = {k[:2] for k in every if len(k) > 1}
        self._singles = {k[0] for k in every if len(k) == 1}
        # First word -> the most words a phrase starting with it has (the longest is
        # assigned last).
        self._longest = {k[0]: len(k) for k in sorted(every, key=len)}
        if unmatchable:
            _warn_unmatchable(dictionary, segmenter, unmatchable, example)
        self._keys = _Keys(limit)

    @staticmethod
    def _forms(source, segmenter):
        """The word sequences ``source`` is met as: as written, and for Thai also as the
        segmenter cuts it written without spaces, the way Thai is written. Empty when no
        form has only spaces between its words."""
        spellings = [source]
        if _THAI.search(source):
            spellings.append(_THAI_SPACES.sub("", source))
        forms = []
        for spelling in spellings:
            pieces = segmenter.split(spelling)
            if pieces[0] or pieces[-1] or not all(map(_gap_ok, pieces[2:-1:2])):
                continue
            words = tuple(pieces[1::2])
            if words not in forms:
                forms.append(words)
        return forms

    def merge(self, pieces, words, hits, ascii_text=False):
        """``(pieces, words, hits, phrases)`` with every matched phrase made one word piece
        holding its text as written (its words and the spaces between), with its
        translations as the hit; ``phrases`` maps those pieces' indices to the number of
        words they cover. The arguments themselves when nothing matched."""
        keys = list(map(str.lower if ascii_text else self._keys.__getitem__, words))
        starts = list(map(self._pairs.__contains__, zip(keys, keys[1:])))
        if self._singles:
            starts.append(False)
            starts = list(map(operator.or_, starts, map(self._singles.__contains__, keys)))
        if not any(starts):
            return pieces, words, hits, None
        loose, exact, longest = self._loose, self._exact, self._longest
        shortest = 0 if self._singles else 1     # lengths tried down to (exclusive)
        n = len(words)
        matches = []
        free = 0                                  # the first word not inside a match
        for i in itertools.compress(range(n), starts):
            if i < free:
                continue
            # The words from i on with only spaces between them, up to the longest phrase.
            most = min(longest.get(keys[i], 0), n - i)
            size = 1
            while size < most and ((gap := pieces[2 * (i + size)]) == " " or _gap_ok(gap)):
                size += 1
            for size in range(size, shortest, -1):
                end = i + size
                # An entry written exactly so first: the more specific one.
                written = exact.get(tuple(map(nfc, words[i:end]))) if exact else None
                if written is None:
                    written = loose.get(tuple(keys[i:end]))
                    # Words that are their own keys are lowercase: nothing to restore.
                    if written is not None and keys[i:end] != words[i:end]:
                        span = words[i:end]
                        case = phrase_case(span)
                        if case == "mixed" and self._case_policy:
                            written = None
                        elif case != "lower":
                            joined = " ".join(span)
                            written = tuple(restore_case(joined, t) for t in written)
                if written is not None:
                    matches.append((i, size, written))
                    free = end
                    break
        if not matches:
            return pieces, words, hits, None
        out_pieces, out_hits, phrases = [], [], {}
        done = 0
        for i, size, written in matches:
            out_pieces += pieces[2 * done:2 * i + 1]
            out_hits += hits[done:i]
            phrases[len(out_pieces)] = size
            out_pieces.append("".join(pieces[2 * i + 1:2 * (i + size)]))
            out_hits.append(written)
            done = i + size
        out_pieces += pieces[2 * done:]
        out_hits += hits[done:]
        return out_pieces, out_pieces[1::2], out_hits, phrases


def _merge(table, keys, translations):
    """``table[keys]`` gains ``translations`` (two sources met as the same words)."""
    known = table.get(keys)
    table[keys] = translations if known is None else known + tuple(
        t for t in translations if t not in known)


# -- the draws -----------------------------------------------------------------------------
@dataclasses.dataclass
class Draws:
    """One text, segmented and drawn; ``CodeMixer`` writes it (``mix``, ``mix_counted``, ``mix_with_report``).

    ``pieces`` alternate separator, word, ..., separator (protected spans are inside
    separators; a matched phrase is one word piece), ``covered`` holds the piece index of
    every dictionary word, ``chosen`` the translation written for each (``None``: the draw
    kept the word).
    """
    text: str
    pieces: list[str]
    protected: list[Span]       # (start, end, kind) in ``text``
    covered: list[int]
    chosen: list[str | None]
    # Piece index of each matched phrase (one word piece, ``Phrases`` in the module
    # docstring) -> the number of words it covers.
    phrases: dict[int, int] = dataclasses.field(default_factory=dict)

    @property
    def words(self) -> int:
        """Words of the text (outside protected spans), covered or not; a phrase is one."""
        return len(self.pieces) // 2

    @property
    def replaced(self) -> int:
        """Words written differently (an identity pair's draw is not counted)."""
        return sum(c is not None and c != self.pieces[i] for i, c in zip(self.covered, self.chosen))


class CodeMixer:
    """Eq. 2-4. Stateless: ``mix(text, key)`` depends only on its arguments and the
    mixer's (dictionary, alpha, seed, segmenter, protect).

    Args:
        dictionary: a ``BilingualDictionary``.
        alpha: replacement probability in [0, 1].
        seed: mixing seed; with ``key`` it names every draw.
        segmenter: ``"default"`` (words, Thai segmented when pythainlp is installed),
            ``"thai"`` (the same, pythainlp required), ``"regex"`` (no Thai segmentation),
            or an object with ``split(text)``.
        protect: copy code, URLs, e-mails and identifiers byte for byte (``protect.py``)
            and keep acronyms and mixed-case words unless the dictionary has them as written
            (``BilingualDictionary``). ``False`` is the paper's plain word model.

    Raises:
        UserError: alpha out of range, an unknown segmenter.
    """

    # Surface forms remembered beyond the dictionary's own (see _SurfaceTable).
    SURFACE_CACHE = 1 << 17

    def __init__(self, dictionary: BilingualDictionary, alpha: float, *, seed: int = 0,
                 segmenter: str | Segmenter | None = None, protect: bool = True) -> None:
        alpha = float(alpha)
        options.check("alpha", alpha)  # for Python callers; a config or a flag was checked before
        self.dictionary = dictionary
        self.alpha = alpha
        self.seed = seed
        self.protect = bool(protect)
        self.segmenter = get_segmenter(segmenter, dictionary)

    def __getstate__(self):
        # Worker processes rebuild the surface table rather than receive it pickled.
        state = dict(self.__dict__)
        state.pop("_surface", None)
        return state

    def _surface_table(self):
        surface = self.__dict__.get("_surface")
        if surface is None or surface._table is not self.dictionary.table:
            surface = self._surface = _SurfaceTable(
                self.dictionary, self.SURFACE_CACHE, self.protect,
                getattr(self.segmenter, "thai_repetition", False))
            if self.dictionary.has_phrases:
                surface.phrases = _PhraseMatcher(self.dictionary, self.segmenter, self.protect,
                                                 self.SURFACE_CACHE)
        return surface

    # -- segmentation and draws ------------------------------------------------------------
    def segment(self, text: str) -> tuple[list[str], Sequence[Span]]:
        """``(pieces, protected)``: the word pieces of ``text`` with every protected span
        folded into the separator around it, and the spans ``(start, end, kind)``."""
        spans = protected_spans(text) if self.protect and text else ()
        split = self.segmenter.split
        if not spans:
            return split(text), ()
        pieces, pos = None, 0
        for start, end, _ in spans:
            gap = split(text[pos:start])
            if pieces is None:
                pieces = gap
            else:
                pieces[-1] += gap[0]
                pieces.extend(gap[1:])
            pieces[-1] += text[start:end]
            pos = end
        gap = split(text[pos:])
        pieces[-1] += gap[0]
        pieces.extend(gap[1:])
        return pieces, spans

    def _draw(self, text, key):
        """``(pieces, spans, hits, draws, written, phrases)``: the segmented text (each
        matched phrase one word piece), each word's translations (``None`` where not
        covered), one draw per covered word in order, every word as written -- its
        translation where the draw replaced it -- and the phrases (``Draws.phrases``, or
        ``None``). ``draws`` and ``_mixed`` both read these, so a report and a mixed text
        cannot differ."""
        pieces, spans = self.segment(text)
        words = pieces[1::2]
        surface = self._surface_table()
        hits = list(map(surface.__getitem__, words))
        phrases = None
        if surface.phrases is not None:
            pieces, words, hits, phrases = surface.phrases.merge(
                pieces, words, hits, text.isascii())
        covered = len(hits) - hits.count(None) - hits.count(())  # () covers nothing either
        if not covered or self.alpha == 0.0:
            return pieces, spans, hits, [], words, phrases
        rng = _FastRandom(derive_seed(self.seed, key)).random
        draws = list(itertools.starmap(rng, itertools.repeat((), covered)))
        draw = iter(draws).__next__
        alpha = self.alpha
        # One pass over the words: t[min(int(u / alpha * n), n - 1)] where u < alpha, with no
        # call but int() per word.
        written = [
            w if not t else w if (u := draw()) >= alpha else
            (t[0] if (n := len(t)) == 1 else t[i if (i := int(u / alpha * n)) < n else n - 1])
            for w, t in zip(words, hits)
        ]
        return pieces, spans, hits, draws, written, phrases

    def draws(self, text: str, key: object = ()) -> Draws:
        """Segment ``text`` and draw once for every covered word (module docstring).

        Args:
            text: the text to mix.
            key: names the text among all a run mixes (``derive_seed``): the same key gives
                the same draws in every process.
        """
        pieces, spans, hits, draws, written, phrases = self._draw(text, key)
        # Piece index of every covered word, and the translation written for it (None: kept).
        covered = list(itertools.compress(range(1, len(pieces), 2), hits))
        alpha = self.alpha
        if draws:
            chosen = [w if u < alpha else None for w, u in zip(itertools.compress(written, hits), draws)]
        else:
            chosen = [None] * len(covered)
        return Draws(text, pieces, list(spans), covered, chosen, phrases or {})

    def _mixed(self, text, key):
        """``(mixed text, words, replaced)`` without a ``Draws``: what ``mix`` and
        ``mix_counted`` need, from the same draws."""
        pieces, spans, hits, draws, written, _ = self._draw(text, key)
        if not any(map(self.alpha.__gt__, draws)):  # no draw below alpha: nothing written
            return text, len(hits), 0
        # Words written differently (module docstring: an identity pair's draw is not a
        # replacement). Kept words are the very same objects, which str compares at once.
        replaced = sum(map(str.__ne__, pieces[1::2], written))
        if "" in pieces[2:-1:2]:
            # Touching words (spaceless scripts): a translation may need spaces (_written).
            return "".join(self._written(self.draws(text, key))), len(hits), replaced
        pieces[1::2] = written
        return "".join(pieces), len(hits), replaced

    def _written(self, drawn):
        """The pieces with the drawn translations in place, padded where needed."""
        pieces = list(drawn.pieces)
        last = len(pieces) - 1
        for i, target in zip(drawn.covered, drawn.chosen):
            if target is None:
                continue
            if (pieces[i - 1] == "" and i > 1) or (pieces[i + 1] == "" and i + 1 < last):
                target = _pad(pieces, i, target)
            pieces[i] = target
        return pieces

    # -- the three ways to apply the draws ------------------------------------------------
    def mix(self, text: str, key: object = ()) -> str:
        """The mixed text: same (text, key) -> same output, in every process (``draws``)."""
        if self.alpha == 0.0 or not text:
            return text
        return self._mixed(text, key)[0]

    def mix_counted(self, text: str, key: object = ()) -> tuple[str, int, int]:
        """``(mixed text, words seen, words replaced)``: the training datasets' path, whose
        counts become the ``dataset_mixing_rate`` metric. Identity-pair draws are not
        replacements, and a phrase counts as one word (module docstring)."""
        if not text:
            return text, 0, 0
        if self.alpha == 0.0:
            if self.dictionary.has_phrases:
                return text, len(self._draw(text, key)[2]), 0
            return text, len(self.segment(text)[0]) // 2, 0
        return self._mixed(text, key)

    def mix_with_report(self, text: str, key: object = ()) -> MixResult:
        """The mixed text and what was done to it, for previews, stats and metrics.

        Same draws as ``mix``, so ``mix_with_report(t, k).text == mix(t, k)``.
        """
        drawn = self.draws(text, key) if text else Draws(text, [text], [], [], [])
        written = self._written(drawn)
        chosen = dict(zip(drawn.covered, drawn.chosen))
        replacements, kept, uncovered, protected = [], [], [], []
        spans = iter(drawn.protected)
        span = next(spans, None)
        in_pos = out_pos = 0
        for i, (piece, out) in enumerate(zip(drawn.pieces, written)):
            if i % 2:
                if i in chosen:
                    if chosen[i] is None:
                        kept.append((out_pos, out_pos + len(out)))
                    else:
                        replacements.append(Replacement(
                            start=in_pos, end=in_pos + len(piece), out_start=out_pos,
                            out_end=out_pos + len(out), source=piece, target=chosen[i]))
                else:
                    uncovered.append(piece)
            else:
                # Protected spans sit inside separators, which are copied unchanged.
                while span is not None and span[0] < in_pos + len(piece):
                    start, end, kind = span
                    shift = out_pos - in_pos
                    protected.append(ProtectedSpan(
                        start, end, start + shift, end + shift, kind,
                        len(split_words(text[start:end])) // 2))
                    span = next(spans, None)
            in_pos += len(piece)
            out_pos += len(out)
        return MixResult(
            text="".join(written), replacements=replacements, words=drawn.words,
            covered=len(drawn.covered), kept=kept, protected=protected, uncovered=uncovered,
            phrases=len(drawn.phrases), phrase_words=sum(drawn.phrases.values()),
        )


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


def unmix(mixed: str, replacements: Iterable[Replacement]) -> str:
    """Put the source words back: ``unmix(r.text, r.replacements)`` is the input text.

    Args:
        mixed: a ``MixResult.text``.
        replacements: its ``replacements``, in order (offsets into ``mixed``).
    """
    out, pos = [], 0
    for r in replacements:
        out.append(mixed[pos:r.out_start])
        out.append(r.source)
        pos = r.out_end
    out.append(mixed[pos:])
    return "".join(out)
