"""easylm-commit: COMMIT code-mixed instruction tuning as an EasyLM plugin.

The core install (dictionary, mixer, templates, ``easylm-commit mix``) needs no JAX.
Extras: ``easylm`` (the stack EasyLM main is known to run with, pinned as EasyLM pins it),
``eval`` (lm-eval and the report), ``thai`` (word segmentation), ``test``.
"""

from setuptools import find_packages, setup

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
            "eval/tasks/*.yaml", "eval/tasks/*/*.yaml",
            "patches/*.patch",
        ],
    },
    install_requires=["regex", "numpy", "tqdm", "rich"],
    extras_require={
        "easylm": EASYLM,
        "eval": EVAL,
        "thai": THAI,
        "test": TEST,
        "all": sorted(set(EASYLM + EVAL + THAI + TEST)),
    },
    entry_points={
        "console_scripts": ["easylm-commit=easylm_commit.cli:main"],
        # Discovered by EasyLM's DatasetFactory once patches/ is applied.
        "easylm.datasets": [
            "commit=easylm_commit.datasets:CommitDataset",
            "codemix_clm=easylm_commit.datasets:CodeMixCLMDataset",
        ],
    },
)
