"""The toy reproduction (``examples/toy_reproduction``).

- ``--quick`` runs end to end: world, EasyLM pretraining, every tuned condition through
  EasyLM's loop with our dataset types, greedy evaluation, the precondition line, the tables
  and the plot. Only that it runs and reports is asserted for it, not the outcome: the quick
  model is far too small to learn the task.
- The committed ``results.json`` is the full run: every file generated from it (results.md,
  the README tables) must match it; it must show the task learned (the English control) for
  every tuned condition and seed, every run scored on both target languages under both
  templates, and a rerun of its command within its seed spread.
- The world: no tuning record of any committed seed states or asks a held-out person's fact;
  the target-language templates translate every word of Alpaca's and keep its layout.
- ``report.py``'s precondition, tables, paired comparisons (seed level and item level) and
  ``--check`` (em.png included), on hand-made runs and on a copy of the committed files.
"""

import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from conftest import requires_easylm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY = os.path.join(ROOT, "examples", "toy_reproduction")
sys.path.insert(0, TOY)

import report  # noqa: E402
import world  # noqa: E402

CONDITIONS = ("pretrained", "none", "naive", "commit", "commit-yy", "joint-commit", "align+commit",
              "align0+commit")
SETS = ("xx", "xx+en", "yy", "yy+en", "en")


def run_toy(args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, os.path.join(TOY, "run.py"), *args],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )


@requires_easylm
def test_quick_setting_produces_the_precondition_the_tables_and_the_plot(tmp_path):
    out = tmp_path / "toy"
    proc = run_toy(["--quick", "--out", str(out)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # The first line says whether the target-language table is a result at all; the quick
    # model does not learn the task, so it must say that it is not.
    first = proc.stdout.splitlines()[0]
    assert first.startswith("PRECONDITION FAILED: the English control does not reach >= 60% EM")
    assert "NOT a result" in first

    md = (out / "results.md").read_text(encoding="utf-8").splitlines()
    assert md[0] == first
    header = md.index("| condition | xx EM | xx+en EM | yy EM | yy+en EM | en EM | seeds |")
    rows = {}
    for line in md[header + 2:]:
        if not line.startswith("|"):
            break
        rows[line.split("|")[1].strip()] = line
    assert list(rows) == list(CONDITIONS)
    for condition, line in rows.items():
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 7
        if condition == "pretrained":  # one model, scored once: no spread
            assert not any(" ± " in c for c in cells[1:6]) and cells[6] == "1 checkpoint"
        else:
            assert all(" ± " in c for c in cells[1:6]) and cells[6] == "1"
    assert "| condition | xx F1 | xx+en F1 | yy F1 | yy+en F1 | en F1 | seeds |" in md
    for pair in ("| commit − none | xx |", "| commit − none | xx+en |", "| align+commit − commit | xx |",
                 "| commit − naive | xx |", "| commit-yy − none | yy |",
                 "| joint-commit − commit | xx |", "| joint-commit − commit-yy | yy+en |"):
        assert any(line.startswith(pair) for line in md), pair

    assert (out / "em.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["setting"] == "quick" and results["precondition"]["met"] is False
    assert sorted(r["condition"] for r in results["runs"]) == sorted(CONDITIONS)
    for r in results["runs"]:
        for lang in SETS:
            assert 0.0 <= r[lang]["exact_match"] <= 100.0 and r[lang]["n"] > 0
            assert len(r[f"{lang}_em_items"]) == r[lang]["n"]
    # Every tuned run and both alignments really trained inside EasyLM; the Table 3 control
    # aligned without mixing; yy's model mixed with yy's dictionary, the joint one with both.
    for name in ("pretrain", "none-seed0", "naive-seed0", "commit-seed0", "commit-yy-seed0",
                 "joint-commit-seed0", "align-seed0", "align+commit-seed0", "align0-seed0",
                 "align0+commit-seed0"):
        info = results["training"][name]
        assert info["steps"] > 0 and info["last_loss"] is not None
        assert (out / "runs" / name / "streaming_params").is_file()
    assert "--train_dataset.codemix_clm.alpha=0.0" in results["training"]["align0-seed0"]["command"]
    assert "--train_dataset.codemix_clm.alpha=0.5" in results["training"]["align-seed0"]["command"]
    assert "--train_dataset.commit.dictionary=OUT/world/dict.en-yy.txt" in results["training"]["commit-yy-seed0"]["command"]
    joint = results["training"]["joint-commit-seed0"]["command"]
    assert "--train_dataset.commit.languages=OUT/world/languages.json" in joint
    assert not any(flag.startswith("--train_dataset.commit.dictionary=") for flag in joint)
    assert [e["lang"] for e in json.loads((out / "world" / "languages.json").read_text())] == ["xx", "yy"]
    log = (out / "logs" / "joint-commit-seed0.log").read_text(errors="replace")
    assert "dataset_mixing_rate_xx" in log and "dataset_mixing_rate_yy" in log
    # What is recorded names no path of this machine.
    text = (out / "results.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and sys.executable not in text
    prov = results["provenance"]
    assert prov["command"].startswith("python examples/toy_reproduction/run.py --quick --out OUT")
    assert prov["code_commit"] and "CPU" in prov["machine"]

    # The world the runs trained on: a partial MUSE dictionary per target language, and the
    # evaluation sets: the question in each language, the instruction in its template's.
    world_dir = out / "world"
    for lang in ("xx", "yy"):
        pairs = [line.split(" ") for line in (world_dir / f"dict.en-{lang}.txt").read_text(encoding="utf-8").splitlines()]
        assert pairs and all(len(p) == 2 for p in pairs)
    manifest = json.loads((world_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sizes"]["eval_items"] == results["runs"][0]["xx"]["n"]
    eval_sets = {key: json.loads((world_dir / f"eval_{key}.json").read_text(encoding="utf-8")) for key in SETS}
    assert eval_sets["xx+en"][0]["instruction"] == eval_sets["en"][0]["instruction"] == world.QA_INSTRUCTION
    assert eval_sets["xx"][0]["input"] == eval_sets["xx+en"][0]["input"] != eval_sets["en"][0]["input"]
    assert eval_sets["xx"][0]["instruction"] != world.QA_INSTRUCTION
    assert eval_sets["yy"][0]["input"] not in (eval_sets["xx"][0]["input"], eval_sets["en"][0]["input"])

    # Repeating the command reuses the finished runs and rewrites the same table.
    again = run_toy(["--quick", "--quiet", "--out", str(out)])
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.splitlines() == [first]
    # Same table and comparisons; only the provenance (wall time, runs made) differs.
    assert (out / "results.md").read_text(encoding="utf-8").splitlines()[header:] == md[header:]
    assert json.loads((out / "results.json").read_text())["provenance"]["trained_here"] == 0


def test_without_easylm_the_runner_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EASYLM_DIR"}
    proc = run_toy(["--quick", "--out", str(tmp_path / "toy")], env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "EASYLM_DIR" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "toy" / "results.md").exists()


# --- The committed full run ---------------------------------------------------------------------

COMMITTED = os.path.join(TOY, "results.json")


def committed():
    with open(COMMITTED, encoding="utf-8") as fin:
        return json.load(fin)


# The two must-holds (issue 13).


def test_the_committed_run_learned_the_task_for_every_tuned_condition_and_seed():
    results = committed()
    assert results["setting"] == "full"
    assert results["precondition"]["met"] is True
    assert results["precondition"] == report.precondition(results["runs"])
    assert set(report.TUNED) == set(CONDITIONS[1:])
    for condition in CONDITIONS[1:]:
        rows = [r for r in results["runs"] if r["condition"] == condition]
        assert len(rows) >= 3, condition
        assert sorted(r["seed"] for r in rows) == results["seeds"]
        mean_en = sum(r["en"]["exact_match"] for r in rows) / len(rows)
        assert mean_en >= 60.0, (condition, mean_en)
        for r in rows:
            # Every model is scored on both target languages, each under its own template and
            # under the English one, and on the English control: the same 100 items each.
            for key in SETS:
                assert r[key]["n"] == 100
                assert 0.0 <= r[key]["exact_match"] <= 100.0
                assert r[key]["exact_match"] == pytest.approx(
                    100.0 * r[f"{key}_em_items"].count("1") / r[key]["n"])


def test_the_committed_run_states_how_it_was_made():
    prov = committed()["provenance"]
    assert prov["command"].startswith("python examples/toy_reproduction/run.py ")
    assert len(prov["code_commit"].split("+")[0]) >= 7 and not prov["code_commit"].endswith("+dirty")
    assert "CPU" in prov["machine"] and committed()["wall_seconds"] > 0
    # The full run is within the budget of 75 minutes on the 2-core CPU.
    assert committed()["wall_seconds"] <= 75 * 60 and prov["trained_here"] == prov["training_runs"]


def test_the_committed_command_was_rerun_and_reproduced_within_the_seed_spread():
    results = committed()
    check = results["rerun"]  # written by report.py --compare RERUN/results.json --record
    assert check["command"] == results["provenance"]["command"]
    assert check["within_spread"] is True and check["runs"] == len(results["runs"])
    assert all(row["within"] for row in check["rows"])


def test_the_committed_tables_and_readmes_are_generated_from_results_json():
    results = committed()
    assert results["summary"] == json.loads(json.dumps(report.summarise(results["runs"])))
    assert results["paired"] == json.loads(json.dumps(report.paired(results["runs"])))
    assert report.stale() == []


def test_the_committed_pretrained_row_is_one_checkpoint_and_the_pairs_lead_with_the_seeds():
    results = committed()
    pretrained = [r for r in results["runs"] if r["condition"] == "pretrained"]
    # run.py scored the one pretrained model once per seed: the same checkpoint, the same items.
    assert len(pretrained) == len(results["seeds"]) and len({r["checkpoint"] for r in pretrained}) == 1
    assert len({"".join(r[f"{key}_em_items"] for key in SETS) for r in pretrained}) == 1
    assert results["summary"]["pretrained"]["xx"]["exact_match"][2] == 1
    md = report.results_markdown(results)
    assert "| pretrained | " in md and "1 checkpoint |" in md.split("| pretrained | ")[1].splitlines()[0]
    header = next(line for line in md.splitlines() if line.startswith("| a − b |"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[1:4] == ["set", "seeds a > b", "EM t-test (seeds)"] and columns[-1].startswith("item-level")
    assert report.ITEM_LEVEL in md and report.ITEM_LEVEL in report.top_readme_block(results)


# --- The world ---------------------------------------------------------------------------------


def test_no_tuning_record_of_a_committed_seed_states_or_asks_a_held_out_fact(tmp_path, monkeypatch):
    # run.py sets XLA_FLAGS when imported; keep that out of this process's environment.
    monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", ""))
    import run

    results = committed()
    kb = world.Knowledge(results["world_seed"])
    count = results["world"]["sizes"]["instructions"]
    paragraph_tasks = held_out_named = 0
    for seed in results["seeds"]:
        # The very records the committed run tuned on, rebuilt by its own code.
        with open(run.write_instructions(str(tmp_path), results["world_seed"], seed, count), encoding="utf-8") as fin:
            records = json.load(fin)
        assert len(records) == count
        for record in records:
            text = " ".join((record["instruction"], record["input"], record["output"]))
            assert kb.facts_in(text, kb.eval_people) == set(), record
            if record["instruction"] != world.QA_INSTRUCTION:
                paragraph_tasks += 1
                held_out_named += any(name in kb.eval_people for name in text.split())
    # The paragraph tasks are there, and a held-out person may be named as another person's
    # answer (allowed: the fact stated is the tuning person's).
    assert paragraph_tasks > 100 and held_out_named > 0


def test_the_held_out_check_finds_a_fact_in_every_phrasing_and_as_a_question():
    kb = world.Knowledge(0)
    person = kb.eval_people[0]
    for relation, (phrasings, question, _) in world.RELATIONS.items():
        answer = kb.facts[person][relation]
        for phrasing in phrasings:
            text = f"text : the boss of zz is yy . {phrasing.format(e=person, a=answer)}"
            assert kb.facts_in(text, [person]) == {(person, relation)}
        assert kb.facts_in(f"question : {question.format(e=person)}", [person]) == {(person, relation)}
    # Whole words only, and another person's fact naming this one as the answer is not this
    # person's fact.
    assert kb.facts_in(f"the boss of {person}x is {kb.facts[person]['boss']} .", [person]) == set()
    other = kb.tuning_people[0]
    assert kb.facts_in(f"the boss of {other} is {person} .", [person]) == set()


@pytest.mark.parametrize("lang", world.TARGETS)
def test_the_target_language_template_translates_every_word_and_keeps_the_layout(lang, tmp_path):
    import re

    from easylm_commit.templates import ALPACA_EN, Formatter

    w = world.World(0)
    template = w.template(lang)
    consonants, vowels = world.SCRIPTS[lang]
    for key, english in ALPACA_EN.items():
        text = template[key].replace("{instruction}", "").replace("{input}", "")
        assert not re.search("[A-Za-z]", text), text  # no English word is left
        assert set(re.findall(r"[^\W\d_]", text.lower())) <= set(consonants + vowels)
        # Word for word: the same punctuation, headers, newlines and placeholders.
        assert re.sub(r"[^\W\d_]+", "W", template[key]) == re.sub(r"[^\W\d_]+", "W", english.replace(
            "{instruction}", "{W}").replace("{input}", "{W}"))
    path = tmp_path / f"template.{lang}.json"
    path.write_text(json.dumps(template, ensure_ascii=False), encoding="utf-8")
    record = dict(instruction=w.translate(world.QA_INSTRUCTION, lang),
                  input=w.translate(world.qa_prompt_input("who is the boss of alice ?"), lang), output="")
    prompt = Formatter(mode="none", template=str(path)).format(record).prompt
    assert prompt.endswith(f"### {w.translations[lang]['response'].capitalize()}:")
    assert record["input"] in prompt and "alice" in prompt and "boss" not in prompt


# --- report.py on hand-made runs ------------------------------------------------------------------


def _run(condition, seed, xx_items, en_em):
    """A run scored ``xx_items`` on every target-language set, ``en_em`` on the control."""
    n = len(xx_items)
    run = dict(condition=condition, seed=seed, en=dict(exact_match=en_em, f1=en_em, n=n), en_em_items="1" * n)
    for key in SETS[:-1]:
        em = 100.0 * xx_items.count("1") / n
        run.update({key: dict(exact_match=em, f1=em, n=n), f"{key}_em_items": xx_items})
    return run


def test_precondition_needs_every_tuned_condition_at_60_percent_english_em():
    # English control 75% for every tuned condition: met.
    runs = [_run(c, s, "0101", 75.0) for c in CONDITIONS for s in (0, 1, 2)]
    assert report.precondition(runs)["met"]
    assert report.precondition(runs)["line"].startswith("PRECONDITION MET:")
    # One condition's mean below 60 fails it, and the line names the numbers.
    low = [dict(r, en=dict(r["en"], exact_match=50.0)) if r["condition"] == "naive" else r
           for r in runs]
    result = report.precondition(low)
    assert not result["met"] and "naive 50.0" in result["line"]
    assert result["line"].startswith("PRECONDITION FAILED:")
    # A missing tuned condition fails it too; the untuned pretrained model does not count.
    assert not report.precondition([r for r in runs if r["condition"] != "align0+commit"])["met"]
    assert report.precondition([r for r in runs if r["condition"] != "pretrained"])["met"]


def test_paired_comparison_uses_the_same_seed_and_counts_items_both_ways():
    runs = [
        _run("none", 0, "1000", 70.0), _run("commit", 0, "1110", 70.0),
        _run("none", 1, "1100", 70.0), _run("commit", 1, "0110", 70.0),
    ]
    (pair,) = [p for p in report.paired(runs) if (p["a"], p["b"], p["lang"]) == ("commit", "none", "xx")]
    assert pair["seeds"] == [0, 1]
    assert pair["exact_match"]["per_seed"] == [50.0, 0.0]
    assert pair["exact_match"]["mean"] == 25.0 and pair["exact_match"]["positive"] == 1
    # seed 0: commit alone on items 1, 2; seed 1: commit alone on item 2, none alone on item 0.
    assert (pair["a_only"], pair["b_only"]) == (3, 1)
    assert pair["sign_p"] == pytest.approx(0.625)
    # Seed level: differences 50 and 0, mean 25, sample std 25·√2, so t = 25 / (25·√2 / √2) = 1;
    # with 1 degree of freedom t is Cauchy-distributed, and P(|T| >= 1) = 1/2.
    assert pair["exact_match"]["t"] == pytest.approx(1.0)
    assert pair["exact_match"]["t_p"] == pytest.approx(0.5)


def test_the_seed_level_test_is_a_two_sided_t_test_over_the_per_seed_differences():
    # commit − none per seed, in EM points over 4 items: 50, 25, 75.
    runs = [
        _run("none", 0, "0000", 70.0), _run("commit", 0, "1100", 70.0),
        _run("none", 1, "1000", 70.0), _run("commit", 1, "1100", 70.0),
        _run("none", 2, "0000", 70.0), _run("commit", 2, "1110", 70.0),
    ]
    (pair,) = [p for p in report.paired(runs) if (p["a"], p["b"], p["lang"]) == ("commit", "none", "xx")]
    em = pair["exact_match"]
    assert em["per_seed"] == [50.0, 25.0, 75.0] and (em["positive"], em["negative"]) == (3, 0)
    # t = mean / (std / √n) = 50 / (25 / √3); with 2 degrees of freedom the two-sided tail
    # has the closed form P(|T| >= t) = 1 − t / √(t² + 2).
    t = 50.0 / (25.0 / math.sqrt(3))
    assert em["t"] == pytest.approx(t)
    assert em["t_p"] == pytest.approx(1 - t / math.sqrt(t * t + 2))
    # Swapped roles: the same p, the opposite sign, 0 of 3 seeds positive.
    swapped = report.paired([dict(r, condition={"none": "commit", "commit": "none"}[r["condition"]]) for r in runs])
    (back,) = [p for p in swapped if (p["a"], p["b"], p["lang"]) == ("commit", "none", "xx")]
    assert back["exact_match"]["t"] == pytest.approx(-t) and back["exact_match"]["t_p"] == pytest.approx(em["t_p"])
    assert back["exact_match"]["positive"] == 0
    # Undefined, not a number, with one seed or when every seed differs by the same amount.
    (one,) = [p for p in report.paired(runs[:2]) if (p["a"], p["b"], p["lang"]) == ("commit", "none", "xx")]
    assert one["exact_match"]["t_p"] is None
    flat = [_run("none", s, "0000", 70.0) for s in (0, 1)] + [_run("commit", s, "1000", 70.0) for s in (0, 1)]
    (same,) = [p for p in report.paired(flat) if (p["a"], p["b"], p["lang"]) == ("commit", "none", "xx")]
    assert same["exact_match"]["t_p"] is None
    table = report.paired_table([pair, same])
    assert f"| commit − none | xx | 3/3 | t = {t:.2f}, p = {em['t_p']:.2g} | +50.0, +25.0, +75.0 |" in table
    assert "| commit − none | xx | 2/2 | n/a |" in table


def test_the_pretrained_model_is_one_checkpoint_however_many_seeds_scored_it():
    runs = [dict(_run("pretrained", s, "0100", 0.0), checkpoint="runs/pretrain") for s in (0, 1, 2)]
    runs += [dict(_run("commit", s, items, 75.0), checkpoint=f"runs/commit-seed{s}")
             for s, items in ((0, "1100"), (1, "1000"), (2, "1110"))]
    summary = report.summarise(runs)
    assert summary["pretrained"]["xx"]["exact_match"] == [25.0, 0.0, 1]
    assert summary["commit"]["xx"]["exact_match"][2] == 3
    rows = {line.split("|")[1].strip(): line for line in report.main_table(summary).splitlines()[2:]}
    assert rows["pretrained"] == "| pretrained | 25.0 | 25.0 | 25.0 | 25.0 | 0.0 | 1 checkpoint |"
    assert rows["commit"].startswith("| commit | 50.0 ± 25.0 |") and rows["commit"].endswith("| 3 |")


def _results(runs, wall=60.0):
    return dict(summary=report.summarise(runs), runs=runs, wall_seconds=wall,
                provenance=dict(command="python examples/toy_reproduction/run.py --out OUT",
                                code_commit="abc1234", machine="2 CPU cores"))


def test_a_rerun_passes_when_every_mean_stays_within_the_committed_seed_spread():
    committed_runs = [_run(c, s, items, 75.0) for c in CONDITIONS
                      for s, items in ((0, "1100"), (1, "1000"), (2, "1110"))]
    same = report.compare_rerun(_results(committed_runs), _results(committed_runs))
    assert same["within_spread"] and same["identical_runs"] == same["runs"] == 24
    assert same["max_abs_diff"] == 0.0
    # Seed 2 of COMMIT now gets one item fewer: the mean moves by 25/3 points, inside the
    # committed spread of 25 points; the run is no longer identical.
    moved = [_run(r["condition"], r["seed"], "1100", 75.0) if (r["condition"], r["seed"]) == ("commit", 2) else r
             for r in committed_runs]
    check = report.compare_rerun(_results(committed_runs), _results(moved))
    assert check["within_spread"] and check["identical_runs"] == 23
    assert check["max_abs_diff"] == pytest.approx(25.0 / 3)
    assert "23 of 24 runs" in report.rerun_line(check) and " is within " in report.rerun_line(check)
    # Every seed of COMMIT losing all its items leaves the spread, and the line says so.
    lost = [_run(r["condition"], r["seed"], "0000", 75.0) if r["condition"] == "commit" else r
            for r in committed_runs]
    check = report.compare_rerun(_results(committed_runs), _results(lost))
    assert not check["within_spread"] and "NOT within" in report.rerun_line(check)
    assert any(row["condition"] == "commit" and not row["within"] for row in check["rows"])


def test_check_fails_on_a_stale_em_png_and_passes_once_it_is_redrawn(tmp_path):
    # A copy of the committed tree: the example's files, report.py and docs/toy.md.
    example = tmp_path / "examples" / "toy_reproduction"
    example.mkdir(parents=True)
    for name in ("report.py", "results.json", "results.md", "README.md", "em.png"):
        shutil.copyfile(os.path.join(TOY, name), example / name)
    (tmp_path / "docs").mkdir()
    shutil.copyfile(os.path.join(ROOT, "docs", "toy.md"), tmp_path / "docs" / "toy.md")
    results_path = str(example / "results.json")
    png = str(example / "em.png")
    assert report.stale(results_path, root=str(tmp_path)) == []

    # COMMIT's seed 0 gets its first ten target-language items wrong.
    results = json.loads((example / "results.json").read_text(encoding="utf-8"))
    (run,) = [r for r in results["runs"] if (r["condition"], r["seed"]) == ("commit", 0)]
    assert "1" in run["xx_em_items"][:10]
    items = "0" * 10 + run["xx_em_items"][10:]
    run.update(xx_em_items=items, xx=dict(run["xx"], exact_match=100.0 * items.count("1") / len(items)))
    (example / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    assert png in report.stale(results_path, root=str(tmp_path))

    # Every text file regenerated, the plot not: em.png alone is stale, and --check says so.
    report.write_all(results_path, with_plot=False, root=str(tmp_path))
    assert report.stale(results_path, root=str(tmp_path)) == [png]
    proc = subprocess.run([sys.executable, str(example / "report.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "report.py: examples/toy_reproduction/em.png: does not match results.json "
        "(run examples/toy_reproduction/report.py)"]

    # The new plot shows COMMIT's new mean, and once drawn the check passes.
    report.write_all(results_path, root=str(tmp_path))
    commit_index = report.plot_data(results["summary"])["conditions"].index("commit")
    xx = next(b for b in report.plotted(png)["bars"] if b["lang"] == "xx")
    rewritten = json.loads((example / "results.json").read_text(encoding="utf-8"))
    new_mean = rewritten["summary"]["commit"]["xx"]["exact_match"][0]
    assert xx["mean"][commit_index] == new_mean != results["summary"]["commit"]["xx"]["exact_match"][0]
    assert report.stale(results_path, root=str(tmp_path)) == []
    assert subprocess.run([sys.executable, str(example / "report.py"), "--check"],
                          capture_output=True, timeout=300).returncode == 0
