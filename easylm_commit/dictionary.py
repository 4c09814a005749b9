"""Bilingual dictionaries in MUSE format: D = {(w, t)}.

MUSE (https://github.com/facebookresearch/MUSE#ground-truth-bilingual-dictionaries) ships one
pair per line, ``source translation``, separated by whitespace; a source with several
translations appears on several lines. Entries are lowercase, so lookup is case-insensitive
and the source word's case pattern is put back on the translation (``The`` -> ``Ο``).

The alignment phase (Eq. 6) mixes a target-language corpus *into English* with the same
en-xx file, so a dictionary can be loaded reversed.
"""

import dataclasses
import os

from easylm_commit.errors import UserError

MUSE_HINT = (
    "MUSE dictionaries (e.g. en-hi.txt) are at "
    "https://github.com/facebookresearch/MUSE#ground-truth-bilingual-dictionaries"
)


@dataclasses.dataclass(frozen=True)
class DictionaryStats:
    pairs: int
    sources: int
    mean_translations: float
    skipped_lines: int              # lines that are not one pair (blank lines do not count)
    first_skipped_line: int = None  # 1-based number of the first of them

    def as_dict(self):
        return dataclasses.asdict(self)


def restore_case(source, translation):
    """Put the case pattern of ``source`` on ``translation``.

    Only Title and UPPER are restored: they are what sentence starts and acronyms produce.
    Scripts without case (Devanagari, Thai) come back unchanged because ``upper()`` and
    ``capitalize()`` are identities there.
    """
    if not source[:1].isupper():
        return translation
    if len(source) > 1 and source.isupper():
        return translation.upper()
    # Title: only the first character, so "iPhone"-like translations keep their inner case.
    return translation[:1].upper() + translation[1:]


class BilingualDictionary:
    """Word -> translations, with case-insensitive lookup.

    ``table`` maps a lowercased source word to a tuple of distinct translations in file
    order (order matters: the mixer picks among them by index, and a stable order keeps
    mixing reproducible).
    """

    def __init__(self, table, pairs=None, skipped_lines=0, path=None, first_skipped_line=None):
        self.table = dict(table)
        self.path = path
        self._pairs = sum(len(t) for t in self.table.values()) if pairs is None else pairs
        self._skipped = skipped_lines
        self._first_skipped = first_skipped_line

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_pairs(cls, pairs, reverse=False, keep_identical=True, skipped_lines=0, path=None,
                   first_skipped_line=None):
        table = {}
        count = 0
        for source, target in pairs:
            if reverse:
                source, target = target, source
            if not keep_identical and source.lower() == target.lower():
                continue
            translations = table.setdefault(source.lower(), [])
            if target not in translations:
                translations.append(target)
                count += 1
        table = {k: tuple(v) for k, v in table.items()}
        return cls(table, pairs=count, skipped_lines=skipped_lines, path=path,
                   first_skipped_line=first_skipped_line)

    @classmethod
    def load(cls, path, reverse=False, keep_identical=True, strict=False):
        """Read a MUSE file. Lines that are not exactly one pair are skipped and counted
        (``stats().skipped_lines``, ``first_skipped_line``); with ``strict`` the first of them
        is a ``UserError`` naming ``file:line``. Blank lines are layout, not bad lines.

        ``utf-8-sig`` drops a BOM; universal newlines drop CR of CRLF files.
        """
        path = os.fspath(path)
        pairs = []
        skipped = 0
        first_skipped = None
        try:
            with open(path, encoding="utf-8-sig") as f:
                for lineno, line in enumerate(f, 1):
                    fields = line.split()
                    if len(fields) == 2:
                        pairs.append(fields)
                    elif fields:
                        if strict:
                            raise UserError(
                                f"{path}:{lineno}: expected one 'source translation' pair, "
                                f"got {len(fields)} field(s): {line.strip()[:60]!r}")
                        skipped += 1
                        first_skipped = first_skipped or lineno
        except FileNotFoundError:
            raise UserError(f"{path}: dictionary file not found ({MUSE_HINT})") from None
        except IsADirectoryError:
            raise UserError(f"{path}: is a directory, expected a dictionary file") from None
        except UnicodeDecodeError as e:
            raise UserError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        dictionary = cls.from_pairs(
            pairs, reverse=reverse, keep_identical=keep_identical,
            skipped_lines=skipped, path=path, first_skipped_line=first_skipped,
        )
        if not dictionary.table:
            raise UserError(
                f"{path}: no valid 'source translation' pair found "
                f"({skipped} lines skipped; {MUSE_HINT})"
            )
        return dictionary

    def reversed(self, keep_identical=True):
        pairs = ((s, t) for s, ts in self.table.items() for t in ts)
        return type(self).from_pairs(pairs, reverse=True, keep_identical=keep_identical, path=self.path)

    # -- lookup -------------------------------------------------------------------------
    def lookup(self, word):
        """Translations of ``word`` (any case) as a tuple, or ``None`` if not covered."""
        return self.table.get(word.lower())

    def __contains__(self, word):
        return word.lower() in self.table

    def __len__(self):
        return len(self.table)

    def stats(self):
        sources = len(self.table)
        return DictionaryStats(
            pairs=self._pairs,
            sources=sources,
            mean_translations=(self._pairs / sources) if sources else 0.0,
            skipped_lines=self._skipped,
            first_skipped_line=self._first_skipped,
        )

    def __repr__(self):
        s = self.stats()
        return f"BilingualDictionary({self.path or '<memory>'}: {s.pairs} pairs, {s.sources} sources)"
