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

import logging
import os
import weakref

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


def _hf_encode(tokenizer, texts):
    backend = _rust_backend(tokenizer)
    if backend is not None:
        return [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    return tokenizer(texts, add_special_tokens=False)["input_ids"]


# Texts that hold these exercise every rule where a SentencePiece model and its Hugging Face
# wrapper could part ways: the dummy prefix, whitespace runs and whitespace-only pieces,
# newlines and tabs (byte fallback), digits, case, several scripts, a leading space.
_PROBES = (
    "", " ", "  ", "\n", "a", " leading space", "trailing space ", "two  spaces\tand a tab",
    "Below is an instruction that describes a task.\n\n### Instruction:\nWhat is 12 + 30?",
    "\n\n### Response:", "UPPER Title lower 2024 3.14", "नीचे एक निर्देश है। हैं", "ภาษาไทย คำตอบ",
    "Ελληνικά ΑΘΗΝΑ", "தமிழ் বাংলা", "emoji \U0001F600 and \u00e9\u0301", "\u3000wide\u00a0nbsp",
)


class _SentencePieceEncoder:
    """LLaMA tokenizers are SentencePiece models, and sentencepiece's own C++ encoder gives
    their ids about 3x faster than the Hugging Face fast tokenizer (whose LLaMA port has no
    pre-tokenizer, so its BPE runs over whole texts). Used only when it is provably the same
    function: the tokenizer must name a ``.model`` file, the ids must agree on ``_PROBES``
    and on the first real texts encoded, and texts holding a special-token string (which the
    Hugging Face tokenizer turns into that token, SentencePiece into characters) go to the
    tokenizer itself. ``EASYLM_COMMIT_SENTENCEPIECE=0`` turns it off.
    """

    def __init__(self, tokenizer):
        import sentencepiece

        self.tokenizer = tokenizer
        self.sp = sentencepiece.SentencePieceProcessor(model_file=tokenizer.vocab_file)
        self.specials = tuple(
            t for t in set(tokenizer.all_special_tokens) | set(tokenizer.get_added_vocab()) if t
        )
        self.checked_real_texts = False

    @classmethod
    def create(cls, tokenizer):
        if os.environ.get("EASYLM_COMMIT_SENTENCEPIECE", "1") == "0":
            return None
        path = getattr(tokenizer, "vocab_file", None)
        if not (isinstance(path, str) and path.endswith(".model") and os.path.isfile(path)):
            return None
        try:
            encoder = cls(tokenizer)
        except Exception:  # sentencepiece missing, or the file is not a SentencePiece model
            return None
        if encoder.sp.encode(list(_PROBES)) != _hf_encode(tokenizer, list(_PROBES)):
            return None
        return encoder

    def __call__(self, texts):
        ids = self.sp.encode(texts)
        for i, text in enumerate(texts):
            if any(s in text for s in self.specials):
                ids[i] = _hf_encode(self.tokenizer, [text])[0]
        if not self.checked_real_texts:
            self.checked_real_texts = True
            sample = texts[:64]
            if ids[:len(sample)] != _hf_encode(self.tokenizer, sample):
                logging.getLogger("easylm_commit").warning(
                    "easylm-commit: sentencepiece and the tokenizer disagree on this data; "
                    "using the tokenizer")
                _ENCODERS[self.tokenizer] = None
                return _hf_encode(self.tokenizer, texts)
        return ids


# tokenizer -> its _SentencePieceEncoder, or None where the tokenizer itself is used.
_ENCODERS = weakref.WeakKeyDictionary()


def encode_batch(tokenizer, texts):
    """Token ids of many texts in one call, exactly ``tokenizer(texts,
    add_special_tokens=False)["input_ids"]``, by the fastest route that gives them:
    SentencePiece's encoder for LLaMA tokenizers (see ``_SentencePieceEncoder``), else the
    fast tokenizer's Rust ``encode_batch`` called directly (without building the per-text
    dictionaries of attention masks and the like: a tenth of the tokenising time), else the
    tokenizer's own call.
    """
    if not texts:
        return []
    texts = list(texts)
    try:
        encoder = _ENCODERS[tokenizer]
    except KeyError:
        encoder = _ENCODERS[tokenizer] = _SentencePieceEncoder.create(tokenizer)
    except TypeError:  # not weak-referenceable: no cache, no SentencePiece route
        encoder = None
    if encoder is not None:
        return encoder(texts)
    return _hf_encode(tokenizer, texts)


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
