"""Shared fixtures. Nothing here reaches a model hub: tokenizers are trained in the test
session on fixture text, and EasyLM comes from ``EASYLM_DIR``."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_MODE", "disabled")
# EasyLM on CPU: jaxlib 0.4.28 rewrites attention into a oneDNN call that is many times
# slower on the debug model's small shapes; without the rewrite the training tests take half
# the time (subprocesses inherit it).
os.environ.setdefault("XLA_FLAGS", "--xla_disable_hlo_passes=onednn-matmul-rewriter")

FIXTURES = Path(__file__).parent / "fixtures"


def easylm_dir():
    """The EasyLM checkout from ``EASYLM_DIR``, or ``None``."""
    d = os.environ.get("EASYLM_DIR", "")
    return d if d and os.path.isdir(os.path.join(d, "EasyLM")) else None


NEEDS_EASYLM = "needs EasyLM: set EASYLM_DIR to a checkout of young-geng/EasyLM main (not on PyPI)"


def skip_without_easylm(reason=NEEDS_EASYLM):
    """Skip a test that needs EasyLM -- or, with ``EASYLM_REQUIRED=1`` (``.ci/run`` sets it),
    fail it with the reason: a CI whose ``EASYLM_DIR`` points nowhere must not pass green
    with every training test skipped, while a user without EasyLM still sees them skipped."""
    if os.environ.get("EASYLM_REQUIRED") == "1":
        where = os.environ.get("EASYLM_DIR")
        pytest.fail(f"{reason} (EASYLM_DIR={where!r} is not an EasyLM checkout; "
                    "EASYLM_REQUIRED=1 turns this skip into a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def _easylm_checkout():
    if easylm_dir() is None:
        skip_without_easylm()


# For a test or a module (``pytestmark = requires_easylm``): a fixture rather than a
# ``skipif`` mark, because a mark can only skip.
requires_easylm = pytest.mark.usefixtures("_easylm_checkout")


@pytest.fixture(scope="session")
def easylm_path():
    """The checkout, importable (``sys.path``) in this process."""
    d = easylm_dir()
    if d is None:
        skip_without_easylm()
    if d not in sys.path:
        sys.path.insert(0, d)
    return d


def build_llama_tokenizer(out_dir, corpus=FIXTURES / "spm_corpus.txt", vocab_size=600):
    """A small LLaMA-style tokenizer trained on the fixture text (see spm_tokenizer.py)."""
    from easylm_commit.spm_tokenizer import train_llama_tokenizer

    lines = Path(corpus).read_text(encoding="utf-8").splitlines()
    return train_llama_tokenizer(lines, str(out_dir), vocab_size)


@pytest.fixture(scope="session")
def llama_tokenizer_dir(tmp_path_factory):
    """A directory that ``AutoTokenizer.from_pretrained`` (and EasyLM's ``--tokenizer``) loads."""
    return build_llama_tokenizer(tmp_path_factory.mktemp("tokenizer"))


def debug_llama_flags(tokenizer_dir, out_dir, steps):
    """The flags every test run of EasyLM's train loop shares: EasyLM's random-weight debug
    LLaMA at the fixture tokenizer's vocabulary, fp32 on CPU, a metric line every step, logs
    under ``out_dir`` and a short AdamW warm-up (tests/test_easylm_train.py, tests/test_pod.py)."""
    return [
        "--llama.base_model=debug", "--llama.vocab_size=600", f"--tokenizer={tokenizer_dir}",
        f"--total_steps={steps}", "--log_freq=1", "--dtype=fp32",
        "--logger.online=False", f"--logger.output_dir={out_dir}",
        "--optimizer.type=adamw", "--optimizer.adamw_optimizer.lr=1e-3",
        "--optimizer.adamw_optimizer.lr_warmup_steps=2",
        "--optimizer.adamw_optimizer.lr_decay_steps=1000",
    ]


# A Hugging Face LLaMA config small enough for plan to build its steps from (nothing is loaded).
TINY_HF_CONFIG = dict(vocab_size=64, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                      rms_norm_eps=1e-6, rope_theta=10000.0)


def parse_as_easylm(dataset_flags, monkeypatch):
    """``--train_dataset.*`` flags parsed as EasyLM's llama_train defines them
    (``train_dataset=DatasetFactory.get_default_config()``, here with this package's types):
    the ``train_dataset`` config the train loop would see."""
    import mlxu
    from absl import flags
    from ml_collections import config_flags

    from easylm_commit.dataset_types import DATASET_TYPES
    from easylm_commit.options import COMMIT

    monkeypatch.setattr(sys, "argv", ["llama_train", *dataset_flags])
    values = flags.FlagValues()
    config_flags.DEFINE_config_dict(
        "train_dataset", mlxu.config_dict(
            type=COMMIT, **{k: c.get_default_config() for k, c in DATASET_TYPES.items()}),
        flag_values=values)
    values(sys.argv)
    return values.train_dataset


def build_tiny_hf_llama(out_dir, tokenizer_dir):
    """A random-weight LLaMA in Hugging Face format with EasyLM's ``debug`` shape (2 layers,
    128 wide) and the tokenizer saved beside it: what a user's ``llama-7b-hf`` folder is,
    small enough for EasyLM's converters and lm-eval on a CPU. The stand-in that ``plan
    --demo`` builds, with the fixture tokenizer and a context of 512."""
    from easylm_commit.demo.model import save_debug_llama

    return Path(save_debug_llama(out_dir, tokenizer_dir, max_position_embeddings=512))


@pytest.fixture(scope="session")
def tiny_hf_llama(tmp_path_factory, llama_tokenizer_dir):
    return build_tiny_hf_llama(tmp_path_factory.mktemp("tiny_hf_llama") / "model", llama_tokenizer_dir)
