"""Instruction formatting (Eq. 1 and 5): prompt = p(T, I, X), response = Y.

Modes (the paper's Table 4):

- ``commit`` -- p(T, I^c, X^c); Y^c. The template T is never mixed: the model keeps the
  English instruction-following format it knows, while instruction, input and response
  carry target-language words.
- ``naive``  -- p(T^c, I^c, X^c); Y^c. The template's own words are mixed too.
- ``none``   -- plain Alpaca, nothing mixed.

Mixing keys are ``key + (field,)`` with the canonical field names ``instruction``,
``input``, ``output`` (and ``("template", j)`` for the j-th literal piece of the template in
naive mode), so renaming a dataset's columns never changes what is mixed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import string
from typing import TYPE_CHECKING

from easylm_commit import fileio, options
from easylm_commit.errors import InvalidRecord, UserError

if TYPE_CHECKING:
    from easylm_commit.mixer import CodeMixer

MODES = options.OPTIONS["mode"].choices

# Stanford Alpaca's templates (tatsu-lab/stanford_alpaca, train.py PROMPT_DICT), to the character.
ALPACA_EN = {
    "prompt_input": (
        "Below is an instruction that describes a task, paired with an input that provides "
        "further context. Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
    ),
    "prompt_no_input": (
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:"
    ),
}

# Alpaca's template translated, for the target-language-prompt baselines. Ours: the paper
# does not publish its translations. The "###" headers and the layout are kept so that only
# the language differs from the English template.
TRANSLATED = {
    "hi": (
        "नीचे एक निर्देश दिया गया है जो एक कार्य का वर्णन करता है",
        ", साथ में एक इनपुट है जो आगे का संदर्भ प्रदान करता है",
        "। एक ऐसा उत्तर लिखें जो अनुरोध को उचित रूप से पूरा करे।",
        ("निर्देश", "इनपुट", "उत्तर"),
    ),
    "el": (
        "Παρακάτω υπάρχει μια οδηγία που περιγράφει μια εργασία",
        ", μαζί με μια είσοδο που παρέχει περαιτέρω πλαίσιο",
        ". Γράψτε μια απάντηση που ολοκληρώνει κατάλληλα το αίτημα.",
        ("Οδηγία", "Είσοδος", "Απάντηση"),
    ),
    "th": (
        "ด้านล่างนี้คือคำสั่งที่อธิบายงาน",
        " พร้อมกับข้อมูลนำเข้าที่ให้บริบทเพิ่มเติม",
        " จงเขียนคำตอบที่ทำตามคำขออย่างเหมาะสม",
        ("คำสั่ง", "ข้อมูลนำเข้า", "คำตอบ"),
    ),
    "ta": (
        "கீழே ஒரு பணியை விவரிக்கும் அறிவுறுத்தல் உள்ளது",
        ", அதனுடன் கூடுதல் சூழலை வழங்கும் உள்ளீடும் உள்ளது",
        ". கோரிக்கையைப் பொருத்தமாக நிறைவு செய்யும் பதிலை எழுதுங்கள்.",
        ("அறிவுறுத்தல்", "உள்ளீடு", "பதில்"),
    ),
    "bn": (
        "নিচে একটি নির্দেশনা দেওয়া হলো যা একটি কাজের বর্ণনা দেয়",
        ", সঙ্গে একটি ইনপুট রয়েছে যা আরও প্রসঙ্গ প্রদান করে",
        "। এমন একটি উত্তর লিখুন যা অনুরোধটি যথাযথভাবে পূরণ করে।",
        ("নির্দেশনা", "ইনপুট", "উত্তর"),
    ),
}


def _alpaca_layout(head, with_input, tail, headers):
    instruction, input_, response = headers
    return {
        "prompt_input": (
            f"{head}{with_input}{tail}\n\n### {instruction}:\n{{instruction}}\n\n"
            f"### {input_}:\n{{input}}\n\n### {response}:"
        ),
        "prompt_no_input": (
            f"{head}{tail}\n\n### {instruction}:\n{{instruction}}\n\n### {response}:"
        ),
    }


TEMPLATES = {"en": ALPACA_EN}
TEMPLATES.update({lang: _alpaca_layout(*parts) for lang, parts in TRANSLATED.items()})


class Template:
    """A pair of prompt templates, pre-split into literal text and placeholders.

    Args:
        prompt_input: the prompt of a record with an input: ``{instruction}`` and ``{input}``.
        prompt_no_input: the prompt of a record without one: ``{instruction}``.
        name: what error messages call the template.

    Raises:
        UserError: a placeholder is missing, unknown, or carries a format spec.
    """

    def __init__(self, prompt_input: str, prompt_no_input: str, name: str = "custom") -> None:
        self.name = name
        self.prompt_input = prompt_input
        self.prompt_no_input = prompt_no_input
        self.pieces_input = self._parse(prompt_input, "prompt_input", {"instruction", "input"})
        self.pieces_no_input = self._parse(prompt_no_input, "prompt_no_input", {"instruction"})

    def _parse(self, text, which, required):
        """[(literal, field_or_None), ...] as ``string.Formatter`` reads ``{field}``."""
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as e:
            raise UserError(f"template {self.name}: {which}: {e}") from None
        pieces, seen = [], set()
        for literal, field, spec, conversion in parsed:
            if spec or conversion:
                # The pieces are joined verbatim, never through str.format: say so rather
                # than silently drop "{input!r}" or "{instruction:>10}".
                raise UserError(
                    f"template {self.name}: {which}: placeholder {{{field}}} takes no format "
                    "spec or conversion"
                )
            # ``required`` is also what can be filled: prompt_no_input has no {input} to give.
            if field is not None and field not in required:
                raise UserError(
                    f"template {self.name}: {which}: unknown placeholder {{{field}}} "
                    "(only " + " and ".join("{" + r + "}" for r in sorted(required)) + " are filled)"
                )
            pieces.append((literal, field))
            if field:
                seen.add(field)
        missing = sorted(required - seen)
        if missing:
            raise UserError(
                f"template {self.name}: {which} lacks the placeholder "
                + ", ".join("{" + m + "}" for m in missing)
            )
        return pieces

    @classmethod
    def load(cls, spec: str | os.PathLike | Template) -> Template:
        """A built-in language code (``en``, ``hi``, ``el``, ``th``, ``ta``, ``bn``) or the
        path of a JSON file with ``prompt_input`` and ``prompt_no_input``."""
        if isinstance(spec, Template):
            return spec
        if spec in TEMPLATES:
            return cls(name=spec, **TEMPLATES[spec])
        path = os.fspath(spec)
        if not fileio.exists(path):  # a local path or a URL (gs://, s3://, ...)
            raise UserError(
                f"template {spec!r}: not a built-in template ({', '.join(TEMPLATES)}) "
                "nor an existing JSON file"
            )
        try:
            with fileio.open_text(path) as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise UserError(f"{path}:{e.lineno}: invalid JSON in template file ({e.msg})") from None
        except UnicodeDecodeError as e:
            raise UserError(f"{path}: template file is not UTF-8 ({e.reason} at byte {e.start})") from None
        except OSError as e:
            raise UserError(f"{path}: cannot read template file ({e.strerror})") from None
        if not isinstance(data, dict):
            raise UserError(f"{path}: template file must hold a JSON object")
        for k in ("prompt_input", "prompt_no_input"):
            if not isinstance(data.get(k), str):
                raise UserError(f"{path}: template field {k!r} is missing or not a string")
        return cls(data["prompt_input"], data["prompt_no_input"], name=path)


# A lone surrogate (valid JSON "\ud800", found in scraped data) cannot be encoded as UTF-8,
# so neither a tokenizer nor an output file can take it: the record is bad, like any other.
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_field(record: dict, name: str, required: bool = True, nonempty: bool = False) -> str:
    """``record[name]`` as a string, or ``InvalidRecord`` naming the field."""
    if not isinstance(record, dict):
        raise InvalidRecord(f"record is a {type(record).__name__}, not a JSON object")
    value = record.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (nonempty and not value.strip()):
        what = "missing, empty or not a string" if nonempty else (
            "missing or not a string" if required else "not a string")
        raise InvalidRecord(f"field {name!r} is {what}")
    if not value.isascii() and _SURROGATE.search(value):
        raise InvalidRecord(f"field {name!r} holds a lone surrogate (not valid Unicode text)")
    return value


@dataclasses.dataclass
class Sample:
    """One formatted example: what a formatter makes of a record, and what the tokenizer
    turns into tokens and a loss mask (``tokens.tokens_and_masks``).

    The prompt is masked out of the loss and the response trained on (Eq. 1), so the two are
    kept apart and named: masking is decided here, once, per piece, and the token-level
    boundary follows from it (torchtune's messages with a ``masked`` flag, as plain data).

    Attributes:
        prompt_segments: the prompt as ``(text, kind)`` pieces, ``kind`` one of
            ``template``, ``instruction``, ``input``: the tokenizer encodes the template's
            pieces once and the fields per record (``tokens.encode_prompts``). Empty for a
            corpus text, which is all response.
        response: the text trained on: the (mixed) output, or the (mixed) corpus text.
        response_kind: ``output`` or ``text``.
        prompt: the prompt's texts joined.
        instruction, input, output: the (mixed) fields; for a corpus text ``output`` is the
            text and the others are empty.
        mixed_fields: the record's fields as written after mixing, under its own names:
            what ``easylm-commit mix`` writes back into the record.
        reports: with ``report=True``, the ``MixResult`` of each field under its name
            (``instruction``, ``input``, ``output``, or the corpus field's name) and of each
            mixed template piece under ``("template", j)``, in the order they were mixed. Where
            the mode mixes nothing (``none``) they are the mixer's at alpha = 0: every covered
            word kept, so what could be replaced is still known. Empty without a mixer.
        segment_reports: with ``report=True``, the report of each of ``segments`` (``None``
            for text that is not mixed, such as the template in ``commit`` mode).
        words: words seen in the mixed parts.
        replaced: words replaced there: ``replaced / words`` is the real mixing rate.
        lang: the language it was mixed into, with ``languages`` (``languages.py``); else "".
    """
    prompt_segments: list[tuple[str, str]]
    response: str
    response_kind: str
    prompt: str
    instruction: str
    input: str
    output: str
    mixed_fields: dict[str, str]
    reports: dict = dataclasses.field(default_factory=dict)
    segment_reports: list = dataclasses.field(default_factory=list)
    words: int = 0
    replaced: int = 0
    lang: str = ""

    @property
    def segments(self) -> list[tuple[str, str]]:
        """The prompt's pieces and the response, as ``(text, kind)``: their texts concatenate
        to ``prompt + response``."""
        return [*self.prompt_segments, (self.response, self.response_kind)]


@dataclasses.dataclass
class FieldNames:
    """The names of an instruction record's fields (Alpaca's by default)."""
    instruction: str = "instruction"
    input: str = "input"
    output: str = "output"


def _coverage_mixer(mixer):
    """The mixer at alpha = 0 (same dictionary, segmenter and protection): its report marks
    every covered word as kept, which is what a mode that mixes nothing can show."""
    from easylm_commit.mixer import CodeMixer

    return CodeMixer(mixer.dictionary, 0.0, segmenter=mixer.segmenter, protect=mixer.protect)


class Formatter:
    """Instruction record -> ``Sample`` under one of the three modes (module docstring).

    Args:
        mixer: a ``CodeMixer``; required unless ``mode`` is ``none`` (where it is used only
            for reports: what could be replaced).
        mode: ``commit``, ``naive`` or ``none``.
        template: a built-in template's language code, a template JSON file, or a
            ``Template``.
        fields: the record's field names (``FieldNames``; Alpaca's by default).

    Raises:
        UserError: an unknown mode, a mixing mode without a mixer, a bad template.
    """

    def __init__(self, mixer: CodeMixer | None = None, *, mode: str = "commit",
                 template: str | Template = "en", fields: FieldNames | None = None) -> None:
        if mode not in MODES:
            raise UserError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
        if mode != "none" and mixer is None:
            raise UserError(f"mode {mode!r} needs a dictionary to mix with")
        self.mixer = mixer
        self.mode = mode
        self.template = Template.load(template)
        self.fields = fields or FieldNames()
        self._coverage = None

    @property
    def field_options(self) -> dict[str, str]:
        """The options that name the fields read, and their values: what to check when
        records lack a field."""
        f = self.fields
        return {"instruction_field": f.instruction, "input_field": f.input, "output_field": f.output}

    @property
    def description(self) -> str:
        """What is formatted, in a few words (``mode commit``)."""
        return f"mode {self.mode}"

    def read_fields(self, record: dict) -> tuple[str, str, str]:
        """(instruction, input, output) as strings; ``InvalidRecord`` names what is wrong."""
        f = self.fields
        instruction = text_field(record, f.instruction, nonempty=True)
        output = text_field(record, f.output)
        input_ = text_field(record, f.input, required=False)
        return instruction, input_, output

    def format(self, record: dict, key: tuple | int = (), *, report: bool = False) -> Sample:
        """The ``Sample`` of one record, mixed with keys ``key + (field,)``.

        Args:
            record: a dict with the instruction, input and output fields.
            key: names the record's draws, e.g. ``(epoch, row)``.
            report: keep each field's ``MixResult`` in ``Sample.reports`` and
                ``Sample.segment_reports``.

        Returns:
            A ``Sample``; its ``words`` and ``replaced`` count the mixed parts.

        Raises:
            InvalidRecord: a field is missing, empty or of the wrong type.
        """
        instruction, input_, output = self.read_fields(record)
        if not isinstance(key, tuple):
            key = (key,)
        mixing = self.mode != "none" and self.mixer is not None
        reporter = None
        if report:
            if mixing:
                reporter = self.mixer
            elif self.mixer is not None:
                if self._coverage is None:
                    self._coverage = _coverage_mixer(self.mixer)
                reporter = self._coverage
        reports = {}
        counts = [0, 0]

        def mix(text, k):
            if reporter is not None:
                result = reporter.mix_with_report(text, key + k)
                reports[k if len(k) > 1 else k[0]] = result
                if mixing:
                    counts[0] += result.words
                    counts[1] += result.replaced
                return result.text
            if not mixing:
                return text
            mixed, words, replaced = self.mixer.mix_counted(text, key + k)
            counts[0] += words
            counts[1] += replaced
            return mixed

        values = {"instruction": mix(instruction, ("instruction",))}
        if input_ or reporter is not None:  # a report for every field, empty ones too
            values["input"] = mix(input_, ("input",))
        response = mix(output, ("output",))
        pieces = self.template.pieces_input if input_ else self.template.pieces_no_input
        segments = []
        segment_reports = [] if report else None
        for j, (literal, field) in enumerate(pieces):
            if literal:
                if self.mode == "naive":
                    literal = mix(literal, ("template", j))
                    if report:
                        segment_reports.append(reports[("template", j)])
                elif report:
                    segment_reports.append(None)
                segments.append((literal, "template"))
            if field:
                segments.append((values[field], field))
                if report:
                    segment_reports.append(reports.get(field))
        if report:
            segment_reports.append(reports.get("output"))
        f = self.fields
        mixed_input = values.get("input", "")
        return Sample(
            prompt_segments=segments, response=response, response_kind="output",
            prompt="".join([text for text, _ in segments]),
            instruction=values["instruction"], input=mixed_input, output=response,
            mixed_fields={f.instruction: values["instruction"], f.input: mixed_input,
                          f.output: response},
            reports=reports, segment_reports=segment_reports or [],
            words=counts[0], replaced=counts[1],
        )


class TextFormatter:
    """A corpus record -> ``Sample`` of its ``field``, mixed as plain text (the alignment
    phase, Eq. 6): the same interface as ``Formatter``, so every command and dataset reads
    records one way. The whole text is the response (causal LM trains on all of it).

    Mixing key ``key + (field,)``, as ``easylm-commit mix --text-field`` and the
    ``codemix_clm`` dataset use.

    Args:
        mixer: a ``CodeMixer``, or ``None`` for the text as it is (plain continual
            pretraining).
        field: the record's text field.
    """

    mode = "text"

    def __init__(self, mixer: CodeMixer | None, field: str) -> None:
        self.mixer = mixer
        self.field = field

    @property
    def field_options(self) -> dict[str, str]:
        """The option that names the field read, and its value."""
        return {"text_field": self.field}

    @property
    def description(self) -> str:
        """What is formatted, in a few words (``text field 'text'``)."""
        return f"text field {self.field!r}"

    def read_fields(self, record: dict) -> tuple[str]:
        return (text_field(record, self.field),)

    def format(self, record: dict, key: tuple | int = (), *, report: bool = False) -> Sample:
        """The ``Sample`` of one record: its field mixed with key ``key + (field,)``, all
        response. ``report`` as in ``Formatter.format``."""
        (text,) = self.read_fields(record)
        if not isinstance(key, tuple):
            key = (key,)
        reports, words, replaced = {}, 0, 0
        if self.mixer is not None:
            k = key + (self.field,)
            if report:
                result = self.mixer.mix_with_report(text, k)
                reports[self.field] = result
                text, words, replaced = result.text, result.words, result.replaced
            else:
                text, words, replaced = self.mixer.mix_counted(text, k)
        return Sample(
            prompt_segments=[], response=text, response_kind="text", prompt="",
            instruction="", input="", output=text, mixed_fields={self.field: text},
            reports=reports, segment_reports=[reports.get(self.field)] if report else [],
            words=words, replaced=replaced,
        )
