"""Dictionary files as files: reading them pair by pair, and the pure functions behind
``easylm-commit dict`` (``reverse``, ``merge``, ``check``, ``filter``).

``BilingualDictionary`` is what the mixer looks words up in: it lowercases sources, merges a
source's lines and drops repeated pairs. The tools here work on what the *file* says -- its
pairs as written, in its order, with the line numbers of its bad lines -- because that is what
they write back and what a user reads when cleaning a file. Where a number must be what mixing
sees (the coverage of a data set), the mixer itself is asked.

The file format
    Lines are read by ``dictionary.parse_line``, the loader's own rules, so ``dict check``
    calls malformed exactly the lines that mixing skips: a line with a tab is one entry
    ``source<TAB>translation`` and either side may hold spaces (a phrase: ``ice
    cream<TAB>आइसक्रीम``; runs of spaces count as one); a line without a tab is a MUSE pair,
    two whitespace-separated fields. Anything else -- one field or three, a tab line with an
    empty side or three sides -- is a malformed line: skipped and counted, or with ``strict``
    a ``UserError`` naming ``file:line``. Blank lines are layout. Written files use the MUSE
    form (``source translation``) for single words and the tab form for an entry with a space
    on either side, so that every file written here is read back as the same pairs.

Pure Python and no printing: ``commands/dictcmd.py`` renders the results, tests check them.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import os
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from easylm_commit import fileio
from easylm_commit.dictionary import (
    MUSE_HINT, BilingualDictionary, DictionaryStats, nfc, parse_line, read_error,
)
from easylm_commit.errors import UserError

Pair = tuple[str, str]

# How many examples of each finding a report keeps (the command shows fewer).
EXAMPLES = 10


# -- reading and writing ---------------------------------------------------------------------
def format_pair(source: str, translation: str) -> str:
    """One line of a written file: MUSE's ``source translation`` for two single words, the
    tab form for an entry with a space on either side (a MUSE reader would see three fields)."""
    if " " in source or " " in translation:
        return f"{source}\t{translation}\n"
    return f"{source} {translation}\n"


@dataclasses.dataclass
class DictionaryFile:
    """A dictionary file's entries as written, in file order, repeated pairs included.

    ``stats()`` has ``BilingualDictionary.stats``' form, so the commands report skipped lines
    with the one phrasing ``mix`` uses (``commands._common.warn_skipped_lines``).
    """

    path: str
    pairs: list[Pair]
    skipped_lines: int = 0
    first_skipped_line: int | None = None

    def stats(self) -> DictionaryStats:
        """Distinct pairs and sources as written (NFC), and the skipped lines."""
        pairs = len(distinct(self.pairs))
        sources = len({nfc(s) for s, _ in self.pairs})
        return DictionaryStats(pairs=pairs, sources=sources,
                               mean_translations=pairs / sources if sources else 0.0,
                               skipped_lines=self.skipped_lines,
                               first_skipped_line=self.first_skipped_line)

    def reversed(self) -> DictionaryFile:
        """The same file read target -> source."""
        return dataclasses.replace(self, pairs=reverse_pairs(self.pairs))


def read_dictionary(path: str | os.PathLike[str], *, strict: bool = False) -> DictionaryFile:
    """Every entry of a dictionary file, a local path or a URL (``fileio``), in file order.

    Malformed lines are skipped and counted (the first one's number kept); with ``strict``
    the first of them is a ``UserError`` naming ``file:line``. The errors for a file that
    cannot be read are ``BilingualDictionary.load``'s.

    Raises:
        UserError: no such file, not UTF-8, no entry at all, or (``strict``) a malformed line.
    """
    path = os.fspath(path)
    pairs: list[Pair] = []
    skipped, first = 0, None
    try:
        with fileio.open_text(path) as f:  # utf-8-sig: a BOM is dropped
            for lineno, line in enumerate(f, 1):
                try:
                    pair = parse_line(line)
                except ValueError as e:
                    if strict:
                        raise UserError(f"{path}:{lineno}: {e}: {line.strip()[:60]!r}") from None
                    skipped += 1
                    first = first or lineno
                    continue
                if pair is not None:
                    pairs.append(pair)
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError) as e:
        raise read_error(path, e) from None
    if not pairs:
        raise UserError(f"{path}: no valid 'source translation' pair found "
                        f"({skipped} lines skipped; {MUSE_HINT})")
    return DictionaryFile(path, pairs, skipped, first)


def write_pairs(out: TextIO, pairs: Iterable[Pair]) -> int:
    """Write ``pairs`` to the open text file ``out`` (``format_pair``); how many were written."""
    n = 0
    for source, translation in pairs:
        out.write(format_pair(source, translation))
        n += 1
    return n


# -- reverse and merge ------------------------------------------------------------------------
def reverse_pairs(pairs: Iterable[Pair]) -> list[Pair]:
    """Every pair swapped, in order (repeated pairs too: reversing twice gives the file back)."""
    return [(t, s) for s, t in pairs]


def _key(pair: Pair) -> Pair:
    # Two spellings of one pair (a precomposed and a decomposed letter) are one pair, as for
    # the mixer, which compares in NFC.
    return nfc(pair[0]), nfc(pair[1])


def distinct(pairs: Iterable[Pair]) -> list[Pair]:
    """``pairs`` without repeats (compared in NFC), in first-seen order, as first written."""
    seen: set[Pair] = set()
    out = []
    for pair in pairs:
        key = _key(pair)
        if key not in seen:
            seen.add(key)
            out.append(pair)
    return out


@dataclasses.dataclass(frozen=True)
class Conflict:
    """A source that the merged files translate differently: each file's translations of it
    (files that lack the source are not listed)."""
    source: str
    translations: tuple[tuple[str, tuple[str, ...]], ...]  # (path, translations in file order)


@dataclasses.dataclass
class MergeResult:
    pairs: list[Pair]          # the union, first-seen order, no repeated pair
    read: int                  # pairs read from all files, repeats included
    conflicts: list[Conflict]  # in the order of the sources' first appearance


def merge(files: Sequence[DictionaryFile]) -> MergeResult:
    """The union of the files' pairs in first-seen order, each pair once.

    A *conflict* is a source that two or more of the files hold with different sets of
    translations (compared in NFC, order aside). The union keeps every translation of every
    file; a conflict says that the merged file gives that source translations some file did
    not, so the draws for the word change -- worth a look when the files are of unequal
    quality. A source only one file holds, or one the files translate alike, is no conflict.
    """
    per_file: dict[str, list[tuple[str, dict[str, None]]]] = {}
    for f in files:
        mine: dict[str, dict[str, None]] = {}
        for source, translation in f.pairs:
            mine.setdefault(nfc(source), {}).setdefault(nfc(translation), None)
        for source, translations in mine.items():
            per_file.setdefault(source, []).append((f.path, translations))
    conflicts = []
    for source, held in per_file.items():
        if len(held) > 1 and len({frozenset(t) for _, t in held}) > 1:
            conflicts.append(Conflict(source, tuple((path, tuple(t)) for path, t in held)))
    every = [pair for f in files for pair in f.pairs]
    return MergeResult(distinct(every), len(every), conflicts)


# -- scripts ---------------------------------------------------------------------------------
# Python's unicodedata has no Script property (fontTools has it, but is no dependency of the
# core). The first word of a letter's Unicode name is its script for the scripts
# dictionaries are written in (LATIN, DEVANAGARI, GREEK, THAI, TAMIL, BENGALI, CYRILLIC,
# ARABIC, HANGUL, ...); only equality of scripts matters here, and the name is shown as read.
# Japanese writes one word in kanji and kana together, so CJK ideographs and both kanas are
# one script, "Han"; a width variant (FULLWIDTH LATIN ...) is its base script.
_SCRIPT_ALIASES = {"CJK": "Han", "HIRAGANA": "Han", "KATAKANA": "Han", "KATAKANA-HIRAGANA": "Han"}
_WIDTH = {"FULLWIDTH", "HALFWIDTH"}
_TWO_WORD = {"OLD", "NEW", "TAI", "CANADIAN", "MEETEI", "OL"}  # OLD ITALIC, TAI THAM, ...
# Modifier letters (MODIFIER LETTER APOSTROPHE, ...) are shared by scripts, like digits.
_NO_SCRIPT = {"MODIFIER", "SUPERSCRIPT", "SUBSCRIPT"}


@functools.lru_cache(maxsize=None)
def char_script(ch: str) -> str | None:
    """The script of a letter (``Devanagari``, ``Latin``, ``Han``), or ``None`` for a
    character that is no letter (digits, marks, punctuation belong to every script)."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    words = unicodedata.name(ch, "").split(" ")
    if words[0] in _WIDTH:
        words = words[1:]
    if not words or not words[0] or words[0] in _NO_SCRIPT:
        return None
    if words[0] in _SCRIPT_ALIASES:
        return _SCRIPT_ALIASES[words[0]]
    name = " ".join(words[:2]) if words[0] in _TWO_WORD and len(words) > 1 else words[0]
    return name.title()


def text_script(text: str) -> str | None:
    """The most common script among the letters of ``text`` (the first on a tie), or
    ``None`` when it has no letter (``1``, ``%``)."""
    if text.isascii():  # the common case, and a loop of lookups saved
        return "Latin" if any(c.isalpha() for c in text) else None
    found = [s for s in map(char_script, text) if s is not None]
    if not found:
        return None
    if found.count(found[0]) == len(found):  # one script, as nearly every word: no Counter
        return found[0]
    return collections.Counter(found).most_common(1)[0][0]


def translation_scripts(pairs: Iterable[Pair]) -> collections.Counter:
    """Script -> number of pairs whose translation is written in it (letterless ones apart)."""
    return collections.Counter(s for s in (text_script(t) for _, t in pairs) if s is not None)


def main_script(pairs: Sequence[Pair], script: str | None = None, path: str = "") -> str | None:
    """The target's main script: ``script`` as given (any case), else the most common script
    of the translations -- a dictionary's target side is in one script, and what is not (a
    Latin ``ok`` among Hindi words, MUSE's ``paris paris``) is the exception to find.

    Raises:
        UserError: ``script`` is the script of no translation (a misspelt name).
    """
    return _choose(translation_scripts(pairs), script, path)


def _choose(scripts: collections.Counter, script: str | None, path: str) -> str | None:
    if script is None:
        return scripts.most_common(1)[0][0] if scripts else None
    for name in scripts:
        if name.casefold() == script.casefold():
            return name
    seen = ", ".join(f"{name} ({n})" for name, n in scripts.most_common(5)) or "none"
    raise UserError(f"--script {script}: no translation of {path or 'the dictionary'} is in this "
                    f"script; the translations' scripts: {seen}")


# -- what a pair is -------------------------------------------------------------------------
def is_identical(pair: Pair) -> bool:
    """An ``x x`` pair: both sides the same word, ignoring case (in NFC), as the mixer's
    ``drop_identical`` sees it. It changes no word when drawn."""
    return nfc(pair[0]).lower() == nfc(pair[1]).lower()


def is_multiword(pair: Pair) -> bool:
    """An entry with a space on either side (a phrase)."""
    return " " in pair[0] or " " in pair[1]


def is_other_script(pair: Pair, script: str | None) -> bool:
    """The translation has letters, and they are mostly not in ``script``."""
    return _other(text_script(pair[1]), script)


def _other(found: str | None, script: str | None) -> bool:
    return script is not None and found is not None and found != script


def translation_counts(pairs: Iterable[Pair]) -> dict[str, int]:
    """Source (NFC, as written) -> its distinct translations, in first-seen order."""
    per_source: dict[str, set[str]] = {}
    for source, translation in pairs:
        per_source.setdefault(nfc(source), set()).add(nfc(translation))
    return {s: len(t) for s, t in per_source.items()}


# -- check ----------------------------------------------------------------------------------
@dataclasses.dataclass
class CheckReport:
    """What ``dict check`` finds in a file. Counts are over the distinct pairs as written
    (a repeated line counts once); the lists keep the first ``EXAMPLES`` in file order."""

    path: str
    entries: int                 # pair lines read, repeats included
    pairs: int                   # distinct pairs
    sources: int                 # distinct sources
    skipped_lines: int
    first_skipped_line: int | None
    identical: int
    multiword: int
    main_script: str | None
    scripts: dict[str, int]      # script -> pairs whose translation is in it, most first
    other_script: int
    many_threshold: int          # "many" translations: more than this
    many_translations: int       # sources with more than ``many_threshold`` translations
    top_translations: list[tuple[str, int]]  # the sources with the most, most first
    examples: dict[str, list[Pair]]

    def as_dict(self) -> dict:
        """The report for JSON (``dict check --json``)."""
        out = dataclasses.asdict(self)
        out["dictionary"] = out.pop("path")  # as ``stats --json`` names it
        out["mean_translations"] = self.pairs / self.sources if self.sources else 0.0
        out["top_translations"] = [list(t) for t in self.top_translations]
        out["examples"] = {k: [list(p) for p in v] for k, v in self.examples.items()}
        return out


def check(file: DictionaryFile, *, many: int = 5, script: str | None = None) -> CheckReport:
    """Check a dictionary file (``CheckReport``).

    Args:
        file: the file, read by ``read_dictionary`` (reversed first for the other direction).
        many: a source with more than this many translations is listed as having many.
        script: the target's main script; default the most common among the translations.
    """
    pairs = distinct(file.pairs)
    written_in = [text_script(t) for _, t in pairs]  # once a pair: the costly part
    scripts = collections.Counter(s for s in written_in if s is not None)
    target = _choose(scripts, script, file.path)
    found: dict[str, list[Pair]] = {"identical": [], "multiword": [], "other_script": []}
    counts = dict.fromkeys(found, 0)
    tests: dict[str, Callable[[Pair, str | None], bool]] = {
        "identical": lambda p, _: is_identical(p), "multiword": lambda p, _: is_multiword(p),
        "other_script": lambda _, s: _other(s, target),
    }
    for pair, written in zip(pairs, written_in):
        for name, test in tests.items():
            if test(pair, written):
                counts[name] += 1
                if len(found[name]) < EXAMPLES:
                    found[name].append(pair)
    per_source = translation_counts(pairs)
    # sorted() is stable: among equal counts, the source met first comes first.
    most = sorted(per_source.items(), key=lambda kv: -kv[1])
    return CheckReport(
        path=file.path, entries=len(file.pairs), pairs=len(pairs), sources=len(per_source),
        skipped_lines=file.skipped_lines, first_skipped_line=file.first_skipped_line,
        identical=counts["identical"], multiword=counts["multiword"], main_script=target,
        scripts=dict(scripts.most_common()), other_script=counts["other_script"],
        many_threshold=many, many_translations=sum(1 for n in per_source.values() if n > many),
        top_translations=[kv for kv in most[:EXAMPLES] if kv[1] > many],
        examples=found,
    )


# -- coverage of a data set ------------------------------------------------------------------
@dataclasses.dataclass
class DataCoverage:
    """The words of a data set that the dictionary holds, as the mixer segments and looks them
    up (same segmenter, protected spans and case policy): "covered" here is "could be
    replaced" when mixing. Missing words are counted lowercased."""

    records: int = 0
    words: int = 0
    covered: int = 0
    missing: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def coverage(self) -> float:
        return self.covered / self.words if self.words else 0.0

    def as_dict(self, top: int = 20) -> dict:
        return {"records": self.records, "words": self.words, "covered": self.covered,
                "coverage": self.coverage, "distinct_missing": len(self.missing),
                "top_missing": [[w, n] for w, n in self.missing.most_common(top)]}


def data_coverage(dictionary: BilingualDictionary, texts: Iterable[Sequence[str]], *,
                  segmenter: str | None = None, protect: bool = True) -> DataCoverage:
    """Coverage of ``texts`` (one sequence of field texts per record) by ``dictionary``.

    The mixer at alpha 0 reports every text's words, covered ones and the others
    (``CodeMixer.mix_with_report``): no second word model to drift from the one that mixes.
    """
    from easylm_commit.mixer import CodeMixer

    mixer = CodeMixer(dictionary, 0.0, segmenter=segmenter, protect=protect)
    result = DataCoverage()
    for fields in texts:
        result.records += 1
        for text in fields:
            if not text:
                continue
            report = mixer.mix_with_report(text)
            result.words += report.words
            result.covered += report.covered
            result.missing.update(w.lower() for w in report.uncovered)
    return result


# -- filter ---------------------------------------------------------------------------------
@dataclasses.dataclass
class FilterResult:
    pairs: list[Pair]        # kept, in file order
    dropped: dict[str, int]  # rule -> pairs it dropped (each pair counted by the first rule)
    script: str | None       # the main script --drop-other-script kept


def filter_pairs(pairs: Sequence[Pair], *, drop_identical: bool = False,
                 drop_other_script: bool = False, max_translations: int | None = None,
                 script: str | None = None, path: str = "") -> FilterResult:
    """The cleaning a user would otherwise script by hand, rule by rule in this order:

    - ``drop_identical``: ``x x`` pairs (``is_identical``);
    - ``drop_other_script``: translations not in the target's main script (``script``, or
      the most common script among the translations, decided before any pair is dropped);
    - ``max_translations``: at most N distinct translations per source, the first N in file
      order among the pairs the rules above kept; the rest are dropped. The first are kept
      rather than the whole source dropped: a source with many translations is usually a
      common word, which a dictionary should still cover.

    Repeated lines of a kept pair are kept, as written: filtering removes what a rule names.
    """
    target = main_script(pairs, script, path) if drop_other_script else None
    dropped = {"identical": 0, "other_script": 0, "max_translations": 0}
    kept: list[Pair] = []
    per_source: dict[str, set[str]] = {}
    for pair in pairs:
        if drop_identical and is_identical(pair):
            dropped["identical"] += 1
            continue
        if drop_other_script and is_other_script(pair, target):
            dropped["other_script"] += 1
            continue
        if max_translations is not None:
            seen = per_source.setdefault(nfc(pair[0]), set())
            translation = nfc(pair[1])
            if translation not in seen:
                if len(seen) >= max_translations:
                    dropped["max_translations"] += 1
                    continue
                seen.add(translation)
        kept.append(pair)
    return FilterResult(kept, dropped, target)
