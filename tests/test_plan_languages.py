"""`easylm-commit plan --languages`: one joint model for several target languages
(multilingual alignment, multilingual COMMIT, every language's test sets, the report), with
`--separate` each language's own model beside it, and `report --separate`'s joint-vs-separate
table. The lists the run trains on are written to OUT/languages/<type>.json and passed as
`--train_dataset.<type>.languages`; every input of every language is checked before anything
trains. The end-to-end run on the demo (needs EasyLM) is the last test."""

import argparse
import csv
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import TINY_HF_CONFIG, parse_as_easylm, requires_easylm
from test_plan import flag, parse_dry_run

from easylm_commit import demo, experiment, joint, languages, options
from easylm_commit.cli import main
from easylm_commit.commands import plan
from easylm_commit.errors import UserError
from easylm_commit.options import CODEMIX_CLM, COMMIT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def resolved(tmp_path, *argv):
    parser = argparse.ArgumentParser()
    plan.add_arguments(parser)
    args = parser.parse_args(["--hf-model", str(tmp_path), "--out", str(tmp_path / "out"), *argv])
    plan.resolve(args)
    return args


@pytest.fixture
def dicts(tmp_path):
    """en-hi and en-el dictionaries and corpora under tmp_path/data, named by language."""
    data = tmp_path / "data"
    data.mkdir()
    for code, dictionary, corpus in (("hi", demo.DEMO_DICTIONARY, demo.DEMO_CORPUS),
                                     ("el", demo.DEMO_DICTIONARY_EL, demo.DEMO_CORPUS_EL)):
        (data / f"en-{code}.txt").write_bytes(open(dictionary, "rb").read())
        (data / f"{code}.jsonl").write_bytes(open(corpus, "rb").read())
    return data


# -- which languages, from what files -------------------------------------------------------

def test_codes_take_each_languages_files_from_the_lang_placeholder(tmp_path, dicts):
    args = resolved(tmp_path, "--languages", "hi,el", "--instructions", demo.DEMO_INSTRUCTIONS,
                    "--dictionary", str(dicts / "en-{lang}.txt"), "--corpus", str(dicts / "{lang}.jsonl"))
    assert args.joint.codes == ["hi", "el"]
    assert [l.dictionary for l in args.joint.commit] == [str(dicts / "en-hi.txt"), str(dicts / "en-el.txt")]
    assert [l.path for l in args.joint.codemix_clm] == [str(dicts / "hi.jsonl"), str(dicts / "el.jsonl")]
    # COMMIT reads en -> xx; the alignment mixes xx text into English: the dictionary reversed.
    assert [l.reverse_dictionary for l in args.joint.commit] == [False, False]
    assert [l.reverse_dictionary for l in args.joint.codemix_clm] == [True, True]
    # Every language's test sets, target-language prompt and English prompt.
    assert args.tasks == experiment.default_tasks("hi") + experiment.default_tasks("el")


def test_codes_without_a_corpus_stream_each_languages_wikipedia(tmp_path, dicts):
    args = resolved(tmp_path, "--languages", "hi,el", "--instructions", demo.DEMO_INSTRUCTIONS,
                    "--dictionary", str(dicts / "en-{lang}.txt"))
    assert [(l.path, l.name) for l in args.joint.codemix_clm] == [
        ("graelo/wikipedia", "20230601.hi"), ("graelo/wikipedia", "20230601.el")]


def test_demo_codes_are_the_embedded_hindi_and_greek_demos(tmp_path):
    args = resolved(tmp_path, "--demo", "--languages", "hi,el")
    assert [l.dictionary for l in args.joint.commit] == [demo.DEMO_DICTIONARY, demo.DEMO_DICTIONARY_EL]
    assert [l.path for l in args.joint.codemix_clm] == [demo.DEMO_CORPUS, demo.DEMO_CORPUS_EL]
    assert args.qa_data == demo.DEMO_QA  # the Greek XQuAD set is embedded too
    assert resolved(tmp_path, "--demo", "--languages", "demo").joint.codes == ["hi", "el"]


def test_a_json_list_is_split_between_the_two_datasets(tmp_path, dicts):
    """The corpus keys are the alignment's; alpha and the template are COMMIT's (the alignment
    mixes at its own alpha); the alignment reads each dictionary the other way round."""
    spec = json.dumps([
        {"lang": "hi", "dictionary": "en-hi.txt", "path": "hi.jsonl", "weight": 2, "alpha": 0.7},
        {"lang": "el", "dictionary": "en-el.txt", "path": "el.jsonl", "template": "en",
         "drop_identical": True},
    ])
    (dicts / "languages.json").write_text(spec, encoding="utf-8")
    # Relative names in a list file are read from its folder, as the datasets read them.
    args = resolved(tmp_path, "--languages", str(dicts / "languages.json"),
                    "--instructions", demo.DEMO_INSTRUCTIONS)
    commit, clm = args.joint.commit, args.joint.codemix_clm
    assert [(l.lang, l.weight, l.alpha) for l in commit] == [("hi", 2.0, 0.7), ("el", 1.0, 0.9)]
    assert [(l.lang, l.weight, l.alpha) for l in clm] == [("hi", 2.0, 0.5), ("el", 1.0, 0.5)]
    assert [l.drop_identical for l in clm] == [False, True]
    assert [l.path for l in clm] == [str(dicts / "hi.jsonl"), str(dicts / "el.jsonl")]
    # What is written: lang, weight and the keys the entry gave, files absolute.
    assert args.joint.entries(COMMIT) == [
        {"lang": "hi", "weight": 2.0, "dictionary": str(dicts / "en-hi.txt"), "alpha": 0.7},
        {"lang": "el", "weight": 1.0, "dictionary": str(dicts / "en-el.txt"), "drop_identical": True,
         "template": "en"}]
    assert args.joint.entries(CODEMIX_CLM)[1] == {
        "lang": "el", "weight": 1.0, "dictionary": str(dicts / "en-el.txt"), "reverse_dictionary": True,
        "drop_identical": True, "path": str(dicts / "el.jsonl")}


def test_one_language_of_a_joint_run_is_its_one_entry_list():
    both = joint.parse("demo", commit_config=_config(COMMIT), codemix_clm_config=_config(CODEMIX_CLM))
    el = both.one("el")
    assert el.codes == ["el"] and el.entries(COMMIT) == [both.entries(COMMIT)[1]]
    assert el.entries(CODEMIX_CLM) == [both.entries(CODEMIX_CLM)[1]]


def _config(kind):
    return {o.name: o.defaults[kind] for o in options.options_of(kind)}


# -- the flags and the steps ------------------------------------------------------------------

def test_the_language_flags_parse_in_easylm_and_the_lists_read_back_as_parsed(tmp_path, monkeypatch):
    pytest.importorskip("mlxu")

    args = resolved(tmp_path, "--demo", "--languages", "hi,el", "--runs", "commit,align+commit,clm+commit")
    steps = experiment.build_steps(args, TINY_HF_CONFIG, {("instructions", "commit", "en"): 3})
    plan.write_language_files(args)
    files = experiment.language_files(args.out)
    assert files == {t: str(tmp_path / "out" / "languages" / f"{t}.json") for t in (COMMIT, CODEMIX_CLM)}
    seen = set()
    for step in steps:
        written = [a for a in step.argv if a.startswith("--train_dataset.") and "type=" not in a]
        if not written:
            continue
        dataset_type = flag(step.argv, "train_dataset.type")
        config = parse_as_easylm(written, monkeypatch)[dataset_type]
        assert config.languages == files[dataset_type], step.name
        assert not config.dictionary  # each language names its own
        # The file the flag names reads back, through the dataset's own parse, as plan parsed
        # it -- but for the alpha of the alignment, the flag's (0.5, or 0 for plain CLM).
        read = languages.from_config(config, dataset_type)
        assert ([dict(l.values, alpha=None) for l in read]
                == [dict(l.values, alpha=None) for l in args.joint.of(dataset_type)]), step.name
        assert {l.alpha for l in read} == {config.alpha}
        seen.add((dataset_type, config.alpha))
    # Alignment at 0.5 and plain CLM at 0 (no entry sets alpha for the alignment), COMMIT at 0.9.
    assert seen == {(CODEMIX_CLM, 0.5), (CODEMIX_CLM, 0.0), (COMMIT, 0.9)}


def test_a_list_file_is_rewritten_only_when_it_changes(tmp_path):
    args = resolved(tmp_path, "--demo", "--languages", "hi,el")
    plan.write_language_files(args)
    path = experiment.language_files(args.out)[COMMIT]
    before = os.stat(path).st_mtime_ns
    os.utime(path, ns=(before - 10 ** 9, before - 10 ** 9))
    plan.write_language_files(args)
    assert os.stat(path).st_mtime_ns == before - 10 ** 9  # same contents: untouched
    args = resolved(tmp_path, "--demo", "--languages", "el,hi")
    plan.write_language_files(args)
    assert [e["lang"] for e in json.load(open(path))] == ["el", "hi"]


def _dry_run(capsys, monkeypatch, tmp_path, tiny_hf_llama, *argv):
    monkeypatch.delenv("EASYLM_DIR", raising=False)
    out = tmp_path / "o"
    status = main(["plan", "--demo", "--hf-model", str(tiny_hf_llama), "--out", str(out),
                   "--eval-device", "cpu", "--dry-run", *argv])
    stdout = capsys.readouterr().out
    # Without EasyLM the plan is listed, not run: its one failure is EasyLM's.
    assert status == 1 and [l for l in stdout.splitlines() if l.startswith("FAIL")] == [
        l for l in stdout.splitlines() if l.startswith("FAIL  no EasyLM checkout")], stdout
    assert not out.exists()
    return stdout, {name: argv for name, _, argv in parse_dry_run(stdout)}, out


def test_dry_run_of_a_joint_model_lists_one_model_and_every_languages_tests(tmp_path, tiny_hf_llama,
                                                                             capsys, monkeypatch):
    stdout, cmd, out = _dry_run(capsys, monkeypatch, tmp_path, tiny_hf_llama, "--languages", "hi,el")
    assert stdout.splitlines()[0] == (
        f"easylm-commit plan: languages hi, el in one joint model, runs none, commit, align+commit -> {out}")
    assert list(cmd) == ["convert_base", "align", "train_none", "train_commit", "train_align_commit",
                         "to_hf_none", "to_hf_commit", "to_hf_align_commit", "eval_none",
                         "eval_commit", "eval_align_commit", "report"]
    # Every language checked, each line naming it.
    assert re.search(r"ok  languages\[1\] \(el\): dictionary .*en-el.txt: \d+ pairs", stdout)
    assert re.search(r"ok  alpaca_demo.json \(commit, template en, languages hi, el drawn by weight\): "
                     r"50 records; the dictionaries cover hi \d+\.\d%, el \d+\.\d% of the words; "
                     r"(\d+) steps/epoch", stdout)
    assert re.search(r"ok  languages\[1\] \(el\): corpus greek_corpus.jsonl: 42 records", stdout)
    lists = {t: str(out / "languages" / f"{t}.json") for t in (COMMIT, CODEMIX_CLM)}
    align = cmd["align"]
    assert flag(align, "train_dataset.codemix_clm.languages") == lists[CODEMIX_CLM]
    assert flag(align, "train_dataset.codemix_clm.streaming") == "False"  # local corpora
    assert "--train_dataset.codemix_clm.dictionary" not in " ".join(align)
    train = cmd["train_align_commit"]
    assert flag(train, "train_dataset.commit.languages") == lists[COMMIT]
    assert flag(train, "train_dataset.commit.language_sampling") == "draw"
    assert flag(train, "load_checkpoint") == f"params::{out}/runs/align/streaming_params"
    assert flag(cmd["eval_commit"], "tasks") == (
        "commit_mlqa_hi,commit_xquad_hi,commit_mlqa_hi_en,commit_xquad_hi_en,"
        "commit_xquad_el,commit_xquad_el_en")
    assert "--separate" not in cmd["report"]


def test_dry_run_with_separate_adds_each_languages_own_model_and_the_comparison(
        tmp_path, tiny_hf_llama, capsys, monkeypatch):
    stdout, cmd, out = _dry_run(capsys, monkeypatch, tmp_path, tiny_hf_llama,
                                "--languages", "hi,el", "--separate", "--runs", "llama,commit")
    own = ["train_commit", "to_hf_commit", "eval_commit", "report"]
    assert list(cmd) == (["convert_base", "train_commit", "to_hf_commit", "eval_llama", "eval_commit"]
                         + [f"hi.{s}" for s in own] + [f"el.{s}" for s in own] + ["report"])
    base = f"params::{out}/base/streaming_params"
    for code in ("hi", "el"):
        train = cmd[f"{code}.train_commit"]
        # The one base checkpoint; the language's one-entry list; its own folder and test sets.
        assert flag(train, "load_checkpoint") == base
        assert flag(train, "train_dataset.commit.languages") == str(
            out / "separate" / code / "languages" / "commit.json")
        assert flag(train, "logger.output_dir") == str(out / "separate" / code / "runs")
        assert flag(cmd[f"{code}.eval_commit"], "tasks") == ",".join(experiment.default_tasks(code))
        # Each language's own epoch, measured on its own mixing.
        spe = re.search(rf"\(commit, template en, {code} alone\): 50 records.*; (\d+) steps/epoch", stdout)
        assert flag(train, "total_steps") == str(3 * int(spe.group(1)))
    report = cmd["report"]
    assert [report[i + 1] for i, a in enumerate(report) if a == "--separate"] == [
        f"COMMIT={out}/separate/hi/results/commit.json", f"COMMIT={out}/separate/el/results/commit.json"]
    assert flag(report, "out-dir") == str(out / "report")


# -- bad input: one line, before anything trains ------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["--languages", "[]"], "languages: the list is empty"),
    (["--languages", '[{"lang": "hi", "dictionary": "a.txt"}, {"lang": "hi", "dictionary": "b.txt"}]'],
     "languages[1] (hi): lang 'hi' is given twice (also languages[0])"),
    (["--languages", '[{"lang": "hi", "dictionary": "a.txt", "weight": 0}]'],
     "languages[0] (hi): weight must be a number > 0, got 0"),
    (["--languages", '[{"lang": "hi", "dictionary": "a.txt", "alpha": 1.5}]'], "languages[0] (hi): alpha"),
    (["--languages", '[{"lang": "hi", "dictionary": "a.txt", "alpah": 0.5}]'],
     "languages[0] (hi): unknown key 'alpah' for a commit language (did you mean 'alpha'?)"),
    (["--languages", '[{"lang": "hi"}]'], "languages[0] (hi): dictionary is required"),
    (["--languages", "[{"], "languages: not valid JSON"),
    (["--languages", "hi,hi"], "--languages: hi given twice"),
    (["--languages", "hi,th"], "--languages th: no dictionary for th: give --dictionary with {lang}"),
    (["--languages", "hi,el", "--dictionary", "en-hi.txt"],
     "--dictionary en-hi.txt: with several --languages, name each language's file with {lang}"),
    (["--languages", "hi,el", "--corpus", "hindi.jsonl"],
     "--corpus hindi.jsonl: with several --languages, name each language's file with {lang}"),
    (["--languages", "demo", "--dictionary", "en-{lang}.txt"],
     "--dictionary with a --languages list: each language names its dictionary in the list"),
    (["--languages", "hi,el", "--target", "hi"], "--target and --languages: give one"),
    (["--separate"], "--separate needs --languages"),
    (["--languages", "hi,el", "--separate", "--runs", "llama"], "--separate: none of --runs trains a model"),
    (["--languages", "hi,el", "--runs", "mt", "--mt-instructions", "x.json"], "--runs mt with --languages"),
    (["--languages", "hi,xx", "--dictionary", "en-{lang}.txt"], "no test set of the paper is in language 'xx'"),
])
def test_bad_lists_and_flags_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    status = main(["plan", "--demo", "--hf-model", str(tmp_path), "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_a_list_file_names_itself_in_its_errors(tmp_path, capsys):
    bad = tmp_path / "langs.json"
    bad.write_text('[{"lang": "hi", "dictionary": "a.txt", "weight": -1}]', encoding="utf-8")
    assert main(["plan", "--demo", "--hf-model", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--languages", str(bad)]) == 2
    assert f"languages[0] (hi) in {bad}: weight must be a number > 0" in capsys.readouterr().err


def test_every_missing_input_of_every_language_is_said_once_before_anything_runs(
        tmp_path, dicts, tiny_hf_llama, capsys, monkeypatch):
    monkeypatch.delenv("EASYLM_DIR", raising=False)
    (dicts / "en-el.txt").unlink()
    (dicts / "hi.jsonl").unlink()
    out = tmp_path / "o"
    status = main(["plan", "--hf-model", str(tiny_hf_llama), "--out", str(out), "--eval-device", "cpu",
                   "--instructions", demo.DEMO_INSTRUCTIONS, "--languages", "hi,el",
                   "--dictionary", str(dicts / "en-{lang}.txt"), "--corpus", str(dicts / "{lang}.jsonl"),
                   "--qa-data", demo.DEMO_QA, "--separate"])
    stdout = capsys.readouterr().out
    fails = [l for l in stdout.splitlines() if l.startswith("FAIL")]
    el_dict = [l for l in fails if "en-el.txt" in l]
    hi_corpus = [l for l in fails if "hi.jsonl" in l]
    assert len(el_dict) == 1 and el_dict[0].startswith("FAIL  languages[1] (el): "), fails
    assert hi_corpus == [f"FAIL  languages[0] (hi): path {dicts / 'hi.jsonl'}: no such file"], fails
    assert status == 1 and not out.exists()


# -- the joint-vs-separate table ---------------------------------------------------------------

def _results(path, scores):
    """An lm-eval result file with ``scores``: task -> (EM, F1) as fractions."""
    path.write_text(json.dumps({"results": {t: {"exact_match,none": em, "f1,none": f1}
                                            for t, (em, f1) in scores.items()}}), encoding="utf-8")
    return str(path)


def test_report_sets_each_languages_scores_of_the_joint_model_beside_its_own_models(tmp_path, capsys):
    joint_commit = _results(tmp_path / "commit.json", {
        "commit_xquad_hi": (0.30, 0.40), "commit_xquad_el": (0.20, 0.30),
        "commit_xquad_hi_en": (0.10, 0.20), "commit_xquad_el_en": (0.05, 0.10)})
    joint_none = _results(tmp_path / "none.json", {"commit_xquad_hi": (0.1, 0.1), "commit_xquad_el": (0.1, 0.1)})
    hi = _results(tmp_path / "hi.json", {"commit_xquad_hi": (0.25, 0.50), "commit_xquad_hi_en": (0.1, 0.1),
                                         "commit_mlqa_hi_dev": (0.9, 0.9)})
    el = _results(tmp_path / "el.json", {"commit_xquad_el": (0.40, 0.30)})
    assert main(["report", joint_none, joint_commit, "--names", "Alpaca", "COMMIT",
                 "--separate", f"COMMIT={hi}", "--separate", f"COMMIT={el}",
                 "--out-dir", str(tmp_path / "report")]) == 0
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert capsys.readouterr().out.startswith(md.rstrip("\n"))
    table = md.split("**Joint vs separate**")[1]
    assert ("| model | prompt | set | joint EM | joint F1 | separate EM | separate F1 | Δ EM | Δ F1 |"
            in table)
    # Table order: sets in the paper's columns, target prompt first; only the runs compared,
    # only the sets of Tables 2 and 6 (not the validation set).
    rows = [l for l in table.splitlines() if l.startswith("| COMMIT") or l.startswith("| Alpaca")]
    assert rows == ["| COMMIT | target | XQuAD hi | 30.0 | 40.0 | 25.0 | 50.0 | 5.0 | -10.0 |",
                    "| COMMIT | target | XQuAD el | 20.0 | 30.0 | 40.0 | 30.0 | -20.0 | 0.0 |",
                    "| COMMIT | English | XQuAD hi | 10.0 | 20.0 | 10.0 | 10.0 | 0.0 | 10.0 |"]
    with open(tmp_path / "report" / "joint_vs_separate.csv", encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert got[1] == {"model": "COMMIT", "prompt": "target", "set": "xquad_el", "joint_em": "20.00",
                      "joint_f1": "30.00", "separate_em": "40.00", "separate_f1": "30.00",
                      "delta_em": "-20.00", "delta_f1": "0.00"}
    assert "Table 2" in md  # the paper's tables are still there


@pytest.mark.parametrize("separate, message", [
    ("COMMIT", "--separate COMMIT: expected NAME=FILE"),
    ("Alpaca={hi}", "no joint run is named 'Alpaca' (the joint runs: COMMIT)"),
    ("COMMIT={missing}", "results file not found"),
])
def test_bad_separate_values_are_one_line_and_write_nothing(tmp_path, capsys, separate, message):
    joint_file = _results(tmp_path / "commit.json", {"commit_xquad_hi": (0.3, 0.4)})
    hi = _results(tmp_path / "hi.json", {"commit_xquad_hi": (0.25, 0.5)})
    value = separate.format(hi=hi, missing=tmp_path / "nope.json")
    assert main(["report", joint_file, "--names", "COMMIT", "--separate", value,
                 "--out-dir", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "report").exists()


def test_two_own_models_with_the_same_set_are_refused(tmp_path):
    from easylm_commit.eval.report import compare, load_entry

    joint_entry = load_entry(_results(tmp_path / "j.json", {"commit_xquad_hi": (0.3, 0.4)}), "COMMIT")
    a = load_entry(_results(tmp_path / "a.json", {"commit_xquad_hi": (0.1, 0.1)}), "COMMIT")
    b = load_entry(_results(tmp_path / "b.json", {"commit_xquad_hi": (0.2, 0.2)}), "COMMIT")
    with pytest.raises(UserError, match="a.json and .*b.json both have commit_xquad_hi"):
        compare([joint_entry], [a, b])


# -- end to end -------------------------------------------------------------------------------

@requires_easylm
def test_the_demo_trains_one_model_for_hindi_and_greek_and_reports_both(tmp_path):
    """`plan --demo --languages hi,el` on the CPU, offline, at small demo sizes: the joint
    alignment over both corpora, joint COMMIT, both languages' test sets, the report."""
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "easylm_commit.cli", "plan", "--demo", "--languages", "hi,el",
            "--runs", "align+commit", "--align-steps", "10", "--epochs", "1", "--eval-limit", "3",
            "--out", str(out)]
    env = dict(os.environ, JAX_PLATFORMS="cpu", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    assert not re.search(r"^\s*(FAIL|warn) ", proc.stdout, re.M), proc.stdout
    for step in ("convert_base", "align", "train_align_commit", "to_hf_align_commit",
                 "eval_align_commit", "report"):
        assert (out / ".plan" / f"{step}.done").exists(), step
    lists = {t: json.loads((out / "languages" / f"{t}.json").read_text(encoding="utf-8"))
             for t in (COMMIT, CODEMIX_CLM)}
    assert [e["lang"] for e in lists[COMMIT]] == [e["lang"] for e in lists[CODEMIX_CLM]] == ["hi", "el"]
    # Both phases mixed both languages: EasyLM's logged metrics carry each language's rate.
    for step in ("align", "train_align_commit"):
        log = (out / "logs" / f"{step}.log").read_text(encoding="utf-8")
        assert f"--train_dataset.{CODEMIX_CLM if step == 'align' else COMMIT}.languages=" in log.splitlines()[0]
        for code in ("hi", "el"):
            assert re.search(rf"'dataset_mixing_rate_{code}': (array\()?0\.\d+", log), (step, code)
    table = (out / "report" / "report.md").read_text(encoding="utf-8")
    for prompt in ("target", "English"):
        # MLQA hi, XQuAD hi, (no Thai), XQuAD el: one joint model, scored in both languages.
        assert re.search(rf"^\| Align\+COMMIT \| {prompt} \| \d+\.\d \| \d+\.\d \| \d+\.\d \| \d+\.\d \| "
                         r"— \| — \| \d+\.\d \| \d+\.\d \|", table, re.M), (prompt, table)
