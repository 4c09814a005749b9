"""Greedy QA evaluation of an EasyLM LLaMA checkpoint, scored with the package's metrics.

    python examples/toy_reproduction/evaluate.py CHECKPOINT_DIR TOKENIZER_DIR EVAL.json LANG [TEMPLATE]

``CHECKPOINT_DIR`` is what EasyLM's ``llama_train`` wrote (``streaming_params`` and
``metadata.pkl``, whose ``llama_config`` rebuilds the model). Each item's prompt is the
training formatter's own prompt (``Formatter(mode="none")``, Alpaca's template or TEMPLATE, a
target-language one), so the model sees the layout it was tuned on; the answer is generated
greedily until a newline or EOS.

Why not lm-eval: its ``hf`` model needs the checkpoint converted to PyTorch first (EasyLM's
``convert_easylm_to_hf``) and one more copy of the model per condition and seed; the toy's
budget is CPU minutes. Generation here runs EasyLM's own Flax module directly.

Why not EasyLM's serving code: it decodes one request at a time with a sampling server; here
every question of a set is decoded in one padded batch by a single jitted loop (fixed shapes,
so it compiles once per set).
"""

import json
import os
import pickle
import sys

import numpy as np


def load_checkpoint(checkpoint_dir):
    """(LLaMA config, params) from an EasyLM output directory."""
    from easylm_commit.easylm_path import ensure_importable

    ensure_importable()
    from EasyLM.checkpoint import StreamingCheckpointer
    from transformers.configuration_utils import PretrainedConfig

    with open(os.path.join(checkpoint_dir, "metadata.pkl"), "rb") as fin:
        metadata = pickle.load(fin)
    config = PretrainedConfig.from_dict(metadata["llama_config"])
    params = StreamingCheckpointer.load_checkpoint(
        os.path.join(checkpoint_dir, "streaming_params")
    )
    return config, {"params": params}


def prompts_for(items, template="en"):
    """The training formatter's prompts; ``template`` is "en" (Alpaca's) or a template file
    (a target-language prompt)."""
    from easylm_commit.templates import Formatter

    formatter = Formatter(mode="none", template=template)
    return [
        formatter.format(dict(instruction=it["instruction"], input=it["input"], output="")).prompt
        for it in items
    ]


_COMPILED = {}


def _generate_fn(config, prompt_len, max_new_tokens):
    """The jitted greedy loop for one model shape and prompt length, compiled once and
    reused for every checkpoint of the experiment (they share the architecture)."""
    key = (json.dumps(config.to_dict(), sort_keys=True, default=str), prompt_len, max_new_tokens)
    if key in _COMPILED:
        return _COMPILED[key]
    import jax
    import jax.numpy as jnp
    from EasyLM.models.llama.llama_model import FlaxLLaMAForCausalLMModule

    model = FlaxLLaMAForCausalLMModule(config)

    @jax.jit
    def generate(params, tokens, mask):
        def step(i, carry):
            tokens, mask = carry
            # Positions count real tokens only, so left padding does not shift RoPE.
            positions = jnp.clip(jnp.cumsum(mask, axis=-1) - 1, 0)
            logits = model.apply(
                params, tokens, attention_mask=mask, position_ids=positions, deterministic=True
            ).logits
            next_token = jnp.argmax(logits[:, prompt_len - 1 + i], axis=-1).astype(jnp.int32)
            tokens = tokens.at[:, prompt_len + i].set(next_token)
            mask = mask.at[:, prompt_len + i].set(1)
            return tokens, mask

        tokens, _ = jax.lax.fori_loop(0, max_new_tokens, step, (tokens, mask))
        return tokens[:, prompt_len:]

    _COMPILED[key] = generate
    return generate


def greedy_generate(config, params, prompt_ids, max_new_tokens, pad_id=0):
    """Greedy continuation of left-padded prompts; returns (batch, max_new_tokens) ids.

    All prompts are left-padded to the longest, so position P is the first generated token
    of every row. Each step runs the whole fixed-size buffer through the model (no KV cache:
    at this size recomputation is simpler and still takes seconds).
    """
    import jax.numpy as jnp

    batch = len(prompt_ids)
    prompt_len = max(len(p) for p in prompt_ids)
    total = prompt_len + max_new_tokens
    tokens = np.full((batch, total), pad_id, dtype=np.int32)
    mask = np.zeros((batch, total), dtype=np.int32)
    for i, ids in enumerate(prompt_ids):
        tokens[i, prompt_len - len(ids):prompt_len] = ids
        mask[i, prompt_len - len(ids):prompt_len] = 1
    generate = _generate_fn(config, prompt_len, max_new_tokens)
    return np.asarray(generate(params, jnp.asarray(tokens), jnp.asarray(mask)))


def decode_answer(tokenizer, ids):
    """Text up to EOS, then up to the first newline (the eval stops at a newline)."""
    ids = list(ids)
    if tokenizer.eos_token_id in ids:
        ids = ids[: ids.index(tokenizer.eos_token_id)]
    text = tokenizer.decode(ids, skip_special_tokens=True)
    return text.split("\n", 1)[0].strip()


def evaluate(checkpoint, tokenizer_dir, items, lang, max_new_tokens=8, template="en"):
    """Per-item predictions and mean EM / F1 (in percent) over ``items``.

    ``checkpoint`` is a directory or an already loaded ``(config, params)`` pair.
    ``lang`` selects the metric's normalisation; the toy languages ``xx`` and ``yy`` get the
    package's generic one (NFC, lower case, punctuation removed, whitespace tokens).
    ``template`` is the prompt's template: "en" (Alpaca's) or a template file.
    """
    from transformers import AutoTokenizer

    from easylm_commit.eval.metrics import score

    config, params = load_checkpoint(checkpoint) if isinstance(checkpoint, str) else checkpoint
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    prompts = prompts_for(items, template)
    # BOS + prompt, as in training (tokens.instruction_tokens).
    prompt_ids = [
        [tokenizer.bos_token_id] + ids
        for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]
    ]
    # One batch per set: one compiled shape per set for the whole experiment.
    out = greedy_generate(config, params, prompt_ids, max_new_tokens)
    by_index = [decode_answer(tokenizer, row) for row in out]
    predictions = []
    em = f1 = 0.0
    for i, item in enumerate(items):
        s = score(by_index[i], item["answers"], lang)
        predictions.append(dict(id=item["id"], prediction=by_index[i], answers=item["answers"], **s))
        em += s["exact_match"]
        f1 += s["f1"]
    n = max(len(items), 1)
    return dict(exact_match=100.0 * em / n, f1=100.0 * f1 / n, n=len(items), predictions=predictions)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (4, 5):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    checkpoint, tokenizer_dir, eval_path, lang = argv[:4]
    with open(eval_path, encoding="utf-8") as fin:
        items = json.load(fin)
    result = evaluate(checkpoint, tokenizer_dir, items, lang, template=argv[4] if len(argv) == 5 else "en")
    for p in result["predictions"][:5]:
        print(f"{p['id']}: {p['prediction']!r} vs {p['answers']}")
    print(json.dumps({k: result[k] for k in ("exact_match", "f1", "n")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
