"""Evaluation on the paper's QA benchmarks (Tables 2 and 6) with lm-eval.

- ``tasks/``: lm-eval task YAMLs. Fourteen tasks: the six test sets (MLQA hi, XQuAD hi/th/el,
  IndicQA ta/bn) and MLQA's hi dev set, each with the target-language prompt and with the English
  prompt (suffix ``_en``). Groups, one per table of the paper and prompt variant:
  ``commit_qa``/``commit_qa_en`` (Table 2: MLQA hi, XQuAD hi, th, el) and
  ``commit_indicqa``/``commit_indicqa_en`` (Table 6: IndicQA ta, bn). The dev tasks
  (``commit_mlqa_hi_dev``, ``_en``) are in no group: they choose hyper-parameters.
  ``tasks_dir()`` is the folder to give ``lm_eval --include_path``.
- ``prompts``: the Alpaca QA prompts; ``data``: loading the sets; ``metrics``: EM/F1 per
  language; ``report``: lm-eval results -> Tables 2 and 6 (Markdown, CSV, PNG) and the choice
  of a run on a validation task.
"""

from __future__ import annotations

from pathlib import Path

from easylm_commit.eval.data import SETS  # noqa: F401  (re-exported)

PROMPT_SUFFIXES = ("", "_en")
# The paper's tables, columns in the paper's order. Each has its own average: Table 2 over the
# four sets of MLQA and XQuAD, Table 6 over IndicQA's two (which also asks for unanswerable-
# question detection); the paper never averages all six.
TABLES = {
    "Table 2": ("mlqa_hi", "xquad_hi", "xquad_th", "xquad_el"),
    "Table 6": ("indicqa_ta", "indicqa_bn"),
}
# Validation sets: for choosing hyper-parameters (the paper's α: MLQA val EM), in no table.
VALIDATION = ("mlqa_hi_dev",)
DATASETS = TABLES["Table 2"] + TABLES["Table 6"]
# lm-eval group -> its tasks, per table and prompt variant.
GROUPS = {
    f"{group}{s}": tuple(f"commit_{d}{s}" for d in TABLES[table])
    for group, table in (("commit_qa", "Table 2"), ("commit_indicqa", "Table 6"))
    for s in PROMPT_SUFFIXES
}
TASKS = tuple(f"commit_{d}{s}" for s in PROMPT_SUFFIXES for d in DATASETS + VALIDATION)


def task_set(task: str) -> str:
    """The set a task reads: ``commit_mlqa_hi_dev_en`` -> ``mlqa_hi_dev``."""
    return task.removeprefix("commit_").removesuffix("_en")


def tasks_dir() -> str:
    """The folder of the lm-eval task YAMLs (for ``lm_eval --include_path``)."""
    return str(Path(__file__).resolve().parent / "tasks")
