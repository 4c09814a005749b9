"""Several target languages in one run: the ``languages`` list, its checks, and which
language each record is mixed into.

``languages`` (a dataset key, and ``--languages`` of ``mix``, ``stats``, ``preview`` and
``plan``) is a JSON list, written inline or in a file (a path or a URL), of objects::

    [{"lang": "hi", "dictionary": "en-hi.txt", "weight": 2},
     {"lang": "th", "dictionary": "en-th.txt", "alpha": 0.8, "template": "th"}]

``lang`` and ``dictionary`` are required; every other key of an entry (``ENTRY_KEYS``) is a
dataset option of the same name, checked as that option is, and a key left out takes the
dataset's own value. ``weight`` (default 1) is the language's share of the records.

Which language a record goes to is a pure function of the record, so that every host of a
pod and every resumed run agree without saving anything:

- ``commit`` with ``language_sampling=draw``: drawn by weight from ``(seed, epoch, row)``
  (``choose``): over an epoch each language gets about its share, and a record changes
  language from epoch to epoch as it changes its mixing.
- ``commit`` with ``language_sampling=each``: every record once per language, as the paper's
  per-language data in one run; the records stream gives each record ``len(languages)``
  times (``sources.RecordStream(copies=...)``), and row ``r * n + i`` is language ``i``.
- ``codemix_clm``: one corpus per language, interleaved (``interleave.py``); the row of an
  item also carries its language as ``row % n``.

A one-entry list gives exactly the batches of the plain keys: the draw is not made (there is
nothing to draw), and rows, mixing keys and formatters are the plain run's.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from easylm_commit import options
from easylm_commit.errors import UserError
from easylm_commit.mixer import derive_seed

if TYPE_CHECKING:
    from easylm_commit.mixer import CodeMixer
    from easylm_commit.templates import Formatter, Sample, Template, TextFormatter

# The dataset options an entry may set besides ``lang`` and ``weight``, per dataset type.
_SCHEDULE = ("alpha_schedule", "alpha_end", "alpha_schedule_steps")
ENTRY_OPTIONS = {
    options.COMMIT: ("dictionary", "alpha", *_SCHEDULE, "reverse_dictionary", "drop_identical",
                     "template"),
    options.CODEMIX_CLM: ("dictionary", "alpha", *_SCHEDULE, "reverse_dictionary", "drop_identical",
                          "path", "name", "split", "text_field"),
}
ENTRY_KEYS = {kind: ("lang", "weight", *keys) for kind, keys in ENTRY_OPTIONS.items()}
REQUIRED = ("lang", "dictionary")
# A code becomes part of metric names (``dataset_mixing_rate_hi``) and of file names
# (``plan``'s per-language runs): letters, digits, ``-`` and ``_``, starting with a letter.
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


@dataclasses.dataclass(frozen=True)
class Language:
    """One entry of ``languages``, with the dataset's values filled in where it is silent.

    Attributes:
        lang: its code (``hi``).
        weight: its share of the records (relative to the others').
        index: its place in the list.
        label: how messages name it: ``languages[1] (th)``, and the file it came from.
        values: every option of ``ENTRY_OPTIONS`` for the dataset type: the entry's, else
            the dataset's.
    """
    lang: str
    weight: float
    index: int
    label: str
    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


def demo(dataset_type: str) -> list[dict]:
    """``languages=demo``: the embedded English-Hindi and English-Greek demos (``demo/``), for
    a two-language run that needs no download; for ``codemix_clm`` each with its corpus."""
    from easylm_commit import demo as d

    entries = [dict(lang="hi", dictionary=d.DEMO_DICTIONARY), dict(lang="el", dictionary=d.DEMO_DICTIONARY_EL)]
    if dataset_type == options.CODEMIX_CLM:
        for entry, corpus in zip(entries, (d.DEMO_CORPUS, d.DEMO_CORPUS_EL)):
            entry.update(path=corpus, text_field="text")
    return entries


def _relative_to(where: str, value: str) -> str:
    """A file named in a local list file: relative names are read from the list's directory
    (so a list and its dictionaries can move together), as a user reading the file expects."""
    import os

    from easylm_commit import fileio

    base = fileio.local_path(where)
    if base is None or not value or "://" in value or os.path.isabs(value):
        return value
    candidate = os.path.join(os.path.dirname(base), value)
    return candidate if os.path.exists(candidate) else value


def _read_spec(spec: str) -> tuple[str, str]:
    """The JSON text of ``spec`` and where it came from (``""`` for an inline list)."""
    text = spec.strip()
    if text[:1] in ("[", "{"):  # JSON, not a file name
        return text, ""
    from easylm_commit import fileio

    try:
        with fileio.open_text(text) as f:
            return f.read(), text
    except FileNotFoundError:
        raise UserError(f"languages: {text}: file not found (give a JSON list inline or a "
                        "file holding one)") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"languages: {text}: cannot be read ({e})") from None


def load_spec(spec: str) -> tuple[Any, str]:
    """The JSON value of ``spec`` and where it came from (``""`` for an inline list).

    Args:
        spec: a JSON list inline, or the path or URL of a file holding one.

    Raises:
        UserError: the file cannot be read, or is not valid JSON (one line naming it).
    """
    text, where = _read_spec(spec)
    try:
        return json.loads(text), where
    except json.JSONDecodeError as e:
        raise UserError(f"languages{' ' + where if where else ''}: not valid JSON "
                        f"(line {e.lineno}, column {e.colno}: {e.msg})") from None


def parse(spec: str | Sequence[Mapping], config: Mapping[str, Any],
          dataset_type: str, *, where: str = "") -> list[Language]:
    """The languages of ``spec``, each checked and completed with ``config``'s values.

    Args:
        spec: the JSON list (inline, or a path or URL of a file holding it; in a local file,
            relative file names are read from its directory), the list itself, or ``demo``
            (``demo``).
        config: the dataset's config: what an entry leaves out.
        dataset_type: ``commit`` or ``codemix_clm`` (which keys an entry may have).
        where: for a list given as such, the file it was read from (``load_spec``): messages
            name it and relative file names are read from its directory.

    Raises:
        UserError: one line naming the entry (and file): not a list, an empty list, an entry
            that is not an object, a missing or duplicate ``lang``, a missing dictionary, an
            unknown key, a weight <= 0 or a value its option refuses (alpha outside [0, 1]).
    """
    if isinstance(spec, str) and spec.strip() == "demo":
        spec = demo(dataset_type)
    if isinstance(spec, str):
        entries, where = load_spec(spec)
    else:
        entries = spec
    origin = f" in {where}" if where else ""
    if not isinstance(entries, list):
        raise UserError(f"languages{origin}: must be a JSON list of objects, got "
                        f"{type(entries).__name__}")
    if not entries:
        raise UserError(f"languages{origin}: the list is empty (give at least one language, "
                        "or leave languages unset for the plain keys)")
    allowed = ENTRY_KEYS[dataset_type]
    seen: dict[str, int] = {}
    result = []
    for i, entry in enumerate(entries):
        label = f"languages[{i}]"
        if isinstance(entry, Mapping) and isinstance(entry.get("lang"), str):
            label += f" ({entry['lang']})"
        label += origin
        if not isinstance(entry, Mapping):
            raise UserError(f"{label}: must be an object with lang and dictionary, got "
                            f"{type(entry).__name__}")
        for key in entry:
            if key not in allowed:
                import difflib

                near = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"its keys: {', '.join(allowed)}"
                raise UserError(f"{label}: unknown key {key!r} for a {dataset_type} language ({hint})")
        for key in REQUIRED:
            if key not in entry or entry[key] in ("", None):
                raise UserError(f"{label}: {key} is required")
        lang = entry["lang"]
        if not isinstance(lang, str) or not _CODE.fullmatch(lang):
            raise UserError(f"{label}: lang must be a code of letters, digits, '-' or '_' "
                            f"starting with a letter (it names metrics), got {lang!r}")
        if lang in seen:
            raise UserError(f"{label}: lang {lang!r} is given twice (also languages[{seen[lang]}])")
        seen[lang] = i
        weight = entry.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise UserError(f"{label}: weight must be a number > 0, got {weight!r}")
        values = {}
        for name in ENTRY_OPTIONS[dataset_type]:
            option = options.OPTIONS[name]
            value = entry.get(name, config[name])
            if option.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not option.type:
                raise UserError(f"{label}: {name} must be a {option.type.__name__}, got {value!r}")
            option.check(value, f"{label}: {name}")
            if option.file and where and name in entry:
                value = _relative_to(where, value)
            values[name] = value
        result.append(Language(lang, float(weight), i, label, values))
    return result


def from_config(config: Mapping[str, Any], dataset_type: str) -> list[Language] | None:
    """The config's languages, or ``None`` when its ``languages`` is empty (the plain keys).

    Raises:
        UserError: as ``parse``.
    """
    spec = config.get("languages", "")
    if not spec:
        return None
    return parse(spec, config, dataset_type)


def describe(languages: Sequence[Language], *, files: bool = True) -> str:
    """The list as JSON, every value of every entry; without ``files``, no file names (what
    the hosts of a pod compare: they may mount files at other paths, and compare the
    dictionaries' and templates' contents instead)."""
    return json.dumps([dict(lang=l.lang, weight=l.weight,
                            **{k: v for k, v in l.values.items() if files or not options.OPTIONS[k].file})
                       for l in languages], sort_keys=True, ensure_ascii=False)


def choose(seed: int, epoch: int, row: int, cumulative: Sequence[float]) -> int:
    """The language of record ``row`` in ``epoch``, drawn by weight (``cumulative``: the
    running sums of the weights), the same in every process (``mixer.derive_seed``)."""
    u = derive_seed(seed, ("language", epoch, row)) / 2.0 ** 64 * cumulative[-1]
    return min(bisect.bisect_right(cumulative, u), len(cumulative) - 1)


SAMPLING = ("draw", "each")


def multilingual_formatter(langs: Sequence[Language],
                           build: Callable[[CodeMixer | None, Mapping[str, Any]], Formatter | TextFormatter],
                           mixer: Callable[[Language], CodeMixer | None], *, seed: int = 0,
                           sampling: str = "draw", interleaved: bool = False) -> MultilingualFormatter:
    """One formatter per language, ``build(mixer(language), language.values)``, combined: how
    the datasets and the commands (``mix``, ``stats``, ``preview``) both build it, so that they
    mix every record alike.

    Args:
        langs: the parsed list (``parse``).
        build: the formatter of one language from its mixer and its values.
        mixer: the mixer of one language (``None``: it mixes nothing).
        seed: the draw's seed (the dataset's).
        sampling: ``draw`` or ``each`` (``language_sampling``); ``each`` needs records that
            come ``len(langs)`` times, numbered as ``records.copied`` numbers them.
        interleaved: the records are the languages' corpora interleaved (``interleave.py``),
            whose rows name their language.
    """
    choice = "row" if interleaved or sampling == "each" else "draw"
    return MultilingualFormatter(langs, [build(mixer(l), l.values) for l in langs],
                                 seed=seed, choice=choice)


class MultilingualFormatter:
    """Formats each record in its language: the language's own formatter (its dictionary,
    α, template), chosen as the module docstring says. The same interface as
    ``templates.Formatter``; each ``Sample`` carries its ``lang``.

    Args:
        languages: the parsed list (``parse``).
        formatters: one formatter per language, in the list's order.
        seed: the dataset's seed (the draw's).
        choice: ``draw`` (by weight from the key) or ``row`` (the row's ``row % n``: the
            records stream or the interleaving put the language there).
    """

    def __init__(self, languages: Sequence[Language], formatters: Sequence[Formatter | TextFormatter],
                 *, seed: int = 0, choice: str = "draw") -> None:
        if len(languages) != len(formatters) or not languages:
            raise ValueError("one formatter per language, and at least one")
        if choice not in ("draw", "row"):
            raise ValueError(f"unknown choice {choice!r}")
        self.languages = list(languages)
        self.formatters = list(formatters)
        self.seed = seed
        self.choice = choice
        total, cumulative = 0.0, []
        for language in self.languages:
            total += language.weight
            cumulative.append(total)
        self._cumulative = cumulative
        first = self.formatters[0]
        self.mode = first.mode

    @property
    def codes(self) -> list[str]:
        return [language.lang for language in self.languages]

    @property
    def mixer(self) -> CodeMixer | None:
        """The first language's mixer (what a caller of one mixer gets)."""
        return self.formatters[0].mixer

    @property
    def mixers(self) -> list[CodeMixer | None]:
        return [f.mixer for f in self.formatters]

    @property
    def template(self) -> Template | None:
        return getattr(self.formatters[0], "template", None)

    @property
    def field_options(self) -> dict[str, str]:
        return self.formatters[0].field_options

    @property
    def description(self) -> str:
        return f"{self.formatters[0].description}, languages {', '.join(self.codes)}"

    def read_fields(self, record: dict) -> tuple:
        return self.formatters[0].read_fields(record)

    def language_of(self, key: tuple) -> int:
        """The index of the language that the record of ``key`` (``(epoch, row)``) is mixed into."""
        n = len(self.languages)
        if n == 1:
            return 0
        epoch, row = key[0], key[1]
        if self.choice == "row":
            return row % n
        return choose(self.seed, epoch, row, self._cumulative)

    def format(self, record: dict, key: tuple | int = (), *, report: bool = False) -> Sample:
        """The record formatted by its language's formatter; ``Sample.lang`` says which."""
        if not isinstance(key, tuple):
            key = (key,)
        i = self.language_of(key) if len(key) >= 2 else 0
        sample = self.formatters[i].format(record, key, report=report)
        sample.lang = self.languages[i].lang
        return sample
