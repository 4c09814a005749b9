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

from __future__ import annotations

import itertools
import logging
import os
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


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
        # Prompts given as pieces (``encode_prompts``): the ids of a line break alone where
        # encoding piece by piece is exact for this model, the template pieces' ids, and
        # whether the first real prompts were checked against whole-prompt encoding.
        self.line_break = self._line_break_ids()
        self.template_ids = {}
        self.checked_prompts = False

    def _any_special(self, texts):
        """Whether a special-token string may be in one of ``texts``: one search of each in
        all of them, rather than of each in every text."""
        joined = "\0".join(texts)
        return any(s in joined for s in self.specials)  # "\0" in a special: True, safe

    def _line_break_ids(self):
        """``sp.encode("\\n")`` (the dummy prefix, then the line break) if a line break is a
        wall for this model, else None.

        A wall: no piece of the vocabulary and no special-token string holds a line break,
        and a line break is encoded as the byte piece ``<0x0A>``, one per line break. Then no
        piece spans a line break, so neither BPE's merges nor a unigram model's best path
        cross it: a text encodes as its parts cut at line breaks, each encoded after a line
        break -- ``sp.encode("\\n" + part)`` less the ids of ``"\\n"`` alone -- except the
        first, which takes the dummy prefix as the whole text does. ``_PROBES`` cut at every
        line break check it on this model.
        """
        sp = self.sp
        if any("\n" in s for s in self.specials):
            return None
        if "\n" in "".join(sp.id_to_piece(list(range(sp.get_piece_size())))):
            return None
        line_break = sp.encode("\n")
        if not line_break or sp.id_to_piece(line_break[-1]) != "<0x0A>":
            return None
        if sp.encode("\n\n\n") != line_break + line_break[-1:] * 2:
            return None
        n = len(line_break)
        for text in _PROBES + _SPLICE_PROBES:
            whole = sp.encode(text)
            for k, c in enumerate(text):
                if c == "\n":
                    for cut in (k, k + 1) if k else (1,):  # before and after the line break
                        if sp.encode(text[:cut]) + sp.encode("\n" + text[cut:])[n:] != whole:
                            return None
        return line_break

    def encode_prompts(self, prompts):
        """Ids of prompts given as their pieces, ``[(text, kind), ...]`` (a ``Sample``'s
        ``prompt_segments``, ``kind`` "template" for the template's text): exactly
        ``encode_batch`` of the joined texts.

        Where a line break is a wall for this model (``_line_break_ids``) and every seam
        between two pieces is next to a line break (Alpaca's template has one at each of its
        fields), a prompt is encoded piece by piece: the template's pieces once, then reused;
        only the fields are encoded for each record. SentencePiece's time on a prompt goes
        mostly to the template's English words, the same in every record. Other prompts, and
        any with a special-token string, are encoded whole. The first prompts are also
        encoded whole and compared, as a last check.
        """
        if not self.checked_prompts:
            self.checked_prompts = True
            sample = prompts[:64]
            whole = encode_batch(self.tokenizer, [_joined(parts) for parts in sample])
            if _ENCODERS.get(self.tokenizer) is not self or self._spliced(sample) != whole:
                if _ENCODERS.get(self.tokenizer) is self:
                    logging.getLogger("easylm_commit").warning(
                        "easylm-commit: prompts encoded piece by piece differ from whole "
                        "prompts; encoding them whole")
                self.line_break = None
        if self.line_break is None:
            return encode_batch(self.tokenizer, [_joined(parts) for parts in prompts])
        return self._spliced(prompts)

    def _spliced(self, prompts):
        n, templates = len(self.line_break), self.template_ids
        specials = self.specials if self._any_special([t for parts in prompts for t, _ in parts]) else ()
        fields, plans, whole = [], [], []
        for parts in prompts:
            plan, before = [], None
            for text, kind in parts:
                if not text:
                    continue
                if before is not None and not (before[-1] == "\n" or text[0] == "\n"):
                    plan = None
                    break
                ids = templates.get((text, before is None)) if kind == "template" else None
                if ids is not None:
                    plan.append(ids)
                elif kind == "template" and len(templates) < 1024 and not any(s in text for s in specials):
                    # Remembered while there are few: a mixed template ("naive") varies.
                    ids = self.sp.encode(text) if before is None else self.sp.encode("\n" + text)[n:]
                    templates[text, before is None] = ids
                    plan.append(ids)
                else:
                    if any(s in text for s in specials):
                        plan = None
                        break
                    plan.append(len(fields) if before is None else ~len(fields))
                    fields.append(text if before is None else "\n" + text)
                before = text
            if plan is None:
                plan = len(whole)
                whole.append(_joined(parts))
            plans.append(plan)
        encoded = self.sp.encode(fields) if fields else []
        encoded_whole = self(whole) if whole else []
        out = []
        for plan in plans:
            if plan.__class__ is int:
                out.append(encoded_whole[plan])
                continue
            ids = []
            for part in plan:
                if part.__class__ is not int:
                    ids += part
                elif part >= 0:
                    ids += encoded[part]
                else:
                    ids += encoded[~part][n:]
            out.append(ids)
        return out

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
        if self._any_special(texts):
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


# Line breaks next to every kind of neighbour, for the check of encoding piece by piece.
_SPLICE_PROBES = (
    "a\nb", "a \n b", "a  \n\n  b\n", "\n\nlead", "trail\n\n", "x\n\ty\n ",
    "Below is an instruction.\n\n### Instruction:\nName three fruits.\n\n### Input:\n"
    "apples, 12 pears\n\n### Response:", "नीचे\nहैं\n", "ภาษา\nไทย", "Ελληνικά\nΑΘΗΝΑ",
    "émoji \U0001F600\n\u00e9\u0301", "\u3000\n\u00a0", "1.\n2. ,\n;:",
)


# tokenizer -> its _SentencePieceEncoder, or None where the tokenizer itself is used.
_ENCODERS = weakref.WeakKeyDictionary()


def encode_batch(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list[list[int]]:
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
    encoder = _encoder(tokenizer)
    if encoder is not None:
        return encoder(texts)
    return _hf_encode(tokenizer, texts)


def _joined(parts):
    return "".join(text for text, _ in parts)


def _encoder(tokenizer):
    """The tokenizer's ``_SentencePieceEncoder``, created and checked on first use, or None."""
    try:
        return _ENCODERS[tokenizer]
    except KeyError:
        encoder = _ENCODERS[tokenizer] = _SentencePieceEncoder.create(tokenizer)
        return encoder
    except TypeError:  # not weak-referenceable: no cache, no SentencePiece route
        return None


def encode_prompts(tokenizer: PreTrainedTokenizerBase,
                   prompts: Sequence[Sequence[tuple[str, str]]]) -> list[list[int]]:
    """``encode_batch`` of prompts given as their pieces, ``[(text, kind), ...]`` (a
    ``Sample``'s ``prompt_segments``, ``kind`` "template" for the template's text):
    SentencePiece's encoder encodes them piece by piece where that is exact
    (``_SentencePieceEncoder.encode_prompts``)."""
    if not prompts:
        return []
    encoder = _encoder(tokenizer)
    if encoder is None or encoder.line_break is None:
        return encode_batch(tokenizer, [_joined(parts) for parts in prompts])
    return encoder.encode_prompts(prompts)


Example = tuple[np.ndarray, np.ndarray]
"""``(tokens, loss_masks)`` of one example: int32 and float32 arrays of one length."""


def tokens_and_masks(tokenizer: PreTrainedTokenizerBase,
                     prompts: Sequence[Sequence[tuple[str, str]]],
                     responses: Sequence[str]) -> list[Example]:
    """The model transform: ``(tokens, loss_masks)`` for each (prompt, response), laid out
    ``BOS + prompt + response + EOS`` with the loss on the response and EOS only (module
    docstring). A prompt is given as its pieces ``[(text, kind), ...]`` (a ``Sample``'s
    ``prompt_segments``: ``encode_prompts``); a corpus text has none, and is then
    ``BOS + text + EOS`` with the loss on all but BOS (predicting a document's BOS after the
    previous one's EOS is not a skill to learn).

    Args:
        tokenizer: a Hugging Face tokenizer with BOS and EOS tokens.
        prompts: the prompts' pieces, one list per example (empty: no prompt).
        responses: the texts trained on, one per example.

    Returns:
        One ``(tokens, loss_masks)`` per example, in order.

    Raises:
        ValueError: ``prompts`` and ``responses`` differ in length.
    """
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts for {len(responses)} responses")
    if any(prompts):
        encoded_prompts = encode_prompts(tokenizer, prompts)
    else:  # a corpus: no prompt to encode
        encoded_prompts = itertools.repeat(())
    return _laid_out(tokenizer, encoded_prompts, encode_batch(tokenizer, responses))


def _laid_out(tokenizer, encoded_prompts, encoded_responses):
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    out = []
    for p, r in zip(encoded_prompts, encoded_responses):
        tokens = np.empty(len(p) + len(r) + 2, dtype=np.int32)
        tokens[0] = bos
        tokens[1:1 + len(p)] = p
        tokens[1 + len(p):-1] = r
        tokens[-1] = eos
        masks = np.zeros(len(tokens), dtype=np.float32)
        masks[1 + len(p):] = 1.0
        out.append((tokens, masks))
    return out


def instruction_tokens(tokenizer: PreTrainedTokenizerBase,
                       prompts: Sequence[str | Sequence[tuple[str, str]]],
                       responses: Sequence[str]) -> list[Example]:
    """``tokens_and_masks`` of (prompt, response) pairs whose prompts may also be given as
    whole strings."""
    if prompts and isinstance(prompts[0], str):
        return _laid_out(tokenizer, encode_batch(tokenizer, prompts), encode_batch(tokenizer, responses))
    return tokens_and_masks(tokenizer, prompts, responses)


def text_tokens(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list[Example]:
    """``tokens_and_masks`` of plain documents: ``BOS + text + EOS``, loss on all but BOS."""
    return tokens_and_masks(tokenizer, [()] * len(texts), texts)
