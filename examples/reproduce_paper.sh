#!/usr/bin/env bash
# The paper's experiment for one target language, from a Hugging Face LLaMA to Tables 2 and 6,
# checked first and resumable: a thin wrapper of `easylm-commit plan` that takes the variables
# of the other example scripts. Every option of `easylm-commit plan --help` can follow.
#
#   EASYLM_DIR=path/to/EasyLM HF_MODEL=path/to/llama-7b-hf TARGET=hi DICTIONARY=en-hi.txt \
#   DATA=alpaca_data.json OUT=runs/hi bash examples/reproduce_paper.sh --dry-run
#
# then the same without --dry-run. Rerun the same command after a crash or a kill: finished
# steps are skipped. Variables (all optional when the option is given instead):
#   HF_MODEL     Hugging Face LLaMA folder           TOKENIZER   default: HF_MODEL
#   TARGET       hi el th ta bn ...                  DICTIONARY  MUSE en-$TARGET.txt
#   DATA         Alpaca .json/.jsonl                 CORPUS      alignment corpus (default graelo/wikipedia)
#   MT_DATA      translated Alpaca (run mt)          LOCAL_DATA  local QA test sets (default: the hub)
#   RUNS         e.g. none,commit,align+commit       OUT         output folder
#   MESH_DIM     EasyLM --mesh_dim                   TRAIN_ROUTE launcher (default) | patched
set -euo pipefail
PYTHON=${PYTHON:-python}
args=()
add() { [ -n "${2:-}" ] && args+=("$1" "$2"); return 0; }
add --hf-model "${HF_MODEL:-}"
add --tokenizer "${TOKENIZER:-}"
add --target "${TARGET:-}"
add --dictionary "${DICTIONARY:-}"
add --instructions "${DATA:-}"
add --corpus "${CORPUS:-}"
add --mt-instructions "${MT_DATA:-}"
add --qa-data "${LOCAL_DATA:-}"
add --runs "${RUNS:-}"
add --out "${OUT:-}"
add --mesh-dim "${MESH_DIM:-}"
add --train-route "${TRAIN_ROUTE:-}"
exec "$PYTHON" -m easylm_commit.cli plan "${args[@]}" "$@"
