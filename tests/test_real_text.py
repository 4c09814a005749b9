"""Issue 10: mixing real text. Code, URLs, e-mails, identifiers and acronyms are kept byte
for byte while the prose around them is mixed; joiners, normal forms, Greek capitals and Thai
are handled; prose without code is mixed exactly as before; one switch gives the paper's
plain word model back.

The records here are written in the style of Stanford Alpaca's human-written seed tasks
(``seed_tasks.jsonl``): the kinds of code, SQL, JSON, URLs and lists they hold.
"""

import json
import logging
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from easylm_commit import demo, mixer as mixer_module
from easylm_commit.cli import main
from easylm_commit.dictionary import BilingualDictionary, restore_case
from easylm_commit.mixer import CodeMixer
from easylm_commit.protect import protected_spans

PYTHON = '''def greet_to(name):
    """Print a greeting to the name provided."""
    # TODO: assert name is a string
    print("Hello, " + name + "!")'''

COUNT = '''def count_x(x, y):
    count = 0
    for i in range(y):
        if i == x:
            count += 1
    return count'''

SQL = "SELECT d.name, d.budget FROM instructor i JOIN department d ON i.dept_name = d.name"
JSON_BLOCK = '{"name": "water", "about": ["life", "the world"], "count": 2}'
JS = "var newDate = new Date();\nconsole.log(newDate.toLocaleString());"
FENCED = "```python\nfor word in the_list:\n    print(word)\n```"

RECORDS = [
    {"id": "code_todo", "instruction": "Replace the TODO comment in the code with the proper code.",
     "input": PYTHON, "output": COUNT},
    {"id": "text_to_sql", "instruction": "Write the SQL query for the question.",
     "input": "What is the name of the department?", "output": SQL},
    {"id": "json", "instruction": "Give the answer as JSON.", "input": "",
     "output": JSON_BLOCK},
    {"id": "url", "instruction": "Where can I read about the WHO?",
     "input": "", "output": "Read https://www.who.int/about and mail info@who.int for more."},
    {"id": "inline", "instruction": "Explain `count_x` and what snake_case or camelCase is.",
     "input": "", "output": "The greet_to(name) function and obj.attr.path are here. " + FENCED
     + "\nThe answer is in the list.\n" + JS},
    {"id": "case", "instruction": "The WHO and the US said IT is good.",
     "input": "", "output": "WATER is LIFE. The water is good."},
]


def mix_demo(tmp_path, records, *extra):
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "mixed.jsonl"
    assert main(["mix", "--quiet", "--demo", "--alpha", "1", "--input", str(data),
                 "--output", str(out), *extra]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return {r["id"]: r for r in mix_demo(tmp_path_factory.mktemp("mix"), RECORDS)}


# -- protected spans are copied byte for byte, prose around them is mixed ---------------------

@pytest.mark.parametrize("record_id, field, kept", [
    ("code_todo", "input", PYTHON),
    ("code_todo", "output", COUNT),
    ("text_to_sql", "output", SQL),
    ("json", "output", JSON_BLOCK),
    ("url", "output", "https://www.who.int/about"),
    ("url", "output", "info@who.int"),
    ("inline", "instruction", "`count_x`"),
    ("inline", "instruction", "snake_case"),
    ("inline", "instruction", "camelCase"),
    ("inline", "output", "greet_to(name)"),
    ("inline", "output", "obj.attr.path"),
    ("inline", "output", FENCED),
    ("inline", "output", JS),
])
def test_what_is_not_prose_is_kept_byte_for_byte(mixed, record_id, field, kept):
    assert kept in mixed[record_id][field]
    assert kept in mixed[record_id]["prompt"] + mixed[record_id]["response"]


def test_the_prose_around_protected_spans_is_still_mixed(mixed):
    # "Replace the TODO comment in the code with the proper code." ("replace" is not in the
    # demo dictionary; TODO is emphasis in capitals, not covered either).
    assert mixed["code_todo"]["instruction"].startswith("Replace वह TODO comment में वह")
    assert mixed["text_to_sql"]["input"] == "क्या है वह नाम के वह department?"
    out = mixed["url"]["output"]
    assert out == "पढ़ते https://www.who.int/about और mail info@who.int लिए अधिक."
    assert "\nवह जवाब है में वह सूची.\n" in mixed["inline"]["output"]   # "The answer is in the list."


def test_the_template_and_other_fields_are_untouched(mixed):
    assert mixed["json"]["id"] == "json"
    assert mixed["code_todo"]["prompt"].startswith("Below is an instruction that describes a task")


def test_issue_examples_are_kept():
    mixer = CodeMixer(BilingualDictionary.load(demo.DEMO_DICTIONARY), 1.0)
    for text in ("def greet_to(name):\n    return name", "for i in range(y):\n    count += 1",
                 "https://www.who.int/about"):
        assert mixer.mix(text) == text
    # One variable keeps one name: no "गिनें = 0 ... गिनो += 1".
    assert mixer.mix(COUNT) == COUNT


# -- the case policy ------------------------------------------------------------------------

def test_short_capitals_are_acronyms_longer_capitals_and_title_case_mix(mixed):
    instruction = mixed["case"]["instruction"]
    for acronym in ("WHO", "US", "IT"):
        assert re.search(rf"\b{acronym}\b", instruction), instruction
    assert instruction.startswith("वह WHO और वह US")                  # "The" (Title) mixed
    assert mixed["case"]["output"].startswith("पानी है जीवन.")          # WATER, LIFE mixed


def test_an_acronym_in_the_dictionary_in_capitals_is_mixed():
    d = BilingualDictionary.from_pairs([("who", "कौन"), ("WHO", "डब्ल्यूएचओ")])
    assert CodeMixer(d, 1.0).mix("WHO said who") == "डब्ल्यूएचओ said कौन"


def test_mixed_case_words_match_exactly_or_not_at_all():
    d = BilingualDictionary.from_pairs([("iphone", "x"), ("mcdonald", "y"), ("iPad", "z")])
    assert CodeMixer(d, 1.0).mix("iPhone McDonald iPad") == "iPhone McDonald z"


# -- words and normal forms -----------------------------------------------------------------

def test_a_zero_width_joiner_inside_a_word_joins_it():
    word = "র\u200d্যাব"                   # Bengali, with a ZWJ before the virama
    d = BilingualDictionary.from_pairs([("rab", word)], reverse=True)
    mixer = CodeMixer(d, 1.0)
    assert mixer.segment(f"এই {word} দল")[0][1::2] == ["এই", word, "দল"]
    assert mixer.mix(f"এই {word} দল") == "এই rab দল"
    # A text and a dictionary that differ only by the joiner still meet.
    assert mixer.mix("এই র্যাব দল") == "এই rab দল"
    zwnj = BilingualDictionary.from_pairs([("rab", "র্যাব")], reverse=True)
    assert CodeMixer(zwnj, 1.0).mix(f"এই {word}") == "এই rab"


@pytest.mark.parametrize("entry, text", [
    ("\u0958िला", "\u0915\u093cिला"),      # precomposed nukta in the dictionary
    ("\u0915\u093cिला", "\u0958िला"),      # precomposed nukta in the text
])
def test_both_nukta_forms_match_and_untouched_text_is_copied_as_it_came(entry, text):
    d = BilingualDictionary.from_pairs([("fort", entry)], reverse=True)
    assert CodeMixer(d, 1.0).mix(f"{text} है") == "fort है"
    untouched = CodeMixer(BilingualDictionary.from_pairs([("x", "y")]), 1.0)
    assert untouched.mix(f"{text} है") == f"{text} है"


def test_greek_capitals_meet_their_accented_lowercase_entry():
    d = BilingualDictionary.from_pairs([("road", "δρόμος")], reverse=True)
    assert CodeMixer(d, 1.0).mix("ΔΡΟΜΟΣ και Δρόμος και δρόμος") == "ROAD και Road και road"


def test_a_translation_into_greek_capitals_drops_the_tonos():
    d = BilingualDictionary.from_pairs([("road", "δρόμος"), ("house", "σπίτι")])
    assert CodeMixer(d, 1.0).mix("ROAD HOUSE Road") == "ΔΡΟΜΟΣ ΣΠΙΤΙ Δρόμος"
    assert restore_case("WATER", "νερό") == "ΝΕΡΟ"


# -- Thai without a flag --------------------------------------------------------------------

def th_en():
    return BilingualDictionary.from_pairs(
        [("eat", "กิน"), ("rice", "ข้าว"), ("house", "บ้าน"), ("big", "ใหญ่"), ("very", "มาก"),
         ("i", "ฉัน")], reverse=True)


def test_thai_is_mixed_by_the_default_segmenter(tmp_path):
    pytest.importorskip("pythainlp")
    dictionary = tmp_path / "en-th.txt"
    dictionary.write_text("i ฉัน\nlike ชอบ\ncat แมว\n", encoding="utf-8")
    data = tmp_path / "corpus.jsonl"
    data.write_text(json.dumps({"text": "ฉันชอบแมว"}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["mix", "--quiet", "--dictionary", str(dictionary), "--reverse-dictionary",
                 "--text-field", "text", "--alpha", "1", "--input", str(data), "--output", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["text"] == "i like cat"


def test_compounds_of_dictionary_words_are_mixed_part_by_part():
    pytest.importorskip("pythainlp")
    # pythainlp's own word list has กินข้าว and บ้านใหญ่ as single words.
    assert CodeMixer(th_en(), 1.0).mix("กินข้าว") == "eat rice"
    assert CodeMixer(th_en(), 1.0).mix("บ้านใหญ่") == "house big"
    # A compound the dictionary holds itself stays whole.
    whole = BilingualDictionary.from_pairs([("dine", "กินข้าว"), ("eat", "กิน")], reverse=True)
    assert CodeMixer(whole, 1.0).mix("กินข้าว") == "dine"


@pytest.mark.parametrize("text", ["มากๆ", "มาก ๆ", "บ้านใหญ่มากๆ"])
def test_the_repetition_mark_never_dangles_after_an_english_word(text):
    pytest.importorskip("pythainlp")
    mixed = CodeMixer(th_en(), 1.0).mix(text)
    assert not re.search(r"[A-Za-z]\s*ๆ", mixed), mixed
    assert mixed.endswith("very very")      # the word repeated (tests/test_thai_repetition.py)


def test_without_pythainlp_thai_text_says_so_once(monkeypatch, caplog):
    monkeypatch.setattr(mixer_module, "_load_thai_tokenizer", lambda required: None)
    monkeypatch.setattr(mixer_module, "_warned_no_thai", False)
    mixer = CodeMixer(th_en(), 1.0)
    with caplog.at_level(logging.WARNING, logger="easylm_commit"):
        assert mixer.mix("ฉันกินข้าว") == "ฉันกินข้าว"
        assert mixer.mix("ฉันกินข้าว ฉัน") == "ฉันกินข้าว i"
    warnings = [r for r in caplog.records if "pythainlp" in r.getMessage()]
    assert len(warnings) == 1
    assert "pip install 'easylm-commit[thai]'" in warnings[0].getMessage()


# -- reports, preview, stats ----------------------------------------------------------------

def test_protected_spans_are_their_own_kind_in_the_report():
    mixer = CodeMixer(BilingualDictionary.load(demo.DEMO_DICTIONARY), 1.0)
    text = "Read the docs at https://example.com/the/water now."
    r = mixer.mix_with_report(text, key=(0, 1))
    (span,) = r.protected
    assert span.kind == "url" and r.text[span.out_start:span.out_end] == "https://example.com/the/water"
    assert span.words == 5       # https, example, com, the, water
    assert r.words == 5          # Read the docs at ... now: the URL's words are not counted


def test_preview_html_marks_protected_spans(tmp_path):
    data = tmp_path / "records.jsonl"
    data.write_text(json.dumps(RECORDS[0]) + "\n", encoding="utf-8")
    out = tmp_path / "preview.html"
    assert main(["preview", "--quiet", "--demo", "--input", str(data), "-n", "1", "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert '<span class="protected">def count_x(x, y):' in page


def test_stats_counts_protected_spans_and_their_words(tmp_path, capsys):
    data = tmp_path / "records.jsonl"
    data.write_text(json.dumps(RECORDS[3]) + "\n", encoding="utf-8")
    assert main(["stats", "--quiet", "--demo", "--input", str(data), "--json"]) == 0
    output = json.loads(capsys.readouterr().out)["fields"]["output"]
    assert output["protected_spans"] == 2          # the URL and the e-mail address
    assert output["protected_words"] == 8          # https www who int about + info who int


# -- the switch, and prose exactly as before ------------------------------------------------

def test_no_protect_is_the_plain_word_model(tmp_path):
    rows = {r["id"]: r for r in mix_demo(tmp_path, RECORDS, "--no-protect")}
    assert "https://www.कौन.int/" in rows["url"]["output"]
    assert rows["case"]["instruction"].startswith("वह कौन और वह हमें")


def _previous_release_mix(dictionary, alpha, seed, text, key):
    """The mixer as released before protection (v0.1.0), restated: words by the same regex
    (apostrophes join), lowercase lookup, Title/UPPER restored, one draw per covered word."""
    import random

    from easylm_commit.mixer import derive_seed

    pieces = re.split(r"([A-Za-z0-9]+(?:'[A-Za-z0-9]+)*)", text)
    rng = random.Random(derive_seed(seed, key)).random
    for i in range(1, len(pieces), 2):
        translations = dictionary.table.get(pieces[i].lower())
        if translations is None:
            continue
        u = rng()
        if u < alpha:
            n = len(translations)
            pieces[i] = restore_case(pieces[i], translations[min(int(u / alpha * n), n - 1)])
    return "".join(pieces)


VOCABULARY = ["the", "cat", "is", "in", "house", "big", "water", "and", "i", "a", "dog", "runs",
              "don't", "today", "42", "very", "green", "tree"]
WORD = st.sampled_from(VOCABULARY).flatmap(
    lambda w: st.sampled_from([w, w[:1].upper() + w[1:]] + ([w.upper()] if len(w) > 3 else [])))
SEPARATOR = st.sampled_from([" ", " ", ", ", ". ", "! ", "? ", "\n", "\n\n", " - ", "; ", " \"", "\" "])
PROSE = st.lists(st.tuples(WORD, SEPARATOR), max_size=40).map(lambda ws: "".join(w + s for w, s in ws))
EN_XX = BilingualDictionary.from_pairs([(w, f"{w}-xx") for w in VOCABULARY[:12]]
                                       + [("the", "ο"), ("water", "νερό")])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=PROSE, alpha=st.sampled_from([0.3, 0.9, 1.0]), seed=st.integers(0, 2**32),
       key=st.integers(0, 100))
def test_property_prose_without_code_is_mixed_exactly_as_before(text, alpha, seed, key):
    assert protected_spans(text) == []
    expected = _previous_release_mix(EN_XX, alpha, seed, text, (0, key))
    assert CodeMixer(EN_XX, alpha, seed=seed).mix(text, (0, key)) == expected


ASCII_TEXT = st.text(alphabet=st.sampled_from(list("abcABC xyz_.(){}:;=@/`'\"-\n\t0123")), max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ASCII_TEXT, seed=st.integers(0, 2**32))
def test_property_no_protect_on_ascii_is_the_previous_release_exactly(text, seed):
    d = BilingualDictionary.from_pairs([("abc", "X"), ("a", "Y"), ("xyz", "ζ"), ("b", "βήτα")])
    expected = _previous_release_mix(d, 0.7, seed, text, (1, 2))
    assert CodeMixer(d, 0.7, seed=seed, protect=False).mix(text, (1, 2)) == expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ASCII_TEXT, seed=st.integers(0, 2**32))
def test_property_protected_spans_are_never_changed(text, seed):
    d = BilingualDictionary.from_pairs([("abc", "X"), ("a", "Y"), ("xyz", "ζ"), ("b", "βήτα")])
    result = CodeMixer(d, 1.0, seed=seed).mix_with_report(text, (0,))
    for p in result.protected:
        assert result.text[p.out_start:p.out_end] == text[p.start:p.end]
