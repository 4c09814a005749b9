"""Issue 2, part 5: ``easylm-commit mix``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from easylm_commit.cli import main
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.mixer import CodeMixer
from easylm_commit.templates import Formatter

CORE = Path(__file__).parent / "fixtures" / "core"
DICT = str(CORE / "en-el.txt")
ALPACA = CORE / "alpaca_sample.json"


def records():
    return json.loads(ALPACA.read_text(encoding="utf-8"))


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def run_mix(*args):
    return main(["mix", "--quiet", *map(str, args)])


def expected_formatter(alpha=0.9, seed=0, mode="commit"):
    d = BilingualDictionary.load(DICT)
    return Formatter(CodeMixer(d, alpha, seed=seed), mode=mode)


def assert_rows_match_formatter(rows, recs, epoch=0, **kw):
    f = expected_formatter(**kw)
    assert len(rows) == len(recs)
    for i, (row, rec) in enumerate(zip(rows, recs)):
        s = f.format(rec, key=(epoch, i))
        assert row == {"instruction": s.instruction, "input": s.input, "output": s.output,
                       "prompt": s.prompt, "response": s.response}


# -- instruction records -------------------------------------------------------------------------

def test_json_array_to_jsonl_matches_the_formatter_for_key_epoch_index(tmp_path):
    out = tmp_path / "out.jsonl"
    assert run_mix("--input", ALPACA, "--output", out, "--dictionary", DICT) == 0
    rows = read_jsonl(out)
    assert_rows_match_formatter(rows, records())
    # Something was actually mixed, and the template was not.
    assert any("γάτα" in r["input"] or "γάτα" in r["output"] for r in rows)
    assert all(r["prompt"].startswith("Below is an instruction that describes a task") for r in rows)


def test_jsonl_input_and_epoch_seed_alpha_options(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", records())
    out = tmp_path / "out.jsonl"
    assert run_mix("--input", src, "--output", out, "--dictionary", DICT,
                   "--epoch", 3, "--seed", 9, "--alpha", 0.5) == 0
    assert_rows_match_formatter(read_jsonl(out), records(), epoch=3, alpha=0.5, seed=9)


def test_jsonl_with_bom_crlf_and_blank_lines(tmp_path):
    src = tmp_path / "in.jsonl"
    body = "\r\n".join(json.dumps(r, ensure_ascii=False) for r in records()[:2]) + "\r\n\r\n"
    src.write_bytes(("\ufeff" + body).encode("utf-8"))
    out = tmp_path / "out.jsonl"
    assert run_mix("--input", src, "--output", out, "--dictionary", DICT) == 0
    assert_rows_match_formatter(read_jsonl(out), records()[:2])


def test_mode_none_writes_plain_alpaca(tmp_path):
    out = tmp_path / "out.jsonl"
    assert run_mix("--input", ALPACA, "--output", out, "--mode", "none") == 0
    rows = read_jsonl(out)
    for row, rec in zip(rows, records()):
        assert row["output"] == rec["output"]
        assert row["prompt"] + row["response"] == "".join(
            t for t, _ in Formatter(None, mode="none").format(rec).segments)


def test_output_to_stdout(tmp_path, capsys):
    assert run_mix("--input", ALPACA, "--dictionary", DICT) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert_rows_match_formatter(rows, records())


def test_text_field_mixes_that_field_as_plain_text(tmp_path):
    corpus = [{"id": i, "text": f"The cat is in the house number {i}.\n\tThe dog is big."}
              for i in range(5)]
    src = write_jsonl(tmp_path / "corpus.jsonl", corpus)
    out = tmp_path / "out.jsonl"
    assert run_mix("--input", src, "--output", out, "--dictionary", DICT,
                   "--text-field", "text", "--alpha", 1.0) == 0
    rows = read_jsonl(out)
    mixer = CodeMixer(BilingualDictionary.load(DICT), 1.0)
    for i, (row, rec) in enumerate(zip(rows, corpus)):
        assert set(row) == {"id", "text"} and row["id"] == i
        assert row["text"] == mixer.mix(rec["text"], (0, i, "text"))
        # "The" has three translations, title-cased; punctuation, digits, newline and tab stay.
        assert row["text"].startswith(("Το γάτα", "Ο γάτα", "Η γάτα"))
        assert f" {i}.\n\t" in row["text"] and row["text"].endswith(" σκύλος is μεγάλος.")


# -- bad records -----------------------------------------------------------------------------

BAD = [
    {"instruction": "Describe the cat.", "output": "A cat."},
    {"instruction": "", "output": "empty instruction"},
    {"instruction": "Describe the dog.", "input": "", "output": "A dog."},
    {"output": "no instruction"},
]


def test_a_line_that_is_not_json_is_a_bad_record_like_any_other(tmp_path, capsys):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps(BAD[0]) + "\n" + '{"instruction": "x", "output": \n'
                    + json.dumps(BAD[2]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["mix", "--input", str(data), "--dictionary", DICT, "--output", str(out)]) == 0
    assert [r["output"] for r in read_jsonl(out)] != [] and len(read_jsonl(out)) == 2
    err = capsys.readouterr().err
    assert f"skipped 1 bad record(s); first: {data}:2: invalid JSON line" in err


def test_a_lone_surrogate_is_a_bad_record_not_a_traceback(tmp_path, capsys):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps(BAD[0]) + "\n"
                    + '{"instruction": "Say \\ud800 now", "output": "ok"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["mix", "--input", str(data), "--dictionary", DICT, "--output", str(out)]) == 0
    assert len(read_jsonl(out)) == 1
    assert f"{data}:2: field 'instruction' holds a lone surrogate" in capsys.readouterr().err
    assert main(["mix", "--strict", "--input", str(data), "--dictionary", DICT,
                 "--output", str(out)]) == 2


def test_other_fields_pass_through_untouched(tmp_path):
    data = tmp_path / "data.jsonl"
    record = {"id": "seed_task_7", "instruction": "Describe the cat.", "input": "",
              "output": "A cat.", "category": ["open qa"], "is_classification": False}
    data.write_text(json.dumps(record) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["mix", "--input", str(data), "--dictionary", DICT, "--alpha", "1",
                 "--output", str(out)]) == 0
    (row,) = read_jsonl(out)
    for k in ("id", "category", "is_classification"):
        assert row[k] == record[k]
    assert row["instruction"] != record["instruction"]


def test_bad_records_are_skipped_and_counted(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", BAD)
    out = tmp_path / "out.jsonl"
    assert main(["mix", "--input", src, "--output", str(out), "--dictionary", DICT]) == 0
    rows = read_jsonl(out)
    assert len(rows) == 2
    # Good records keep their own index as key: skipping never shifts another record's mix.
    f = expected_formatter()
    assert rows[1]["prompt"] == f.format(BAD[2], key=(0, 2)).prompt
    err = capsys.readouterr().err
    assert "skipped 2" in err
    assert f"{src}:2" in err and "'instruction'" in err


def clean_dictionary(tmp_path):
    """en-el.txt without its malformed lines, which --strict would stop at first."""
    lines = [line for line in open(DICT, encoding="utf-8") if len(line.split()) in (0, 2)]
    path = tmp_path / "en-el-clean.txt"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def test_strict_stops_at_the_first_bad_record_and_writes_nothing(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", BAD)
    out = tmp_path / "out.jsonl"
    assert run_mix("--input", src, "--output", out, "--dictionary", clean_dictionary(tmp_path),
                   "--strict") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"{src}:2" in err[0] and "'instruction'" in err[0]
    assert_nothing_written(tmp_path, out)


def test_text_field_missing_from_a_record_is_a_bad_record(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "the cat"}, {"body": "x"}, {"text": 3}])
    out = tmp_path / "out.jsonl"
    assert run_mix("--input", src, "--output", out, "--dictionary", DICT, "--text-field", "text") == 0
    assert len(read_jsonl(out)) == 1
    assert run_mix("--input", src, "--output", out, "--dictionary", clean_dictionary(tmp_path),
                   "--text-field", "text", "--strict") == 2
    assert f"{src}:2" in capsys.readouterr().err


# -- bad input: one line, non-zero exit, no traceback, no half-written output -----------------

def assert_nothing_written(directory, out, before=None):
    if before is None:
        assert not out.exists()
    else:
        assert out.read_text(encoding="utf-8") == before
    leftovers = [p.name for p in Path(directory).iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def _bad_invocations(tmp_path):
    malformed = tmp_path / "malformed.jsonl"
    malformed.write_text(
        json.dumps(BAD[0]) + "\n\n" + json.dumps(BAD[2]) + "\n" + '{"instruction": "x", "output": \n',
        encoding="utf-8")
    clean = tmp_path / "en-el-clean.txt"
    clean.write_text("".join(line for line in open(DICT, encoding="utf-8") if len(line.split()) == 2),
                     encoding="utf-8")
    array = tmp_path / "malformed.json"
    array.write_text('[\n  {"instruction": "x", "output": "y"},\n  {"instruction": }\n]\n')
    return {
        "malformed JSON array": (["--input", array, "--dictionary", DICT], f"{array}:3"),
        "missing input": (["--input", tmp_path / "nope.json", "--dictionary", DICT], "nope.json"),
        "missing dictionary": (["--input", ALPACA, "--dictionary", tmp_path / "en-xx.txt"], "en-xx.txt"),
        # A line that is not JSON is a bad record: it stops the run only under --strict (with
        # a dictionary without malformed lines, which --strict would stop at first).
        "malformed JSON line": (["--input", malformed, "--dictionary", clean, "--strict"],
                                f"{malformed}:4: invalid JSON line"),
        "alpha above 1": (["--input", ALPACA, "--dictionary", DICT, "--alpha", "1.5"], "alpha"),
        "alpha below 0": (["--input", ALPACA, "--dictionary", DICT, "--alpha=-0.1"], "alpha"),
        "unknown mode": (["--input", ALPACA, "--dictionary", DICT, "--mode", "mixed"], "mode"),
        "unknown template": (["--input", ALPACA, "--dictionary", DICT, "--template", "xx"], "xx"),
    }


@pytest.mark.parametrize("case", [
    "missing input", "missing dictionary", "malformed JSON line", "malformed JSON array",
    "alpha above 1", "alpha below 0", "unknown mode", "unknown template",
])
def test_bad_input_is_one_line_on_stderr_and_no_output(tmp_path, capsys, case):
    args, named = _bad_invocations(tmp_path)[case]
    out = tmp_path / "out.jsonl"
    assert main(["mix", *map(str, args), "--output", str(out)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert err[0].startswith("easylm-commit mix: error:")
    assert named in err[0]
    assert "Traceback" not in captured.err
    assert_nothing_written(tmp_path, out)


def test_an_existing_output_is_left_untouched_by_a_failed_run(tmp_path):
    args, _ = _bad_invocations(tmp_path)["malformed JSON line"]
    out = tmp_path / "out.jsonl"
    out.write_text("previous run\n", encoding="utf-8")
    assert main(["mix", "--quiet", *map(str, args), "--output", str(out)]) == 2
    assert_nothing_written(tmp_path, out, before="previous run\n")


def test_as_a_subprocess_exit_codes_and_no_traceback(tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="7")
    out = tmp_path / "out.jsonl"
    ok = subprocess.run(
        [sys.executable, "-m", "easylm_commit.cli", "mix", "--quiet", "--input", str(ALPACA),
         "--output", str(out), "--dictionary", DICT],
        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert_rows_match_formatter(read_jsonl(out), records())

    args, named = _bad_invocations(tmp_path)["malformed JSON line"]
    bad_out = tmp_path / "bad.jsonl"
    bad = subprocess.run(
        [sys.executable, "-m", "easylm_commit.cli", "mix", *map(str, args), "--output", str(bad_out)],
        capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert named in bad.stderr and "line" in bad.stderr
    assert bad.stdout == ""
    assert not bad_out.exists()
