#!/usr/bin/env bash
# README's main job: COMMIT end to end on the embedded English-Hindi demo, on CPU, in minutes.
#   1. installs this package with the EasyLM stack (into $VIRTUAL_ENV, or a new .venv here);
#   2. finds EasyLM: $EASYLM_DIR, or a clone of EasyLM main when the network allows;
#   3. trains a small LLaMA tokenizer on the demo text (no model hub needed);
#   4. alignment (codemix_clm, Hindi corpus mixed into English, alpha 0.5), then
#      COMMIT tuning (commit, Alpaca-style records mixed, alpha 0.9) from the aligned weights,
#      both in EasyLM's own train loop on its 2-layer debug LLaMA;
#   5. prints the losses (and what to expect of them), the checkpoints and logs, a preview of
#      what was trained on, and what to do next.
# A toy: it shows the pipeline working, not a useful model. examples/commit.sh has the
# paper's settings.
# LANGUAGES=demo: the same with two target languages in one run, the embedded Hindi and Greek
# demos (dataset key `languages`, docs/languages.md): alignment interleaves both corpora, COMMIT
# mixes each record into one of them; the per-language mixing rates are printed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/out/quickstart}
ALIGN_STEPS=${ALIGN_STEPS:-40}
COMMIT_STEPS=${COMMIT_STEPS:-60}
LANGUAGES=${LANGUAGES:-}

if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv"
  PYTHON="$ROOT/.venv/bin/python"
else
  PYTHON=${PYTHON:-python}
fi
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  echo "== installing easylm-commit[easylm] ($PYTHON)"
  "$PYTHON" -m pip install -q -e "$ROOT[easylm]"
fi

if [ -z "${EASYLM_DIR:-}" ]; then
  EASYLM_DIR="$ROOT/.cache/EasyLM"
  if [ ! -f "$EASYLM_DIR/EasyLM/data.py" ]; then
    # The commit the patch targets and the tests run on (easylm_path.EASYLM_COMMIT).
    EASYLM_COMMIT=$("$PYTHON" -c 'from easylm_commit.easylm_path import EASYLM_COMMIT; print(EASYLM_COMMIT)')
    echo "== EASYLM_DIR is not set: cloning EasyLM ($EASYLM_COMMIT) into $EASYLM_DIR"
    { git clone -q https://github.com/young-geng/EasyLM "$EASYLM_DIR.tmp" &&
      git -C "$EASYLM_DIR.tmp" checkout -q "$EASYLM_COMMIT" && mv "$EASYLM_DIR.tmp" "$EASYLM_DIR"; } || {
      rm -rf "$EASYLM_DIR.tmp"
      echo "quickstart: cannot clone EasyLM (no network?); set EASYLM_DIR to a checkout" >&2; exit 2; }
  fi
fi
export EASYLM_DIR PYTHON
# WANDB_MODE=disabled: no W&B runs, online or offline (the launcher makes it win over the
# offline mode that mlxu asks W&B for, so no wandb/offline-run-* folders are left).
export WANDB_MODE=disabled HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export JAX_PLATFORMS=${JAX_PLATFORMS:-cpu}
# jaxlib 0.4.28 on CPU rewrites EasyLM's attention into a oneDNN call that is many times
# slower on small shapes; turning the rewrite off halves this script's time, same results.
export XLA_FLAGS="${XLA_FLAGS:---xla_disable_hlo_passes=onednn-matmul-rewriter}"
# The launcher route on purpose: an unpatched EasyLM is what it expects.
"$PYTHON" -m easylm_commit.cli doctor --route launcher | grep -v '^  ok' || true

mkdir -p "$OUT"
read -r DICT DATA CORPUS DICT_EL CORPUS_EL < <("$PYTHON" -c 'from easylm_commit import demo as d; print(d.DEMO_DICTIONARY, d.DEMO_INSTRUCTIONS, d.DEMO_CORPUS, d.DEMO_DICTIONARY_EL, d.DEMO_CORPUS_EL)')
TEXTS=("$DATA" "$CORPUS" "$DICT")
[ -z "$LANGUAGES" ] || TEXTS+=("$CORPUS_EL" "$DICT_EL")  # the Greek demo's letters too
echo "== training a demo tokenizer -> $OUT/tokenizer"
"$PYTHON" -m easylm_commit.spm_tokenizer "$OUT/tokenizer" 1000 "${TEXTS[@]}" >/dev/null
VOCAB=$("$PYTHON" -c "from transformers import AutoTokenizer; print(len(AutoTokenizer.from_pretrained('$OUT/tokenizer')))" 2>/dev/null)

source "$ROOT/examples/_easylm_train.sh"
common=(--llama.base_model=debug --llama.vocab_size="$VOCAB" --tokenizer="$OUT/tokenizer"
        --dtype=fp32 --log_freq=5 --save_model_freq=100000 --logger.online=False
        --logger.output_dir="$OUT" --optimizer.type=adamw --optimizer.adamw_optimizer.lr=1e-3
        --optimizer.adamw_optimizer.lr_warmup_steps=5 --optimizer.adamw_optimizer.weight_decay=0)

if [ -n "$LANGUAGES" ]; then  # one corpus and dictionary per language, from the list
  align_data=(--train_dataset.codemix_clm.languages="$LANGUAGES")
  commit_data=(--train_dataset.commit.languages="$LANGUAGES")
else
  align_data=(--train_dataset.codemix_clm.path="$CORPUS" --train_dataset.codemix_clm.dictionary="$DICT")
  commit_data=(--train_dataset.commit.dictionary="$DICT")
fi

echo "== alignment: $ALIGN_STEPS steps of codemix_clm (alpha 0.5) -> $OUT/align"
"${EASYLM_TRAIN[@]}" "${common[@]}" --total_steps="$ALIGN_STEPS" --logger.experiment_id=align \
  --train_dataset.type=codemix_clm "${align_data[@]}" --train_dataset.codemix_clm.alpha=0.5 \
  --train_dataset.codemix_clm.seq_length=128 --train_dataset.codemix_clm.batch_size=4 \
  >"$OUT/align.log" 2>&1 || { tail -20 "$OUT/align.log" >&2; exit 1; }

echo "== COMMIT: $COMMIT_STEPS steps of commit (alpha 0.9) from the aligned weights -> $OUT/commit"
"${EASYLM_TRAIN[@]}" "${common[@]}" --total_steps="$COMMIT_STEPS" --logger.experiment_id=commit \
  --load_checkpoint="params::$OUT/align/streaming_params" \
  --train_dataset.type=commit --train_dataset.commit.path="$DATA" \
  "${commit_data[@]}" --train_dataset.commit.alpha=0.9 \
  --train_dataset.commit.seq_length=128 --train_dataset.commit.batch_size=4 \
  >"$OUT/commit.log" 2>&1 || { tail -20 "$OUT/commit.log" >&2; exit 1; }

losses() { grep -o "'loss': array([^,]*" "$1" | sed "s/'loss': array(//" | tr '\n' ' '; }
last() { grep -o "'$2': [0-9.e-]*" "$1" | tail -1 | awk '{ printf "%.2f", $2 }'; }
echo
echo "alignment losses (every 5 steps): $(losses "$OUT/align.log")"
echo "COMMIT losses    (every 5 steps): $(losses "$OUT/commit.log")"
if [ -n "$LANGUAGES" ]; then
  for lang in hi el; do
    echo "$lang: alignment mixing rate $(last "$OUT/align.log" dataset_mixing_rate_$lang)," \
         "COMMIT mixing rate $(last "$OUT/commit.log" dataset_mixing_rate_$lang)," \
         "COMMIT records $(last "$OUT/commit.log" dataset_records_$lang | cut -d. -f1)"
  done
fi
LN_VOCAB=$(awk -v v="$VOCAB" 'BEGIN { printf "%.1f", log(v) }')
cat <<EOF
what to expect: the model starts from random weights, so alignment starts at
  ln(vocabulary) = ln($VOCAB) = $LN_VOCAB and falls steadily (to about 5.6 after 40 steps).
  COMMIT's loss is over the response tokens of one 4 x 128 batch per logged step: it starts
  at about 6.5, below the alignment's start, then jumps from batch to batch (about 2.4 to
  5.7 here) while trending down. A pipeline check, not a model: it learns word
  frequencies, not Hindi.
checkpoints: params::$OUT/align/streaming_params
             params::$OUT/commit/streaming_params
logs:        $OUT/align.log, $OUT/commit.log (EasyLM's output; a metrics line every 5 steps)
EOF
echo
echo "== what COMMIT trained on (first 2 records, epoch 0):"
"$PYTHON" -m easylm_commit.cli preview --demo -n 2
VENV=$("$PYTHON" -c 'import sys; print(sys.prefix)')
cat <<EOF

== next
  source $VENV/bin/activate    # puts easylm-commit on your PATH (installed there)
  easylm-commit --help
  easylm-commit preview --demo --html preview.html   # the samples as a page
  easylm-commit plan --help      # the paper's experiment for one language, step by step:
                                 # README, "Your first real run"
EOF
