"""lm-eval result files -> the paper's Tables 2 and 6, and the choice of a run on a validation set.

**Tables.** ``TABLES`` (``easylm_commit.eval``): Table 2 is MLQA hi, XQuAD hi, th, el; Table 6 is
IndicQA ta, bn. Every table shows all of its columns in the paper's order, EM and F1 per set, and
its own unweighted average. A row is a run and a prompt variant (a run evaluated with both the
target-language and the English prompt has two rows, as the paper's "Alpaca" and "+En prompt"
rows), named by ``--names`` or else by the model directory. An average is only given for a row
that has every set of its table: a mean over fewer sets is not comparable, so it is never shown
(the cell is "—"). MLQA's dev set (``VALIDATION``) gets a table of its own and is in no average.

**Selection** (``select``): the run with the best EM on one task (F1 breaks ties; a full tie
goes to the run listed first), the way the paper chose α on MLQA's dev set (footnote 6). Every
run must have that task: choosing from an incomplete sweep is an error that names the file.

Scores are percentages (lm-eval stores fractions), printed rounded half up: the paper prints
rounded numbers, and lm-eval's fractions times 100 carry float noise (a mean of 22.35 can come
out as 22.349999999999998) that plain float formatting would round down.

**Joint vs separate** (``compare``): with ``--separate NAME=FILE`` (``plan --languages ...
--separate``), each language's test sets of Tables 2 and 6, the joint model's run NAME (one model
for all the languages) beside the language's own model's run NAME (FILE), and the difference
(joint − separate). A set's language is read from the tasks FILE has; one row per run, prompt
and set.

Files: ``report.md`` (what ``easylm-commit report`` prints: every table, and the selection),
``table2.csv``/``table6.csv``/``validation.csv`` (one row per run and prompt, two decimals),
``table2_em.png``/``table6_em.png`` (EM per set and row), ``selection.json`` with
``--select-by``, ``joint_vs_separate.csv`` with ``--separate``. A table without rows is left out.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from easylm_commit.atomic import atomic_path
from easylm_commit.errors import UserError
from easylm_commit.eval import PROMPT_SUFFIXES, TABLES, TASKS, VALIDATION

LABELS = {
    "mlqa_hi": "MLQA hi", "xquad_el": "XQuAD el", "xquad_hi": "XQuAD hi",
    "xquad_th": "XQuAD th", "indicqa_ta": "IndicQA ta", "indicqa_bn": "IndicQA bn",
    "mlqa_hi_dev": "MLQA hi dev",
}
PROMPTS = {"": "target", "_en": "English"}
METRICS = ("exact_match", "f1")
# The sets of the paper's tables, in column order (the joint-vs-separate table's rows).
TABLE_SETS = tuple(d for sets in TABLES.values() for d in sets)
# Output file stems of the tables.
FILES = {"Table 2": "table2", "Table 6": "table6", "Validation": "validation"}


@dataclass
class Entry:
    """One results file: a run name and its scores, task -> {"exact_match", "f1"} in %."""

    model: str
    source: Path
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Row:
    """One line of a table: a run and a prompt variant; ``cells`` holds (EM, F1) or None per set,
    ``average`` (EM, F1) or None when a set is missing (or the table has no average)."""

    model: str
    prompt: str
    cells: list[tuple[float, float] | None]
    average: tuple[float, float] | None


@dataclass
class Table:
    """One of the paper's tables (or the validation table): its sets, in column order."""

    title: str
    sets: tuple[str, ...]
    rows: list[Row]
    averaged: bool = True


def _model_name(results: dict[str, Any], path: str | os.PathLike[str]) -> str:
    model_args = (results.get("config") or {}).get("model_args")
    pretrained = None
    if isinstance(model_args, dict):
        pretrained = model_args.get("pretrained")
    elif isinstance(model_args, str):
        for part in model_args.split(","):
            key, _, value = part.partition("=")
            if key.strip() == "pretrained":
                pretrained = value.strip()
    if isinstance(pretrained, str) and pretrained.strip():
        return Path(pretrained.rstrip("/")).name
    return Path(path).stem


def load_entry(path: str | os.PathLike[str], name: str | None = None) -> Entry:
    """Read one lm-eval result JSON; errors name the file.

    Args:
        name: the run's row name (default: the model folder the results name, else the
            file's name).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: results file not found")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a JSON file ({e})") from None
    per_task = results.get("results") if isinstance(results, dict) else None
    if not isinstance(per_task, dict) or not any(t in per_task for t in TASKS):
        raise UserError(f"{path}: no COMMIT QA results (none of the tasks {', '.join(TASKS)})")
    entry = Entry(name or _model_name(results, path), path)
    for task in TASKS:
        if task not in per_task:
            continue
        metrics = per_task[task]
        try:
            fractions = {m: float(metrics[f"{m},none"]) for m in METRICS}
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path}: task {task} has no exact_match/f1 scores") from None
        for m, value in fractions.items():
            if not 0.0 <= value <= 1.0:  # also refuses NaN
                raise UserError(f"{path}: task {task}: {m} {value} is not a fraction in [0, 1] "
                                f"(lm-eval stores fractions; the report shows percentages)")
        entry.scores[task] = {m: 100.0 * v for m, v in fractions.items()}
    return entry


def collect(paths_and_names: Iterable[tuple[str | os.PathLike[str], str | None]]) -> list[Entry]:
    """Entries for ``[(path, name or None), ...]``."""
    return [load_entry(path, name) for path, name in paths_and_names]


def _table(title: str, sets: tuple[str, ...], entries: Sequence[Entry],
           averaged: bool = True) -> Table:
    rows = []
    for e in entries:
        for suffix in PROMPT_SUFFIXES:
            got = [e.scores.get(f"commit_{d}{suffix}") for d in sets]
            if not any(got):
                continue
            cells = [(s["exact_match"], s["f1"]) if s else None for s in got]
            average = None
            if averaged and all(got):
                average = tuple(sum(s[m] for s in got) / len(got) for m in METRICS)
            rows.append(Row(e.model, PROMPTS[suffix], cells, average))
    return Table(title, sets, rows, averaged)


def tables(entries: Sequence[Entry]) -> list[Table]:
    """The paper's tables (and the validation table) that have at least one row."""
    out = [_table(title, sets, entries) for title, sets in TABLES.items()]
    out.append(_table("Validation", VALIDATION, entries, averaged=False))
    return [t for t in out if t.rows]


def rounded(value: float | None, places: int = 1) -> str:
    """``value`` rounded half up to ``places`` decimals, as a string ("—" for None)."""
    if value is None:
        return "—"
    # round(.., 9) drops the float noise first: 22.349999999999998 -> 22.35 -> "22.4".
    exact = Decimal(repr(round(value, 9)))
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _header(table: Table) -> list[str]:
    header = ["model", "prompt"] + [f"{LABELS[d]} {m}" for d in table.sets for m in ("EM", "F1")]
    return header + (["Avg EM", "Avg F1"] if table.averaged else [])


def _cells(row: Row, table: Table) -> list[float | None]:
    cells = [c for pair in row.cells for c in (pair or (None, None))]
    return cells + (list(row.average or (None, None)) if table.averaged else [])


def _caption(table: Table) -> str:
    if not table.averaged:
        return f"**{table.title}** ({', '.join(LABELS[d] for d in table.sets)}; EM / F1, %)"
    return (f"**{table.title}** (EM / F1, %; Avg: unweighted mean of "
            f"{', '.join(LABELS[d] for d in table.sets)}; — where a set is missing)")


def markdown_tables(entries: Sequence[Entry]) -> str:
    """Every table with a row, in Markdown, each under its caption."""
    parts = []
    for table in tables(entries):
        header = _header(table)
        parts.append(_caption(table) + "\n")
        parts.append("| " + " | ".join(header) + " |")
        parts.append("|" + "|".join(["---", "---"] + ["---:"] * (len(header) - 2)) + "|")
        for row in table.rows:
            cells = [row.model, row.prompt] + [rounded(c) for c in _cells(row, table)]
            parts.append("| " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def csv_text(table: Table) -> str:
    """One row per run and prompt variant, every column of the table, empty where missing."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["model", "prompt"] + [f"{d}_{m}" for d in table.sets for m in ("em", "f1")]
                    + (["avg_em", "avg_f1"] if table.averaged else []))
    for row in table.rows:
        writer.writerow([row.model, row.prompt] + [
            "" if c is None else rounded(c, 2) for c in _cells(row, table)
        ])
    return buf.getvalue()


# --- Choosing a run on a validation task --------------------------------------------------

@dataclass
class Selection:
    """The run chosen on a validation task, and every run in order (``select``)."""

    task: str
    selected: Entry
    ranking: list[Entry]  # best first

    def as_dict(self) -> dict[str, Any]:
        """``selection.json``: the rule, the choice and the ranking with its scores."""
        return {
            "task": self.task,
            "rule": "best exact_match, then f1; a full tie goes to the run listed first",
            "selected": self.selected.model,
            "source": str(self.selected.source),
            "ranking": [
                {"name": e.model, "source": str(e.source), **e.scores[self.task]}
                for e in self.ranking
            ],
        }

    def ties(self) -> list[str]:
        """Runs with the selected run's very scores: the choice among them was the order."""
        best = self.selected.scores[self.task]
        return [e.model for e in self.ranking[1:] if e.scores[self.task] == best]

    def markdown(self) -> str:
        """The ranking as a Markdown table, and the choice."""
        lines = [f"**Selection** by {self.task} (best EM; F1 breaks ties)\n",
                 "| rank | model | EM | F1 |", "|---:|---|---:|---:|"]
        for i, e in enumerate(self.ranking, 1):
            s = e.scores[self.task]
            lines.append(f"| {i} | {e.model} | {rounded(s['exact_match'])} | {rounded(s['f1'])} |")
        lines += ["", f"selected: {self.selected.model}", ""]
        return "\n".join(lines)


def select(entries: Sequence[Entry], task: str) -> Selection:
    """The run with the best EM on ``task``, F1 breaking ties (see the module docstring)."""
    if task not in TASKS:
        raise UserError(f"--select-by {task}: not a task of ours; choose from {', '.join(TASKS)}")
    for e in entries:
        if task not in e.scores:
            raise UserError(
                f"{e.source}: run {e.model} has no {task} results, so it cannot be compared "
                f"(evaluate it with --tasks {task}, or leave it out)"
            )
    names = [e.model for e in entries]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"run name {', '.join(twice)} given twice; name the runs with --names")
    # sorted() is stable: of runs with equal EM and F1 the one listed first stays first.
    ranking = sorted(entries, key=lambda e: (-e.scores[task]["exact_match"],
                                             -e.scores[task]["f1"]))
    return Selection(task, ranking[0], ranking)


# --- Joint vs separate ----------------------------------------------------------------------

@dataclass
class Comparison:
    """One line of the joint-vs-separate table: a run, a prompt and a set; (EM, F1) of the
    joint model and of the language's own model (None where a file lacks the set)."""

    model: str
    prompt: str
    set: str
    joint: tuple[float, float] | None
    separate: tuple[float, float]

    @property
    def delta(self) -> tuple[float, float] | None:
        if self.joint is None:
            return None
        return (self.joint[0] - self.separate[0], self.joint[1] - self.separate[1])

    def cells(self) -> list[float | None]:
        return [*(self.joint or (None, None)), *self.separate, *(self.delta or (None, None))]


COMPARISON_HEADER = ("joint EM", "joint F1", "separate EM", "separate F1", "Δ EM", "Δ F1")


def parse_separate(values: Sequence[str]) -> list[tuple[str, str]]:
    """``--separate NAME=FILE`` values as ``(name, file)``.

    Raises:
        UserError: a value without ``=``, or with an empty name or file.
    """
    pairs = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise UserError(f"--separate {value}: expected NAME=FILE (a run name of the joint "
                            "model's results, and one language's own model's results file)")
        pairs.append((name.strip(), path.strip()))
    return pairs


def compare(joint: Sequence[Entry], separate: Sequence[Entry]) -> list[Comparison]:
    """The joint-vs-separate rows (module docstring): ``separate`` are the languages' own
    models, each named as the joint run it is compared with.

    Raises:
        UserError: a separate run named as no joint run, or two separate files of one run
            with the same set (which of them is the language's own model?).
    """
    names = [e.model for e in joint]
    seen: dict[tuple[str, str], Path] = {}
    for e in separate:
        if e.model not in names:
            raise UserError(f"--separate {e.model}={e.source}: no joint run is named {e.model!r} "
                            f"(the joint runs: {', '.join(names)})")
        for task in e.scores:
            if task.removeprefix("commit_").removesuffix("_en") not in TABLE_SETS:
                continue
            if (e.model, task) in seen:
                raise UserError(f"--separate {e.model}: {seen[e.model, task]} and {e.source} both "
                                f"have {task}; give each language's own model once")
            seen[e.model, task] = e.source
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice and separate:
        raise UserError(f"run name {', '.join(twice)} given twice; name the runs with --names")

    def pair(scores):
        return scores["exact_match"], scores["f1"]

    rows = []
    for j in joint:
        for suffix in PROMPT_SUFFIXES:
            for d in TABLE_SETS:
                task = f"commit_{d}{suffix}"
                if (j.model, task) not in seen:
                    continue
                own = next(e for e in separate if e.model == j.model and task in e.scores)
                rows.append(Comparison(j.model, PROMPTS[suffix], d,
                                       pair(j.scores[task]) if task in j.scores else None,
                                       pair(own.scores[task])))
    return rows


def markdown_comparison(rows: Sequence[Comparison]) -> str:
    """The joint-vs-separate table in Markdown, under its caption."""
    lines = ["**Joint vs separate** (EM / F1, %: each language's sets, the joint model — one for "
             "all the languages — beside the language's own model; Δ = joint − separate; — where "
             "the joint model has no score)\n",
             "| model | prompt | set | " + " | ".join(COMPARISON_HEADER) + " |",
             "|---|---|---|" + "---:|" * len(COMPARISON_HEADER)]
    for r in rows:
        lines.append(f"| {r.model} | {r.prompt} | {LABELS[r.set]} | "
                     + " | ".join(rounded(c) for c in r.cells()) + " |")
    return "\n".join(lines) + "\n"


def comparison_csv(rows: Sequence[Comparison]) -> str:
    """``joint_vs_separate.csv``: one row per run, prompt and set, two decimals."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["model", "prompt", "set", "joint_em", "joint_f1", "separate_em",
                     "separate_f1", "delta_em", "delta_f1"])
    for r in rows:
        writer.writerow([r.model, r.prompt, r.set] + ["" if c is None else rounded(c, 2) for c in r.cells()])
    return buf.getvalue()


def markdown_report(entries: Sequence[Entry], selection: Selection | None = None,
                    comparison: Sequence[Comparison] | None = None) -> str:
    """Everything ``easylm-commit report`` prints and writes to ``report.md``."""
    text = markdown_tables(entries)
    if selection is not None:
        text += "\n" + selection.markdown()
    if comparison:
        text += "\n" + markdown_comparison(comparison)
    return text


# --- Files ---------------------------------------------------------------------------------

def bar_chart(table: Table, path: str | os.PathLike[str]) -> None:
    """EM per set (x) and row (bars), saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [LABELS[d] for d in table.sets]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(labels) + 3), 3.8))
    width = 0.8 / len(table.rows)
    for i, row in enumerate(table.rows):
        em = [pair[0] if pair else float("nan") for pair in row.cells]  # nan: no bar
        xs = [x + (i - (len(table.rows) - 1) / 2) * width for x in range(len(labels))]
        ax.bar(xs, em, width, label=f"{row.model} ({row.prompt} prompt)")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("EM (%)")
    ax.set_title(f"{table.title}: exact match")
    ax.legend(fontsize="small")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def _write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_report(entries: Sequence[Entry], out_dir: str | os.PathLike[str],
                 selection: Selection | None = None,
                 comparison: Sequence[Comparison] | None = None) -> list[Path]:
    """Write the report files into ``out_dir`` (see the module docstring); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.md"]
    _write_text(paths[0], markdown_report(entries, selection, comparison))
    if comparison:
        paths.append(out_dir / "joint_vs_separate.csv")
        _write_text(paths[-1], comparison_csv(comparison))
    for table in tables(entries):
        stem = FILES[table.title]
        paths.append(out_dir / f"{stem}.csv")
        _write_text(paths[-1], csv_text(table))
        if table.averaged:
            paths.append(out_dir / f"{stem}_em.png")
            bar_chart(table, paths[-1])
    if selection is not None:
        paths.append(out_dir / "selection.json")
        _write_text(paths[-1], json.dumps(selection.as_dict(), ensure_ascii=False, indent=2) + "\n")
    return paths
