"""Bilingual dictionaries in MUSE format: D = {(w, t)}.

MUSE (https://github.com/facebookresearch/MUSE#ground-truth-bilingual-dictionaries) ships one
pair per line, ``source translation``, separated by whitespace; a source with several
translations appears on several lines. Entries are lowercase, so lookup is case-insensitive
and the source word's case pattern is put back on the translation (``The`` -> ``Ο``).

Phrases: a line with a tab is ``source<TAB>translation``, and either side may hold spaces
(``ice cream<TAB>आइसक्रीम``, ``New York<TAB>न्यूयॉर्क``). A source of several words is a
*phrase*, which the mixer matches over the words of the text (``mixer.py``). A tab line
whose two sides are single words is the pair it always was (MUSE files come with either
separator); a run of tabs is one separator and tabs at the ends of a line are layout;
inside a side a whitespace run is one space. A tab line with an empty side
(``ice cream<TAB>``) or with more than two sides is malformed, like any other bad line.

The alignment phase (Eq. 6) mixes a target-language corpus *into English* with the same
en-xx file, so a dictionary can be loaded reversed.
"""

from __future__ import annotations

import dataclasses
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from easylm_commit import fileio
from easylm_commit.errors import UserError

MUSE_HINT = (
    "MUSE dictionaries (e.g. en-hi.txt) are at "
    "https://github.com/facebookresearch/MUSE#ground-truth-bilingual-dictionaries"
)


# A source word's translations, distinct, in file order (the mixer picks among them by index).
Translations = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class DictionaryStats:
    """What ``BilingualDictionary.stats`` reports (``stats --json`` prints it as it is)."""
    pairs: int
    sources: int                           # phrases included
    mean_translations: float
    skipped_lines: int                     # lines that are not one pair (blank lines do not count)
    first_skipped_line: int | None = None  # 1-based number of the first of them
    phrases: int = 0                       # sources of several words

    def as_dict(self) -> dict[str, int | float | None]:
        """The fields by name, for JSON."""
        return dataclasses.asdict(self)


def nfc(text: str) -> str:
    """Unicode NFC, skipped for ASCII (the common case). Dictionary and text are compared in
    this one form: a precomposed nukta letter (U+0958) and its decomposed spelling
    (U+0915 U+093C) are then the same word. Text that is not replaced is copied as it came."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_FORMAT_CHARS = {ord(c): None for c in ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff")}


def without_format_chars(word: str) -> str:
    """``word`` without zero-width (non-)joiners and other invisible format characters: a
    second key, for a text and a dictionary that disagree only on a joiner."""
    return word.translate(_FORMAT_CHARS)


def strip_tonos(text: str) -> str:
    """Greek without the acute accent (tonos/oxia): capitals are written without it."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", decomposed.replace("\u0301", "").replace("\u0344", "\u0308"))


_GREEK = frozenset(chr(c) for c in range(0x0370, 0x0400)) | frozenset(chr(c) for c in range(0x1F00, 0x2000))


def _has_greek(text: str) -> bool:
    return not text.isascii() and not _GREEK.isdisjoint(text)


def is_acronym(word: str) -> bool:
    """All capitals, two or three letters (``WHO``, ``US``, ``IT``, ``AI``, ``B2B``). One
    capital letter is a word (``I``, ``A``); four or more are emphasis or a heading."""
    return word.isupper() and 2 <= sum(c.isalpha() for c in word) <= 3


def restore_case(source: str, translation: str) -> str:
    """Put the case pattern of ``source`` on ``translation``.

    Only Title and UPPER are restored: they are what sentence starts and headings produce.
    Scripts without case (Devanagari, Thai) come back unchanged because ``upper()`` and
    ``capitalize()`` are identities there. Greek written in capitals drops the tonos, as
    Greek typography does (``δρόμος`` -> ``ΔΡΟΜΟΣ``).
    """
    if not source[:1].isupper():
        return translation
    if len(source) > 1 and source.isupper():
        upper = translation.upper()
        return strip_tonos(upper) if _has_greek(upper) else upper
    # Title: only the first character, so "iPhone"-like translations keep their inner case.
    return translation[:1].upper() + translation[1:]


def _lowercase_ascii(words: list[str]) -> bool:
    joined = "\n".join(words)
    return joined.isascii() and joined == joined.lower()


def _is_title(word: str) -> bool:
    return word[:1].isupper() and word[1:] == word[1:].lower()


def phrase_case(words: Sequence[str]) -> str:
    """The case pattern of a phrase's words, read as the single-word case policy reads a
    word: ``lower`` (caseless scripts too); ``title``, every word lowercase or Title ("New
    York", or "Ice cream" at a sentence start); ``upper``, capitals of more than three
    letters in all (a heading); ``mixed``, anything else ("US army", "iPhone case"), which
    only an entry written exactly so matches."""
    joined = " ".join(words)
    if joined == joined.lower():
        return "lower"
    if joined.isupper():
        # As for one word, two or three capitals in all ("US UN") read as acronyms.
        return "upper" if sum(c.isalpha() for c in joined) > 3 else "mixed"
    if all(w == w.lower() or _is_title(w) for w in words):
        return "title"
    return "mixed"


def _phrase_source(source: str) -> str | None:
    """``source`` with each whitespace run made one space when it holds several words, else
    ``None``: a single word is kept exactly as given, as it always was."""
    if " " not in source and "\t" not in source:
        return None
    words = source.split()
    return " ".join(words) if len(words) > 1 else None


def _tab_pair(line: str) -> tuple[str, str] | str:
    """A tab line's ``(source, translation)``, each side's whitespace runs made one space,
    or what is wrong with the line."""
    source, _, target = line.partition("\t")
    if "\t" not in target:     # one tab: the usual phrase line
        source, target = " ".join(source.split()), " ".join(target.split())
        if source and target:
            return source, target
    sides = [" ".join(side.split()) for side in line.split("\t")]
    filled = [side for side in sides if side]
    if len(filled) == 2:
        return filled[0], filled[1]
    if len(filled) < 2:
        return "a side of the tab is empty, expected 'source<TAB>translation'"
    return f"expected one 'source<TAB>translation' pair, got {len(filled)} tab-separated sides"


def read_error(path: str, e: OSError | UnicodeDecodeError) -> UserError:
    """The one line for a dictionary file that cannot be read (the loader's and ``dict``'s)."""
    if isinstance(e, FileNotFoundError):
        return UserError(f"{path}: dictionary file not found ({MUSE_HINT})")
    if isinstance(e, IsADirectoryError):
        return UserError(f"{path}: is a directory, expected a dictionary file")
    return UserError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})")


def parse_line(line: str) -> tuple[str, str] | None:
    """One line of a dictionary file as ``BilingualDictionary.load`` reads it: a MUSE pair
    (``source translation``, space or tab), a tab line ``source phrase<TAB>translation``
    (whitespace runs made one space), or ``None`` for a blank line. ``load`` applies the same
    rules inline, for speed (``tests/test_dictionary.py`` holds the two to the same answers);
    ``easylm-commit dict`` reads files line by line with this.

    Raises:
        ValueError: a malformed line; the message says what was expected.
    """
    fields = line.split()
    if len(fields) == 2 and ("\t" not in line or "\t" in line.strip()):
        return fields[0], fields[1]
    if "\t" in line and fields:
        pair = _tab_pair(line)
        if isinstance(pair, tuple):
            return pair
        raise ValueError(pair)
    if fields:
        raise ValueError(f"expected one 'source translation' pair, got {len(fields)} field(s)")
    return None


class BilingualDictionary:
    """Word -> translations, with the case policy of the mixer.

    ``table`` maps a lowercased (NFC) source word to a tuple of distinct translations in file
    order (order matters: the mixer picks among them by index, and a stable order keeps
    mixing reproducible). Sources written in lowercase or Title case go there; sources with
    any other case pattern (``US``, ``WHO``, ``iPhone``) go to ``exact`` as written, and
    only that exact spelling finds them.

    How a word of text is looked up (``lookup``, ``translations``):

    - lowercase, caseless scripts, or Title case (a sentence start): ``table``, ignoring case;
    - all capitals of 2-3 letters is an acronym (``WHO``, ``US``, ``IT``): ``exact`` only, so
      "the WHO" never becomes "the who" in another language;
    - longer capitals (emphasis, headings: ``WATER``): ``table``, ignoring case; Greek
      capitals, written without tonos, also meet their accented lowercase entry;
    - any other mix of cases (``iPhone``, ``McDonald``, ``camelCase``): ``exact`` only.

    Text and entries are compared in NFC, and a word that differs from an entry only by a
    zero-width (non-)joiner is the same word.

    Phrases (sources of several words) are kept apart: ``phrases`` maps a lowercase NFC
    phrase (words joined by one space) to its translations, for sources whose words are
    each lowercase or Title; ``phrase_exact`` the others, as written. The mixer matches them
    over the words of a text (``mixer.py``); ``lookup("ice cream")`` reads them too, with the
    case policy of ``phrase_case``.

    Build one with ``load`` (a MUSE file) or ``from_pairs``; the constructor takes tables
    already in this form.

    Args:
        table: lowercase NFC source -> translations.
        pairs: the number of distinct pairs, when the caller counted them while building
            ``table`` (else counted here).
        skipped_lines: lines of the file that were not one pair.
        path: the file it was read from (named in messages and in ``repr``).
        exact: source as written -> translations, for sources of any other case pattern.
        first_skipped_line: 1-based number of the first skipped line.
        phrases: lowercase NFC phrase -> translations.
        phrase_exact: phrase as written (NFC, one space between words) -> translations.
    """

    table: dict[str, Translations]
    exact: dict[str, Translations]
    phrases: dict[str, Translations]
    phrase_exact: dict[str, Translations]
    path: str | None

    def __init__(self, table: Mapping[str, Translations], *, pairs: int | None = None,
                 skipped_lines: int = 0, path: str | None = None,
                 exact: Mapping[str, Translations] | None = None,
                 first_skipped_line: int | None = None,
                 phrases: Mapping[str, Translations] | None = None,
                 phrase_exact: Mapping[str, Translations] | None = None) -> None:
        self.table = dict(table)
        self.exact = dict(exact or {})
        self.phrases = dict(phrases or {})
        self.phrase_exact = dict(phrase_exact or {})
        self.path = path
        self._pairs = (sum(len(t) for d in self._tables() for t in d.values())
                       if pairs is None else pairs)
        self._skipped = skipped_lines
        self._first_skipped = first_skipped_line
        self._loose = self._folded = None

    def _tables(self):
        return self.table, self.exact, self.phrases, self.phrase_exact

    @property
    def has_phrases(self) -> bool:
        """Whether any source has several words (the mixer then matches phrases)."""
        return bool(self.phrases or self.phrase_exact)

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], *, reverse: bool = False,
                   keep_identical: bool = True, skipped_lines: int = 0, path: str | None = None,
                   first_skipped_line: int | None = None) -> BilingualDictionary:
        """A dictionary of ``(source, translation)`` pairs, in order; a repeated pair counts once.

        A source with whitespace inside is a phrase (its whitespace runs made one space).

        Args:
            pairs: ``(source, translation)`` as a MUSE file has them.
            reverse: swap each pair: an en-xx file read as xx -> en (the alignment phase).
            keep_identical: keep pairs whose two sides are the same word (``1 1``). They
                change no word, but their draws keep every other word's draws as they are.
            skipped_lines, path, first_skipped_line: carried into ``stats()`` and messages
                (``load`` passes them).
        """
        table, exact, phrases, phrase_exact = {}, {}, {}, {}
        count = 0
        for source, target in pairs:
            if reverse:
                source, target = target, source
            source = nfc(source)
            phrase = _phrase_source(source)
            if phrase is not None:
                source = phrase
            if not keep_identical and source.lower() == nfc(target).lower():
                continue
            lowered = source.lower()
            if phrase is not None:
                if phrase_case(source.split()) in ("lower", "title"):
                    into, key = phrases, lowered
                else:
                    into, key = phrase_exact, source
            elif source == lowered or _is_title(source):
                into, key = table, lowered
            else:
                into, key = exact, source
            # Tuples grown in place of lists: no list per source word to convert at the end.
            translations = into.get(key, ())
            if target not in translations:
                into[key] = translations + (target,)
                count += 1
        return cls(table, pairs=count, skipped_lines=skipped_lines, path=path, exact=exact,
                   first_skipped_line=first_skipped_line, phrases=phrases,
                   phrase_exact=phrase_exact)

    @classmethod
    def _from_lowercase_ascii(cls, sources: list[str], targets: list[str], skipped: int,
                              path: str, first_skipped: int | None,
                              phrases: bool = False) -> BilingualDictionary:
        """``from_pairs`` where every source is lowercase ASCII (an en-xx file read forward):
        every source is its own NFC and lowercase form, so it is its ``table`` key as it is;
        with ``phrases``, a source with a space (one, as ``load`` leaves it) is a phrase key."""
        table = {}
        get = table.get
        count = 0
        if not phrases:
            for source, target in zip(sources, targets):
                translations = get(source, ())
                if target not in translations:
                    table[source] = translations + (target,)
                    count += 1
            return cls(table, pairs=count, skipped_lines=skipped, path=path,
                       first_skipped_line=first_skipped)
        multiword, later = {}, []
        for source, target in zip(sources, targets):
            if " " in source:
                later.append((source, target))   # a table of its own: order kept within it
                continue
            translations = get(source, ())
            if target not in translations:
                table[source] = translations + (target,)
                count += 1
        for source, target in later:
            translations = multiword.get(source, ())
            if target not in translations:
                multiword[source] = translations + (target,)
                count += 1
        return cls(table, pairs=count, skipped_lines=skipped, path=path,
                   first_skipped_line=first_skipped, phrases=multiword)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, reverse: bool = False,
             keep_identical: bool = True, strict: bool = False) -> BilingualDictionary:
        """Read a MUSE file, with phrase lines (module docstring). Lines that are not
        exactly one pair are skipped and counted
        (``stats().skipped_lines``, ``first_skipped_line``); with ``strict`` the first of them
        is a ``UserError`` naming ``file:line``. Blank lines are layout, not bad lines.

        ``utf-8-sig`` drops a BOM; universal newlines drop CR of CRLF files.

        Args:
            path: a local path or a URL (``gs://``, ``s3://``, ...; see ``fileio``).
            reverse, keep_identical: as in ``from_pairs``.
            strict: stop at the first line that is not one pair, rather than skip it.

        Raises:
            UserError: no such file, not UTF-8, no pair at all, or (``strict``) a bad line.
        """
        path = os.fspath(path)
        # One flat list (source, target, source, ...) rather than a list per pair: 100K
        # lists kept alive set off Python's cyclic garbage collector over the whole heap,
        # which in a training process (JAX, transformers) cost more than reading the file.
        words = []
        extend = words.extend
        skipped = 0
        first_skipped = None
        multiword = False   # a source with a space: a phrase
        try:
            with fileio.open_text(path) as f:  # a local path or a URL (gs://, s3://, ...)
                for lineno, line in enumerate(f, 1):
                    fields = line.split()
                    # Two fields are a MUSE pair, unless a tab only at an end of the line
                    # leaves a side empty ("ice cream<TAB>"): that line is malformed.
                    if len(fields) == 2 and ("\t" not in line or "\t" in line.strip()):
                        extend(fields)
                        continue
                    if "\t" in line and fields:
                        pair = _tab_pair(line)
                        if isinstance(pair, tuple):
                            extend(pair)
                            multiword = multiword or " " in pair[0]
                            continue
                        problem = pair
                    elif fields:
                        problem = (f"expected one 'source translation' pair, "
                                   f"got {len(fields)} field(s)")
                    else:
                        continue
                    if strict:
                        raise UserError(f"{path}:{lineno}: {problem}: {line.strip()[:60]!r}")
                    skipped += 1
                    first_skipped = first_skipped or lineno
        except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError) as e:
            raise read_error(path, e) from None
        sources, targets = words[0::2], words[1::2]
        if not reverse and keep_identical and _lowercase_ascii(sources):
            dictionary = cls._from_lowercase_ascii(sources, targets, skipped, path, first_skipped,
                                                   phrases=multiword)
        else:
            dictionary = cls.from_pairs(
                zip(sources, targets), reverse=reverse, keep_identical=keep_identical,
                skipped_lines=skipped, path=path, first_skipped_line=first_skipped,
            )
        if not len(dictionary):
            raise UserError(
                f"{path}: no valid 'source translation' pair found "
                f"({skipped} lines skipped; {MUSE_HINT})"
            )
        return dictionary

    def reversed(self, *, keep_identical: bool = True) -> BilingualDictionary:
        """The same pairs read the other way (translation -> source)."""
        pairs = [(s, t) for table in self._tables() for s, ts in table.items() for t in ts]
        return type(self).from_pairs(pairs, reverse=True, keep_identical=keep_identical, path=self.path)

    # -- lookup -------------------------------------------------------------------------
    def _case_insensitive(self, lowered: str) -> Translations | None:
        found = self.table.get(lowered)
        if found is not None:
            return found
        # ASCII holds no format character: it is its own loose form.
        loose = lowered if lowered.isascii() else without_format_chars(lowered)
        if loose != lowered:
            found = self.table.get(loose)
            if found is not None:
                return found
        if self._loose is None:
            self._loose = {}
            for key, translations in self.table.items():
                if key.isascii():
                    continue
                bare = without_format_chars(key)
                if bare != key:
                    self._loose.setdefault(bare, translations)
        return self._loose.get(loose) if self._loose else None

    def _greek_capitals(self, lowered: str) -> Translations | None:
        if self._folded is None:
            self._folded = {}
            for key, translations in self.table.items():
                if _has_greek(key):
                    self._folded.setdefault(strip_tonos(key), translations)
        return self._folded.get(strip_tonos(lowered))

    def lookup(self, word: str, case_policy: bool = True) -> Translations | None:
        """Translations of ``word`` as written in the file, under the case policy (class
        docstring), or ``None`` if the word is not covered.

        Args:
            word: a word of text, as written.
            case_policy: ``False`` matches every word ignoring case (see ``translations``).
        """
        found, _ = self._find(word, case_policy)
        return found

    def translations(self, word: str, case_policy: bool = True) -> Translations | None:
        """What the mixer may write for ``word``: its translations with the word's case
        pattern put back (``restore_case``), or ``None``.

        ``case_policy=False`` is the paper's plain lookup: every word, acronyms and mixed
        case included, matches its entry ignoring case (``protect=False`` in the mixer).
        """
        found, restore = self._find(word, case_policy)
        if found is None or not restore or not word[:1].isupper():
            return found  # restore_case would give every translation back unchanged
        if len(word) > 1 and word.isupper():
            return tuple(restore_case(word, t) for t in found)
        # Title case (a sentence start), restore_case's last rule, without a call per
        # translation: the mixer asks this for every new word form it meets.
        return tuple([t[:1].upper() + t[1:] for t in found])

    def _find(self, word: str, case_policy: bool = True) -> tuple[Translations | None, bool]:
        """(translations, whether to restore case) for a surface word."""
        word = nfc(word)
        if self.phrases or self.phrase_exact:
            phrase = _phrase_source(word)
            if phrase is not None:
                return self._find_phrase(phrase, case_policy)
        lowered = word.lower()
        if word == lowered:
            return self._case_insensitive(lowered), False
        if not case_policy:
            found = self.exact.get(word)
            if found is not None:
                return found, False
            found = self._case_insensitive(lowered)
            if found is None and word.isupper() and _has_greek(word):
                found = self._greek_capitals(lowered)
            return found, True
        if word.isupper():
            if is_acronym(word):
                return self.exact.get(word), False
            found = self._case_insensitive(lowered)
            if found is None and _has_greek(word):
                found = self._greek_capitals(lowered)
            return found, True
        if _is_title(word):
            return self._case_insensitive(lowered), True
        return self.exact.get(word), False

    def _find_phrase(self, phrase: str, case_policy: bool) -> tuple[Translations | None, bool]:
        """``_find`` for words joined by single spaces (the mixer matches phrases itself,
        over its segmentation: ``mixer._PhraseMatcher``)."""
        found = self.phrase_exact.get(phrase)
        if found is not None:
            return found, False
        case = phrase_case(phrase.split(" "))
        if case == "mixed" and case_policy:
            return None, False
        lowered = phrase.lower()
        found = self.phrases.get(lowered)
        if found is None and not lowered.isascii():
            found = self.phrases.get(without_format_chars(lowered))
        return found, found is not None and case != "lower"

    def __contains__(self, word: str) -> bool:
        return self.lookup(word) is not None

    def __len__(self) -> int:
        return sum(map(len, self._tables()))

    def stats(self) -> DictionaryStats:
        """Pairs, sources, phrases and skipped lines: what a user checks before trusting a file."""
        sources = len(self)
        return DictionaryStats(
            pairs=self._pairs,
            sources=sources,
            mean_translations=(self._pairs / sources) if sources else 0.0,
            skipped_lines=self._skipped,
            first_skipped_line=self._first_skipped,
            phrases=len(self.phrases) + len(self.phrase_exact),
        )

    def __repr__(self) -> str:
        s = self.stats()
        return f"BilingualDictionary({self.path or '<memory>'}: {s.pairs} pairs, {s.sources} sources)"
