"""EM/F1 per language: hand-checked cases in every language, and for en/hi agreement with MLQA's
official evaluation script on generated inputs, gold answers that normalise to nothing included."""

import re
import string
import sys
import unicodedata
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from easylm_commit.eval.metrics import is_no_answer, score, tokens


# --- Reference: MLQA's official scoring for en and hi ------------------------------------
# Re-stated from facebookresearch/MLQA, mlqa_evaluation_v1.py (normalize_answer, f1_score,
# exact_match_score, metric_max_over_ground_truths): lowercase, drop characters of Unicode
# categories P* and string.punctuation, replace \b(a|an|the)\b by a space for en (hi has no
# articles), split on whitespace; F1 on token multisets, 0 when nothing is shared -- so a gold
# answer that normalises to nothing gets F1 0 whatever the prediction, and EM 1 only from a
# prediction that normalises to nothing too.
_MLQA_PUNCT = {chr(i) for i in range(sys.maxunicode)
               if unicodedata.category(chr(i)).startswith("P")} | set(string.punctuation)


def mlqa_normalize(s, lang):
    s = "".join(ch for ch in s.lower() if ch not in _MLQA_PUNCT)
    if lang == "en":
        s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(t for t in s.split() if t.strip() != "")


def mlqa_scores(prediction, ground_truths, lang):
    def f1(pred, gold):
        p, g = mlqa_normalize(pred, lang).split(), mlqa_normalize(gold, lang).split()
        same = sum((Counter(p) & Counter(g)).values())
        if same == 0:
            return 0
        precision, recall = same / len(p), same / len(g)
        return 2 * precision * recall / (precision + recall)

    em = max(mlqa_normalize(prediction, lang) == mlqa_normalize(g, lang) for g in ground_truths)
    return {"exact_match": int(em), "f1": max(f1(prediction, g) for g in ground_truths)}


WORDS = ["the", "The", "a", "An", "an", "THE", "Paris", "paris", "tower", "Eiffel", "1889",
         "दिल्ली", "भारत", "की", "राजधानी", "है", "हिमालय", "से", "theatre", "abc", "anA"]
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(list(" \t\n.,;:!?'\"()-–—।॥¿¡«»…$+<>|~")),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4),
)
ANSWERS = st.lists(PIECES, max_size=12).map(" ".join)
# Answers that normalise to nothing in en (articles, punctuation, spaces) or in hi (punctuation).
EMPTY_NORMALISING = st.lists(st.sampled_from(["", " ", "the", "A", "an", ".", "।", "॥", "?!", "—",
                                              "\t", "«»", "The."]), max_size=4).map(" ".join)


@settings(max_examples=600, deadline=None)
@given(prediction=st.one_of(ANSWERS, EMPTY_NORMALISING),
       references=st.lists(st.one_of(ANSWERS, EMPTY_NORMALISING), min_size=1, max_size=3),
       lang=st.sampled_from(["en", "hi"]))
def test_en_and_hi_agree_with_mlqa_official_script(prediction, references, lang):
    ours = score(prediction, references, lang)
    ref = mlqa_scores(prediction, references, lang)
    assert ours["exact_match"] == ref["exact_match"]
    assert ours["f1"] == pytest.approx(ref["f1"])


@pytest.mark.parametrize("lang, gold", [("en", "The."), ("en", ""), ("hi", "।"), ("hi", " ")])
def test_gold_normalising_to_nothing_is_scored_as_mlqas_script_does(lang, gold):
    # EM compares normalised strings ("" == ""); F1 has no token in common, hence 0.
    assert score("", [gold], lang) == {"exact_match": 1, "f1": 0.0}
    assert score("a", [gold], lang) == mlqa_scores("a", [gold], lang)
    assert score("Paris", [gold], lang) == {"exact_match": 0, "f1": 0.0}
    # No "no answer" phrase is special outside IndicQA.
    assert score("No answer", [gold], lang) == {"exact_match": 0, "f1": 0.0}
    # With another, answerable reference the best one counts, as in the script.
    assert score("Paris", [gold, "paris"], lang) == {"exact_match": 1, "f1": 1.0}


# --- Hand-checked cases, language by language ---------------------------------------------

def test_english_drops_articles_and_punctuation():
    assert score("The Eiffel Tower.", ["Eiffel Tower"], "en") == {"exact_match": 1, "f1": 1.0}
    # pred {in, paris, france} vs gold {paris}: P = 1/3, R = 1 -> F1 = 0.5
    assert score("in Paris, France", ["Paris"], "en") == {"exact_match": 0, "f1": 0.5}
    # best of several references counts
    assert score("1889", ["in 1889", "1889"], "en")["exact_match"] == 1


def test_hindi_drops_danda_and_keeps_postpositions():
    assert score("दिल्ली।", ["दिल्ली"], "hi") == {"exact_match": 1, "f1": 1.0}
    # {हिमालय, से, निकलती} vs {हिमालय, से}: P = 2/3, R = 1 -> F1 = 0.8
    result = score("हिमालय से निकलती", ["हिमालय से"], "hi")
    assert result["exact_match"] == 0 and result["f1"] == pytest.approx(0.8)


def test_greek_ignores_case_accents_final_sigma_and_articles():
    assert tokens("Η Αθήνα, ΟΔΟΣ;", "el") == ["αθηνα", "οδοσ"]
    assert score("Η Αθήνα", ["αθηνα"], "el")["exact_match"] == 1
    assert score("ΟΔΟΣ", ["οδός"], "el")["exact_match"] == 1
    # {στην, αθηνα, ελλαδας} (article της dropped) vs {αθηνα}: P = 1/3, R = 1 -> F1 = 0.5
    assert score("στην Αθήνα της Ελλάδας", ["Αθήνα"], "el") == {"exact_match": 0, "f1": 0.5}


def test_thai_is_segmented_into_words_so_partial_answers_get_credit():
    assert tokens("แม่น้ำเจ้าพระยา", "th") == ["แม่น้ำ", "เจ้าพระยา"]
    # {เจ้าพระยา} vs {แม่น้ำ, เจ้าพระยา}: P = 1, R = 1/2 -> F1 = 2/3
    result = score("เจ้าพระยา", ["แม่น้ำเจ้าพระยา"], "th")
    assert result["exact_match"] == 0 and result["f1"] == pytest.approx(2 / 3)
    # spacing and punctuation do not matter
    assert score("กรุงเทพ มหานคร", ["กรุงเทพมหานคร"], "th")["exact_match"] == 1
    assert tokens("ในปี พ.ศ. 2500", "th") == ["ใน", "ปี", "พศ", "2500"]


def test_tamil_normalises_unicode_and_punctuation():
    assert score("சென்னை.", ["சென்னை"], "ta") == {"exact_match": 1, "f1": 1.0}
    # கொ written as one code point (U+0B95 U+0BCA) or decomposed (U+0B95 U+0BC6 U+0BBE)
    assert score("\u0b95\u0bc6\u0bbe\u0b9f\u0bc8", ["\u0b95\u0bca\u0b9f\u0bc8"], "ta")["exact_match"] == 1
    # {மீனாட்சி, கோயில்} vs {மீனாட்சி, கோயிலுக்கு}: P = R = 1/2 -> F1 = 0.5
    assert score("மீனாட்சி கோயில்", ["மீனாட்சி கோயிலுக்கு"], "ta")["f1"] == pytest.approx(0.5)


def test_bengali_drops_danda_and_zero_width_joiners():
    assert score("১৯১৩ সালে।", ["১৯১৩ সালে"], "bn") == {"exact_match": 1, "f1": 1.0}
    # {১৯১৩} vs {১৯১৩, সালে}: P = 1, R = 1/2 -> F1 = 2/3
    assert score("১৯১৩", ["১৯১৩ সালে"], "bn")["f1"] == pytest.approx(2 / 3)
    assert score("র\u200d্যাব", ["র্যাব"], "bn")["exact_match"] == 1
    assert score("\u09df", ["\u09af\u09bc"], "bn")["exact_match"] == 1  # য় either way


# --- Unanswerable questions (IndicQA only): SQuAD v2 convention ----------------------------

@pytest.mark.parametrize("prediction", ["", "  ", "।", "No answer.", "unanswerable",
                                        "பதில் இல்லை", "কোনো উত্তর নেই।", "ไม่มีคำตอบ"])
def test_empty_gold_scores_one_for_a_no_answer_prediction(prediction):
    for lang in ("ta", "bn"):
        assert score(prediction, [""], lang, unanswerable=True) == {"exact_match": 1, "f1": 1.0}
        assert score(prediction, [], lang, unanswerable=True) == {"exact_match": 1, "f1": 1.0}


def test_empty_gold_scores_zero_for_any_answer():
    assert score("சென்னை", [""], "ta", unanswerable=True) == {"exact_match": 0, "f1": 0.0}
    assert score("no answer here is Dhaka", [], "bn", unanswerable=True) == {
        "exact_match": 0, "f1": 0.0}


def test_no_answer_prediction_scores_zero_on_an_answerable_question():
    assert is_no_answer("No answer", "bn")
    assert score("No answer", ["ঢাকা"], "bn", unanswerable=True) == {"exact_match": 0, "f1": 0.0}
    assert not is_no_answer("ঢাকা", "bn")


def test_the_no_answer_rule_is_the_indicqa_tasks_choice_not_the_languages():
    # The same Tamil empty gold, scored without the IndicQA rule: MLQA/SQuAD v1 behaviour.
    assert score("", [""], "ta") == {"exact_match": 1, "f1": 0.0}
    assert score("பதில் இல்லை", [""], "ta") == {"exact_match": 0, "f1": 0.0}
    # And with it, in any language.
    assert score("no answer", [""], "hi", unanswerable=True) == {"exact_match": 1, "f1": 1.0}
