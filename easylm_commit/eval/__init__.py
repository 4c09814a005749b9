"""Evaluation on the paper's QA benchmarks (Table 2) with lm-eval.

- ``tasks/``: lm-eval task YAMLs, twelve tasks (MLQA hi, XQuAD el/hi/th, IndicQA ta/bn, each with
  the target-language prompt and with the English prompt, suffix ``_en``) and the groups
  ``commit_qa`` and ``commit_qa_en``. ``tasks_dir()`` is the folder to give ``lm_eval
  --include_path``.
- ``prompts``: the Alpaca QA prompts; ``data``: loading the test sets; ``metrics``: EM/F1 per
  language; ``report``: lm-eval results -> Table 2 (Markdown, CSV, PNG).
"""

from pathlib import Path

from easylm_commit.eval.data import BENCHMARKS

PROMPT_SUFFIXES = ("", "_en")
# Table 2's column order: MLQA hi, XQuAD el/hi/th, IndicQA ta/bn.
DATASETS = tuple(f"{b}_{lang}" for b, langs in BENCHMARKS.items() for lang in langs)
TASKS = tuple(f"commit_{d}{s}" for s in PROMPT_SUFFIXES for d in DATASETS)
GROUPS = {f"commit_qa{s}": tuple(f"commit_{d}{s}" for d in DATASETS) for s in PROMPT_SUFFIXES}


def tasks_dir():
    """The folder of the lm-eval task YAMLs (for ``lm_eval --include_path``)."""
    return str(Path(__file__).resolve().parent / "tasks")
