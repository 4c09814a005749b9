"""Formatted samples coloured like the paper's Figure 1: ``easylm-commit preview``.

Three kinds of text are marked:

- ``template``: the prompt template's own text (grey). Never mixed in ``commit`` mode.
- ``target``: a word the mixer replaced by its translation (purple).
- ``replaceable``: a word the dictionary covers but the draw kept in the source language
  (green) -- with alpha = 0.9 about one covered word in ten -- or wrote as itself through an
  identity pair (MUSE's ``1 1``): written unchanged, it is not counted as replaced either.
- ``protected``: code, a URL, an e-mail address or an identifier, copied byte for byte and
  never mixed (``protect.py``; cyan).

Everything else (uncovered words, spaces, punctuation) is plain. With ``languages``, each
sample also says the language it was mixed into, in that language's colour. The marks come from the
mixer's own report (``MixResult.replacements`` and ``.kept``), never from a second look-up,
so the preview cannot disagree with what training sees: record i is mixed with the key
``(epoch, i)``, as in ``easylm-commit mix`` and the training datasets.

A sample is a flat list of ``Span(text, classes)``; the spans concatenate to the exact
training text (prompt + response, or the mixed corpus text). In ``naive`` mode a template
word can be ``target`` too; its span then carries both classes. Prompt and response are
shown as two blocks (the response on a tinted ground): they are tokenized separately and only
the response is trained on (``tokens.py``), and Alpaca's prompt ends at ``### Response:``
without a newline, so printed as one string the response would run on after the colon.
"""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from easylm_commit.mixer import MixResult
    from easylm_commit.templates import Sample

TEMPLATE, TARGET, REPLACEABLE, PROTECTED = "template", "target", "replaceable", "protected"

# Terminal styles (rich) and page colours for the marks; a template word that was replaced
# (naive mode) shows as a replacement.
STYLES = {TEMPLATE: "grey50", TARGET: "bold purple", REPLACEABLE: "green", PROTECTED: "cyan"}
LEGEND = (
    (TEMPLATE, "template"),
    (TARGET, "replaced (target language)"),
    (REPLACEABLE, "in the dictionary, kept"),
    (PROTECTED, "protected (code, URL, e-mail, identifier: never mixed)"),
)
# Fonts: a browser falls back glyph by glyph along the list, so naming one font per script
# makes Devanagari, Tamil, Bengali, Thai and Greek render wherever any of these is installed
# (Noto on Linux, e.g. Debian's fonts-noto; Nirmala UI / Leelawadee UI on Windows; the Sangam
# and Kohinoor fonts and Thonburi on macOS) instead of as boxes. Greek is in every font listed
# first. The page says so under the legend (FONT_NOTE).
SCRIPT_FONTS = ('"Noto Sans Devanagari", "Noto Sans Tamil", "Noto Sans Bengali", "Noto Sans Thai", '
                '"Noto Sans", "Nirmala UI", "Leelawadee UI", "Kohinoor Devanagari", '
                '"Devanagari Sangam MN", "Tamil Sangam MN", "Bangla Sangam MN", "Thonburi", '
                '"Mangal", "Vrinda", "Latha", "Tahoma"')
MONO_FONTS = f'ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", "Noto Sans Mono", {SCRIPT_FONTS}, monospace'
SANS_FONTS = f'system-ui, "Segoe UI", "DejaVu Sans", {SCRIPT_FONTS}, sans-serif'
FONT_NOTE = ("Hindi, Tamil, Bengali, Thai and Greek text needs a font for its script: this page "
             "asks for Noto Sans Devanagari / Tamil / Bengali / Thai (Linux: the fonts-noto "
             "package), Nirmala UI or Leelawadee UI (Windows) and the Sangam, Kohinoor and "
             "Thonburi fonts (macOS). Boxes instead of letters mean none is installed.")
RESPONSE_NOTE = ("tinted strip: the response, the only part trained on (the prompt above it is "
                 "masked out of the loss; the two are tokenized separately)")
CSS = """
body { font-family: %(sans)s; max-width: 62em; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; }
h2 { font-size: 1em; margin-bottom: .3em; }
.meta, .counts { color: #555; font-size: .9em; }
.sample { white-space: pre-wrap; font-family: %(mono)s; line-height: 1.55;
          border: 1px solid #ddd; border-radius: 6px; padding: .8em 1em; }
.response { background: #f6f2fb; margin-top: .4em; padding: .2em .4em; border-radius: 4px; }
.template { color: #8a8a8a; }
.replaceable { color: #2b8a3e; }
.target { color: #7b2cbf; font-weight: 600; }
.protected { color: #0b7285; background: #e3fafc; }
.legend.response { background: #f6f2fb; padding: 0 .3em; border-radius: 4px; }
.lang { font-weight: 600; padding: 0 .4em; border-radius: 4px; color: #fff; }
""" % {"sans": SANS_FONTS, "mono": MONO_FONTS}
# With ``languages``: each language's colour, in the list's order (the page's left border and
# tag of a sample, the terminal's tag). Tableau's 10 categorical colours: told apart at a
# glance, none of them the marks' purple, green or grey; an eleventh language reuses the first.
LANGUAGE_COLOURS = ("#1f77b4", "#ff7f0e", "#d62728", "#8c564b", "#e377c2", "#17becf",
                    "#bcbd22", "#7f7f7f", "#2ca02c", "#9467bd")


def language_colours(codes: list[str]) -> dict[str, str]:
    """Each language code's colour (``LANGUAGE_COLOURS``, in ``codes``' order)."""
    return {code: LANGUAGE_COLOURS[i % len(LANGUAGE_COLOURS)] for i, code in enumerate(codes)}


@dataclasses.dataclass(frozen=True)
class Span:
    text: str
    classes: tuple = ()


@dataclasses.dataclass
class PreviewSample:
    title: str
    spans: list
    response_start: int = 0  # spans[:response_start] are the prompt (none for a corpus)
    words: int = 0
    covered: int = 0
    replaced: int = 0
    lang: str = ""  # the language it was mixed into (``languages``); else ""

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    @property
    def prompt_spans(self) -> list[Span]:
        return self.spans[:self.response_start]

    @property
    def response_spans(self) -> list[Span]:
        return self.spans[self.response_start:]

    def texts(self, cls: str) -> list[str]:
        """The texts of the spans that carry ``cls``, in order."""
        return [s.text for s in self.spans if cls in s.classes]


def report_spans(text: str, report: MixResult | None, base: tuple = ()) -> list[Span]:
    """Spans of one mixed text from its ``MixResult``; ``base`` classes go on every span."""
    if report is None:
        return [Span(text, base)] if text else []
    marks = [(r.out_start, r.out_end, TARGET if r.source != r.target else REPLACEABLE)
             for r in report.replacements]
    marks += [(start, end, REPLACEABLE) for start, end in report.kept]
    marks += [(p.out_start, p.out_end, PROTECTED) for p in report.protected]
    marks.sort()
    spans, pos = [], 0
    for start, end, cls in marks:
        if start > pos:
            spans.append(Span(text[pos:start], base))
        spans.append(Span(text[start:end], base + (cls,)))
        pos = end
    if pos < len(text):
        spans.append(Span(text[pos:], base))
    return spans


def preview_sample(sample: Sample, title: str) -> PreviewSample:
    """The ``PreviewSample`` of a transform's ``Sample`` made with ``report=True``: each of
    its pieces marked from its own report (``Sample.segment_reports``; template text carries
    the ``template`` class), the prompt's pieces before the response.

    In ``none`` mode nothing is mixed, but the words a mixer *could* replace are still
    marked: the reports are then the mixer's at alpha = 0, which list every covered word as
    kept (``Formatter.format``).
    """
    spans = []
    response_start = 0
    reports = sample.segment_reports or [None] * len(sample.segments)
    for i, ((text, kind), report) in enumerate(zip(sample.segments, reports)):
        if i == len(sample.prompt_segments):
            response_start = len(spans)
        spans += report_spans(text, report, (TEMPLATE,) if kind == TEMPLATE else ())
    preview = PreviewSample(title, spans, response_start=response_start, lang=sample.lang)
    _count(preview, reports)
    return preview


def _count(sample, reports):
    for r in reports:
        if r is not None:
            sample.words += r.words
            sample.covered += r.covered
            sample.replaced += r.replaced


def counts_line(sample: PreviewSample) -> str:
    return (f"{sample.replaced} of {sample.covered} covered words replaced "
            f"({sample.words} words in the mixed parts)")


def legend_items(samples: list[PreviewSample]) -> list[tuple[str, str]]:
    """The legend entries that apply: a corpus has no template."""
    has_template = any(TEMPLATE in span.classes for s in samples for span in s.spans)
    return [(cls, label) for cls, label in LEGEND if cls != TEMPLATE or has_template]


# -- terminal -----------------------------------------------------------------------------
def _style(classes):
    for cls in (TARGET, REPLACEABLE, TEMPLATE):
        if cls in classes:
            return STYLES[cls]
    return None


def to_rich_text(spans: list[Span]) -> Text:
    """The spans as one ``rich`` text, each in its mark's style (``STYLES``)."""
    from rich.text import Text

    text = Text()
    for span in spans:
        text.append(span.text, style=_style(span.classes))
    return text


def _languages(samples, codes):
    """The languages' colours: ``codes`` (the list's order), else those the samples carry."""
    return language_colours(list(codes or dict.fromkeys(s.lang for s in samples if s.lang)))


def render_terminal(samples: list[PreviewSample], console: Console, heading: str | None = None,
                    legend: bool = True, languages: list[str] = ()) -> None:
    """Print the samples; ``console`` is a ``rich.console.Console`` (it drops colour when
    the output is not a terminal). A sample mixed into a language (``languages``: the codes
    in the list's order, for their colours) is titled with it."""
    from rich.text import Text

    colours = _languages(samples, languages)

    if heading:
        console.print(Text(heading, style="bold"))
    if legend:
        line = Text()
        for i, (cls, label) in enumerate(legend_items(samples)):
            if i:
                line.append("  ")
            line.append(label, style=STYLES[cls])
        console.print(line)
    for sample in samples:
        title = Text(sample.title)
        if sample.lang:
            title = Text.assemble((f"[{sample.lang}]", f"bold {colours[sample.lang]}"), " ", title)
        console.rule(title)
        if sample.prompt_spans:
            console.print(to_rich_text(sample.prompt_spans))
        console.print(to_rich_text(sample.response_spans))
        console.print(Text(counts_line(sample), style="dim"))


# -- HTML ---------------------------------------------------------------------------------
def _span_html(span):
    text = html.escape(span.text, quote=False)
    if not span.classes:
        return text
    return f'<span class="{" ".join(span.classes)}">{text}</span>'


def render_html(samples: list[PreviewSample], heading: str = "COMMIT preview", meta: str = "",
                languages: list[str] = ()) -> str:
    """A standalone page: inline CSS, no scripts, every piece of data escaped. Each sample is
    a ``<div class="sample">`` whose spans carry the classes ``template``, ``target`` and
    ``replaceable``. A sample mixed into a language is a ``<section class="lang-CODE">``,
    tagged and bordered in its language's colour (``languages``: the codes in the list's
    order; default those of the samples), and the legend names the languages."""
    esc = html.escape
    colours = _languages(samples, languages)
    css = CSS + "".join(
        # Codes are letters, digits, - and _ (languages.parse): safe in a class name.
        f".lang-{code} .lang, .legend.lang-{code} {{ background: {colour}; }}\n"
        f"section.lang-{code} .sample {{ border-left: 6px solid {colour}; }}\n"
        for code, colour in colours.items())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title>",
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(heading)}</h1>",
    ]
    if meta:
        parts.append(f'<p class="meta">{esc(meta)}</p>')
    legend = " &middot; ".join(
        f'<span class="legend {cls}">{esc(label)}</span>' for cls, label in legend_items(samples))
    if any(sample.prompt_spans for sample in samples):
        legend += f' &middot; <span class="legend response">{esc(RESPONSE_NOTE)}</span>'
    parts.append(f'<p class="meta">{legend}</p>')
    if colours:
        parts.append('<p class="meta">languages: ' + " ".join(
            f'<span class="legend lang lang-{code}">{esc(code)}</span>' for code in colours) + "</p>")
    parts.append(f'<p class="meta fonts">{esc(FONT_NOTE)}</p>')
    for sample in samples:
        if sample.lang:
            parts.append(f'<section class="lang-{sample.lang}">')
            parts.append(f'<h2><span class="lang">{esc(sample.lang)}</span> {esc(sample.title)}</h2>')
        else:
            parts.append("<section>")
            parts.append(f"<h2>{esc(sample.title)}</h2>")
        blocks = []
        if sample.prompt_spans:
            blocks.append('<div class="prompt">' + "".join(map(_span_html, sample.prompt_spans)) + "</div>")
        blocks.append('<div class="response">' + "".join(map(_span_html, sample.response_spans)) + "</div>")
        parts.append('<div class="sample">' + "".join(blocks) + "</div>")
        parts.append(f'<p class="counts">{esc(counts_line(sample))}</p>')
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
