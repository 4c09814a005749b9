"""``easylm-commit fetch``: the paper's public inputs -- MUSE dictionaries, Alpaca, the test
sets, a Wikipedia shard -- downloaded, checked against pinned sizes and hashes, into the layout
``plan``, ``eval`` and the datasets read. Resumable and atomic; see ``easylm_commit.fetching``.
LLaMA's weights need an account: the command says how to get and convert them, and fetches
nothing for them."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from easylm_commit.errors import UserError


# EasyLM's converter, as plan's first step (experiment.build_steps) and examples/ run it.
LLAMA = (
    "LLaMA weights: not fetched, they need an account (Meta's license, or a gated Hugging Face "
    "repository). Put them in Hugging Face format in a folder; `easylm-commit plan --hf-model "
    "DIR` converts them as its first step, or by hand, with EasyLM on PYTHONPATH: python -m "
    "EasyLM.models.llama.convert_hf_to_easylm --hf_model=DIR "
    "--output_file=llama-7b-easylm/streaming_params --streaming=True --llama.base_model=llama_7b"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--langs", required=True, metavar="LANGS",
                        help="comma-separated target languages: hi, th, el, ta, bn")
    parser.add_argument("--inputs", default="all", metavar="INPUTS",
                        help="comma-separated: dictionary, alpaca, eval, wiki, or all (default)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="where the files go (rerun with the same --out to resume or check)")
    parser.add_argument("--mirror", metavar="URL",
                        help="fetch every file from URL/<file> instead of its upstream (an "
                             "internal mirror, a file:// URL or a local folder)")
    parser.add_argument("--manifest", metavar="PATH",
                        help="sources, pins and layout (default: the package's "
                             "fetch_manifest.json)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print each file's URL, destination and pin; download nothing")


def _split(value: str, option: str, known: Sequence[str]) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in items if v not in known]
    if unknown or not items:
        raise UserError(f"{option}: unknown {', '.join(unknown) or '(none given)'}; "
                        f"choose from {', '.join(known)}")
    return list(dict.fromkeys(items))


def run(args: argparse.Namespace) -> int:
    from easylm_commit import fetching

    sources = fetching.load_manifest(args.manifest)
    langs = _split(args.langs, "--langs", fetching.languages(sources))
    inputs = _split(args.inputs, "--inputs", fetching.INPUTS + ("all",))
    inputs = list(fetching.INPUTS) if "all" in inputs else inputs
    out = os.path.abspath(args.out)
    say = (lambda *a: None) if args.quiet else print

    if args.dry_run:
        for sid, src in fetching.select(sources, langs, inputs):
            if not src.get("file"):
                print(f"{sid}: no file ({src.get('pinned_from', '')})")
                continue
            pin = (f"sha256 {src['sha256']}" if src.get("sha256")
                   else f"git blob {src['git_blob']}" if src.get("git_blob") else "NOT PINNED")
            size = f", {src['size']:,} bytes" if src.get("size") is not None else ""
            print(f"{sid}: {fetching.source_url(src, args.mirror)} -> "
                  f"{os.path.join(out, src['to'])} ({pin}{size})")
        return 0

    say(f"easylm-commit fetch: {', '.join(inputs)} for {', '.join(langs)} -> {out}")
    os.makedirs(out, exist_ok=True)
    unverified, missing = fetching.fetch(out, langs, inputs, sources, mirror=args.mirror,
                                         echo=lambda line: say(f"  {line}"))
    if unverified:
        args.deferred_warnings.append(
            f"easylm-commit fetch: warning: {len(unverified)} file(s) UNVERIFIED, the manifest "
            f"pins no hash for them: {', '.join(unverified)}; their sha256 and size are printed "
            "above: compare them with a trusted copy, or pin them in a --manifest")
    if missing:
        args.deferred_warnings.append(
            f"easylm-commit fetch: warning: not fetched (no file in the manifest): "
            f"{', '.join(missing)}")
    say(LLAMA)
    _next_step(out, langs, inputs, say)
    return 0


def _next_step(out: str, langs: Sequence[str], inputs: Sequence[str],
               say: Callable[..., object]) -> None:
    """The plan command that reads what was fetched, for the first language."""
    lang = langs[0]
    parts = [f"easylm-commit plan --target {lang} --hf-model LLAMA_HF_DIR"]
    if "dictionary" in inputs:
        parts.append(f"--dictionary {os.path.join(out, f'en-{lang}.txt')}")
    if "alpaca" in inputs:
        parts.append(f"--instructions {os.path.join(out, 'alpaca_data.json')}")
    corpus = os.path.join(out, "wiki", f"{lang}.jsonl")
    if "wiki" in inputs and os.path.exists(corpus):
        parts.append(f"--corpus {corpus}")
    if "eval" in inputs:
        parts.append(f"--qa-data {os.path.join(out, 'qa')}")
    say("next: " + " ".join(parts) + f" --out runs/{lang}")
