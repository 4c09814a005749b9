"""easylm-commit: COMMIT code-mixed instruction tuning as an EasyLM plugin.

The core install (dictionary, mixer, templates, ``easylm-commit mix``) needs no JAX.
Extras: ``easylm`` (the stack EasyLM main is known to run with, pinned as EasyLM pins it),
``eval`` (lm-eval and the report), ``thai`` (word segmentation), ``test``, ``bench``
(benchmarks/pipeline.py; not part of ``all``).
"""

import glob
import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


class BuildWithPatches(build_py):
    """Ship the top-level patches/ inside the package (easylm_commit/_patches), so that
    ``easylm-commit patch`` works from a wheel; patches/ stays the one copy in the repo."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "easylm_commit", "_patches")
        os.makedirs(target, exist_ok=True)
        for patch in sorted(glob.glob("patches/*.patch")):
            self.copy_file(patch, os.path.join(target, os.path.basename(patch)))

EASYLM = [
    # EasyLM main (fe5b2c3) pins these; on a TPU or GPU install the matching jax[tpu]/jax[cuda].
    "jax[cpu]==0.4.28",
    "flax==0.8.3",
    "optax==0.2.2",
    "transformers==4.41.0",
    "mlxu==0.2.0",
    # mlxu 0.2.0 passes start_method to wandb.Settings: 0.19-0.21 accept it, 0.31 does not.
    "wandb>=0.19,<0.22",
    "datasets>=2.19",
    "sentencepiece",
    "einops",
]
EVAL = ["lm-eval==0.4.13", "accelerate", "torch", "matplotlib", "pythainlp"]
THAI = ["pythainlp"]
TEST = ["pytest", "hypothesis", "sentencepiece", "transformers", "protobuf"]
# benchmarks/pipeline.py runs on Mistral 7B v0.1's LLaMA-family SentencePiece tokenizer,
# which this wheel ships as a data file (no hub). Only that file is read: on Python <= 3.12
# the wheel's own dependencies want numpy < 2.4, so `pip install --no-deps
# mistral-common==1.13.1` is the lighter way to get it (benchmarks/README.md).
BENCH = ["mistral-common==1.13.1", "psutil"]

setup(
    name="easylm-commit",
    version="0.1.0",
    description="COMMIT (NAACL 2024 Findings): code-mixed instruction tuning for EasyLM's LLaMA",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["easylm_commit", "easylm_commit.*"]),
    package_data={
        "easylm_commit": [
            "demo/*.txt", "demo/*.json", "demo/*.jsonl",
            "demo/qa/*.json", "demo/qa/*.jsonl",  # the test sets `plan --demo` evaluates on
            "fetch_manifest.json",  # what `easylm-commit fetch` downloads, and its pins
            # lm-eval indexes every *.yaml as a task; the shared include is named *_yaml.
            "eval/tasks/*.yaml", "eval/tasks/*_yaml", "eval/tasks/*.py",
        ],
    },
    # fsspec: dictionaries, templates and data at URLs (gs://, s3://, ...); see fileio.py.
    install_requires=["regex", "numpy", "tqdm", "rich", "fsspec"],
    extras_require={
        "easylm": EASYLM,
        "eval": EVAL,
        "thai": THAI,
        "test": TEST,
        "bench": BENCH,
        "all": sorted(set(EASYLM + EVAL + THAI + TEST)),
    },
    cmdclass={"build_py": BuildWithPatches},
    entry_points={
        "console_scripts": ["easylm-commit=easylm_commit.cli:main"],
        # Discovered by EasyLM's DatasetFactory once patches/ is applied.
        "easylm.datasets": [
            "commit=easylm_commit.dataset_types:CommitDataset",
            "codemix_clm=easylm_commit.dataset_types:CodeMixCLMDataset",
        ],
    },
)
