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

FIXTURES = Path(__file__).parent / "fixtures"


def easylm_dir():
    """The EasyLM checkout from ``EASYLM_DIR``, or ``None``."""
    d = os.environ.get("EASYLM_DIR", "")
    return d if d and os.path.isdir(os.path.join(d, "EasyLM")) else None


requires_easylm = pytest.mark.skipif(
    easylm_dir() is None,
    reason="needs EasyLM: set EASYLM_DIR to a checkout of young-geng/EasyLM main (not on PyPI)",
)


@pytest.fixture(scope="session")
def easylm_path():
    d = easylm_dir()
    if d is None:
        pytest.skip("needs EasyLM: set EASYLM_DIR to a checkout of young-geng/EasyLM main")
    if d not in sys.path:
        sys.path.insert(0, d)
    return d


def build_llama_tokenizer(out_dir, corpus=FIXTURES / "spm_corpus.txt", vocab_size=600):
    """A SentencePiece BPE model with LLaMA's settings (byte fallback, digits split, no
    whitespace normalisation), saved as a Hugging Face LLaMA tokenizer (slow and fast)."""
    import sentencepiece as spm
    from transformers import LlamaTokenizer, LlamaTokenizerFast

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / "spm"
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=vocab_size,
        model_type="bpe", byte_fallback=True, character_coverage=1.0, split_digits=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, normalization_rule_name="identity",
        add_dummy_prefix=True, remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True, minloglevel=2,
    )
    slow = LlamaTokenizer(vocab_file=str(prefix) + ".model", legacy=True)
    slow.save_pretrained(str(out_dir))
    fast = LlamaTokenizerFast.from_pretrained(str(out_dir), legacy=True)
    fast.save_pretrained(str(out_dir))
    return str(out_dir)


@pytest.fixture(scope="session")
def llama_tokenizer_dir(tmp_path_factory):
    """A directory that ``AutoTokenizer.from_pretrained`` (and EasyLM's ``--tokenizer``) loads."""
    return build_llama_tokenizer(tmp_path_factory.mktemp("tokenizer"))
