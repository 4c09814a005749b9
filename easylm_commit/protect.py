"""What is not prose: spans the mixer copies byte for byte and never mixes.

About one Alpaca record in ten holds code, SQL, JSON, a URL or an identifier, and COMMIT
trains on the response: a mixed ``for i in range(y):`` or ``https://www.कौन.int`` teaches
the model broken code. The paper's word model was made for prose, so before words are
drawn, these spans are cut out:

===============  ==========================================================================
kind             what
===============  ==========================================================================
``code``         fenced blocks (```` ``` ```` / ``~~~``), inline code (`` `x` ``), and blocks
                 of code without fences: runs of lines that read as Python, SQL, C-like
                 code, shell commands or markup, and JSON values that parse
``url``          ``scheme://...``, ``www.``..., with trailing sentence punctuation left out
``email``        ``name@host.tld``
``identifier``   ``snake_case``, ``camelCase``, ``a.b.c`` paths, ``name(args)`` calls,
                 ``<tags>`` and ``<placeholders>``
===============  ==========================================================================

Why rules and not a lexer: Pygments' ``guess_lexer`` (the obvious library) names a language
for any text, prose included -- it has no "this is not code" answer -- and costs ~1 ms per
call, more than mixing a whole record. What Alpaca holds is recognisable line by line: a
*strong* line (``def f(x):``, ``SELECT ... FROM``, ``x = f(y);``, ``import json``, a tag) makes
a block, and the weaker lines next to it (indented lines, ``return x``, ``count = 0``,
``# comments``, closing brackets, blank lines between code lines) join it. A block is
checked as a whole where a parser exists: Python blocks of two or more lines must parse
with ``ast`` after dedenting, else only their strong lines are kept. Precision and recall
on Stanford Alpaca's seed tasks and on our own cases are in README.md
(``benchmarks/protection.py`` measures them).

Everything here is plain ``re`` over ``str``: no JAX, no third-party import.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap

CODE, URL, EMAIL, IDENTIFIER = "code", "url", "email", "identifier"
# (start, end, kind): ``text[start:end]`` is copied as it is; kind is one of the four above.
Span = tuple[int, int, str]

# -- spans inside a line -------------------------------------------------------------------
_INLINE = re.compile(
    r"""
    (?P<fence>^[ \t]*(?P<fchar>```|~~~)[^\n]*\n(?:.*?\n)??[ \t]*(?P=fchar)[^\n]*$)
  | (?P<code>(?P<ticks>`+)[^`\n](?:.*?[^`\n])??(?P=ticks)(?!`))
  | (?P<url>\b(?:[a-zA-Z][a-zA-Z0-9+.-]*://|www\.)[^\s<>"'`]+)
  | (?P<email>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
  | (?P<tag></?[A-Za-z][\w:-]*(?:\s+[^<>\n]*)?/?>|<!DOCTYPE[^>\n]*>|<!--.*?-->)
  | (?P<call>\b[A-Za-z_][\w.]*\((?!s\))[^()\n]{0,80}\))
  | (?P<latex>\\[A-Za-z]+\*?(?:\[[^\]\n]*\])?(?:\{[^{}\n]*\})*)
  | (?P<assign>\b[A-Za-z_][\w.]*[ \t]*<-[ \t]*(?=\S))
  | (?P<reddit>(?<![\w/])/?[ru]/[A-Za-z0-9_]{2,}\b)
  | (?P<literal>\[[^\[\]\n]*[,:][^\[\]\n]*\]|\{[^{}\n]*[,:][^{}\n]*\})
  | (?P<path>\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?)
  | (?P<snake>\b\w*[A-Za-z0-9]_\w*|\b_+[A-Za-z]\w*)
  | (?P<camel>\b[a-z][a-z0-9]+[A-Z]\w*)
  | (?P<symbolic>(?<!\S)\S*[\\^{}|$]\S*(?!\S))
    """,
    re.VERBOSE | re.MULTILINE | re.DOTALL,
)
# Characters without which none of the alternatives above can match: most prose has none of
# them except '.', so the common case is one C-level scan that finds nothing.
_INLINE_HINT_CLASS = r"[`:@<(_\[{\\^|$]"
_INLINE_HINT = re.compile(_INLINE_HINT_CLASS + r"|\w\.\w|www\.|[a-z][A-Z]|\b[ru]/")
# ``_INLINE_HINT.search(text)``, evaluated part by part: one regex over the whole alternation
# costs ~30 us per Alpaca field (the engine tries every branch at every position), while a
# character class or a literal prefix lets the engine skip ahead in C. tests/test_protect.py
# checks that both give the same answer: change them together.
_HINT_CHARS = re.compile(_INLINE_HINT_CLASS)
# ``\w\.\w`` and ``[a-z][A-Z]`` led by their rarer character, the one before checked by a
# lookbehind: the engine skips ahead in C to each '.' or capital (a pattern that starts
# with [a-z] or \w stops at nearly every character of prose).
_DOT_AFTER_WORD = re.compile(r"\.(?<=\w\.)\w")
_CAPITAL_AFTER_LOWER = re.compile(r"[A-Z](?<=[a-z][A-Z])")
_REDDIT_HINT = re.compile(r"\b[ru]/")


def _hint_beyond_characters(text: str) -> bool:
    return bool(_DOT_AFTER_WORD.search(text) or _CAPITAL_AFTER_LOWER.search(text)
                or ("/" in text and _REDDIT_HINT.search(text)))


def inline_hint(text: str) -> bool:
    """``bool(_INLINE_HINT.search(text))``, faster. The gate before the colon rule below;
    nothing calls it but tests/test_protect.py, which holds ``inline_scan_needed`` to it:
    it is the definition that the faster gates are checked against."""
    return bool(_HINT_CHARS.search(text) or "www." in text or _hint_beyond_characters(text))


# The colon is in _INLINE_HINT for "://", and prose is full of colons ("the following:"),
# where _INLINE's full scan costs ~100 us a text and finds nothing. When the colon is the
# only hint, the alternatives of _INLINE that can still match are a "~~~" fence, a
# "scheme://" URL, a camelCase word with a digit before its capital ("ab1C") and a symbolic
# token with a "}", so the scan runs only when one of those is possible. tests/test_protect.py checks on generated texts
# that wherever _INLINE matches, this says so: keep it in step with _INLINE.
_HINT_CHARS_BUT_COLON = re.compile(_INLINE_HINT_CLASS.replace(":", ""))
_DIGIT_CAPITAL = re.compile(r"[0-9][A-Z]")


def inline_scan_needed(text: str) -> bool:
    """``inline_hint(text)``, less the texts where _INLINE cannot match (above)."""
    return bool(_HINT_CHARS_BUT_COLON.search(text)) or _inline_scan_beyond_characters(text)


def _inline_scan_beyond_characters(text: str) -> bool:
    """``inline_scan_needed`` for a text without any character of _HINT_CHARS_BUT_COLON."""
    if "www." in text or _hint_beyond_characters(text):
        return True
    return ":" in text and ("://" in text or "~~~" in text or "}" in text
                            or _DIGIT_CAPITAL.search(text) is not None)


_URL_TRAILING = ".,;:!?'\")]}"
# "e.g.", "i.e.", "U.S.C.", "A.M.": dotted abbreviations are words of prose, not paths.
_ABBREVIATION = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?")

_KIND_OF_GROUP = {
    "fence": CODE, "code": CODE, "url": URL, "email": EMAIL, "tag": IDENTIFIER,
    "call": IDENTIFIER, "path": IDENTIFIER, "snake": IDENTIFIER, "camel": IDENTIFIER,
    "reddit": IDENTIFIER, "literal": CODE, "symbolic": CODE, "latex": CODE, "assign": CODE,
}

# -- lines of code -------------------------------------------------------------------------
# A strong line is code on its own; a weak line is code only next to other code lines.
_STRONG = re.compile(
    r"""^[ \t]*(?:
        (?:async[ \t]+)?def[ \t]+\w+[ \t]*\(.*\)[^:\n]*:[ \t]*(?:\#.*)?$
      | class[ \t]+\w+[ \t]*(?:\(.*\))?[ \t]*:[ \t]*$
      | import[ \t]+[\w.]+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[\w.]+)*[ \t]*$
      | from[ \t]+[\w.]+[ \t]+import[ \t]+.+$
      | (?:if|elif|while)[ \t]+.*[=<>!()\[\]].*:[ \t]*$
      | for[ \t]+\w+(?:[ \t]*,[ \t]*\w+)*[ \t]+in[ \t]+(?:[\w.]+|[\w.]*[(\[].*)[ \t]*:[ \t]*$
      | with[ \t]+.+[ \t]+as[ \t]+\w+[ \t]*:[ \t]*$
      | (?:try|else|finally)[ \t]*:[ \t]*$
      | except\b.*:[ \t]*$
      | (?:SELECT|INSERT[ \t]+INTO|UPDATE|DELETE[ \t]+FROM|CREATE[ \t]+(?:TABLE|INDEX|VIEW)|DROP[ \t]+TABLE|ALTER[ \t]+TABLE)\b
        (?=.*\b(?:FROM|INTO|SET|TABLE|WHERE|VALUES|INDEX|VIEW)\b|.*\*|.*,)
      | select[ \t]+(?:[\w.*]+[ \t]*,[ \t]*)*[\w.*]+[ \t]+from[ \t]+\w+.*$
      | select[ \t]+[\w.*]+(?:[ \t]*,[ \t]*[\w.*]+)+[ \t]*$
      | [A-Za-z_][\w.]*[ \t]*<-[ \t]*\S.*$
      | [A-Za-z_][\w.]*\((?:[^()\n]|\([^()\n]*\))*\)[ \t]*;?[ \t]*$
      | (?:var|let|const)[ \t]+\w+[ \t]*=.*$
      | (?:function[ \t]+\w+|public|private|protected|static)[ \t]*[\w<>\[\]]*[ \t]*\(.*\).*$
      | (?:\#include|\#define|using[ \t]+namespace)\b.*$
      | [^\n]*[=()\[\]][^\n]*;[ \t]*(?://.*)?$
      | [^\n]*\)[ \t]*\{[ \t]*$
      | \$[ \t]+\S.*$
      | (?:pip3?[ \t]+(?:install|uninstall|freeze|show)|python3?[ \t]+(?:-\w|\S+\.py\b)
         |git[ \t]+(?:clone|status|commit|push|pull|add|checkout|log|diff|init|branch|merge|rebase)
         |npm[ \t]+(?:install|i|run|start|test)|conda[ \t]+(?:install|create|activate)
         |sudo[ \t]+\w|curl[ \t]+(?:-\w|https?://)|wget[ \t]+\S|mkdir[ \t]+(?:-p[ \t]+)?[\w./~-]+[ \t]*$
         |cd[ \t]+[\w./~-]+[ \t]*$|export[ \t]+\w+=).*$
      | (?:public|private|protected|class|interface|struct|enum|namespace|function|fn|func)\b[^\n]*\{[ \t]*$
    )""",
    re.VERBOSE | re.MULTILINE,
)
_WEAK = re.compile(
    r"""^[ \t]*(?:
        (?:return|yield|raise|assert|print|pass|break|continue|del|global|nonlocal)\b.*$
      | [A-Za-z_][\w.]*(?:\[[^\]\n]*\])?(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*(?:[-+*/%&|^]|//|\*\*)?=[ \t]*[^=\s].*$
      | [\w.]+\(.*\)[ \t]*$
      | [\#]|//|/\*|\*/|--[ \t]
      | [)\]}]+[;,]?[ \t]*$
      | (?:FROM|WHERE|JOIN|GROUP[ \t]+BY|ORDER[ \t]+BY|HAVING|LIMIT|VALUES|AND|OR|ON|SET)\b.*$
      | (?:from|where|(?:left[ \t]+|right[ \t]+|inner[ \t]+|outer[ \t]+)?join|group[ \t]+by|order[ \t]+by|on)[ \t]+[\w.]+.*$
      | ;[ \t]*$
      | (?:'''|\"\"\").*$
      | @\w+.*$
    )""",
    re.VERBOSE | re.MULTILINE,
)
# ``pattern.match(text, pos, endpos)`` honours ``^`` at ``pos`` only with MULTILINE.
_INDENTED = re.compile(r"^(?:    |\t)[ \t]*\S", re.MULTILINE)
# Lines without any of these cannot be strong lines: most prose is rejected by this one scan.
_LINE_HINT_CLASS = r"[;{}=<>#$^*\\]"
_LINE_KEYWORDS = (r"[ \t]*(?:def|class|import|from|for|if|while|with|try|SELECT|INSERT|UPDATE|DELETE|"
                  r"CREATE|DROP|ALTER|select|pip3?|git|python3?|npm|conda|sudo|curl|wget|mkdir|cd|export)\b")
_LINE_HINT = re.compile(_LINE_HINT_CLASS + r"|\)\s*:?\s*$|^" + _LINE_KEYWORDS, re.MULTILINE)
_DOCSTRING = re.compile(r"('''|\"\"\")")
# ``_LINE_HINT.search(text)`` part by part, as ``inline_hint`` (same test).
_LINE_HINT_CHARS = re.compile(_LINE_HINT_CLASS)
_FIRST_LINE_KEYWORD = re.compile(_LINE_KEYWORDS)
_LINE_KEYWORD = re.compile("\n" + _LINE_KEYWORDS)
_PAREN_AT_END = re.compile(r"\)\s*:?\s*$", re.MULTILINE)


def line_hint(text: str) -> bool:
    """``bool(_LINE_HINT.search(text))``, faster."""
    return bool(_LINE_HINT_CHARS.search(text)) or _line_hint_beyond_characters(text)


def _line_hint_beyond_characters(text: str) -> bool:
    """``line_hint`` for a text without any character of _LINE_HINT_CLASS."""
    return bool(_FIRST_LINE_KEYWORD.match(text) or _LINE_KEYWORD.search(text)
                or (")" in text and _PAREN_AT_END.search(text)))


# Every character of _LINE_HINT_CLASS and _HINT_CHARS_BUT_COLON (tests/test_protect.py
# checks the union): prose without any of them, most of it, is cleared by one scan instead
# of one per class.
_ANY_HINT_CHARS = re.compile(r"[;{}=<>#$^*\\`@(_\[|]")


# ASCII text as bytes mapped to classes, for the two scans that cost most on prose: a
# character of either hint class is "!", a lowercase letter "a", a capital "A" ([a-z][A-Z]
# is then the bytes "aA"). bytes.translate and a bytes search are plain C loops, several
# times faster than the regex engine's scan of a character class.
_ASCII_CLASSES = bytes(
    ord("!" if _ANY_HINT_CHARS.match(chr(c)) else "a" if "a" <= chr(c) <= "z"
        else "A" if "A" <= chr(c) <= "Z" else " ")
    for c in range(256))


def no_hint(text: str) -> bool:
    """``not line_hint(text) and not inline_scan_needed(text)``, faster: no rule can match."""
    if text.isascii():
        classes = text.encode("ascii").translate(_ASCII_CLASSES)
        if b"!" in classes or b"aA" in classes:
            return False
    elif _ANY_HINT_CHARS.search(text) or _CAPITAL_AFTER_LOWER.search(text):
        return False
    # What is left of both hints beyond those (_line_hint_beyond_characters and
    # _inline_scan_beyond_characters, less the character classes and [a-z][A-Z]).
    return not (
        _line_hint_beyond_characters(text) or "www." in text or _DOT_AFTER_WORD.search(text)
        or ("/" in text and _REDDIT_HINT.search(text))
        or (":" in text and ("://" in text or "~~~" in text or "}" in text
                             or _DIGIT_CAPITAL.search(text) is not None)))


_CODE_SYMBOLS = frozenset("{}[]<>|\\^$*=+/#~@`%&")


def _symbol_dense(text, s, e):
    """A line whose visible characters are mostly symbols (``^[0-9].*\\s$``, ``a[i] += b``):
    a regular expression, an expression, a formula -- not prose."""
    line = text[s:e]
    visible = len(line) - line.count(" ") - line.count("\t")
    if visible < 6:
        return False
    # Underscores are blanks to fill in ("3 ft = _____ in."), not symbols of code.
    symbols = visible - sum(c.isalnum() for c in line) - line.count("_")
    if symbols < 4 or 2 * symbols < visible:
        return False
    # Prose punctuation alone ("i, i, i; ...") or one symbol repeated (a "|" grid) is not
    # code: at least two different symbols that prose does not use.
    return len(_CODE_SYMBOLS.intersection(line)) >= 2


def _line_spans(text):
    """[(start, end_without_newline)] of every line."""
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _python_parses(block):
    try:
        ast.parse(textwrap.dedent(block))
    except (SyntaxError, ValueError):
        return False
    return True


def _code_lines(text):
    """(start, end) of runs of lines that are code, by the strong/weak line rules."""
    if not line_hint(text):
        return []
    lines = _line_spans(text)
    strong = [bool(_STRONG.match(text, s, e)) or _symbol_dense(text, s, e) for s, e in lines]
    if not any(strong):
        return []
    n = len(lines)
    member = list(strong)

    def weak(i):
        s, e = lines[i]
        return bool(_WEAK.match(text, s, e) or _INDENTED.match(text, s, e))

    # Grow each block of strong lines over the weak lines around it (both directions), over
    # triple-quoted docstrings, and over blank lines that sit between code lines, until
    # nothing changes (a docstring can bring the next code line within reach).
    # Triple-quoted strings, paired across the whole text: (first line, last line).
    strings, opened = [], None
    for i, (s, e) in enumerate(lines):
        if len(_DOCSTRING.findall(text, s, e)) % 2:
            if opened is None:
                opened = i
            else:
                strings.append((opened, i))
                opened = None

    def blank(i):
        s, e = lines[i]
        return not text[s:e].strip()

    # Grow each block of strong lines over the weak lines around it, over blank lines that
    # sit between code lines, and over whole docstrings, until nothing changes.
    changed = True
    while changed:
        changed = False
        for i in range(n):
            if member[i] or not ((i > 0 and member[i - 1]) or (i + 1 < n and member[i + 1])):
                continue
            if blank(i):
                before = i - 1
                after = i + 1
                while after < n and blank(after):
                    after += 1
                code_before = before >= 0 and (member[before] or weak(before))
                code_after = after < n and (member[after] or weak(after))
                if code_before and code_after:
                    member[i] = changed = True
            elif weak(i):
                member[i] = changed = True
        for a, b in strings:
            if any(member[a:b + 1]) and not all(member[a:b + 1]):
                member[a:b + 1] = [True] * (b + 1 - a)
                changed = True
    runs, i = [], 0
    while i < n:
        if not member[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and member[j + 1]:
            j += 1
        # Trailing blank lines are not part of the block.
        while j > i and not text[lines[j][0]:lines[j][1]].strip():
            j -= 1
        start, end = lines[i][0], lines[j][1]
        block = text[start:end]
        if j > i and sum(strong[i:j + 1]) < 2 and _looks_python(block) and not _python_parses(block):
            # One "Python" line with weak lines around it that do not parse together is
            # more likely prose with a colon than code: keep the strong line alone. Two
            # strong lines are code even when broken (Alpaca has unindented bodies).
            runs.extend(lines[k] for k in range(i, j + 1) if strong[k])
        else:
            runs.append((start, end))
        i = j + 1
    return runs


_PYTHONISH = re.compile(r"^[ \t]*(?:def|class|import|for|if|while|with|try|return)\b", re.MULTILINE)
_OTHER_LANGUAGE = re.compile(r"[;{}]|^[ \t]*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|<)", re.MULTILINE)


def _looks_python(block):
    return bool(_PYTHONISH.search(block)) and not _OTHER_LANGUAGE.search(block)


_QUOTED = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")
# Two words side by side with nothing but space between them: prose, not arguments.
_PROSE_ARGS = re.compile(r"[A-Za-z0-9_]\s+[A-Za-z0-9_]")


def _is_json(text):
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _json_value(text):
    """The span of a whole text (stripped) that is a JSON object or array holding strings."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] not in "[{" or stripped[-1] not in "]}":
        return []
    if not _is_json(stripped):
        return []
    start = text.index(stripped[0])
    return [(start, start + len(stripped))]


def protected_spans(text: str) -> list[Span]:
    """Sorted, non-overlapping ``(start, end, kind)`` spans of ``text`` that are not prose.

    Returns:
        A list of spans in ``text``'s own offsets; empty for plain prose (the common case,
        decided by two C-level scans).
    """
    spans = [(s, e, CODE) for s, e in _json_value(text)]
    if spans:
        return spans
    if no_hint(text):
        return []
    blocks = [(s, e, CODE) for s, e in _code_lines(text)] if line_hint(text) else []
    inline = []
    if inline_scan_needed(text):
        for m in _INLINE.finditer(text):
            group = m.lastgroup  # the outermost named group: inner ones close first
            start, end = m.span()
            if group == "url":
                while end > start and text[end - 1] in _URL_TRAILING:
                    # Keep a closing bracket that closes one opened inside the URL.
                    ch = text[end - 1]
                    if ch == ")" and text.count("(", start, end) >= text.count(")", start, end):
                        break
                    end -= 1
            elif group == "path" and _ABBREVIATION.fullmatch(text, start, end):
                continue
            elif group == "call" and _PROSE_ARGS.search(_QUOTED.sub("", text[text.index("(", start) + 1:end - 1])):
                continue  # "sugar(100 g)", "area(of study)": a word and a remark in brackets
            elif group == "literal" and not (_is_json(text[start:end]) or _symbol_dense(text, start, end)):
                continue  # "[person name]", "[Naruto]": brackets of prose
            elif group == "symbolic" and not _symbol_dense(text, start, end):
                continue  # "$3.50", "A|B": a symbol or two in a word of prose
            if end > start:
                inline.append((start, end, _KIND_OF_GROUP[group]))
    if not blocks:
        return inline
    if not inline:
        return blocks
    return merge_spans(blocks + inline)


def merge_spans(spans: list[Span]) -> list[Span]:
    """Sorted spans with overlaps merged; a merged span keeps the kind of its first part
    (blocks come first at equal starts, so code wins over what it contains)."""
    spans = sorted(spans, key=lambda s: (s[0], -s[1]))
    out = []
    for s, e, kind in spans:
        if out and s < out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e, out[-1][2])
            continue
        out.append((s, e, kind))
    return out
