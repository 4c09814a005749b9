#!/usr/bin/env bash
# Choose alpha as the paper did (footnote 6: "We probed {0.8, 0.9, 1.0} ... and selected based on
# MLQA val EM score"): COMMIT tuning at each value (examples/commit.sh), each checkpoint converted
# to Hugging Face and evaluated on MLQA's hi dev set (examples/evaluate.sh), and the run with the
# best EM there selected, F1 breaking ties (easylm-commit report --select-by).
#
#   EASYLM_DIR=... BASE_CHECKPOINT=params::.../streaming_params TOKENIZER=... \
#   DATA=alpaca_data.json DICTIONARY=en-hi.txt bash examples/alpha_sweep.sh [EASYLM FLAGS...]
#
# It prints `selected: alpha0.9` (say); the validation table and the choice are also written
# to $OUT/eval/report/report.md and selection.json. Then evaluate the selected checkpoint,
# $OUT/train/<run>/streaming_params, on the test sets with examples/evaluate.sh.
#
# Any hyper-parameter, not only alpha: SWEEP names what the values set, either a variable of
# commit.sh (ALPHA, the default; EPOCHS, MODE, ...) or an EasyLM flag, starting with --
# (SWEEP=--optimizer.adamw_optimizer.lr VALUES="1e-5 2e-5 5e-5" gives runs lr1e-5, ...).
#
# Environment:
#   ALPHAS, VALUES  the values to try (default "0.8 0.9 1.0"; VALUES wins if both are set)
#   SWEEP           see above (default ALPHA)
#   SELECT_BY       the validation task (default commit_mlqa_hi_dev, the target-language
#                   prompt; commit_mlqa_hi_dev_en for the English one)
#   OUT             the sweep's directory (default sweep_out): train/<run>/ (checkpoints),
#                   eval/hf/<run>/, eval/results/<run>.json, eval/report/
#   and what commit.sh reads (BASE_CHECKPOINT, TOKENIZER, DATA, DICTIONARY, TARGET, MODE,
#   EPOCHS, BATCH, SEQ, BASE_MODEL, DTYPE, ...) and evaluate.sh reads (LOCAL_DATA for
#   mlqa_hi_dev.json without hub access, LIMIT, DEVICE, BATCH_SIZE, EVAL_DTYPE, CONVERT_ARGS).
# Extra arguments go to EasyLM's train command in every run, after commit.sh's own flags.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${EASYLM_DIR:?set EASYLM_DIR to an EasyLM checkout (git clone https://github.com/young-geng/EasyLM && git -C EasyLM checkout fe5b2c354e25d697fce7cd225e23bbbe72570da3)}"
VALUES=${VALUES:-${ALPHAS:-0.8 0.9 1.0}}
SWEEP=${SWEEP:-ALPHA}
SELECT_BY=${SELECT_BY:-commit_mlqa_hi_dev}
OUT=${OUT:-sweep_out}
# Run names: the swept name's last part, lower case, then the value (alpha0.8, lr2e-5).
LABEL=$(printf '%s' "${SWEEP##*[.-]}" | tr '[:upper:]' '[:lower:]')

read -r -a values <<< "$VALUES"
if [ "${#values[@]}" -lt 2 ]; then
  echo "alpha_sweep: give at least two values to choose from (ALPHAS or VALUES)" >&2
  exit 2
fi

runs=()
for value in "${values[@]}"; do
  run="$LABEL$value"
  echo "== $run: training (${SWEEP}=$value)"
  if [[ "$SWEEP" == --* ]]; then
    OUTPUT_DIR="$OUT/train" RUN_NAME="$run" bash "$HERE/commit.sh" "$@" "$SWEEP=$value"
  else
    env "$SWEEP=$value" OUTPUT_DIR="$OUT/train" RUN_NAME="$run" bash "$HERE/commit.sh" "$@"
  fi
  rm -rf "$OUT/eval/hf/$run"  # a model converted by an earlier sweep is stale now
  runs+=("$run=$OUT/train/$run/streaming_params")
done

echo "== evaluating ${#runs[@]} runs on $SELECT_BY"
TASKS="${TASKS:-$SELECT_BY}" SELECT_BY="$SELECT_BY" OUT="$OUT/eval" \
  bash "$HERE/evaluate.sh" "${runs[@]}"
