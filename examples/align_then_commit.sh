#!/usr/bin/env bash
# Align + COMMIT (the paper's best rows): alignment on target-language Wikipedia, then COMMIT
# tuning from the aligned checkpoint. Takes the variables of align.sh and commit.sh.
set -euo pipefail
here=$(dirname "$0")
OUTPUT_DIR=${OUTPUT_DIR:-output}
TARGET=${TARGET:-hi}
ALIGN_RUN=${ALIGN_RUN:-align_$TARGET}
export OUTPUT_DIR TARGET

RUN_NAME="$ALIGN_RUN" bash "$here/align.sh"
BASE_CHECKPOINT="params::$OUTPUT_DIR/$ALIGN_RUN/streaming_params" \
  RUN_NAME="${COMMIT_RUN:-align_commit_$TARGET}" bash "$here/commit.sh"
