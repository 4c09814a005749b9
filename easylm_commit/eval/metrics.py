"""Exact match and token F1 for the paper's extractive QA benchmarks, per language.

``score(prediction, references, lang)`` returns ``{"exact_match": 0 or 1, "f1": float in [0, 1]}``,
the maximum over the references (as in SQuAD and MLQA). Everything hinges on
``normalize(text, lang)``, which turns an answer into a space-joined list of tokens:

``en``, ``hi``
    Exactly MLQA's official script (``mlqa_evaluation_v1.py``, facebookresearch/MLQA): lowercase,
    delete every Unicode punctuation character (categories ``P*``, plus ASCII punctuation), delete
    the articles ``a|an|the`` (English; Hindi has none), split on whitespace. For Hindi this means
    the danda ``।`` goes as punctuation and nothing else changes, as in MLQA's hi-hi numbers.
``el``
    Greek, not covered by MLQA. ``casefold`` (so final ``ς`` equals ``σ``), strip accents and
    diaeresis (the tonos is often dropped or misplaced in generated text, and SQuAD-style
    scoring is about the span, not its spelling), delete punctuation (this includes the Greek
    question mark and ano teleia), delete the definite articles ``ο η το οι τα του της των τον
    την τους τις`` (MLQA removes the definite articles for de/es in the same way), whitespace
    tokens. (Stripping accents turns "ή" (or) into the article "η", so "or" is dropped too; for
    answer spans that is harmless.)
``th``
    Thai writes no spaces between words, so whitespace tokens would make F1 all-or-nothing.
    After lowercasing (for embedded Latin), deleting punctuation and deleting whitespace (Thai
    spaces separate phrases, inconsistently), the text is segmented with PyThaiNLP's ``newmm``
    dictionary segmenter: a partial answer gets partial F1 credit, and EM compares the token
    sequences, so differences in spacing do not matter.
``ta``, ``bn`` (and any other language)
    Unicode NFC (the same vowel sign may be one or two code points), delete zero-width
    joiners/non-joiners (used inconsistently in Indic text, invisible to readers), lowercase
    (embedded Latin), delete punctuation (the danda ``।`` and double danda ``॥`` are ``Po``),
    whitespace tokens. No articles.

Empty gold answers. Two rules, chosen by the benchmark, never by the language:

- MLQA and XQuAD have no unanswerable questions, and their official scripts (MLQA's
  ``mlqa_evaluation_v1.py``, SQuAD v1.1's ``evaluate-v1.1.py``) score a gold answer that normalises
  to nothing like any other: EM = 1 only if the prediction normalises to nothing too, and F1 = 0
  always (no token in common). ``score`` does exactly that by default, so that for ``en`` and
  ``hi`` it equals MLQA's script on every input.
- IndicQA contains unanswerable questions (gold answer the empty string), scored as in SQuAD
  v2.0 when ``score(..., unanswerable=True)`` (the IndicQA tasks pass it). The prompt does not ask
  the model for a special token, because the instruction-tuned models never saw one; instead a
  prediction counts as "no answer" when it is empty after normalisation or equals one of a short
  list of "no answer" phrases (``NO_ANSWER``, in English and each target language, compared after
  normalisation). An empty gold answer then scores EM = F1 = 1 if the prediction is "no answer"
  and 0 otherwise; an answerable question scored against a "no answer" prediction gets 0 as usual.

With several references the best one counts. An empty list of references is read as ``[""]``.
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable

# Exactly MLQA's set: every code point whose category starts with P, plus ASCII punctuation
# (which adds the symbols $+<=>^`|~ that Unicode files under S*).
PUNCT = frozenset(
    chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")
) | frozenset(string.punctuation)

_EN_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Matched after casefold, which turns the final sigma of "της", "τους", "τις" into σ.
_EL_ARTICLES = re.compile(r"\b(ο|η|το|οι|τα|του|τησ|των|τον|την|τουσ|τισ)\b")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))

# "No answer" phrases, in the prompt languages a model may answer in. Compared after
# normalisation, so case, punctuation and Greek accents do not matter.
NO_ANSWER = {
    "en": ("no answer", "unanswerable", "not answerable", "cannot be answered",
           "none", "not mentioned", "not mentioned in the context", "unknown"),
    "hi": ("कोई उत्तर नहीं", "उत्तर नहीं", "उत्तर उपलब्ध नहीं है", "अज्ञात"),
    "el": ("καμία απάντηση", "δεν υπάρχει απάντηση", "άγνωστο"),
    "th": ("ไม่มีคำตอบ", "ไม่ทราบ", "ไม่ได้ระบุ"),
    "ta": ("பதில் இல்லை", "விடை இல்லை", "தெரியவில்லை"),
    "bn": ("কোন উত্তর নেই", "কোনো উত্তর নেই", "উত্তর নেই", "অজানা"),
}


def _remove_punct(text: str) -> str:
    return "".join(ch for ch in text if ch not in PUNCT)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    )


def _thai_words(text: str) -> list[str]:
    # Imported here: pythainlp loads its dictionary on first use, which only Thai needs.
    from pythainlp.tokenize import word_tokenize

    return [w for w in word_tokenize(text, engine="newmm", keep_whitespace=False) if w.strip()]


def tokens(text: str, lang: str) -> list[str]:
    """The normalised tokens of an answer in language ``lang`` (see the module docstring)."""
    if lang in ("en", "hi"):
        # MLQA's order: lower, punctuation, articles, whitespace split.
        text = _remove_punct(text.lower())
        if lang == "en":
            text = _EN_ARTICLES.sub(" ", text)
        return text.split()
    if lang == "el":
        text = _remove_punct(_strip_accents(text.casefold()))
        return _EL_ARTICLES.sub(" ", text).split()
    if lang == "th":
        # Thai puts spaces between phrases, not words, and not consistently; dropping them
        # before segmenting makes "กรุงเทพ มหานคร" and "กรุงเทพมหานคร" the same answer.
        return _thai_words("".join(_remove_punct(text.lower()).split()))
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    return _remove_punct(text.lower()).split()


def normalize(text: str, lang: str) -> str:
    """The normalised answer as one string: its tokens joined by single spaces."""
    return " ".join(tokens(text, lang))


@functools.lru_cache(maxsize=None)
def _no_answer_forms(lang: str) -> frozenset[str]:
    return frozenset(normalize(p, lang) for phrases in NO_ANSWER.values() for p in phrases)


def is_no_answer(prediction: str, lang: str) -> bool:
    """True if ``prediction`` says "no answer": empty after normalisation or a NO_ANSWER phrase."""
    norm = normalize(prediction, lang)
    return not norm or norm in _no_answer_forms(lang)


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def score(prediction: str, references: Iterable[str], lang: str, *,
          unanswerable: bool = False) -> dict[str, float]:
    """EM (0/1) and token F1 of ``prediction`` against the best of ``references``.

    Args:
        prediction: the model's answer.
        references: the gold answers; the best match counts.
        lang: the answer's language, which decides the normalisation (module docstring).
        unanswerable: the benchmark has unanswerable questions (IndicQA), marked by an
            empty reference or an empty ``references`` list; see the module docstring for
            both rules.

    Returns:
        ``{"exact_match": 0 or 1, "f1": float in [0, 1]}``.
    """
    pred_tokens = tokens(prediction, lang)
    best_em, best_f1 = 0, 0.0
    for reference in list(references) or [""]:
        gold_tokens = tokens(reference, lang)
        if not gold_tokens and unanswerable:
            em = int(is_no_answer(prediction, lang))
            f1 = float(em)
        else:
            # MLQA/SQuAD v1: an empty gold answer matches only an empty prediction, F1 is 0.
            em = int(pred_tokens == gold_tokens)
            f1 = _f1(pred_tokens, gold_tokens)
        best_em, best_f1 = max(best_em, em), max(best_f1, f1)
    return {"exact_match": best_em, "f1": best_f1}
