"""A SentencePiece LLaMA tokenizer trained on local text, for offline demos and tests.

Real runs use the LLaMA tokenizer. The quickstart, the toy reproduction and the tests
cannot download it, so they train one with LLaMA's SentencePiece settings (BPE, byte
fallback, digits split, no whitespace normalisation, ids unk=0 bos=1 eos=2) and save it as
a Hugging Face ``LlamaTokenizer``/``LlamaTokenizerFast``: EasyLM's ``--tokenizer=DIR`` and
``AutoTokenizer.from_pretrained(DIR)`` load it like the real one.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator


def train_llama_tokenizer(texts: Iterable[str], out_dir: str, vocab_size: int = 1000,
                          **trainer_options: object) -> str:
    """Train on ``texts`` and save into ``out_dir``; returns it.

    Args:
        texts: the training text, one string per line or document.
        out_dir: the folder to save the tokenizer in (made if missing).
        vocab_size: raised where the text's characters need more pieces (byte fallback
            and full character coverage leave no smaller vocabulary trainable).
        trainer_options: override SentencePieceTrainer settings (e.g. ``num_threads``).
    """
    import sentencepiece as spm
    from transformers import LlamaTokenizer, LlamaTokenizerFast

    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        chars = set()
        with open(corpus, "w", encoding="utf-8") as f:
            for text in texts:
                chars.update(text)
                f.write(text.replace("\r", " ") + "\n")
        # With full character coverage every character needs a piece, besides the 256 byte
        # pieces of byte fallback and unk/bos/eos: a smaller vocabulary cannot be trained.
        vocab_size = max(vocab_size, len(chars) + 256 + 3 + 16)
        prefix = os.path.join(tmp, "spm")
        options = dict(
            input=corpus, model_prefix=prefix, vocab_size=vocab_size,
            model_type="bpe", byte_fallback=True, character_coverage=1.0, split_digits=True,
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, normalization_rule_name="identity",
            add_dummy_prefix=True, remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True, hard_vocab_limit=False, minloglevel=2,
        )
        options.update(trainer_options)
        spm.SentencePieceTrainer.train(**options)
        slow = LlamaTokenizer(vocab_file=prefix + ".model", legacy=True)
        slow.save_pretrained(out_dir)
    LlamaTokenizerFast.from_pretrained(out_dir, legacy=True).save_pretrained(out_dir)
    # An explicit add_prefix_space makes every later load rebuild the fast tokenizer from
    # the slow one (slow, and noisy); True is the slow tokenizer's default anyway.
    config_path = os.path.join(out_dir, "tokenizer_config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config.pop("add_prefix_space", None)
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)
    return out_dir


def file_texts(files: Iterable[str]) -> Iterator[str]:
    """The text of ``files``: JSON/JSONL records contribute their string fields, other files
    their lines."""
    from easylm_commit.records import iter_records

    for path in files:
        if path.endswith((".json", ".jsonl")):
            for _, record in iter_records(path):
                yield from (v for v in record.values() if isinstance(v, str) and v)
        else:
            with open(path, encoding="utf-8") as f:
                yield from (line.rstrip("\n") for line in f)


def main(argv: list[str] | None = None) -> None:
    """``python -m easylm_commit.spm_tokenizer OUT_DIR VOCAB_SIZE FILE...`` (see ``file_texts``)."""
    argv = sys.argv[1:] if argv is None else argv
    out_dir, vocab_size, files = argv[0], int(argv[1]), argv[2:]
    train_llama_tokenizer(file_texts(files), out_dir, vocab_size)
    print(out_dir)


if __name__ == "__main__":
    main()
