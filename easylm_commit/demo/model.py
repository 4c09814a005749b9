"""The stand-in LLaMA of ``easylm-commit plan --demo``: what a user's ``llama-7b-hf`` folder
is, at EasyLM's ``debug`` size, built offline in seconds.

- The tokenizer is trained on the embedded demo text (records, corpus, dictionary) with
  LLaMA's SentencePiece settings, as ``examples/quickstart.sh`` trains its own
  (``easylm_commit.spm_tokenizer``): the real LLaMA tokenizer cannot be downloaded offline.
- The model is a ``LlamaForCausalLM`` with random weights (seed 0) in the shape of EasyLM's
  ``debug`` preset (2 layers, 128 wide, 4 heads; EasyLM's default context of 2048), its
  vocabulary the tokenizer's, saved in Hugging Face format with the tokenizer beside it --
  so EasyLM's converters, the train loop and lm-eval all take it as they take LLaMA-7B.

It shows the plan's sequence working; it is not a model. The tests build the same shape
from their fixture tokenizer (``tests/conftest.py``).
"""

from __future__ import annotations

import os

# As examples/quickstart.sh: enough for the demo text's words and Devanagari's characters.
TOKENIZER_VOCAB = 1000

# EasyLM's LLaMAConfigurator 'debug' preset (EasyLM/models/llama/llama_model.py); the
# context is the configurator's default, which that preset keeps.
DEBUG_SHAPE = dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=4, rms_norm_eps=1e-6,
                   max_position_embeddings=2048)

# What ``plan --demo`` prints it is building, and the README repeats.
DESCRIPTION = (f"a random-weight LLaMA of EasyLM's debug shape ({DEBUG_SHAPE['num_hidden_layers']} "
               f"layers, {DEBUG_SHAPE['hidden_size']} wide) and a {TOKENIZER_VOCAB}-piece tokenizer "
               "trained on the demo text")


def save_debug_llama(out_dir: str, tokenizer_dir: str, seed: int = 0, **shape: int) -> str:
    """A random-weight ``LlamaForCausalLM`` of ``DEBUG_SHAPE`` (entries overridden by
    ``shape``) with the vocabulary of the tokenizer in ``tokenizer_dir``, saved with that
    tokenizer into ``out_dir``; returns ``out_dir``."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, **dict(DEBUG_SHAPE, **shape))
    LlamaForCausalLM(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def build(out_dir: str) -> bool:
    """The demo model folder at ``out_dir``: built if it is not there (atomically: it
    appears whole or not at all), reused if it is. Returns True when it was built now."""
    import tempfile

    from easylm_commit import demo
    from easylm_commit.atomic import atomic_directory
    from easylm_commit.errors import UserError
    from easylm_commit.spm_tokenizer import file_texts, train_llama_tokenizer

    if os.path.isdir(out_dir):
        return False
    try:
        import sentencepiece  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise UserError(f"--demo builds its model with {e.name}: pip install "
                        "'easylm-commit[easylm,eval]'") from None
    from transformers.utils import logging

    verbosity = logging.get_verbosity()
    # transformers' notes on converting the slow tokenizer to the fast one are for
    # developers, not for someone trying the demo.
    logging.set_verbosity_error()
    try:
        with atomic_directory(out_dir) as tmp, tempfile.TemporaryDirectory() as tok:
            texts = file_texts([demo.DEMO_INSTRUCTIONS, demo.DEMO_CORPUS, demo.DEMO_DICTIONARY])
            # One trainer thread, so that the pieces cannot depend on the machine's cores: a
            # rebuilt demo model is the same model (the weights are seeded).
            train_llama_tokenizer(texts, tok, TOKENIZER_VOCAB, num_threads=1)
            save_debug_llama(tmp, tok)
    except FileExistsError:
        if not os.path.isdir(out_dir):
            raise
        return False  # another plan in the same folder built it meanwhile
    finally:
        logging.set_verbosity(verbosity)
    return True
