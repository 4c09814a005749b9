#!/usr/bin/env bash
# Alignment phase (Eq. 6): continual causal LM on target-language Wikipedia, code-mixed into
# English with the en-xx MUSE dictionary read backwards. The paper's settings for LLaMA-7B on
# a TPUv3-8: alpha 0.5, 10K steps, lr 2e-5, seq 512, batch 16, warmup 300. ALPHA=0 is the
# plain continual-pretraining baseline (Table 3).
#
#   EASYLM_DIR=... BASE_CHECKPOINT=params::gs://.../llama-7b/streaming_params \
#   TOKENIZER=path/to/llama-tokenizer TARGET=hi DICTIONARY=en-hi.txt bash examples/align.sh
set -euo pipefail
source "$(dirname "$0")/_easylm_train.sh"

TARGET=${TARGET:-hi}                                   # el hi th ta bn ...
DICTIONARY=${DICTIONARY:?MUSE dictionary en-$TARGET.txt}
BASE_CHECKPOINT=${BASE_CHECKPOINT:?EasyLM checkpoint of LLaMA-7B, e.g. params::path/streaming_params}
TOKENIZER=${TOKENIZER:?LLaMA tokenizer (a directory or a hub name)}
CORPUS=${CORPUS:-graelo/wikipedia}                     # or a local .jsonl with a "text" field
CORPUS_NAME=${CORPUS_NAME:-20230601.$TARGET}
ALPHA=${ALPHA:-0.5}
STEPS=${STEPS:-10000}
OUTPUT_DIR=${OUTPUT_DIR:-output}
RUN_NAME=${RUN_NAME:-align_$TARGET}
SEGMENTER=default; [ "$TARGET" = th ] && SEGMENTER=thai   # Thai has no spaces between words

"${EASYLM_TRAIN[@]}" \
  --mesh_dim="${MESH_DIM:-1,-1,1}" --dtype="${DTYPE:-bf16}" \
  --llama.base_model="${BASE_MODEL:-llama_7b}" --tokenizer="$TOKENIZER" \
  --load_checkpoint="$BASE_CHECKPOINT" \
  --total_steps="$STEPS" --log_freq=50 --save_model_freq=1000 \
  --optimizer.type=adamw --optimizer.adamw_optimizer.lr=2e-5 \
  --optimizer.adamw_optimizer.end_lr=0 --optimizer.adamw_optimizer.weight_decay=0 \
  --optimizer.adamw_optimizer.lr_warmup_steps=300 \
  --optimizer.adamw_optimizer.lr_decay_steps="$STEPS" \
  --train_dataset.type=codemix_clm \
  --train_dataset.codemix_clm.path="$CORPUS" \
  --train_dataset.codemix_clm.name="$CORPUS_NAME" \
  --train_dataset.codemix_clm.streaming=True \
  --train_dataset.codemix_clm.text_field=text \
  --train_dataset.codemix_clm.dictionary="$DICTIONARY" \
  --train_dataset.codemix_clm.reverse_dictionary=True \
  --train_dataset.codemix_clm.segmenter="$SEGMENTER" \
  --train_dataset.codemix_clm.alpha="$ALPHA" \
  --train_dataset.codemix_clm.seq_length=512 \
  --train_dataset.codemix_clm.batch_size=16 \
  --train_dataset.codemix_clm.tokenizer_processes="${TOKENIZER_PROCESSES:-4}" \
  --checkpointer.save_optimizer_state=False \
  --logger.online="${WANDB_ONLINE:-False}" --logger.output_dir="$OUTPUT_DIR" \
  --logger.experiment_id="$RUN_NAME" \
  "$@"
echo "aligned checkpoint: params::$OUTPUT_DIR/$RUN_NAME/streaming_params"
