"""What a new user trips on (issue 14): usage errors in one line, options before the command,
skipped dictionary lines made visible, a misspelt field refused, the preview page alone,
steps at the paper's batch size, W&B off when it is switched off."""

import json
import os
import subprocess
import sys

import pytest

from easylm_commit import demo
from easylm_commit.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*argv, **kw):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, "-m", "easylm_commit.cli", *map(str, argv)], env=env,
                          capture_output=True, text=True, timeout=300, **kw)


# -- usage errors: one line, exit 2 -----------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["mix", "--demo", "--alpha", "abc"], "easylm-commit mix: error: argument --alpha: invalid float value: 'abc'"),
    (["stats", "--demo", "--no-such-option"], "easylm-commit stats: error: unrecognized arguments: --no-such-option"),
    (["preview", "--demo", "--segmenter", "klingon"], "easylm-commit preview: error: argument --segmenter: invalid choice"),
    (["frobnicate"], "easylm-commit: error: argument COMMAND: invalid choice: 'frobnicate'"),
    ([], "easylm-commit: error: the following arguments are required: COMMAND"),
])
def test_a_usage_error_is_one_line_pointing_at_help(argv, message):
    proc = cli(*argv)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(message) and lines[0].endswith("--help)")


def test_debug_and_quiet_are_accepted_before_the_command(tmp_path):
    out = tmp_path / "mixed.jsonl"
    quiet = cli("--quiet", "mix", "--demo", "--output", out)
    assert quiet.returncode == 0 and quiet.stderr == ""            # no "wrote ..." line
    assert len(out.read_text(encoding="utf-8").splitlines()) == 50
    loud = cli("mix", "--demo", "--output", out)
    assert "wrote 50 record(s)" in loud.stderr
    debug = cli("--debug", "mix", "--demo", "--alpha", "2")
    assert debug.returncode != 0 and "Traceback" in debug.stderr   # --debug shows it
    plain = cli("mix", "--demo", "--alpha", "2")
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    after = cli("mix", "--debug", "--demo", "--alpha", "2")
    assert "Traceback" in after.stderr                              # after the command, as before


# -- the dictionary: lines that are not a pair -------------------------------------------------

@pytest.fixture
def dictionary_with_bad_lines(tmp_path):
    """The demo dictionary with blank lines (layout) and two lines that are not one pair."""
    lines = open(demo.DEMO_DICTIONARY, encoding="utf-8").read().splitlines()
    lines[3:3] = ["", "this is three", ""]   # line 5 is the first bad one
    lines.insert(10, "lonely")
    path = tmp_path / "en-hi.txt"
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


def test_mix_warns_once_with_the_count_and_the_first_bad_line(tmp_path, dictionary_with_bad_lines):
    proc = cli("mix", "--demo", "--dictionary", dictionary_with_bad_lines, "--output", tmp_path / "o.jsonl")
    assert proc.returncode == 0
    warnings = [l for l in proc.stderr.splitlines() if "dictionary" in l]
    assert warnings == [f"easylm-commit mix: skipped 2 malformed line(s) of dictionary "
                        f"{dictionary_with_bad_lines}; first: line 5 (--strict stops there)"]


def test_strict_stops_at_a_malformed_dictionary_line_naming_file_and_line(tmp_path, dictionary_with_bad_lines):
    out = tmp_path / "o.jsonl"
    proc = cli("mix", "--demo", "--dictionary", dictionary_with_bad_lines, "--strict", "--output", out)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"easylm-commit mix: error: {dictionary_with_bad_lines}:5: expected one 'source "
        "translation' pair, got 3 field(s): 'this is three'")
    assert not out.exists()


def test_blank_lines_are_not_bad_lines(tmp_path):
    path = tmp_path / "en-hi.txt"
    path.write_text("\ncat बिल्ली\n\n   \ndog कुत्ता\n\n", encoding="utf-8")
    proc = cli("mix", "--demo", "--dictionary", path, "--strict", "--output", tmp_path / "o.jsonl")
    assert proc.returncode == 0 and "malformed" not in proc.stderr


def test_stats_table_and_json_show_the_skipped_lines(dictionary_with_bad_lines):
    table = cli("stats", "--demo", "--dictionary", dictionary_with_bad_lines, "--quiet", "--top", "0")
    assert table.returncode == 0
    header = " ".join(table.stdout.split())  # rich wraps the line at the terminal width
    assert "2 malformed line(s) skipped (first: line 5)" in header
    js = cli("stats", "--demo", "--dictionary", dictionary_with_bad_lines, "--quiet", "--json")
    d = json.loads(js.stdout)["dictionary_stats"]
    assert (d["skipped_lines"], d["first_skipped_line"]) == (2, 5)
    clean = cli("stats", "--demo", "--quiet", "--top", "0")
    assert "0 malformed line(s) skipped" in " ".join(clean.stdout.split())


# -- mix: every record skipped for one reason is a wrong option ---------------------------------

def test_a_misspelt_text_field_is_a_usage_error_and_leaves_no_file(tmp_path):
    out = tmp_path / "corpus.jsonl"
    proc = cli("mix", "--demo", "--text-field", "txt", "--output", out)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"easylm-commit mix: error: all 72 record(s) of {demo.DEMO_CORPUS} skipped: field 'txt' "
        "is missing or not a string (records have: text; check --text-field txt)"]
    assert not out.exists() and os.listdir(tmp_path) == []


def test_a_misspelt_instruction_field_is_refused_the_same_way(tmp_path, capsys):
    assert main(["mix", "--demo", "--instruction-field", "instr", "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "all 50 record(s)" in err and "field 'instr' is missing" in err
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("command", [["mix", "--output", "{out}"], ["stats"], ["preview"]])
def test_every_record_skipped_lists_the_fields_the_records_have(tmp_path, capsys, command):
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"question": q, "context": "Paris.", "answer": "Paris"}) + "\n"
                            for q in ("Capital of France?", "Where is the Louvre?")), encoding="utf-8")
    argv = [a.format(out=tmp_path / "o.jsonl") for a in command]
    assert main([*argv, "--demo", "--input", str(data)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"easylm-commit {command[0]}: error: all 2 record(s) of {data} skipped: field "
        "'instruction' is missing, empty or not a string (records have: question, context, "
        "answer; check --instruction-field instruction, --input-field input, --output-field output)"]
    assert captured.out == "" and not (tmp_path / "o.jsonl").exists()


def test_some_bad_records_are_still_skipped_and_counted(tmp_path, capsys):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"instruction": "Name a colour.", "output": "Red."}) + "\n"
                    + json.dumps({"output": "no instruction"}) + "\n", encoding="utf-8")
    assert main(["mix", "--demo", "--input", str(data), "--output", str(tmp_path / "o.jsonl")]) == 0
    assert "skipped 1 bad record(s)" in capsys.readouterr().err


# -- stats and preview -------------------------------------------------------------------------

def test_stats_counts_steps_at_the_papers_batch_of_16(llama_tokenizer_dir):
    proc = cli("stats", "--demo", "--quiet", "--json", "--tokenizer", llama_tokenizer_dir)
    tokens = json.loads(proc.stdout)["tokens"]
    assert (tokens["batch_size"], tokens["seq_length"]) == (16, 512)
    assert tokens["steps_per_epoch"] == -(-tokens["total_tokens"] // (16 * 512))


def test_preview_html_writes_the_page_and_prints_no_samples(tmp_path):
    page = tmp_path / "preview.html"
    proc = cli("preview", "--demo", "-n", "3", "--html", page)
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert proc.stderr.strip() == f"easylm-commit preview: wrote 3 sample(s) to {page}"
    html = page.read_text(encoding="utf-8")
    # The legend says what the tinted strip is; the fonts say how to see Devanagari.
    assert '<span class="legend response">' in html and "the only part trained on" in html
    assert "masked out of the loss" in html
    for font in ("Noto Sans Devanagari", "Noto Sans Tamil", "Noto Sans Bengali", "Noto Sans Thai",
                 "Nirmala UI"):
        assert f'"{font}"' in html
    assert "Boxes instead of letters mean none is installed" in html
    without = cli("preview", "--demo", "-n", "1")
    assert "### Instruction:" in without.stdout  # the terminal preview is still the default


def test_corpus_preview_page_has_no_response_legend(tmp_path):
    page = tmp_path / "corpus.html"
    assert cli("preview", "--demo", "--text-field", "text", "--html", page).returncode == 0
    assert 'class="legend response"' not in page.read_text(encoding="utf-8")


# -- doctor's train route, and W&B under WANDB_MODE=disabled ------------------------------------

def test_doctor_route_launcher_accepts_an_unpatched_checkout(easylm_path):
    plain = cli("doctor", "--easylm-dir", easylm_path)
    launcher = cli("doctor", "--easylm-dir", easylm_path, "--route", "launcher")
    patched = cli("doctor", "--easylm-dir", easylm_path, "--route", "patched")
    assert "warn  EasyLM is not patched" in plain.stdout
    assert "ok  EasyLM is not patched, as the launcher route needs" in launcher.stdout
    assert "warn" not in launcher.stdout.replace("wandb", "")
    assert "FAIL  EasyLM is not patched" in patched.stdout and patched.returncode == 1


def test_wandb_disabled_wins_over_mlxus_offline_mode(tmp_path, monkeypatch):
    """mlxu's logger asks W&B for mode="offline" when --logger.online=False; under
    WANDB_MODE=disabled the launcher makes that a disabled run: no wandb/ folder."""
    mlxu = pytest.importorskip("mlxu")
    import wandb

    from easylm_commit.llama_train import honour_wandb_disabled

    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setattr(wandb, "init", wandb.init)  # restored after the test
    honour_wandb_disabled()
    config = mlxu.WandBLogger.get_default_config(
        {"online": False, "output_dir": str(tmp_path), "experiment_id": "run"})
    logger = mlxu.WandBLogger(config, {"alpha": 0.9})
    logger.log({"loss": 1.0})
    assert os.listdir(tmp_path / "run") == []
