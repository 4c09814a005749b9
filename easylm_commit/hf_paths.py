"""Model and tokenizer arguments: a local folder or a Hugging Face hub name, told apart before
anything is loaded, so that a mistyped path fails at once instead of being sent to the hub.

transformers' ``from_pretrained`` treats anything that is not an existing folder as a hub
name: ``llama-7b-hf`` (a folder in another directory, say) costs a minute of connection
retries on a machine without network before an error that does not say the folder is missing.
Here:

- an existing folder is used as it is;
- what looks like a path -- ``./x``, ``../x``, ``/x``, ``~/x``, ``x/``, ``a/b/c`` -- or a bare
  name without the hub's ``org/name`` form, and does not exist, is "no such folder";
- an ``org/name`` is looked up in the local hub cache first (no network); if it is not there,
  with ``HF_HUB_OFFLINE=1`` that is the error, otherwise one request with a short timeout
  asks the hub whether the model exists -- no retries.

(Bare names such as ``gpt2`` are legacy hub names, but every LLaMA on the hub is
``org/name``; a bare name here is far more likely a folder that is not where it was expected.)
"""

from __future__ import annotations

import os
import re

# The hub's repository ids (huggingface_hub.utils.validate_repo_id): org/name, letters,
# digits, "-", "_", ".".
HUB_NAME = re.compile(r"^[\w.-]+/[\w.-]+$")
# Seconds for the one request that asks the hub whether a model exists.
HUB_TIMEOUT = 10


def looks_local(spec: str) -> bool:
    """True for what can only be a path (see the module docstring)."""
    return (spec.startswith(("/", "./", "../", "~")) or spec.endswith(("/", os.sep))
            or spec in (".", "..") or not HUB_NAME.match(spec))


def hub_offline() -> bool:
    from huggingface_hub import constants

    env = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "")
    return constants.HF_HUB_OFFLINE or env.strip().upper() in ("1", "ON", "YES", "TRUE")


def cached_snapshot(name: str) -> str | None:
    """The folder of hub model ``name`` in the local hub cache, or None; no network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(name, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def locate(spec: str, option: str) -> str:
    """A local folder for ``spec`` -- the folder itself, or a hub model's folder in the local
    cache -- or ``spec`` itself when it is a hub model that is not downloaded but exists (it
    will be downloaded when loaded). Raises a one-line UserError naming ``option`` otherwise,
    within ``HUB_TIMEOUT`` seconds."""
    from easylm_commit.errors import UserError

    path = os.path.expanduser(spec)
    if os.path.isdir(path):
        return path
    if os.path.exists(path):
        raise UserError(f"{option} {spec}: not a folder (a Hugging Face model or tokenizer is a "
                        "folder with config.json or tokenizer files)")
    if looks_local(spec):
        hint = "" if "/" in spec or spec.startswith("~") else " (a hub model is named org/name)"
        raise UserError(f"{option} {spec}: no such folder{hint}")
    cached = cached_snapshot(spec)
    if cached:
        return cached
    if hub_offline():
        raise UserError(f"{option} {spec}: not in the local Hugging Face cache and HF_HUB_OFFLINE "
                        "is set: download it where there is network, or pass a local folder")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        HfApi().model_info(spec, timeout=HUB_TIMEOUT)
    except RepositoryNotFoundError:
        raise UserError(f"{option} {spec}: no such model on the Hugging Face hub (a private "
                        "one needs `huggingface-cli login`), and no such local folder") from None
    except (OSError, ValueError) as e:  # requests' connection errors and timeouts are OSErrors
        raise UserError(f"{option} {spec}: cannot reach the Hugging Face hub ({type(e).__name__}): "
                        "without network, set HF_HUB_OFFLINE=1 to use a downloaded copy, or "
                        "pass a local folder") from None
    return spec


# transformers' order for a local folder (modeling_utils.PreTrainedModel.from_pretrained):
# the first of these that exists is what it loads.
WEIGHTS = ("model.safetensors", "model.safetensors.index.json",
           "pytorch_model.bin", "pytorch_model.bin.index.json")


def weight_files(model_dir: str) -> list[str]:
    """The weight files transformers would load from the model folder ``model_dir`` (a single
    file, or the shards its index lists); a one-line UserError naming what is missing when
    there is nothing it could load, or when an index lists shards that are not there."""
    import json

    from easylm_commit.errors import UserError

    for name in WEIGHTS:
        path = os.path.join(model_dir, name)
        if not os.path.isfile(path):
            continue
        if not name.endswith(".index.json"):
            return [name]
        try:
            with open(path, encoding="utf-8") as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise UserError(f"{path}: not a weight index (no weight_map: {type(e).__name__})") from None
        missing = [s for s in shards if not os.path.isfile(os.path.join(model_dir, s))]
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise UserError(f"{model_dir}: {len(missing)} of the {len(shards)} weight shard(s) "
                            f"that {name} lists are missing: {', '.join(missing[:3])}{more}")
        return shards
    # Shards without their index, or Meta's consolidated.*.pth: transformers loads neither.
    stray = sorted(n for n in os.listdir(model_dir)
                   if n.endswith((".safetensors", ".bin", ".pth", ".pt")))
    found = f" ({', '.join(stray[:3])} alone are not loadable)" if stray else ""
    raise UserError(f"{model_dir}: no weights: none of {', '.join(WEIGHTS)}{found}")
