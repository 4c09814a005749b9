"""``easylm-commit eval``: the paper's QA benchmarks on a Hugging Face checkpoint, via lm-eval.

Writes lm-eval's result JSON (what ``easylm-commit report`` reads) and prints a summary table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-path", required=True,
                        help="Hugging Face model directory (e.g. from convert_easylm_to_hf)")
    parser.add_argument("--tokenizer", default=None,
                        help="tokenizer directory or hub name if the model directory has none")
    parser.add_argument("--tasks", default="commit_qa,commit_qa_en,commit_indicqa,commit_indicqa_en",
                        help="comma-separated tasks or groups: commit_qa (Table 2: MLQA hi, "
                             "XQuAD hi, th, el), commit_indicqa (Table 6: IndicQA ta, bn), "
                             "suffix _en for the English prompt; single tasks such as "
                             "commit_xquad_th, or commit_mlqa_hi_dev (MLQA's dev set, for "
                             "choosing hyper-parameters) (default: %(default)s)")
    parser.add_argument("--local-data", default=None, metavar="DIR",
                        help="read the sets from DIR/<set>.jsonl or .json (mlqa_hi, xquad_th, "
                             "mlqa_hi_dev, ...) instead of the hub (see the README; default: "
                             "$EASYLM_COMMIT_QA_DATA)")
    parser.add_argument("--limit", type=int, default=None,
                        help="only the first N questions of each task (for smoke tests)")
    parser.add_argument("--batch-size", default="1",
                        help="generation batch size, or 'auto' (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="torch device (default: %(default)s)")
    parser.add_argument("--dtype", default="auto",
                        help="model dtype: auto, bfloat16, float16, float32 (default: %(default)s)")
    parser.add_argument("--log-samples", action="store_true",
                        help="also write every prompt, prediction, references and score to "
                             "OUTPUT with the suffix .samples.jsonl")
    parser.add_argument("--output", required=True, help="where to write the result JSON")


def _batch_size(value: str) -> int | str:
    from easylm_commit.errors import UserError

    if value == "auto" or value.startswith("auto:"):
        return value
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise UserError(f"--batch-size must be a positive integer or 'auto', not {value!r}")
    return size


def _sample(task: str, row: dict[str, Any]) -> dict[str, Any]:
    # lm-eval's sample rows hold request objects; keep what a reader checks by eye.
    return {
        "task": task, "doc_id": row["doc_id"], "id": row["doc"].get("id"),
        "prompt": row["arguments"][0][0], "prediction": row["filtered_resps"][0],
        "references": row["doc"]["answers"]["text"],
        "exact_match": row["exact_match"], "f1": row["f1"],
    }


def run(args: argparse.Namespace) -> int:
    from easylm_commit.errors import UserError
    from easylm_commit.eval.harness import expand_tasks, run_lm_eval, write_json_atomic
    from easylm_commit.eval.report import collect, markdown_report

    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    names = expand_tasks(args.tasks)
    if args.tokenizer:
        from easylm_commit.hf_paths import locate

        locate(args.tokenizer, "--tokenizer")  # a missing folder fails now, not at the hub
    results = run_lm_eval(
        args.model_path, names, tokenizer=args.tokenizer, local_data=args.local_data,
        limit=args.limit, batch_size=_batch_size(args.batch_size), device=args.device,
        dtype=args.dtype, log_samples=args.log_samples,
    )
    samples = results.pop("samples", None)
    output = Path(args.output)
    write_json_atomic(output, results)
    if args.log_samples and samples:
        path = output.with_suffix(".samples.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for task, rows in samples.items():
                for row in rows:
                    f.write(json.dumps(_sample(task, row), ensure_ascii=False, default=str))
                    f.write("\n")
    if not args.quiet:
        print(markdown_report(collect([(output, None)])))
        print(f"results written to {output}")
    return 0
