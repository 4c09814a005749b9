"""Run the COMMIT QA tasks with lm-eval's Python API, so users need not learn lm-eval.

The equivalent lm-eval command line, for those who prefer it::

    lm_eval --model hf --model_args pretrained=HF_DIR \\
        --include_path "$(python -c 'import easylm_commit.eval as e; print(e.tasks_dir())')" \\
        --tasks commit_qa,commit_indicqa [--metadata '{"local_data": "DIR"}']
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from easylm_commit.errors import UserError
from easylm_commit.eval import GROUPS, SETS, TASKS, task_set, tasks_dir
from easylm_commit.eval.data import LOCAL_DATA_ENV, local_file, set_name


def expand_tasks(spec: str) -> list[str]:
    """Task and group names from a comma-separated list, checked against ours."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    known = set(TASKS) | set(GROUPS)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise UserError(
            f"unknown task {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(list(GROUPS) + list(TASKS))}"
        )
    return names


def _leaf_tasks(names: Iterable[str]) -> list[str]:
    return [t for n in names for t in GROUPS.get(n, (n,))]


def check_local_data(directory: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Fail before loading a model if the local data directory lacks a test set."""
    if not Path(directory).is_dir():
        raise UserError(f"{directory}: local QA data directory not found")
    for task in _leaf_tasks(names):
        benchmark, lang, split = SETS[task_set(task)]
        if local_file(directory, benchmark, lang, split) is None:
            name = set_name(benchmark, lang, split)
            raise UserError(f"{directory}: no {name}.jsonl or {name}.json (needed by {task})")


def run_lm_eval(model_path: str | os.PathLike[str], tasks: Iterable[str], *,
                tokenizer: str | None = None, local_data: str | None = None,
                limit: int | None = None, batch_size: int | str = 1, device: str = "cpu",
                dtype: str = "auto", log_samples: bool = False) -> dict[str, Any]:
    """lm-eval's result dict for ``tasks`` (names of ours) on the HF model in ``model_path``.

    Args:
        tokenizer: a tokenizer folder or hub name, for a model folder without one.
        local_data: the local QA folder (``eval.data``); checked before the model loads.
        limit: only the first ``limit`` questions of each task (smoke tests).
        batch_size: an integer, or lm-eval's ``"auto"``.
        log_samples: keep every prompt and prediction in the result (``"samples"``).

    Raises:
        UserError: ``model_path`` is not a Hugging Face model folder, or the local data
            lacks a set a task needs: both before minutes of model loading.
    """
    if not (Path(model_path) / "config.json").is_file():
        raise UserError(f"{model_path}: not a Hugging Face model directory (no config.json)")
    names = list(tasks)
    local_data = local_data or os.environ.get(LOCAL_DATA_ENV) or None
    if local_data:
        check_local_data(local_data, names)

    import lm_eval
    from lm_eval.tasks import TaskManager

    # lm-eval warns once per task that custom_dataset kwargs can come from --metadata; ours do.
    logging.getLogger("lm_eval.api.task").addFilter(
        lambda record: "Custom kwargs can be passed" not in record.getMessage()
    )

    # Only our folder is indexed: lm-eval's own few thousand task files take seconds to scan
    # and could shadow nothing of ours anyway (all our names start with commit_).
    manager = TaskManager(
        include_path=tasks_dir(), include_defaults=False,
        metadata={"local_data": str(local_data)} if local_data else None,
    )
    model_args = {"pretrained": str(model_path), "dtype": dtype}
    if tokenizer:
        model_args["tokenizer"] = str(tokenizer)
    return lm_eval.simple_evaluate(
        model="hf",
        model_args=model_args,
        tasks=names,
        task_manager=manager,
        batch_size=batch_size,
        device=device,
        limit=limit,
        log_samples=log_samples,
        bootstrap_iters=0,  # the paper reports no standard errors; they cost minutes
    )


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write lm-eval's results as JSON, never leaving a half-written file."""
    from lm_eval.utils import handle_non_serializable

    from easylm_commit.atomic import atomic_output

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(str(path)) as f:
        json.dump(obj, f, ensure_ascii=False, indent=2, default=handle_non_serializable)
