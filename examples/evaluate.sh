#!/usr/bin/env bash
# Evaluate EasyLM LLaMA checkpoints on the paper's QA benchmarks and build Tables 2 and 6.
#
#   EasyLM checkpoint --convert_easylm_to_hf--> HF model --easylm-commit eval--> results JSON
#   --easylm-commit report--> report.md, table2/table6 .csv and _em.png (+ selection.json)
#
# Usage:
#   EASYLM_DIR=path/to/EasyLM TOKENIZER=path/or/hub-name-of-llama-tokenizer \
#     examples/evaluate.sh NAME=CHECKPOINT [NAME=CHECKPOINT ...]
# where CHECKPOINT is an EasyLM streaming checkpoint as llama_train writes it, e.g.
#   Alpaca=gs://bucket/alpaca/streaming_params  COMMIT=output/commit_hi/streaming_params
# NAME is the run's row in the tables (LLaMA, Alpaca, naive, MT, COMMIT, Align+COMMIT, ...).
#
# Optional environment:
#   BASE_MODEL   EasyLM's --llama.base_model of the checkpoints (default llama_7b)
#   CONVERT_ARGS more flags for convert_easylm_to_hf, e.g. --llama.vocab_size=... (default none)
#   OUT          output directory (default eval_out)
#   TASKS        tasks or groups (default: Tables 2 and 6, both prompt variants:
#                commit_qa,commit_qa_en,commit_indicqa,commit_indicqa_en)
#   SELECT_BY    a task to choose the best run on (easylm-commit report --select-by), e.g.
#                commit_mlqa_hi_dev (put it in TASKS too); examples/alpha_sweep.sh sets both
#   LOCAL_DATA   directory of local sets (mlqa_hi.json, mlqa_hi_dev.json, xquad_th.jsonl, ...),
#                for machines without hub access (default: download from the hub)
#   LIMIT        questions per task, for a quick smoke run (default: all)
#   DEVICE       torch device (default cuda if available, else cpu)
#   BATCH_SIZE   generation batch size (default auto)
#   EVAL_DTYPE   torch dtype for evaluation (default auto: the converter writes float16)
#   PYTHON       the Python with easylm-commit[eval] installed (default python)
set -euo pipefail

: "${EASYLM_DIR:?set EASYLM_DIR to your EasyLM checkout}"
: "${TOKENIZER:?set TOKENIZER to the LLaMA tokenizer the checkpoints were trained with}"
if [ "$#" -eq 0 ]; then
  echo "usage: $0 NAME=CHECKPOINT [NAME=CHECKPOINT ...]" >&2
  exit 2
fi
PYTHON="${PYTHON:-python}"
BASE_MODEL="${BASE_MODEL:-llama_7b}"
OUT="${OUT:-eval_out}"
TASKS="${TASKS:-commit_qa,commit_qa_en,commit_indicqa,commit_indicqa_en}"
DEVICE="${DEVICE:-$("$PYTHON" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')}"
BATCH_SIZE="${BATCH_SIZE:-auto}"
export PYTHONPATH="${EASYLM_DIR}${PYTHONPATH:+:$PYTHONPATH}"

extra=()
[ -n "${LOCAL_DATA:-}" ] && extra+=(--local-data "$LOCAL_DATA")
[ -n "${LIMIT:-}" ] && extra+=(--limit "$LIMIT")
[ -n "${EVAL_DTYPE:-}" ] && extra+=(--dtype "$EVAL_DTYPE")
read -r -a convert_args <<< "${CONVERT_ARGS:-}"

results=()
names=()
for spec in "$@"; do
  name="${spec%%=*}"
  ckpt="${spec#*=}"
  ckpt="${ckpt#params::}"
  hf_dir="$OUT/hf/$name"
  if [ ! -f "$hf_dir/config.json" ]; then
    echo "== converting $ckpt -> $hf_dir"
    "$PYTHON" -m EasyLM.models.llama.convert_easylm_to_hf \
      --load_checkpoint="params::$ckpt" \
      --output_dir="$hf_dir" \
      --llama.base_model="$BASE_MODEL" ${convert_args[@]+"${convert_args[@]}"}
  fi
  echo "== evaluating $name"
  "$PYTHON" -m easylm_commit.cli eval \
    --model-path "$hf_dir" --tokenizer "$TOKENIZER" \
    --tasks "$TASKS" --device "$DEVICE" --batch-size "$BATCH_SIZE" \
    --output "$OUT/results/$name.json" --log-samples ${extra[@]+"${extra[@]}"}
  results+=("$OUT/results/$name.json")
  names+=("$name")
done

select_by=()
[ -n "${SELECT_BY:-}" ] && select_by=(--select-by "$SELECT_BY")
"$PYTHON" -m easylm_commit.cli report "${results[@]}" --names "${names[@]}" \
  --out-dir "$OUT/report" ${select_by[@]+"${select_by[@]}"}
