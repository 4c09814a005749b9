"""Everything the toy reproduction reports, generated from ``results.json`` alone.

    python examples/toy_reproduction/report.py            # rewrite results.md, em.png, the example's README, docs/toy.md
    python examples/toy_reproduction/report.py --check    # exit 1 if any of them is stale

``run.py`` writes ``results.json``; this module turns it into the precondition line, the
tables (mean ± std over seeds; the pretrained model is one checkpoint), the paired per-seed
comparisons (seed level first, item level as a guide), ``results.md``, ``em.png`` and the
result sections of the example's README and of docs/toy.md (between
``<!-- toy-results:begin -->`` and ``<!-- toy-results:end -->``). Nothing in those files is
typed by hand, so they cannot drift from the committed numbers (``tests/test_toy_reproduction.py``
runs the check). The write mode also refreshes what ``results.json`` derives from its runs
(precondition, summary, paired); it never changes the runs.
"""

import argparse
import json
import math
import os
import sys

from easylm_commit.atomic import atomic_output, atomic_path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Row order of every table; "align0+commit" is the Table 3 control (alignment by plain
# target-language CLM, alpha = 0, then COMMIT).
CONDITIONS = ("pretrained", "none", "naive", "commit", "commit-yy", "joint-commit", "align+commit",
              "align0+commit")
TUNED = CONDITIONS[1:]
LABELS = {
    "pretrained": "pretrained (no tuning)",
    "none": "none (plain Alpaca)",
    "naive": "naive (template mixed too, into xx)",
    "commit": "COMMIT into xx",
    "commit-yy": "COMMIT into yy",
    "joint-commit": "joint COMMIT: one model, xx and yy",
    "align+commit": "Align+COMMIT (xx CLM alpha 0.5)",
    "align0+commit": "control: xx CLM alpha 0 + COMMIT",
}
# Scores of a run: each target language asked under its own template (xx, yy: the paper's
# main prompt) and under the English one (xx+en, yy+en: its "+En prompt"), and the English
# control (en). world.EVAL_SETS defines them.
LANGS = ("xx", "xx+en", "yy", "yy+en", "en")
# (a, b, set): "a − b" per seed on one evaluation set. COMMIT vs none and Align+COMMIT vs
# COMMIT are issue 13's; naive vs none and COMMIT vs naive are Table 4 (which is about the
# template, so both prompts are shown); Align+COMMIT vs the alpha-0 control is Table 3; yy's
# COMMIT vs none repeats the main effect in the second language.
PAIRS = tuple((a, b, key) for a, b in (("commit", "none"), ("naive", "none"), ("commit", "naive"),
                                       ("align+commit", "commit"), ("align+commit", "align0+commit"))
              for key in ("xx", "xx+en")) + (("commit-yy", "none", "yy"), ("commit-yy", "none", "yy+en"))
# The joint model against each language's own model, on that language's sets (issue 21).
JOINT_PAIRS = (("joint-commit", "commit", "xx"), ("joint-commit", "commit", "xx+en"),
               ("joint-commit", "commit-yy", "yy"), ("joint-commit", "commit-yy", "yy+en"),
               ("joint-commit", "commit", "en"), ("joint-commit", "commit-yy", "en"))
PRECONDITION_EM = 60.0
# The precondition's score: is the task learned? (see precondition())
PRECONDITION_SCORE = "en"
MARK_BEGIN, MARK_END = "<!-- toy-results:begin -->", "<!-- toy-results:end -->"


# --- Numbers -----------------------------------------------------------------------------------


def mean_std(values):
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def _models(rows):
    """``rows`` with one row per evaluated checkpoint.

    The pretrained model does not depend on the seed: run.py scores that one checkpoint
    again for every seed (the same model, greedy decoding, the same items: the same scores),
    so its repeats are one model evaluated once, not a sample of several. Rows without a
    recorded checkpoint count as models of their own.
    """
    seen, out = set(), []
    for r in rows:
        key = r.get("checkpoint", (r["condition"], r["seed"]))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def summarise(runs):
    """{condition: {lang: {metric: [mean, std, n]}}}: over seeds, n evaluated checkpoints.

    A condition whose seeds all evaluated one checkpoint (the pretrained model) has n = 1 and
    std 0: its score, not a mean.
    """
    table = {}
    for condition in CONDITIONS:
        rows = _models([r for r in runs if r["condition"] == condition])
        if not rows:
            continue
        table[condition] = {
            lang: {m: [*mean_std([r[lang][m] for r in rows]), len(rows)] for m in ("exact_match", "f1")}
            for lang in LANGS if all(lang in r for r in rows)
        }
    return table


def precondition(runs):
    """Is the task learned? English-control EM >= 60 (mean over seeds) for every tuned condition.

    Strict exact match on the English questions. Every answer is a person's name, written
    alike in both languages (see world.py), so a model that code-mixed tuning taught to answer
    in the target language is not counted wrong for the language it answers in.
    """
    by_condition = {}
    for condition in TUNED:
        values = [r[PRECONDITION_SCORE]["exact_match"] for r in runs if r["condition"] == condition]
        if values:
            by_condition[condition] = dict(mean=mean_std(values)[0], min=min(values), seeds=len(values))
    missing = [c for c in TUNED if c not in by_condition]
    met = not missing and all(v["mean"] >= PRECONDITION_EM for v in by_condition.values())
    detail = ", ".join(f"{c} {v['mean']:.1f} (lowest seed {v['min']:.1f})" for c, v in by_condition.items())
    if met:
        line = (f"PRECONDITION MET: the English control reaches >= {PRECONDITION_EM:.0f}% EM "
                f"for every tuned condition ({detail}), so the target-language "
                f"table is a result.")
    else:
        why = f"missing conditions {', '.join(missing)}; " if missing else ""
        line = (f"PRECONDITION FAILED: the English control does not reach >= {PRECONDITION_EM:.0f}% EM "
                f"for every tuned condition ({why}{detail}), so the "
                f"target-language table is NOT a result: the model has not learned the task.")
    return dict(met=met, threshold=PRECONDITION_EM, score=PRECONDITION_SCORE, english_em=by_condition,
                line=line)


def _binom_two_sided(k, n):
    """Exact two-sided sign-test p-value for k successes out of n at p = 1/2."""
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(0, min(k, n - k) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _t_test(diffs):
    """Two-sided one-sample t-test of the per-seed differences against 0: (t, p).

    (None, None) where it is undefined: fewer than two seeds, or every seed the same
    difference (no spread to scale by). scipy comes with jax, which every run of the toy needs.
    """
    if len(diffs) < 2 or max(diffs) == min(diffs):
        return None, None
    from scipy import stats

    result = stats.ttest_1samp(diffs, 0.0)
    return float(result.statistic), float(result.pvalue)


def paired(runs, pairs=PAIRS + JOINT_PAIRS):
    """Per-seed differences (same seed, same evaluation items) for each (a, b, set) of
    ``pairs`` (PAIRS, then the joint model's JOINT_PAIRS).

    Seed level, the comparison: each seed is one tuning run of each condition, independent of
    the other seeds' runs, so per metric the seeds with ``a`` above ``b`` (``positive``;
    ``negative`` the reverse) and a two-sided one-sample t-test over the per-seed differences
    (``t``, ``t_p``; n − 1 degrees of freedom).

    Item level, a guide only: ``a_only`` counts (seed, item) pairs that ``a`` gets exactly
    right and ``b`` does not, ``b_only`` the reverse, and ``sign_p`` is the exact two-sided
    sign test (McNemar) on them. It treats those pairs as independent, which they are not:
    every item and seed shares one world and one pretrained model, and the same items recur
    across seeds.
    """
    out = []
    index = {(r["condition"], r["seed"]): r for r in runs}
    for a, b, lang in pairs:
        seeds = sorted(s for (c, s) in index if c == a and (b, s) in index and lang in index[(c, s)]
                       and lang in index[(b, s)])
        if not seeds:
            continue
        row = dict(a=a, b=b, lang=lang, seeds=seeds)
        for metric in ("exact_match", "f1"):
            diffs = [index[(a, s)][lang][metric] - index[(b, s)][lang][metric] for s in seeds]
            mean, std = mean_std(diffs)
            t, t_p = _t_test(diffs)
            row[metric] = dict(per_seed=diffs, mean=mean, std=std,
                               positive=sum(d > 0 for d in diffs), negative=sum(d < 0 for d in diffs),
                               t=t, t_p=t_p)
        a_only = b_only = 0
        for s in seeds:
            ea, eb = index[(a, s)].get(f"{lang}_em_items"), index[(b, s)].get(f"{lang}_em_items")
            if ea is None or eb is None:
                continue
            a_only += sum(x == "1" and y == "0" for x, y in zip(ea, eb))
            b_only += sum(x == "0" and y == "1" for x, y in zip(ea, eb))
        row.update(a_only=a_only, b_only=b_only, sign_p=_binom_two_sided(a_only, a_only + b_only))
        out.append(row)
    return out


def compare_rerun(committed, rerun):
    """How a rerun of the committed command compares with the committed results.

    For every condition and language, the difference of the EM and F1 means over seeds, and
    whether it lies within the committed seed spread (|difference| <= the committed sample
    std over seeds; an exact repeat passes at any spread). ``identical_runs`` counts runs
    (condition, seed) whose per-item exact matches are the same string in both languages: on
    one machine and software stack the runs are deterministic, so a rerun there repeats them.
    """
    a, b = committed["summary"], rerun["summary"]
    rows, within = [], True
    for condition in CONDITIONS:
        if condition not in a or condition not in b:
            within = False
            continue
        for lang in LANGS:
            if lang not in a[condition] or lang not in b[condition]:
                within &= lang not in a[condition]  # a set the rerun lacks is not a repeat
                continue
            for metric in ("exact_match", "f1"):
                mean_a, std_a, _ = a[condition][lang][metric]
                diff = b[condition][lang][metric][0] - mean_a
                ok = abs(diff) <= std_a + 1e-9
                within &= ok
                rows.append(dict(condition=condition, lang=lang, metric=metric, committed=mean_a,
                                 rerun=b[condition][lang][metric][0], diff=diff, spread=std_a, within=ok))
    index = {(r["condition"], r["seed"]): r for r in rerun["runs"]}
    identical = sum(
        1 for r in committed["runs"]
        if (r["condition"], r["seed"]) in index
        and all(r.get(f"{lang}_em_items") == index[(r["condition"], r["seed"])].get(f"{lang}_em_items")
                for lang in LANGS)
    )
    return dict(within_spread=within, identical_runs=identical, runs=len(committed["runs"]),
                max_abs_diff=max((abs(r["diff"]) for r in rows), default=0.0), rows=rows,
                command=rerun["provenance"]["command"], code_commit=rerun["provenance"]["code_commit"],
                machine=rerun["provenance"]["machine"], wall_seconds=rerun["wall_seconds"])


def rerun_line(check):
    verdict = "within" if check["within_spread"] else "NOT within"
    return (f"Rerun check: the same command rerun at code `{check['code_commit']}` "
            f"({check['wall_seconds'] / 60:.1f} min) gave {check['identical_runs']} of {check['runs']} runs "
            f"item-for-item identical; every condition's mean EM and F1 is {verdict} the committed "
            f"seed spread (largest difference {check['max_abs_diff']:.1f} points).")


# --- Text --------------------------------------------------------------------------------------


def _ms(cell):
    return f"{cell[0]:.1f} ± {cell[1]:.1f}"


def _score(condition, cell):
    """A table cell: mean ± std over seeds, or the one checkpoint's score (no spread to show)."""
    return f"{cell[0]:.1f}" if _one_checkpoint(condition, cell) else _ms(cell)


def _one_checkpoint(condition, cell):
    # Only the untuned model is the same checkpoint for every seed (see _models); a tuned
    # condition run with one seed is still a mean over seeds, of one.
    return condition not in TUNED and cell[2] == 1


def _count(condition, cell):
    if condition in TUNED:
        return str(cell[2])
    return f"{cell[2]} checkpoint" + ("" if cell[2] == 1 else "s")


def _sets(summary):
    """The evaluation sets every condition of ``summary`` was scored on, in LANGS order."""
    return [lang for lang in LANGS if all(lang in langs for langs in summary.values())]


def main_table(summary, metric="exact_match"):
    """One row per condition, one column per evaluation set: ``metric`` (EM or F1)."""
    name = {"exact_match": "EM", "f1": "F1"}[metric]
    sets = _sets(summary)
    lines = [
        "| condition | " + " | ".join(f"{lang} {name}" for lang in sets) + " | seeds |",
        "| --- | " + " | ".join("---" for _ in sets) + " | --- |",
    ]
    for condition, langs in summary.items():
        cells = [_score(condition, langs[lang][metric]) for lang in sets]
        lines.append(f"| {condition} | " + " | ".join(cells) + f" | {_count(condition, langs['xx']['exact_match'])} |")
    return "\n".join(lines) + "\n"


def _seeds_up(d):
    n = len(d["per_seed"])
    ties = n - d["positive"] - d["negative"]
    return f"{d['positive']}/{n}" + (f" ({ties} tied)" if ties else "")


def _t(d):
    return "n/a" if d["t_p"] is None else f"t = {d['t']:.2f}, p = {d['t_p']:.2g}"


# The label the item-level test carries wherever it is shown.
ITEM_LEVEL = "item-level (items of one world and one pretrained model are not independent)"
TESTS_NOTE = (
    "Seed level, the test: each seed tunes both conditions afresh from the one pretrained "
    "model, independently of the other seeds (so it tests tuning's variation for this world "
    "and pretrained model, not pretraining's); *seeds a > b* counts the seeds with a positive "
    "EM difference, and the t-test is two-sided, one-sample, over the per-seed EM differences "
    "(n − 1 degrees of freedom; n/a with one seed or no spread). "
    f"The sign test is {ITEM_LEVEL}: it counts the (seed, item) pairs that one condition alone "
    "gets right as if each were an independent trial; a guide only.\n"
)


def _joint(p):
    return p["a"] == "joint-commit"


def paired_table(pairs, note=True):
    lines = [
        "| a − b | set | seeds a > b | EM t-test (seeds) | EM per seed | EM mean ± std | F1 per seed | F1 mean ± std "
        "| item-level: items a only / b only (sign-test p) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in pairs:
        em, f1 = p["exact_match"], p["f1"]
        per = lambda d: ", ".join(f"{x:+.1f}" for x in d["per_seed"])  # noqa: E731
        lines.append(
            f"| {p['a']} − {p['b']} | {p['lang']} | {_seeds_up(em)} | {_t(em)} | {per(em)} | "
            f"{em['mean']:+.1f} ± {em['std']:.1f} | {per(f1)} | {f1['mean']:+.1f} ± {f1['std']:.1f} | "
            f"{p['a_only']} / {p['b_only']} (p = {p['sign_p']:.2g}) |"
        )
    return "\n".join(lines) + "\n" + ("\n" + TESTS_NOTE if note else "")


def comparisons(pairs):
    """The paired tables: the paper's comparisons, then the joint model against each
    language's own model (same seed: same instructions, same steps)."""
    single = [p for p in pairs if not _joint(p)]
    joint = [p for p in pairs if _joint(p)]
    text = paired_table(single, note=False)
    if joint:
        text += ("\nOne model for both target languages against each language's own COMMIT model, "
                 "paired by seed (same instructions and steps; the joint model mixes each record "
                 "into xx or yy, half each):\n\n" + paired_table(joint, note=False))
    return text + "\n" + TESTS_NOTE


def provenance(results):
    p = results["provenance"]
    return (
        f"- command: `{p['command']}`\n"
        f"- code: git commit `{p['code_commit']}`\n"
        f"- machine: {p['machine']}\n"
        f"- wall time: {results['wall_seconds'] / 60:.1f} min "
        f"({p['trained_here']} of {p['training_runs']} training runs made by this invocation)\n"
        + (f"- {rerun_line(results['rerun'])}\n" if "rerun" in results else "")
    )


SETS_NOTE = (
    "`xx` and `yy` are the two target languages, asked with question and answer in the "
    "language under the Alpaca template and instruction translated into it (the paper's main "
    "prompt); `xx+en` and `yy+en` ask the same questions under the English template and "
    "instruction (the paper's \"+En prompt\"); `en` is the English control (the "
    "precondition's score)."
)


def tables(results):
    return (
        f"EM in %:\n\n{main_table(results['summary'])}\n"
        f"F1 in %:\n\n{main_table(results['summary'], 'f1')}\n"
        f"Paired by seed (same pretrained model, same instruction sample and evaluation items; "
        f"`a − b` in EM/F1 points):\n\n"
        f"{comparisons(results['paired'])}"
    )


def results_markdown(results):
    pre = results["precondition"]
    n_items = results["runs"][0]["xx"]["n"]
    return (
        f"{pre['line']}\n\n"
        f"# Toy COMMIT reproduction: results ({results['setting']} setting)\n\n"
        f"{provenance(results)}\n"
        f"Mean ± sample std over seeds (the pretrained row is one checkpoint, scored once); "
        f"{n_items} questions per set about people whose facts the model only read in "
        f"pretraining. {SETS_NOTE}\n\n"
        f"{tables(results)}"
    )


def readme_block(results):
    """The generated part of the example's README."""
    return (
        f"**{results['precondition']['line']}**\n\n"
        f"{provenance(results)}\n"
        f"{SETS_NOTE}\n\n"
        f"{tables(results)}"
    )


def top_readme_block(results):
    """The short generated summary in docs/toy.md (linked from the top-level README)."""
    s = results["summary"]
    rows = main_table(s).rstrip("\n").splitlines()
    seeds = s["commit"]["xx"]["exact_match"][2] if "commit" in s else 0
    pairs = ["| EM, a − b | set | seeds a > b | t-test (seeds) | mean ± std | item-level sign-test p |",
             "| --- | --- | --- | --- | --- | --- |"]
    for p in results["paired"]:
        em = p["exact_match"]
        pairs.append(f"| {p['a']} − {p['b']} | {p['lang']} | {_seeds_up(em)} | {_t(em)} "
                     f"| {em['mean']:+.1f} ± {em['std']:.1f} | {p['sign_p']:.2g} |")
    return (
        f"{results['precondition']['line']} Mean ± std over {seeds} seeds (pretrained: one checkpoint), "
        f"{results['wall_seconds'] / 60:.0f} min on {results['provenance']['machine_short']}. "
        f"{SETS_NOTE}\n\n"
        + "\n".join(rows) + "\n\n"
        + "Paired by seed: the seeds where `a` beats `b` and a two-sided one-sample t-test over the "
        f"per-seed differences (n − 1 degrees of freedom); the sign test is {ITEM_LEVEL}, a guide only.\n\n"
        + "\n".join(pairs) + "\n"
    )


# The PNG text chunk that holds what em.png plots (see plot_data).
PLOT_LABELS = {"xx": "xx, xx prompt", "xx+en": "xx, English prompt", "yy": "yy, yy prompt",
               "yy+en": "yy, English prompt", "en": "English (control)"}
PLOT_DATA_KEY = "toy-results plot data"


def plot_data(summary):
    """Everything em.png shows, as plain JSON values: what ``--check`` compares.

    The PNG's bytes are not compared: they depend on the matplotlib and FreeType versions,
    which nothing pins (matplotlib comes with the ``eval`` extra, unpinned), so the same
    results would read as stale on another install. The data is stored in the PNG itself
    (a text chunk) so that it cannot go out of step with the picture.
    """
    conditions = list(summary)
    return dict(
        title="Toy COMMIT reproduction: closed-book QA, mean ± std over seeds",
        ylabel="exact match (%)",
        threshold=PRECONDITION_EM,
        conditions=conditions,
        ticks=[c.replace("+", "+\n")
               + ("\n(1 checkpoint)" if _one_checkpoint(c, summary[c]["xx"]["exact_match"]) else "")
               for c in conditions],
        bars=[dict(lang=lang, label=PLOT_LABELS[lang],
                   mean=[summary[c][lang]["exact_match"][0] for c in conditions],
                   std=[summary[c][lang]["exact_match"][1] for c in conditions])
              for lang in _sets(summary)],
    )


def plot(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = plot_data(summary)
    conditions = data["conditions"]
    x = range(len(conditions))
    n = len(data["bars"])
    width = 0.84 / n
    fig, ax = plt.subplots(figsize=(10, 3.8), dpi=100)
    for k, bar in enumerate(data["bars"]):
        ax.bar([i + (k - (n - 1) / 2) * width for i in x], bar["mean"], width, yerr=bar["std"], capsize=2,
               label=bar["label"])
    ax.axhline(data["threshold"], color="gray", lw=0.8, ls="--")
    ax.set_xticks(list(x))
    ax.set_xticklabels(data["ticks"], fontsize=8)
    ax.set_ylabel(data["ylabel"])
    ax.set_ylim(0, 110)  # room for the legend above the bars
    ax.set_title(data["title"], fontsize=10)
    ax.legend(loc="upper left", fontsize=7, ncol=n)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png",
                    metadata={"Software": None, PLOT_DATA_KEY: json.dumps(data, sort_keys=True)})
    plt.close(fig)


def plotted(path):
    """The plot data stored in the PNG at ``path``; None if it is missing or has none.

    Pillow reads the chunk: matplotlib, which writes the PNG, depends on it.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            text = image.text.get(PLOT_DATA_KEY)
    except (OSError, ValueError):
        return None
    return None if text is None else json.loads(text)


# --- Files -------------------------------------------------------------------------------------


def write_atomic(path, text):
    with atomic_output(path) as fout:
        fout.write(text)


def replace_block(text, block, name):
    """``text`` with the part between the markers replaced by ``block``."""
    if text.count(MARK_BEGIN) != 1 or text.count(MARK_END) != 1:
        raise ValueError(f"{name}: expected one {MARK_BEGIN} ... {MARK_END} block")
    head, rest = text.split(MARK_BEGIN)
    _, tail = rest.split(MARK_END)
    return f"{head}{MARK_BEGIN}\n{block}{MARK_END}{tail}"


def generated_files(results, example_dir=HERE, root=ROOT):
    """{path: expected text} for every text file generated from ``results``."""
    files = {os.path.join(example_dir, "results.md"): results_markdown(results)}
    for path, block in ((os.path.join(example_dir, "README.md"), readme_block(results)),
                        (os.path.join(root, "docs", "toy.md"), top_readme_block(results))):
        with open(path, encoding="utf-8") as fin:
            files[path] = replace_block(fin.read(), block, os.path.relpath(path, root))
    return files


def derived(runs):
    """What results.json derives from its runs (run.py writes the same keys)."""
    return dict(precondition=precondition(runs), summary=summarise(runs), paired=paired(runs))


def _load(results_path):
    """(results with its derived keys recomputed, whether the stored ones differed)."""
    with open(results_path, encoding="utf-8") as fin:
        results = json.load(fin)
    # Through JSON, as stored: tuples become lists.
    fresh = json.loads(json.dumps(derived(results["runs"])))
    return {**results, **fresh}, any(results.get(k) != v for k, v in fresh.items())


def stale(results_path=os.path.join(HERE, "results.json"), root=ROOT):
    """Generated files that do not match ``results_path`` (an empty list when all match).

    ``results_path`` itself is listed when its derived keys (precondition, summary, paired)
    are not those of its runs, and ``em.png`` when the data it plots is not the summary's.
    """
    results, derived_stale = _load(results_path)
    example_dir = os.path.dirname(results_path)
    out = [results_path] if derived_stale else []
    for path, expected in generated_files(results, example_dir, root).items():
        with open(path, encoding="utf-8") as fin:
            if fin.read() != expected:
                out.append(path)
    png = os.path.join(example_dir, "em.png")
    if plotted(png) != json.loads(json.dumps(plot_data(results["summary"]))):
        out.append(png)
    return out


def write_all(results_path=os.path.join(HERE, "results.json"), with_plot=True, root=ROOT):
    results, derived_stale = _load(results_path)
    if derived_stale:
        # Only the keys computed from the runs; the runs, provenance and rerun check stay.
        write_atomic(results_path, json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    example_dir = os.path.dirname(results_path)
    for path, text in generated_files(results, example_dir, root).items():
        write_atomic(path, text)
    if with_plot:
        plot(results["summary"], os.path.join(example_dir, "em.png"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    parser.add_argument("--compare", metavar="RESULTS_JSON",
                        help="compare a rerun's results.json with the committed one (exit 1 if a mean "
                             "leaves the committed seed spread)")
    parser.add_argument("--record", action="store_true",
                        help="with --compare: store the comparison in the committed results.json and "
                             "regenerate the files made from it")
    args = parser.parse_args(argv)
    if args.compare:
        path = os.path.join(HERE, "results.json")
        with open(path, encoding="utf-8") as fin:
            results = json.load(fin)
        try:
            with open(args.compare, encoding="utf-8") as fin:
                rerun = json.load(fin)
        except (OSError, ValueError) as e:
            print(f"report.py: error: cannot read {args.compare}: {e}", file=sys.stderr)
            return 2
        check = compare_rerun(results, rerun)
        for row in check["rows"]:
            if row["metric"] == "exact_match":
                print(f"{row['condition']:>14} {row['lang']:>2} EM committed {row['committed']:5.1f} "
                      f"rerun {row['rerun']:5.1f} diff {row['diff']:+5.1f} (spread {row['spread']:.1f})"
                      f"{'' if row['within'] else '  OUTSIDE'}")
        print(rerun_line(check))
        if args.record:
            results["rerun"] = check
            write_atomic(path, json.dumps(results, indent=1, ensure_ascii=False) + "\n")
            write_all(path)
        return 0 if check["within_spread"] else 1
    if args.check:
        bad = stale()
        for path in bad:
            what = ("its precondition, summary or paired keys do not match its runs"
                    if os.path.basename(path) == "results.json" else "does not match results.json")
            print(f"report.py: {os.path.relpath(path, ROOT)}: {what} "
                  f"(run examples/toy_reproduction/report.py)", file=sys.stderr)
        return 1 if bad else 0
    write_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
