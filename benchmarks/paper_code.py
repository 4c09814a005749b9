"""A re-creation of how the COMMIT authors' public code builds one training sample.

Written from reading their EasyLM fork (``EasyLM/data.py``: ``load_dict``,
``TextProcessor.codemix_sentence`` / ``codemix_word_considering_punct`` / ``codemix_word``,
``TextProcessor.alpaca``, ``preprocess`` / ``_tokenize_fn``, ``HuggingfaceDataset.__iter__``),
not copied from it. Per record it:

- deep-copies the record;
- mixes instruction, input (if any) and output by splitting on single spaces, stripping
  leading and trailing punctuation/whitespace character by character with ``unicodedata``,
  looking the (case-sensitive) core up in a dict of lists, and drawing with the global
  ``random`` (``random.random() < ratio`` then ``random.choice``);
- formats Alpaca's template with ``str.format_map``;
- tokenizes ``prompt + response`` and ``prompt`` separately, each as a padded PyTorch tensor
  (``padding="longest"``, ``truncation=True``), counting the prompt's non-pad tokens to
  build the loss mask, and converts back with ``.tolist()``;
- packs into batches by extending and re-slicing Python lists, as EasyLM's
  ``HuggingfaceDataset`` does, iterating a ``datasets`` table row by row.

Their tokenizer came from ``--tokenizer.vocab_file`` with BOS and EOS added: EasyLM's
SentencePiece (slow) tokenizer at the time. ``tokenizer`` here is whatever is passed in;
the benchmark runs it with the slow and with the fast LLaMA tokenizer.
"""

import copy
import random
import unicodedata

import numpy as np

PROMPT_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:"
)


def _skip(ch):
    if ch in " \t\n\r":
        return True
    cat = unicodedata.category(ch)
    if cat == "Zs":
        return True
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return cat.startswith("P")


def load_dict(path):
    table = {}
    with open(path, encoding="utf-8") as f:
        for line in f.readlines():
            line = line.strip()
            parts = line.split("\t")
            if len(parts) != 2:
                parts = line.split(" ")
            src, tgt = parts
            table.setdefault(src, []).append(tgt)
    return table


class PaperProcessor:
    def __init__(self, dictionary, ratio, tokenizer):
        self.table = dictionary
        self.ratio = ratio
        self.tokenizer = tokenizer

    def _word(self, core):
        if core in self.table and random.random() < self.ratio:
            return random.choice(self.table[core])
        return core

    def _word_with_punct(self, w):
        try:
            i = 0
            while _skip(w[i]):
                i += 1
            j = len(w) - 1
            while _skip(w[j]):
                j -= 1
            return w[:i] + self._word(w[i:j + 1]) + w[j + 1:]
        except IndexError:  # all punctuation, or empty
            return w

    def mix(self, sentence):
        return " ".join(self._word_with_punct(w) for w in sentence.split(" "))

    def _tokenize(self, text):
        t = self.tokenizer(text, return_tensors="pt", padding="longest",
                           max_length=self.tokenizer.model_max_length, truncation=True)
        ids = t.input_ids[0]
        return ids, t.input_ids.ne(self.tokenizer.pad_token_id).sum().item()

    def texts(self, example):
        """(source, target): the mixed prompt and response."""
        example = copy.deepcopy(example)
        example["instruction"] = self.mix(example["instruction"])
        if example.get("input", ""):
            example["input"] = self.mix(example["input"])
        template = PROMPT_INPUT if example.get("input", "") != "" else PROMPT_NO_INPUT
        source = template.format_map(example)
        target = self.mix(f"{example['output']}")
        return source, target

    def __call__(self, example):
        source, target = self.texts(example)
        ids, _ = self._tokenize(source + target)
        _, source_len = self._tokenize(source)
        masks = [0] * source_len + [1] * (len(ids) - source_len)
        return ids.tolist(), masks


def paper_batches(dataset, processor, batch_size, seq_length):
    """EasyLM's HuggingfaceDataset loop: rows one by one, Python-list buffers."""
    chunk = batch_size * seq_length
    while True:
        tokens, masks = [], []
        for example in dataset:
            t, m = processor(example)
            tokens.extend(t)
            masks.extend(m)
            while len(tokens) > chunk + 1:
                yield {
                    "input_tokens": np.array(tokens[:chunk], dtype=np.int32).reshape(batch_size, -1),
                    "target_tokens": np.array(tokens[1:chunk + 1], dtype=np.int32).reshape(batch_size, -1),
                    "loss_masks": np.array(masks[1:chunk + 1], dtype=np.float32).reshape(batch_size, -1),
                }
                tokens = tokens[chunk:]
                masks = masks[chunk:]
