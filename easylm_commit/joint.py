"""One model for several target languages (``plan --languages``): which languages, from what
files, and the two lists the joint run trains on.

``--languages`` is either comma-separated codes (``hi,el``) or a ``languages`` list as the
datasets take it (JSON inline, a file or URL, or ``demo``: the embedded Hindi and Greek demos).
With codes, each language's files come from ``plan``'s flags with ``{lang}`` in them
(``--dictionary dicts/en-{lang}.txt``, ``--corpus corpora/{lang}.jsonl``), or with ``--demo``
from the embedded demo of the language; a corpus left unnamed is Wikipedia
(``graelo/wikipedia``, config ``20230601.<lang>``), as for one language.

One list serves both phases of the joint run, and is written as two (``entries``), one per
dataset type:

- ``commit`` gets every key but the corpus keys: ``dictionary``, ``weight``, ``alpha`` and its
  schedule, ``template``, ``reverse_dictionary``, ``drop_identical``.
- ``codemix_clm`` gets ``dictionary``, ``weight``, ``drop_identical`` and the corpus keys
  (``path``, ``name``, ``split``, ``text_field``). ``alpha`` is COMMIT's: the alignment mixes
  every language at the alignment's α (0.5, or 0 for plain causal LM), as for one language. The
  alignment reads each dictionary the other way round from COMMIT (en-xx files are read
  xx -> en, to mix target-language text into English).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from easylm_commit import languages, options
from easylm_commit.errors import UserError
from easylm_commit.languages import Language

PLACEHOLDER = "{lang}"
WIKIPEDIA = "graelo/wikipedia"
# Comma-separated codes, as opposed to a JSON list or a file name (a file of that name wins).
CODES = re.compile(r"\s*[A-Za-z][A-Za-z0-9_-]*(\s*,\s*[A-Za-z][A-Za-z0-9_-]*)*\s*")
CORPUS_KEYS = ("path", "name", "split", "text_field")
# The keys of an entry that only COMMIT reads (see the module docstring).
COMMIT_ONLY = ("alpha", "alpha_schedule", "alpha_end", "alpha_schedule_steps", "template",
               "reverse_dictionary")


def wikipedia_config(code: str) -> str:
    """The config of ``graelo/wikipedia`` in language ``code`` (the default corpus)."""
    return f"20230601.{code}"


def _looks_local(path: str) -> bool:
    # A hub dataset is org/name: what looks like a file is one (as plan's corpus check says).
    return (os.path.exists(path) or path.startswith(("/", "./", "../", "~")) or path.count("/") > 1
            or path.endswith(("/", ".json", ".jsonl", ".txt", ".parquet", ".csv")))


def _per_language(flag: str, value: str, code: str, several: bool) -> str:
    if PLACEHOLDER in value:
        return value.replace(PLACEHOLDER, code)
    if several:
        raise UserError(f"{flag} {value}: with several --languages, name each language's file "
                        f"with {PLACEHOLDER} (e.g. {_example(flag)})")
    return value


def _example(flag: str) -> str:
    return {"--dictionary": "dicts/en-{lang}.txt", "--corpus": "corpora/{lang}.jsonl",
            "--corpus-name": "20230601.{lang}"}[flag]


def corpus_entry(code: str, *, corpus: str | None, corpus_name: str | None, demo: bool,
                 several: bool) -> dict[str, str]:
    """The corpus keys of language ``code`` from ``plan``'s flags (module docstring).

    Args:
        code: the language.
        corpus: ``--corpus`` (``{lang}`` replaced), or ``None``.
        corpus_name: ``--corpus-name`` (``{lang}`` replaced), or ``None``.
        demo: ``--demo``: the embedded corpus of a demo language where no ``--corpus`` is given.
        several: whether the run has several languages (a file without ``{lang}`` is an error).
    """
    from easylm_commit import demo as d

    demo_corpora = {"hi": d.DEMO_CORPUS, "el": d.DEMO_CORPUS_EL}
    if corpus is None and demo and code in demo_corpora:
        return {"path": demo_corpora[code]}
    path = corpus or WIKIPEDIA
    if _looks_local(path):
        return {"path": _per_language("--corpus", path, code, several)}
    if PLACEHOLDER in path:
        path = path.replace(PLACEHOLDER, code)
    entry = {"path": path}
    if corpus_name:
        entry["name"] = _per_language("--corpus-name", corpus_name, code, several)
    elif path == WIKIPEDIA:
        entry["name"] = wikipedia_config(code)
    return entry


def from_codes(codes: Sequence[str], *, dictionary: str | None, corpus: str | None,
               corpus_name: str | None, demo: bool) -> list[dict[str, Any]]:
    """The entries of ``--languages hi,el``: each language's dictionary and corpus from the flags
    (``{lang}`` replaced) or, with ``--demo``, the embedded demo of the language.

    Raises:
        UserError: a code given twice, a flag without ``{lang}`` for several languages, a
            language with no dictionary.
    """
    from easylm_commit import demo as d

    demo_dictionaries = {"hi": d.DEMO_DICTIONARY, "el": d.DEMO_DICTIONARY_EL}
    several = len(codes) > 1
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise UserError(f"--languages: {', '.join(twice)} given twice")
    entries = []
    for code in codes:
        if dictionary:
            path = _per_language("--dictionary", dictionary, code, several)
        elif demo and code in demo_dictionaries:
            path = demo_dictionaries[code]
        else:
            hint = f" (the demo has {', '.join(demo_dictionaries)})" if demo else ""
            raise UserError(f"--languages {code}: no dictionary for {code}: give --dictionary with "
                            f"{PLACEHOLDER} (e.g. {_example('--dictionary')}){hint}")
        entry = {"lang": code, "dictionary": path}
        entry.update(corpus_entry(code, corpus=corpus, corpus_name=corpus_name, demo=demo,
                                  several=several))
        entries.append(entry)
    return entries


@dataclasses.dataclass
class JointLanguages:
    """The languages of a joint run, parsed for both dataset types.

    Attributes:
        commit: the list as the ``commit`` dataset reads it (``languages.parse``).
        codemix_clm: the list as the ``codemix_clm`` dataset reads it, in the same order.
        given: per language, the keys its entry gave (or the flags gave for it): what the
            written lists hold besides ``lang`` and ``weight`` (the rest is the dataset's).
    """
    commit: list[Language]
    codemix_clm: list[Language]
    given: list[frozenset[str]]

    @property
    def codes(self) -> list[str]:
        return [language.lang for language in self.commit]

    def of(self, dataset_type: str) -> list[Language]:
        """The list of ``dataset_type`` (``commit`` or ``codemix_clm``)."""
        return self.commit if dataset_type == options.COMMIT else self.codemix_clm

    def one(self, code: str) -> JointLanguages:
        """The one-entry lists of language ``code``: its own single-language run, with the very
        settings the joint run gives it (a one-entry list gives the plain keys' batches)."""
        i = self.codes.index(code)
        return JointLanguages([self.commit[i]], [self.codemix_clm[i]], [self.given[i]])

    def entries(self, dataset_type: str) -> list[dict[str, Any]]:
        """The list to write for ``dataset_type``: each language's ``lang``, ``weight`` and the
        keys it gave (the others are the dataset's flags), files as absolute paths where they
        exist here (the training steps may run elsewhere than the list file)."""
        out = []
        for language, given in zip(self.of(dataset_type), self.given):
            entry = {"lang": language.lang, "weight": language.weight}
            for key in languages.ENTRY_OPTIONS[dataset_type]:
                if key in given or (dataset_type == options.CODEMIX_CLM and key == "reverse_dictionary"):
                    value = language.values[key]
                    if options.OPTIONS[key].file and value and os.path.exists(value):
                        value = os.path.abspath(value)
                    entry[key] = value
            out.append(entry)
        return out


def parse(spec: str, *, commit_config: Mapping[str, Any], codemix_clm_config: Mapping[str, Any],
          dictionary: str | None = None, corpus: str | None = None,
          corpus_name: str | None = None, demo: bool = False) -> JointLanguages:
    """``--languages``'s value, parsed for both dataset types.

    Args:
        spec: comma-separated codes, a JSON list inline, a file (path or URL) holding one,
            or ``demo``.
        commit_config, codemix_clm_config: what an entry leaves out (``languages.parse``): the
            values ``plan`` passes as flags.
        dictionary, corpus, corpus_name: ``plan``'s flags, with ``{lang}`` (codes); a list's
            entry without a corpus takes its corpus from ``corpus``/``corpus_name`` the same way.
        demo: ``--demo``: the embedded demos of hi and el for codes that name no file.

    Raises:
        UserError: the datasets' one-line errors naming the entry (and file), or a flag's.
    """
    where = ""
    text = spec.strip()
    codes = bool(CODES.fullmatch(text)) and text != "demo" and not os.path.exists(text)
    if dictionary and not codes:
        # Every entry of a list names its dictionary, so this one would be read by no language.
        raise UserError("--dictionary with a --languages list: each language names its dictionary "
                        "in the list (drop --dictionary, or give codes: --languages hi,el)")
    if text == "demo":
        entries = languages.demo(options.CODEMIX_CLM)
    elif codes:
        entries = from_codes([c.strip() for c in text.split(",")], dictionary=dictionary,
                             corpus=corpus, corpus_name=corpus_name, demo=demo)
    else:
        entries, where = languages.load_spec(text)
        if isinstance(entries, list):
            several = len(entries) > 1
            for entry in entries:
                if isinstance(entry, Mapping) and "path" not in entry and isinstance(entry.get("lang"), str):
                    entry.update(corpus_entry(entry["lang"], corpus=corpus, corpus_name=corpus_name,
                                              demo=demo, several=several))
    if not isinstance(entries, list):  # languages.parse says it, naming the file
        return JointLanguages(languages.parse(entries, commit_config, options.COMMIT, where=where), [], [])
    commit_entries = [{k: v for k, v in e.items() if k not in CORPUS_KEYS} if isinstance(e, Mapping) else e
                      for e in entries]
    commit = languages.parse(commit_entries, commit_config, options.COMMIT, where=where)
    clm_keys = [k for k in languages.ENTRY_KEYS[options.CODEMIX_CLM] if k not in COMMIT_ONLY]
    clm_entries = [dict({k: v for k, v in e.items() if k in clm_keys},
                        reverse_dictionary=not c.reverse_dictionary)
                   for e, c in zip(entries, commit)]
    codemix_clm = languages.parse(clm_entries, codemix_clm_config, options.CODEMIX_CLM, where=where)
    given = [frozenset(k for k in e if k not in ("lang", "weight")) for e in entries]
    return JointLanguages(commit, codemix_clm, given)
