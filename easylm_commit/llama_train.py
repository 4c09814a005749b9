"""Launcher for unpatched EasyLM checkouts.

    python -m easylm_commit.llama_train --train_dataset.type=commit \\
        --train_dataset.commit.path=alpaca.json --train_dataset.commit.dictionary=en-hi.txt ...

takes exactly the flags of ``python -m EasyLM.models.llama.llama_train``: it registers this
package's dataset types into EasyLM's ``DatasetFactory`` at run time (see ``registry.py``),
then runs EasyLM's own LLaMA train loop, unchanged. EasyLM comes from ``EASYLM_DIR`` or
the Python path. A ``UserError`` (a bad dictionary path, alpha out of range, hosts of a
pod that disagree) ends the run with one line instead of a traceback.

As a pod (``--jax_distributed.initialize_jax_distributed=True`` and its address, count and
id flags, one process per host) it also runs on CPU: JAX 0.4.28's CPU backend has no
cross-process collectives unless they are selected before it starts, which this does
(gloo; see ``pod.select_cpu_collectives``). README: "Running on a pod".

``WANDB_MODE=disabled`` is honoured: mlxu's logger passes ``mode="offline"`` to
``wandb.init`` whenever ``--logger.online=False``, and an explicit mode beats the environment
variable, so without this every run would leave ``wandb/offline-run-*`` folders beside its
checkpoints although the user disabled W&B.
"""

from __future__ import annotations

import functools
import os
import sys

from easylm_commit.errors import UserError


def honour_wandb_disabled() -> None:
    """Make ``WANDB_MODE=disabled`` win over the mode mlxu passes to ``wandb.init``."""
    if os.environ.get("WANDB_MODE", "").lower() != "disabled":
        return
    import wandb

    if getattr(wandb.init, "_easylm_commit_disabled", False):
        return
    init = wandb.init

    @functools.wraps(init)
    def disabled_init(*args, **kwargs):
        kwargs["mode"] = "disabled"
        return init(*args, **kwargs)

    disabled_init._easylm_commit_disabled = True
    wandb.init = disabled_init


def main() -> int:
    """Register the dataset types, then run EasyLM's train loop on ``sys.argv``; the exit
    status (2 for a ``UserError``)."""
    from easylm_commit.easylm_path import ensure_importable

    from easylm_commit import options

    try:
        options.check_flag_keys(sys.argv[1:])
        ensure_importable()
        import EasyLM.data

        from easylm_commit import registry

        registry.install(EasyLM.data.DatasetFactory)
    except UserError as e:
        print(f"easylm_commit.llama_train: error: {e}", file=sys.stderr)
        return 2
    honour_wandb_disabled()
    # Imported only now: it builds its flags from DatasetFactory.get_default_config().
    import mlxu
    from EasyLM.models.llama import llama_train

    from easylm_commit import pod

    def run(argv):
        try:
            pod.select_cpu_collectives(llama_train.FLAGS.jax_distributed)
            return llama_train.main(argv)
        except UserError as e:
            print(f"easylm_commit.llama_train: error: {e}", file=sys.stderr)
            sys.exit(2)

    mlxu.run(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
