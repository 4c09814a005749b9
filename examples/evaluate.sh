#!/usr/bin/env bash
# Evaluate EasyLM LLaMA checkpoints on the paper's QA benchmarks and build Table 2.
#
#   EasyLM checkpoint --convert_easylm_to_hf--> HF model --easylm-commit eval--> results JSON
#   --easylm-commit report--> table2.md / table2.csv / table2_em.png
#
# Usage:
#   EASYLM_DIR=path/to/EasyLM TOKENIZER=path/or/hub-name-of-llama-tokenizer \
#     examples/evaluate.sh NAME=CHECKPOINT [NAME=CHECKPOINT ...]
# where CHECKPOINT is an EasyLM streaming checkpoint as llama_train writes it, e.g.
#   alpaca=gs://bucket/alpaca/streaming_params  commit=output/commit_hi/streaming_params
#
# Optional environment:
#   BASE_MODEL   EasyLM's --llama.base_model of the checkpoints (default llama_7b)
#   OUT          output directory (default eval_out)
#   TASKS        tasks or groups (default commit_qa,commit_qa_en: both prompt variants)
#   LOCAL_DATA   directory of <benchmark>_<lang>.jsonl test sets, for machines without hub
#                access (default: download from the hub)
#   LIMIT        questions per task, for a quick smoke run (default: all)
#   DEVICE       torch device (default cuda if available, else cpu)
#   BATCH_SIZE   generation batch size (default auto)
set -euo pipefail

: "${EASYLM_DIR:?set EASYLM_DIR to your EasyLM checkout}"
: "${TOKENIZER:?set TOKENIZER to the LLaMA tokenizer the checkpoints were trained with}"
if [ "$#" -eq 0 ]; then
  echo "usage: $0 NAME=CHECKPOINT [NAME=CHECKPOINT ...]" >&2
  exit 2
fi
BASE_MODEL="${BASE_MODEL:-llama_7b}"
OUT="${OUT:-eval_out}"
TASKS="${TASKS:-commit_qa,commit_qa_en}"
DEVICE="${DEVICE:-$(python -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')}"
BATCH_SIZE="${BATCH_SIZE:-auto}"
export PYTHONPATH="${EASYLM_DIR}${PYTHONPATH:+:$PYTHONPATH}"

extra=()
[ -n "${LOCAL_DATA:-}" ] && extra+=(--local-data "$LOCAL_DATA")
[ -n "${LIMIT:-}" ] && extra+=(--limit "$LIMIT")

results=()
names=()
for spec in "$@"; do
  name="${spec%%=*}"
  ckpt="${spec#*=}"
  hf_dir="$OUT/hf/$name"
  if [ ! -f "$hf_dir/config.json" ]; then
    echo "== converting $ckpt -> $hf_dir"
    python -m EasyLM.models.llama.convert_easylm_to_hf \
      --load_checkpoint="params::$ckpt" \
      --output_dir="$hf_dir" \
      --llama.base_model="$BASE_MODEL"
  fi
  echo "== evaluating $name"
  easylm-commit eval \
    --model-path "$hf_dir" --tokenizer "$TOKENIZER" \
    --tasks "$TASKS" --device "$DEVICE" --batch-size "$BATCH_SIZE" \
    --output "$OUT/results/$name.json" --log-samples "${extra[@]}"
  results+=("$OUT/results/$name.json")
  names+=("$name")
done

easylm-commit report "${results[@]}" --names "${names[@]}" --out-dir "$OUT/report"
