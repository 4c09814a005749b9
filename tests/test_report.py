"""`easylm-commit report`: lm-eval result files -> Tables 2 and 6 (Markdown, CSV, PNG), and
`--select-by`, the choice of a run on a validation task.

Fixtures (tests/fixtures/lm_eval_results): ``alpaca.json`` has all twelve test tasks,
target-prompt EM 0.1 (MLQA hi), 0.2 (XQuAD el), 0.3 (XQuAD hi), 0.4 (XQuAD th), 0.5 (IndicQA ta),
0.6 (IndicQA bn) with F1 = EM + 0.05, and EM 0.25 / F1 0.5 for every English-prompt task;
``commit.json`` has the target-prompt tasks except IndicQA bn, all EM 0.3 / F1 0.45;
``not_ours.json`` holds only lm-eval's own xquad_hi. Other results are written by ``_results``.
"""

import csv
import json
from pathlib import Path

import pytest

from easylm_commit.cli import main
from easylm_commit.errors import UserError
from easylm_commit.eval.report import collect, load_entry, markdown_report, rounded, select

RESULTS = Path(__file__).parent / "fixtures" / "lm_eval_results"


def _run(tmp_path, *extra):
    return main(["report", str(RESULTS / "alpaca.json"), str(RESULTS / "commit.json"),
                 "--out-dir", str(tmp_path), "--quiet", *extra])


def _results(path, scores, pretrained=None):
    """An lm-eval result file with ``scores``: task -> (EM, F1) as fractions."""
    results = {task: {"alias": task, "exact_match,none": em, "f1,none": f1}
               for task, (em, f1) in scores.items()}
    config = {"model": "hf", "model_args": {"pretrained": pretrained or str(path.with_suffix(""))}}
    path.write_text(json.dumps({"results": results, "config": config}), encoding="utf-8")
    return path


def _section(text, title):
    """The lines of the Markdown table titled ``title``."""
    return text.split(f"**{title}**")[1].split("\n\n**")[0]


def test_tables_2_and_6_have_the_papers_columns_and_their_own_averages(tmp_path):
    assert _run(tmp_path) == 0
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    table2, table6 = _section(md, "Table 2"), _section(md, "Table 6")
    assert ("| model | prompt | MLQA hi EM | MLQA hi F1 | XQuAD hi EM | XQuAD hi F1 | "
            "XQuAD th EM | XQuAD th F1 | XQuAD el EM | XQuAD el F1 | Avg EM | Avg F1 |") in table2
    # Table 2 averages MLQA hi 10, XQuAD hi 30, th 40, el 20 -> 25 (F1 30); IndicQA is not in it.
    assert ("| llama-7b-alpaca | target | 10.0 | 15.0 | 30.0 | 35.0 | 40.0 | 45.0 | 20.0 | 25.0 "
            "| 25.0 | 30.0 |") in table2
    assert ("| model | prompt | IndicQA ta EM | IndicQA ta F1 | IndicQA bn EM | IndicQA bn F1 | "
            "Avg EM | Avg F1 |") in table6
    assert "| llama-7b-alpaca | target | 50.0 | 55.0 | 60.0 | 65.0 | 55.0 | 60.0 |" in table6
    # A run evaluated with both prompts has a row for each (the paper's "+En prompt" row).
    assert "| llama-7b-alpaca | English | 25.0 | 50.0 |" in table2
    assert "| llama-7b-alpaca | English | 25.0 | 50.0 | 25.0 | 50.0 | 25.0 | 50.0 |" in table6


def test_an_incomplete_table_shows_no_average_rather_than_a_partial_mean(tmp_path):
    assert _run(tmp_path) == 0
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    # commit.json: Table 2 complete; Table 6 lacks IndicQA bn.
    assert ("| commit-hi-hf | target | 30.0 | 45.0 | 30.0 | 45.0 | 30.0 | 45.0 | 30.0 | 45.0 "
            "| 30.0 | 45.0 |") in _section(md, "Table 2")
    assert "| commit-hi-hf | target | 30.0 | 45.0 | — | — | — | — |" in _section(md, "Table 6")
    # One set alone is still shown in all of its table's columns, and gets no average.
    one = _results(tmp_path / "one.json", {"commit_mlqa_hi": (0.5, 0.6)})
    text = markdown_report(collect([(one, "one")]))
    assert "| one | target | 50.0 | 60.0 | — | — | — | — | — | — | — | — |" in text
    assert "Table 6" not in text


# Constructed per-task scores with the paper's Align+COMMIT averages: Table 2 EM 7.58, Table 6
# EM 22.35 (IndicQA ta 18.03 and bn 26.67, whose mean in floating point is 22.349999999999998).
# The old all-six mean was (4 * 7.58 + 2 * 22.35) / 6 = 12.5.
ALIGN_COMMIT = {"commit_mlqa_hi": (0.0921, 0.15), "commit_xquad_hi": (0.0874, 0.14),
                "commit_xquad_th": (0.0311, 0.08), "commit_xquad_el": (0.0926, 0.16),
                "commit_indicqa_ta": (0.1803, 0.25), "commit_indicqa_bn": (0.2667, 0.33)}


def test_each_table_averages_its_own_sets_and_rounds_as_the_paper_prints(tmp_path, capsys):
    path = _results(tmp_path / "align_commit.json", ALIGN_COMMIT)
    assert main(["report", str(path), "--names", "Align+COMMIT", "--out-dir",
                 str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "| Align+COMMIT | target | 9.2 | 15.0 | 8.7 | 14.0 | 3.1 | 8.0 | 9.3 | 16.0 | 7.6 |" in (
        _section(out, "Table 2"))
    assert "| Align+COMMIT | target | 18.0 | 25.0 | 26.7 | 33.0 | 22.4 | 29.0 |" in (
        _section(out, "Table 6"))
    assert "12.5" not in out
    assert rounded(22.349999999999998) == "22.4" and rounded(0.05, 0) == "0"
    rows = list(csv.DictReader(open(tmp_path / "out" / "table6.csv", encoding="utf-8")))
    assert rows == [{"model": "Align+COMMIT", "prompt": "target", "indicqa_ta_em": "18.03",
                     "indicqa_ta_f1": "25.00", "indicqa_bn_em": "26.67", "indicqa_bn_f1": "33.00",
                     "avg_em": "22.35", "avg_f1": "29.00"}]


def test_csv_per_table_has_a_row_per_run_and_prompt_with_every_column(tmp_path):
    assert _run(tmp_path, "--names", "Alpaca", "COMMIT") == 0
    with open(tmp_path / "table2.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["model", "prompt", "mlqa_hi_em", "mlqa_hi_f1", "xquad_hi_em",
                             "xquad_hi_f1", "xquad_th_em", "xquad_th_f1", "xquad_el_em",
                             "xquad_el_f1", "avg_em", "avg_f1"]
    assert [(r["model"], r["prompt"]) for r in rows] == [
        ("Alpaca", "target"), ("Alpaca", "English"), ("COMMIT", "target")]
    assert rows[0]["xquad_th_em"] == "40.00" and rows[0]["avg_em"] == "25.00"
    with open(tmp_path / "table6.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[2]["indicqa_bn_em"] == "" and rows[2]["avg_em"] == ""
    assert rows[0]["avg_em"] == "55.00" and rows[1]["avg_f1"] == "50.00"


def test_bar_charts_are_pngs(tmp_path):
    assert _run(tmp_path) == 0
    for name in ("table2_em.png", "table6_em.png"):
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_model_name_comes_from_pretrained_path_or_file_stem(tmp_path):
    assert load_entry(RESULTS / "alpaca.json").model == "llama-7b-alpaca"  # dict model_args
    assert load_entry(RESULTS / "commit.json").model == "commit-hi-hf"  # string model_args
    bare = tmp_path / "my_run.json"
    bare.write_text('{"results": {"commit_xquad_hi": {"exact_match,none": 0.5, "f1,none": 0.5}}}')
    assert load_entry(bare).model == "my_run"
    assert "| my_run | target |" in markdown_report(collect([(bare, None)]))


def test_missing_file_or_foreign_results_are_user_errors_naming_the_file(tmp_path):
    with pytest.raises(UserError, match="nowhere.json: results file not found"):
        load_entry(tmp_path / "nowhere.json")
    with pytest.raises(UserError, match="not_ours.json: no COMMIT QA results"):
        load_entry(RESULTS / "not_ours.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(UserError, match="broken.json: not a JSON file"):
        load_entry(broken)
    percent = _results(tmp_path / "percent.json", {"commit_xquad_th": (9.21, 15.0)})
    with pytest.raises(UserError, match="commit_xquad_th: exact_match 9.21 is not a fraction"):
        load_entry(percent)


def test_cli_errors_exit_2_with_one_line_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", str(RESULTS / "not_ours.json"), "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not_ours.json: no COMMIT QA results" in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert _run(tmp_path, "--names", "only-one") == 2
    assert "--names gives 1 names for 2 results files" in capsys.readouterr().err


# --- --select-by: the paper's choice of alpha on MLQA's dev set -----------------------------

def _sweep(tmp_path, dev_scores):
    """One results file per run, each with the dev task and a Table 2 task."""
    paths = []
    for name, (em, f1) in dev_scores.items():
        paths.append(str(_results(tmp_path / f"{name}.json", {
            "commit_mlqa_hi_dev": (em, f1), "commit_mlqa_hi": (0.9 - em, 0.9 - f1)})))
    return paths


def test_select_by_picks_the_best_em_and_f1_breaks_ties(tmp_path, capsys):
    paths = _sweep(tmp_path, {"alpha0.8": (0.30, 0.50), "alpha0.9": (0.35, 0.41),
                              "alpha1.0": (0.35, 0.45)})
    out_dir = tmp_path / "report"
    assert main(["report", *paths, "--select-by", "commit_mlqa_hi_dev",
                 "--out-dir", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "selected: alpha1.0" in out.splitlines()
    # The choice is written into the report, and for scripts as JSON.
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "selected: alpha1.0" in md and "**Selection** by commit_mlqa_hi_dev" in md
    chosen = json.loads((out_dir / "selection.json").read_text(encoding="utf-8"))
    assert chosen["selected"] == "alpha1.0" and chosen["task"] == "commit_mlqa_hi_dev"
    assert [r["name"] for r in chosen["ranking"]] == ["alpha1.0", "alpha0.9", "alpha0.8"]
    assert chosen["ranking"][0]["exact_match"] == pytest.approx(35.0)
    # The dev set has its own table and is in no average; the test set is not what decides.
    assert "| alpha0.8 | target | 30.0 | 50.0 |" in _section(md, "Validation")
    assert "| alpha0.8 | target | 60.0 | 40.0 | — |" in _section(md, "Table 2")


def test_select_by_ranks_em_before_f1_and_a_full_tie_goes_to_the_first_listed(tmp_path, capsys):
    entries = collect([(p, None) for p in _sweep(tmp_path, {"a": (0.2, 0.9), "b": (0.3, 0.1)})])
    assert select(entries, "commit_mlqa_hi_dev").selected.model == "b"
    paths = _sweep(tmp_path, {"first": (0.4, 0.5), "second": (0.4, 0.5)})
    assert main(["report", *paths, "--select-by", "commit_mlqa_hi_dev", "--quiet",
                 "--out-dir", str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "selected: first"
    assert "first ties with second" in captured.err


def test_select_by_refuses_a_run_without_the_task_in_one_line_naming_it(tmp_path, capsys):
    paths = _sweep(tmp_path, {"alpha0.8": (0.3, 0.5)})
    lacking = _results(tmp_path / "alpha0.9.json", {"commit_mlqa_hi": (0.5, 0.5)})
    out_dir = tmp_path / "report"
    assert main(["report", *paths, str(lacking), "--select-by", "commit_mlqa_hi_dev",
                 "--out-dir", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "alpha0.9.json: run alpha0.9 has no commit_mlqa_hi_dev results" in err
    assert not out_dir.exists()


def test_select_by_needs_a_known_task_and_distinct_run_names(tmp_path):
    entries = collect([(p, None) for p in _sweep(tmp_path, {"a": (0.2, 0.9)})])
    with pytest.raises(UserError, match="--select-by commit_mlqa_dev: not a task of ours"):
        select(entries, "commit_mlqa_dev")
    twice = collect([(p, "same") for p in _sweep(tmp_path, {"a": (0.2, 0.9), "b": (0.1, 0.1)})])
    with pytest.raises(UserError, match="run name same given twice"):
        select(twice, "commit_mlqa_hi_dev")
