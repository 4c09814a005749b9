"""`easylm-commit report`: lm-eval result files -> Table 2 (Markdown, CSV, PNG).

Fixtures (tests/fixtures/lm_eval_results): ``alpaca.json`` has all twelve tasks, target-prompt
EM 0.1, 0.2, ... 0.6 in Table 2's column order with F1 = EM + 0.05, and EM 0.25 / F1 0.5 for
every English-prompt task; ``commit.json`` has the target-prompt tasks except IndicQA bn, all
EM 0.3 / F1 0.45; ``not_ours.json`` holds only lm-eval's own xquad_hi.
"""

import csv
from pathlib import Path

import pytest

from easylm_commit.cli import main
from easylm_commit.errors import UserError
from easylm_commit.eval.report import collect, load_entry, markdown_tables

RESULTS = Path(__file__).parent / "fixtures" / "lm_eval_results"


def _run(tmp_path, *extra):
    return main(["report", str(RESULTS / "alpaca.json"), str(RESULTS / "commit.json"),
                 "--out-dir", str(tmp_path), "--quiet", *extra])


def test_markdown_has_one_table2_per_prompt_with_percentages_and_averages(tmp_path):
    assert _run(tmp_path) == 0
    md = (tmp_path / "table2.md").read_text(encoding="utf-8")
    target, english = md.split("**Table 2, English prompt**")
    assert ("| model | MLQA hi EM | MLQA hi F1 | XQuAD el EM | XQuAD el F1 | XQuAD hi EM | "
            "XQuAD hi F1 | XQuAD th EM | XQuAD th F1 | IndicQA ta EM | IndicQA ta F1 | "
            "IndicQA bn EM | IndicQA bn F1 | Avg EM | Avg F1 |") in target
    # Mean EM of 10..60 is 35, mean F1 of 15..65 is 40.
    assert ("| llama-7b-alpaca | 10.0 | 15.0 | 20.0 | 25.0 | 30.0 | 35.0 | 40.0 | 45.0 | "
            "50.0 | 55.0 | 60.0 | 65.0 | 35.0 | 40.0 |") in target
    # A row missing a test set gets no average, rather than an average over fewer sets.
    assert ("| commit-hi-hf | 30.0 | 45.0 | 30.0 | 45.0 | 30.0 | 45.0 | 30.0 | 45.0 | "
            "30.0 | 45.0 | — | — | — | — |") in target
    assert "| llama-7b-alpaca | 25.0 | 50.0 |" in english and "commit-hi-hf" not in english


def test_csv_has_a_row_per_model_and_prompt_with_every_column(tmp_path):
    assert _run(tmp_path, "--names", "Alpaca", "COMMIT") == 0
    with open(tmp_path / "table2.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["model"], r["prompt"]) for r in rows] == [
        ("Alpaca", "target-language prompt"), ("COMMIT", "target-language prompt"),
        ("Alpaca", "English prompt"),
    ]
    assert rows[0]["xquad_th_em"] == "40.00" and rows[0]["xquad_th_f1"] == "45.00"
    assert rows[0]["avg_em"] == "35.00" and rows[0]["avg_f1"] == "40.00"
    assert rows[1]["indicqa_bn_em"] == "" and rows[1]["avg_em"] == ""
    assert rows[2]["mlqa_hi_f1"] == "50.00" and rows[2]["avg_em"] == "25.00"


def test_bar_chart_is_a_png(tmp_path):
    assert _run(tmp_path) == 0
    png = (tmp_path / "table2_em.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_model_name_comes_from_pretrained_path_or_file_stem(tmp_path):
    assert load_entry(RESULTS / "alpaca.json").model == "llama-7b-alpaca"  # dict model_args
    assert load_entry(RESULTS / "commit.json").model == "commit-hi-hf"  # string model_args
    bare = tmp_path / "my_run.json"
    bare.write_text('{"results": {"commit_xquad_hi": {"exact_match,none": 0.5, "f1,none": 0.5}}}')
    assert load_entry(bare).model == "my_run"
    assert "| my_run |" in markdown_tables(collect([(bare, None)]))


def test_missing_file_or_foreign_results_are_user_errors_naming_the_file(tmp_path):
    with pytest.raises(UserError, match="nowhere.json: results file not found"):
        load_entry(tmp_path / "nowhere.json")
    with pytest.raises(UserError, match="not_ours.json: no COMMIT QA results"):
        load_entry(RESULTS / "not_ours.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(UserError, match="broken.json: not a JSON file"):
        load_entry(broken)


def test_cli_errors_exit_2_with_one_line_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", str(RESULTS / "not_ours.json"), "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not_ours.json: no COMMIT QA results" in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert _run(tmp_path, "--names", "only-one") == 2
    assert "--names gives 1 names for 2 results files" in capsys.readouterr().err
