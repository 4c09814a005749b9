"""The dataset types' old import path, kept for users' code and for EasyLM configs that name
``easylm_commit.datasets.CommitDataset``. The module is ``easylm_commit.dataset_types``: a
module called ``datasets`` beside the Hugging Face ``datasets`` package it imports reads as that
package to every reader (and to tools that resolve imports by name)."""

from easylm_commit.dataset_types import DATASET_TYPES, CodeMixCLMDataset, CommitDataset

__all__ = ["CommitDataset", "CodeMixCLMDataset", "DATASET_TYPES"]
