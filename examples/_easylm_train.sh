# Sourced by the example scripts: how to call EasyLM's LLaMA train loop.
#   TRAIN_ROUTE=launcher (default): python -m easylm_commit.llama_train, for an unpatched
#                                   checkout (types registered at run time).
#   TRAIN_ROUTE=patched:            python -m EasyLM.models.llama.llama_train, for a checkout
#                                   patched with `easylm-commit patch`.
: "${EASYLM_DIR:?set EASYLM_DIR to an EasyLM checkout (git clone https://github.com/young-geng/EasyLM && git -C EasyLM checkout fe5b2c354e25d697fce7cd225e23bbbe72570da3)}"
export PYTHONPATH="$EASYLM_DIR${PYTHONPATH:+:$PYTHONPATH}"
PYTHON=${PYTHON:-python}
case "${TRAIN_ROUTE:-launcher}" in
  launcher) EASYLM_TRAIN=("$PYTHON" -m easylm_commit.llama_train) ;;
  patched)  EASYLM_TRAIN=("$PYTHON" -m EasyLM.models.llama.llama_train) ;;
  *) echo "TRAIN_ROUTE must be launcher or patched" >&2; exit 2 ;;
esac
