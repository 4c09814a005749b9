"""The Python side of the COMMIT QA task YAMLs (lm-eval resolves ``!function utils.<name>``).

lm-eval imports this file by path, so it only re-exports and adapts functions of the
``easylm_commit.eval`` package, where they are tested.
"""

from __future__ import annotations

from typing import Any

from easylm_commit.eval.data import load_qa  # noqa: F401  (custom_dataset)
from easylm_commit.eval.metrics import score
from easylm_commit.eval.prompts import qa_prompt


def prompt_target(doc: dict[str, Any]) -> str:
    """The Alpaca prompt in the test set's own language."""
    return qa_prompt(doc["context"], doc["question"], doc["lang"])


def prompt_en(doc: dict[str, Any]) -> str:
    """The English Alpaca prompt around a target-language context and question."""
    return qa_prompt(doc["context"], doc["question"], "en")


def first_answer(doc: dict[str, Any]) -> str:
    """The first gold answer: only shown in lm-eval's sample logs; scoring uses them all."""
    texts = doc["answers"]["text"]
    return texts[0] if texts else ""


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """MLQA and XQuAD: scored as their official scripts do (an empty gold answer is no special
    case)."""
    return score(results[0], doc["answers"]["text"], doc["lang"])


def process_results_unanswerable(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """IndicQA: an empty gold answer marks an unanswerable question (SQuAD v2.0 rule)."""
    return score(results[0], doc["answers"]["text"], doc["lang"], unanswerable=True)
