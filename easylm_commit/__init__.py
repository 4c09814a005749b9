"""easylm-commit: COMMIT code-mixed instruction tuning (NAACL 2024 Findings) for EasyLM.

The core (``dictionary``, ``mixer``, ``templates``) is pure Python and imports neither JAX
nor EasyLM, so the mixers can be used in any pipeline.
"""

__version__ = "0.1.0"

from easylm_commit.errors import UserError  # noqa: E402
