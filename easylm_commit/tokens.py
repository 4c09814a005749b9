"""(prompt, response) -> tokens and loss masks, for any Hugging Face LLaMA tokenizer.

Layout: ``BOS`` (mask 0) + prompt tokens (mask 0) + response tokens (mask 1) + ``EOS``
(mask 1). The mask of a token says whether predicting *that* token is trained, matching
EasyLM's ``TextProcessor`` and its ``loss_masks[1:]`` shift.

The seam. Prompt and response are tokenized separately, so the boundary is exact by
construction: no prompt token can be counted as response or the reverse. Tokenizing the
concatenation and cutting at ``len(tokenize(prompt))`` (Alpaca's ``train.py``) can drift,
because SentencePiece may merge across the seam. The cost is SentencePiece's leading-space
convention: the response is encoded as a text of its own, so its first piece carries the
``▁`` prefix (``"### Response:"`` + ``"▁Sure"`` rather than ``"Sure"``). That is also what
a model sees at inference when it starts a new word after the prompt, and decoding the
generated tokens alone yields the response without a leading space.
"""

import numpy as np


def _rust_backend(tokenizer):
    """The ``tokenizers.Tokenizer`` behind a fast tokenizer whose ``__call__`` would hand
    the texts to it unchanged (no truncation or padding configured, no override of the
    batch path), else None."""
    try:
        from transformers import PreTrainedTokenizerFast
    except ImportError:  # pragma: no cover - transformers is needed to have a tokenizer
        return None
    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        return None
    if type(tokenizer)._batch_encode_plus is not PreTrainedTokenizerFast._batch_encode_plus:
        return None
    backend = tokenizer._tokenizer
    if backend.truncation is not None or backend.padding is not None:
        return None
    return backend


def encode_batch(tokenizer, texts):
    """Token ids of many texts in one call (the fast tokenizers run it in Rust).

    For a plain fast tokenizer the Rust ``encode_batch`` is called directly: the ids are
    the ones ``tokenizer(texts, add_special_tokens=False)`` returns, without building its
    per-text dictionaries of attention masks and the like (a tenth of the tokenising time).
    """
    if not texts:
        return []
    backend = _rust_backend(tokenizer)
    if backend is not None:
        return [e.ids for e in backend.encode_batch(list(texts), add_special_tokens=False)]
    return tokenizer(list(texts), add_special_tokens=False)["input_ids"]


def instruction_tokens(tokenizer, prompts, responses):
    """[(tokens, loss_masks)] for (prompt, response) pairs, as int32 / float32 arrays."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    out = []
    for p, r in zip(encode_batch(tokenizer, prompts), encode_batch(tokenizer, responses)):
        tokens = np.empty(len(p) + len(r) + 2, dtype=np.int32)
        tokens[0] = bos
        tokens[1:1 + len(p)] = p
        tokens[1 + len(p):-1] = r
        tokens[-1] = eos
        masks = np.zeros(len(tokens), dtype=np.float32)
        masks[1 + len(p):] = 1.0
        out.append((tokens, masks))
    return out


def text_tokens(tokenizer, texts):
    """[(tokens, loss_masks)] for plain documents: BOS + text + EOS, loss on all but BOS
    (predicting a document's BOS after the previous one's EOS is not a skill to learn)."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    out = []
    for t in encode_batch(tokenizer, texts):
        tokens = np.empty(len(t) + 2, dtype=np.int32)
        tokens[0] = bos
        tokens[1:-1] = t
        tokens[-1] = eos
        masks = np.ones(len(tokens), dtype=np.float32)
        masks[0] = 0.0
        out.append((tokens, masks))
    return out
