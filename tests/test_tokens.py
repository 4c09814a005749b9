"""Issue 2, part 4: tokens and loss masks with real LLaMA tokenizers (slow and fast).

Layout: BOS (mask 0) + prompt (mask 0) + response (mask 1) + EOS (mask 1), and the seam
between prompt and response is exact.
"""

import numpy as np
import pytest

from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.mixer import CodeMixer
from easylm_commit.templates import Formatter
from easylm_commit.tokens import instruction_tokens, text_tokens

RECORDS = [
    {"instruction": "Describe the cat.", "input": "The cat is in the house.",
     "output": "The cat is big.\nIt likes fish, and the house is warm."},
    {"instruction": "Say hello in Thai.", "output": "สวัสดี ครับ"},
    {"instruction": "Translate to Hindi: the cat", "output": "बिल्ली घर में हैं।"},
    {"instruction": "Translate to Greek", "input": "the house", "output": "Το σπίτι (42 m²)!"},
    {"instruction": "List two things.", "output": "1. one\n2.  two\t3"},
]


@pytest.fixture(scope="module", params=["slow", "fast"])
def tokenizer(request, llama_tokenizer_dir):
    from transformers import LlamaTokenizer, LlamaTokenizerFast

    cls = LlamaTokenizer if request.param == "slow" else LlamaTokenizerFast
    return cls.from_pretrained(llama_tokenizer_dir)


def samples():
    """Plain and code-mixed (COMMIT) samples: mixed text must tokenize as cleanly."""
    d = BilingualDictionary.from_pairs([
        ("the", "το"), ("cat", "बिल्ली"), ("house", "บ้าน"), ("is", "है"), ("fish", "ψάρι"),
    ])
    plain = Formatter(None, mode="none")
    commit = Formatter(CodeMixer(d, 0.9, seed=0), mode="commit")
    return [f.format(r, key=(0, i)) for f in (plain, commit) for i, r in enumerate(RECORDS)]


def test_layout_is_bos_prompt_response_eos_with_loss_on_the_response_and_eos(tokenizer):
    ss = samples()
    out = instruction_tokens(tokenizer, [s.prompt for s in ss], [s.response for s in ss])
    assert len(out) == len(ss)
    for s, (tokens, masks) in zip(ss, out):
        assert tokens.dtype == np.int32 and masks.dtype == np.float32
        assert tokens.shape == masks.shape
        prompt = tokenizer(s.prompt, add_special_tokens=False)["input_ids"]
        response = tokenizer(s.response, add_special_tokens=False)["input_ids"]
        assert tokens.tolist() == [tokenizer.bos_token_id] + prompt + response + [tokenizer.eos_token_id]
        assert masks.tolist() == [0.0] * (1 + len(prompt)) + [1.0] * (len(response) + 1)


def test_the_boundary_is_exact(tokenizer):
    ss = samples()
    out = instruction_tokens(tokenizer, [s.prompt for s in ss], [s.response for s in ss])
    for s, (tokens, masks) in zip(ss, out):
        trained = tokens[masks == 1.0].tolist()
        masked = tokens[1:][masks[1:] == 0.0].tolist()
        assert trained[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(trained[:-1]) == s.response
        assert tokenizer.decode(masked) == s.prompt
        # The mask changes exactly once: no prompt token after the first response token.
        assert np.count_nonzero(np.diff(masks)) == 1


def test_slow_and_fast_tokenizers_agree(llama_tokenizer_dir):
    from transformers import LlamaTokenizer, LlamaTokenizerFast

    slow = LlamaTokenizer.from_pretrained(llama_tokenizer_dir)
    fast = LlamaTokenizerFast.from_pretrained(llama_tokenizer_dir)
    ss = samples()
    prompts, responses = [s.prompt for s in ss], [s.response for s in ss]
    for (ts, ms), (tf, mf) in zip(instruction_tokens(slow, prompts, responses),
                                  instruction_tokens(fast, prompts, responses)):
        assert ts.tolist() == tf.tolist()
        assert ms.tolist() == mf.tolist()


def test_plain_text_is_bos_text_eos_with_loss_on_all_but_bos(tokenizer):
    texts = ["The cat is in the house.", "बिल्ली घर में हैं। Το σπίτι", "แมวกินปลา"]
    for text, (tokens, masks) in zip(texts, text_tokens(tokenizer, texts)):
        assert tokens[0] == tokenizer.bos_token_id and tokens[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(tokens[1:-1].tolist()) == text
        assert masks.tolist() == [0.0] + [1.0] * (len(tokens) - 1)


def test_empty_batches(tokenizer):
    assert instruction_tokens(tokenizer, [], []) == []
    assert text_tokens(tokenizer, []) == []


# encode_batch takes SentencePiece's own encoder for LLaMA tokenizers; it must stay exactly
# the tokenizer's function, special-token strings in the text included.
ODD_TEXTS = [
    "hello </s> world", "<s>at the start", "plain <unk> text", "", "  two  spaces\tand\ttabs\n",
    "नीचे एक निर्देश है।", "ภาษาไทย", "Ελληνικά", "Mixed हिंदी and English, 2024!",
]


def test_encode_batch_is_the_tokenizers_own_encoding(tokenizer):
    from easylm_commit import tokens

    assert tokens.encode_batch(tokenizer, ODD_TEXTS) == \
        tokenizer(ODD_TEXTS, add_special_tokens=False)["input_ids"]
    # The fixture is a SentencePiece LLaMA tokenizer, so the fast route is the one taken.
    assert isinstance(tokens._ENCODERS[tokenizer], tokens._SentencePieceEncoder)


def test_sentencepiece_route_can_be_turned_off(llama_tokenizer_dir, monkeypatch):
    from transformers import AutoTokenizer

    from easylm_commit import tokens

    monkeypatch.setenv("EASYLM_COMMIT_SENTENCEPIECE", "0")
    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    assert tokens.encode_batch(tok, ODD_TEXTS) == tok(ODD_TEXTS, add_special_tokens=False)["input_ids"]
    assert tokens._ENCODERS[tok] is None


def test_a_tokenizer_that_disagrees_with_its_model_file_is_used_itself(llama_tokenizer_dir):
    from transformers import AutoTokenizer

    from easylm_commit import tokens

    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    # A different normalisation than the .model file's: the probes catch it.
    from tokenizers import normalizers
    tok.backend_tokenizer.normalizer = normalizers.Sequence(
        [tok.backend_tokenizer.normalizer, normalizers.Lowercase()])
    assert tokens.encode_batch(tok, ["UPPER Case"]) == tok(["UPPER Case"], add_special_tokens=False)["input_ids"]
    assert tokens._ENCODERS[tok] is None


# Prompts given as their pieces (Sample.prompt_segments): SentencePiece encodes the template's
# pieces once and the fields per record where every seam is next to a line break, and the
# ids must be those of the whole prompt.
def _prompt_pieces_samples():
    from easylm_commit.templates import Template

    d = BilingualDictionary.from_pairs([
        ("the", "το"), ("cat", "बिल्ली"), ("house", "บ้าน"), ("is", "है"), ("fish", "ψάρι"),
    ])
    glued = Template("Q: {instruction} / {input} A:", "Q:{instruction}A:", name="glued")
    records = RECORDS + [
        {"instruction": "Say </s> twice", "input": "<s> and <unk>", "output": "ok"},
        {"instruction": "\nstarts with a line break\n", "input": " \n ", "output": "x"},
        {"instruction": "ends with spaces   ", "input": "\t", "output": "y"},
    ]
    formatters = [Formatter(None, mode="none"), Formatter(CodeMixer(d, 0.9), mode="commit"),
                  Formatter(CodeMixer(d, 0.9), mode="naive"), Formatter(None, mode="none", template="hi"),
                  Formatter(CodeMixer(d, 0.9), mode="commit", template=glued)]
    return [f.format(r, key=(0, i)) for f in formatters for i, r in enumerate(records)]


def test_prompts_given_as_pieces_encode_as_the_whole_prompts(tokenizer):
    from easylm_commit import tokens

    ss = _prompt_pieces_samples()
    by_pieces = instruction_tokens(tokenizer, [s.prompt_segments for s in ss], [s.response for s in ss])
    whole = instruction_tokens(tokenizer, [s.prompt for s in ss], [s.response for s in ss])
    for s, (tp, mp), (tw, mw) in zip(ss, by_pieces, whole):
        assert tp.tolist() == tw.tolist(), s.prompt
        assert mp.tolist() == mw.tolist()
    # Encoded twice more: the template pieces' ids now come from the encoder's memory.
    again = instruction_tokens(tokenizer, [s.prompt_segments for s in ss], [s.response for s in ss])
    assert [t.tolist() for t, _ in again] == [t.tolist() for t, _ in whole]
    encoder = tokens._ENCODERS[tokenizer]
    # The fixture's model (BPE, byte fallback) has a line break as a wall: the route is taken.
    assert encoder.line_break is not None and encoder.template_ids


def test_a_model_whose_line_break_is_not_a_wall_encodes_prompts_whole(llama_tokenizer_dir, monkeypatch):
    from transformers import AutoTokenizer

    from easylm_commit import tokens

    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    # As if the vocabulary had a piece holding a line break.
    monkeypatch.setattr(tokens._SentencePieceEncoder, "_line_break_ids", lambda self: None)
    ss = _prompt_pieces_samples()
    out = tokens.encode_prompts(tok, [s.prompt_segments for s in ss])
    assert out == tok([s.prompt for s in ss], add_special_tokens=False)["input_ids"]
    assert tokens._ENCODERS[tok].line_break is None
