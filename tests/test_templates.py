"""Issue 2, part 3: the Alpaca formatter and the three modes (paper Table 4)."""

import json

import pytest

from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.mixer import CodeMixer
from easylm_commit.templates import (
    TEMPLATES, FieldNames, Formatter, InvalidRecord, Template,
)

# tatsu-lab/stanford_alpaca, train.py, PROMPT_DICT -- written out here, not imported, so a
# change to the package's copy cannot go unnoticed.
PROMPT_DICT = {
    "prompt_input": (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
    ),
    "prompt_no_input": (
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Response:"
    ),
}

RECORD = {"instruction": "Describe the cat.", "input": "The cat is in the house.",
          "output": "The cat is big, and the house is big."}
RECORD_NO_INPUT = {"instruction": "Describe the cat.", "output": "The cat is big."}


def dictionary():
    # Holds template words ("instruction", "task", "response", ...) so that naive mode has
    # something to mix in the template, and commit mode demonstrably does not.
    return BilingualDictionary.from_pairs([
        ("the", "το"), ("cat", "γάτα"), ("house", "σπίτι"), ("is", "είναι"), ("big", "μεγάλο"),
        ("describe", "περιγράψτε"), ("instruction", "οδηγία"), ("task", "εργασία"),
        ("response", "απάντηση"), ("input", "είσοδος"), ("below", "παρακάτω"),
        ("write", "γράψτε"), ("request", "αίτημα"),
    ])


def formatter(mode="commit", alpha=1.0, **kw):
    return Formatter(CodeMixer(dictionary(), alpha, seed=0), mode=mode, **kw)


# -- the templates -----------------------------------------------------------------------------

def test_english_template_is_stanford_alpacas_to_the_character():
    assert TEMPLATES["en"] == PROMPT_DICT


def test_mode_none_is_plain_alpaca():
    f = Formatter(None, mode="none")
    s = f.format(RECORD)
    assert s.prompt == PROMPT_DICT["prompt_input"].format_map(RECORD)
    assert s.response == RECORD["output"]
    s = f.format(RECORD_NO_INPUT)
    assert s.prompt == PROMPT_DICT["prompt_no_input"].format_map(RECORD_NO_INPUT)


def test_mode_none_ignores_a_mixer():
    assert formatter("none").format(RECORD).prompt == PROMPT_DICT["prompt_input"].format_map(RECORD)


@pytest.mark.parametrize("lang", ["el", "hi", "th", "ta", "bn"])
def test_translated_templates_exist_with_both_placeholders(lang):
    t = TEMPLATES[lang]
    assert t["prompt_input"].count("{instruction}") == 1
    assert t["prompt_input"].count("{input}") == 1
    assert t["prompt_no_input"].count("{instruction}") == 1
    assert "{input}" not in t["prompt_no_input"]
    # Translated, not English.
    assert "Below is an instruction" not in t["prompt_input"]
    s = Formatter(None, mode="none", template=lang).format(RECORD)
    assert s.prompt == t["prompt_input"].format_map(RECORD)


def test_user_template_from_a_json_file(tmp_path):
    path = tmp_path / "template.json"
    path.write_text(json.dumps({
        "prompt_input": "Q: {instruction}\nCtx: {input}\nA:",
        "prompt_no_input": "Q: {instruction}\nA:",
    }), encoding="utf-8")
    f = Formatter(None, mode="none", template=str(path))
    assert f.format(RECORD).prompt == f"Q: {RECORD['instruction']}\nCtx: {RECORD['input']}\nA:"
    assert f.format(RECORD_NO_INPUT).prompt == f"Q: {RECORD['instruction']}\nA:"


@pytest.mark.parametrize("prompt_input, prompt_no_input, missing", [
    ("Q: {instruction}\nA:", "Q: {instruction}\nA:", "{input}"),
    ("Q: {input}\nA:", "Q: {instruction}\nA:", "{instruction}"),
    ("Q: {instruction} {input}\nA:", "Q:\nA:", "{instruction}"),
])
def test_a_missing_placeholder_is_a_clear_error(tmp_path, prompt_input, prompt_no_input, missing):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"prompt_input": prompt_input, "prompt_no_input": prompt_no_input}))
    with pytest.raises(UserError) as e:
        Formatter(None, mode="none", template=str(path))
    assert missing in str(e.value)
    assert str(path) in str(e.value)


def test_an_input_placeholder_in_the_no_input_template_is_a_clear_error():
    with pytest.raises(UserError, match=r"\{input\}"):
        Template("{instruction} {input}", "{instruction} {input}")


def test_unknown_placeholders_and_bad_template_files_are_clear_errors(tmp_path):
    with pytest.raises(UserError, match="unknown placeholder"):
        Template("{instruction} {input} {output}", "{instruction}")
    with pytest.raises(UserError, match="not a built-in template"):
        Template.load("xx")
    bad = tmp_path / "bad.json"
    bad.write_text('{"prompt_input": "{instruction}",\n oops}')
    with pytest.raises(UserError, match=r"bad\.json:2"):
        Template.load(str(bad))
    partial = tmp_path / "partial.json"
    partial.write_text('{"prompt_input": "{instruction} {input}"}')
    with pytest.raises(UserError, match="prompt_no_input"):
        Template.load(str(partial))
    with pytest.raises(UserError):
        Template.load(str(tmp_path))     # a directory


# -- records ---------------------------------------------------------------------------------

@pytest.mark.parametrize("record", [
    {"instruction": "Describe the cat.", "output": "ok"},
    {"instruction": "Describe the cat.", "input": None, "output": "ok"},
    {"instruction": "Describe the cat.", "input": "", "output": "ok"},
])
def test_missing_null_or_empty_input_means_no_input(record):
    s = Formatter(None, mode="none").format(record)
    assert s.prompt == PROMPT_DICT["prompt_no_input"].format(instruction="Describe the cat.")
    assert s.input == ""


@pytest.mark.parametrize("record, field", [
    ({"input": "x", "output": "y"}, "instruction"),
    ({"instruction": "", "output": "y"}, "instruction"),
    ({"instruction": "  \n", "output": "y"}, "instruction"),
    ({"instruction": 3, "output": "y"}, "instruction"),
    ({"instruction": "x"}, "output"),
    ({"instruction": "x", "output": None}, "output"),
    ({"instruction": "x", "output": ["y"]}, "output"),
    ({"instruction": "x", "input": 5, "output": "y"}, "input"),
])
def test_bad_records_raise_invalid_record_naming_the_field(record, field):
    with pytest.raises(InvalidRecord) as e:
        formatter().format(record)
    assert repr(field) in str(e.value)
    assert isinstance(e.value, UserError)


def test_a_record_that_is_not_an_object_is_invalid():
    with pytest.raises(InvalidRecord, match="not a JSON object"):
        formatter().format(["instruction", "output"])


def test_field_names_are_configurable():
    record = {"question": "Describe the cat.", "context": "The cat is in the house.", "answer": "Big."}
    f = Formatter(None, mode="none", fields=FieldNames("question", "context", "answer"))
    s = f.format(record)
    assert s.prompt == PROMPT_DICT["prompt_input"].format(
        instruction=record["question"], input=record["context"])
    assert s.response == "Big."
    with pytest.raises(InvalidRecord, match="'answer'"):
        f.format({"question": "x", "output": "y"})


# -- modes -----------------------------------------------------------------------------------

def test_commit_mode_mixes_instruction_input_and_output_but_never_the_template():
    s = formatter("commit").format(RECORD, key=(0, 1))
    assert s.prompt == PROMPT_DICT["prompt_input"].format(instruction=s.instruction, input=s.input)
    assert s.instruction == "Περιγράψτε το γάτα."
    assert s.input == "Το γάτα είναι in το σπίτι."
    assert s.response == s.output == "Το γάτα είναι μεγάλο, and το σπίτι είναι μεγάλο."
    template_text = [t for t, kind in s.segments if kind == "template"]
    assert "".join(template_text) == PROMPT_DICT["prompt_input"].format(instruction="", input="")


def test_naive_mode_mixes_the_template_words_too():
    s = formatter("naive").format(RECORD, key=(0, 1))
    commit = formatter("commit").format(RECORD, key=(0, 1))
    # The fields are mixed with the same keys in both modes.
    assert (s.instruction, s.input, s.output) == (commit.instruction, commit.input, commit.output)
    assert s.prompt.startswith("Παρακάτω είναι an οδηγία that describes a εργασία, paired with an "
                               "είσοδος that provides further context. Γράψτε a απάντηση")
    assert "### Οδηγία:\n" in s.prompt and "### Απάντηση:" in s.prompt
    # Only words change: the template's layout survives.
    assert s.prompt.count("\n") == commit.prompt.count("\n")
    assert s.prompt.count("###") == 3


def test_segments_make_up_prompt_and_response_and_say_what_each_piece_is():
    for mode in ("commit", "naive", "none"):
        for record in (RECORD, RECORD_NO_INPUT):
            s = formatter(mode, alpha=0.5).format(record, key=(2, 7))
            assert "".join(t for t, _ in s.segments) == s.prompt + s.response
            # The prompt's pieces are named apart from the response: all masked, none of them
            # the output.
            assert "".join(t for t, _ in s.prompt_segments) == s.prompt
            assert {k for _, k in s.prompt_segments} <= {"template", "instruction", "input"}
            kinds = [k for _, k in s.segments]
            assert kinds[-1] == "output" and s.segments[-1][0] == s.response
            assert kinds.count("instruction") == 1
            assert kinds.count("input") == (1 if "input" in record else 0)
            assert set(kinds) <= {"template", "instruction", "input", "output"}


def test_formatting_depends_only_on_the_record_and_key():
    f = formatter("commit", alpha=0.5)
    a = f.format(RECORD, key=(0, 3))
    formatter("commit", alpha=0.5).format(RECORD, key=(0, 4))
    b = formatter("commit", alpha=0.5).format(RECORD, key=(0, 3))
    assert (a.prompt, a.response) == (b.prompt, b.response)
    # The same key with the field appended is what the mixer sees for each field.
    mixer = CodeMixer(dictionary(), 0.5, seed=0)
    assert a.instruction == mixer.mix(RECORD["instruction"], (0, 3, "instruction"))
    assert a.output == mixer.mix(RECORD["output"], (0, 3, "output"))


def test_report_holds_one_mix_result_per_field():
    s = formatter("naive", alpha=1.0).format(RECORD, key=(0,), report=True)
    assert {"instruction", "input", "output"} <= set(s.reports)
    assert any(isinstance(k, tuple) and k[0] == "template" for k in s.reports)
    assert s.reports["output"].text == s.output
    assert s.reports["output"].replaced == s.reports["output"].covered


def test_unknown_mode_and_a_mixing_mode_without_a_mixer_are_user_errors():
    with pytest.raises(UserError, match="unknown mode"):
        Formatter(None, mode="mixed")
    with pytest.raises(UserError, match="dictionary"):
        Formatter(None, mode="commit")


def test_user_template_placeholders_take_no_format_spec_or_conversion(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"prompt_input": "{instruction!r} {input}",
                                "prompt_no_input": "{instruction}"}), encoding="utf-8")
    with pytest.raises(UserError, match="no format spec or conversion"):
        Template.load(str(path))


def test_report_in_none_mode_is_what_could_be_replaced():
    """Nothing is mixed, yet preview and stats can show the covered words: each field's
    report is the mixer's at alpha = 0, every covered word kept."""
    s = formatter("none").format(RECORD, key=(0,), report=True)
    assert (s.instruction, s.input, s.output) == (RECORD["instruction"], RECORD["input"], RECORD["output"])
    assert list(s.reports) == ["instruction", "input", "output"]
    for name, report in s.reports.items():
        assert report.text == RECORD[name] and report.replaced == 0
        assert len(report.kept) == report.covered > 0
    assert (s.words, s.replaced) == (0, 0)  # nothing was mixed
    assert s.segment_reports[-1] is s.reports["output"]
    assert [r is None for r in s.segment_reports] == [k == "template" for _, k in s.segments]


def test_every_field_has_a_report_and_the_record_gets_its_fields_back_by_its_own_names():
    f = formatter("commit", fields=FieldNames("question", "context", "answer"))
    record = {"question": RECORD["instruction"], "answer": RECORD["output"]}
    s = f.format(record, key=(0,), report=True)
    assert s.reports["input"].text == "" and s.reports["input"].words == 0  # empty, still counted
    assert s.mixed_fields == {"question": s.instruction, "context": "", "answer": s.output}
    assert "input" not in [k for _, k in s.segments]  # no input: the no-input template
