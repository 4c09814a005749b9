"""lm-eval result files -> the paper's Table 2: rows are models, columns EM/F1 per test set and
their unweighted average. One table per prompt variant found (target-language prompt, English
prompt). Written as Markdown and CSV, plus a bar chart of EM per test set and model.

Scores are percentages (lm-eval stores fractions). An average is only given for a row that has
every test set of its table, so that rows stay comparable.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from easylm_commit.atomic import atomic_path
from easylm_commit.errors import UserError
from easylm_commit.eval import DATASETS, PROMPT_SUFFIXES, TASKS

LABELS = {
    "mlqa_hi": "MLQA hi", "xquad_el": "XQuAD el", "xquad_hi": "XQuAD hi",
    "xquad_th": "XQuAD th", "indicqa_ta": "IndicQA ta", "indicqa_bn": "IndicQA bn",
}
PROMPTS = {"": "target-language prompt", "_en": "English prompt"}
METRICS = ("exact_match", "f1")


@dataclass
class Entry:
    """One results file: a model name and its scores, task -> {"exact_match", "f1"} in %."""

    model: str
    source: Path
    scores: dict = field(default_factory=dict)


def _model_name(results, path):
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


def load_entry(path, name=None):
    """Read one lm-eval result JSON; errors name the file."""
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
            entry.scores[task] = {m: 100.0 * float(metrics[f"{m},none"]) for m in METRICS}
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path}: task {task} has no exact_match/f1 scores") from None
    return entry


def collect(paths_and_names):
    """Entries for ``[(path, name or None), ...]``."""
    return [load_entry(path, name) for path, name in paths_and_names]


def tables(entries):
    """``[(prompt suffix, header, rows)]``, one per prompt variant present; cells are floats or
    None (missing)."""
    out = []
    for suffix in PROMPT_SUFFIXES:
        datasets = [d for d in DATASETS if any(f"commit_{d}{suffix}" in e.scores for e in entries)]
        if not datasets:
            continue
        header = ["model"] + [f"{LABELS[d]} {m}" for d in datasets for m in ("EM", "F1")]
        header += ["Avg EM", "Avg F1"]
        rows = []
        for e in entries:
            got = [e.scores.get(f"commit_{d}{suffix}") for d in datasets]
            if not any(got):
                continue
            cells = [s[m] if s else None for s in got for m in METRICS]
            complete = all(got)
            avgs = [sum(s[m] for s in got) / len(got) if complete else None for m in METRICS]
            rows.append([e.model] + cells + avgs)
        out.append((suffix, header, rows))
    return out


def _fmt(cell):
    return "—" if cell is None else (f"{cell:.1f}" if isinstance(cell, float) else str(cell))


def markdown_tables(entries):
    parts = []
    for suffix, header, rows in tables(entries):
        parts.append(f"**Table 2, {PROMPTS[suffix]}** (EM / F1, %)\n")
        parts.append("| " + " | ".join(header) + " |")
        parts.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        parts.extend("| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows)
        parts.append("")
    return "\n".join(parts)


def csv_text(entries):
    """One row per model and prompt variant, all twelve-task columns, empty where missing."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["model", "prompt"] + [f"{d}_{m}" for d in DATASETS for m in ("em", "f1")]
                    + ["avg_em", "avg_f1"])
    for suffix, _header, rows in tables(entries):
        present = [d for d in DATASETS if any(f"commit_{d}{suffix}" in e.scores for e in entries)]
        for row in rows:
            by_dataset = dict(zip(present, zip(row[1:-2:2], row[2:-2:2])))
            cells = [c for d in DATASETS for c in by_dataset.get(d, (None, None))]
            writer.writerow([row[0], PROMPTS[suffix]] + [
                "" if c is None else f"{c:.2f}" for c in cells + row[-2:]
            ])
    return buf.getvalue()


def bar_chart(entries, path):
    """EM per test set (x) and model (bars), one panel per prompt variant, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = tables(entries)
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.6 * len(panels)), squeeze=False)
    for ax, (suffix, header, rows) in zip(axes[:, 0], panels):
        labels = [h.removesuffix(" EM") for h in header[1:-2:2]]
        width = 0.8 / max(len(rows), 1)
        for i, row in enumerate(rows):
            em = [c if c is not None else float("nan") for c in row[1:-2:2]]  # nan: no bar
            xs = [x + (i - (len(rows) - 1) / 2) * width for x in range(len(labels))]
            ax.bar(xs, em, width, label=row[0])
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylabel("EM (%)")
        ax.set_title(f"Exact match, {PROMPTS[suffix]}")
        ax.legend(fontsize="small")
    fig.tight_layout()
    _atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def _atomic(path, write):
    with atomic_path(path) as tmp:
        write(tmp)


def _write_text(path, text):
    def write(tmp):
        Path(tmp).write_text(text, encoding="utf-8")

    _atomic(path, write)


def write_report(entries, out_dir):
    """Write table2.md, table2.csv and table2_em.png into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = out_dir / "table2.md", out_dir / "table2.csv", out_dir / "table2_em.png"
    _write_text(paths[0], markdown_tables(entries))
    _write_text(paths[1], csv_text(entries))
    bar_chart(entries, paths[2])
    return paths
