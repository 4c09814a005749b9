#!/usr/bin/env bash
# README's test command. Makes a virtual environment (.venv, or $VIRTUAL_ENV if one is
# active), installs the package with every extra at the tested versions, runs pytest.
# Tests that train inside EasyLM run when EASYLM_DIR names a checkout and are skipped, with
# the reason, otherwise. Extra arguments go to pytest. Ends by saying how to activate the
# environment, where the easylm-commit command now is.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${VIRTUAL_ENV:-}" ]; then
  PYTHON="$VIRTUAL_ENV/bin/python"
else
  [ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv"
  PYTHON="$ROOT/.venv/bin/python"
fi
"$PYTHON" -m pip install -q --upgrade pip
# torch first, alone: asked for by lm-eval's dependencies it could resolve to a GPU build.
"$PYTHON" -m pip install -q -c "$ROOT/tests/constraints.txt" torch
"$PYTHON" -m pip install -q -c "$ROOT/tests/constraints.txt" -e "$ROOT[all]"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=disabled TOKENIZERS_PARALLELISM=false
cd "$ROOT"
status=0
"$PYTHON" -m pytest -q -rs tests "$@" || status=$?
VENV=$("$PYTHON" -c 'import sys; print(sys.prefix)')
echo "easylm-commit is installed in $VENV: 'source $VENV/bin/activate' puts it on your PATH"
exit "$status"
