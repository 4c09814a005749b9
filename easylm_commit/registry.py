"""Making EasyLM's ``DatasetFactory`` know the ``commit`` and ``codemix_clm`` types.

Two routes, one result (``--train_dataset.type=commit`` and ``--train_dataset.commit.*``
flags in EasyLM's own train scripts):

- Patched checkout (``patches/``): ``DatasetFactory`` gains a generic registry and finds
  installed plugins through the entry-point group ``easylm.datasets``; this package's
  ``setup.py`` declares its two types there. Nothing here runs.
- Unpatched checkout: ``install()`` wraps ``DatasetFactory.get_default_config`` and
  ``load_dataset`` at run time, before the train script defines its flags. The launcher
  ``python -m easylm_commit.llama_train`` does that; nothing in the checkout changes.
"""

from __future__ import annotations

from typing import Any

import mlxu

ENTRY_POINT_GROUP = "easylm.datasets"


def dataset_types() -> dict[str, type]:
    """``--train_dataset.type`` name -> dataset class, for every type this package adds."""
    from easylm_commit.dataset_types import DATASET_TYPES

    return dict(DATASET_TYPES)


def is_patched(factory: Any) -> bool:
    """Whether this ``DatasetFactory`` has the registry that ``patches/`` adds."""
    return callable(getattr(factory, "register", None)) and callable(
        getattr(factory, "registered_types", None)
    )


def install(factory: Any = None) -> Any:
    """Register our dataset types into ``factory`` (EasyLM's ``DatasetFactory``).

    Idempotent. Must run before the train script builds its flags from
    ``DatasetFactory.get_default_config()``, i.e. before importing ``llama_train``.

    Args:
        factory: EasyLM's ``DatasetFactory`` class (imported from ``EasyLM.data`` if not
            given); ``Any`` because EasyLM is not a dependency this package can import.

    Returns:
        ``factory``, now knowing the ``commit`` and ``codemix_clm`` types.
    """
    if factory is None:
        from EasyLM.data import DatasetFactory as factory
    types = dataset_types()
    if is_patched(factory):
        known = factory.registered_types()
        for name, cls in types.items():
            if name not in known:  # e.g. running from a source tree without entry points
                factory.register(name, cls)
        return factory
    if getattr(factory, "_easylm_commit_installed", False):
        return factory
    original_default = factory.get_default_config
    original_load = factory.load_dataset.__func__

    def get_default_config(updates=None):
        config = original_default()
        for name, cls in types.items():
            config[name] = cls.get_default_config()
        return mlxu.update_config_dict(config, updates)

    def load_dataset(cls, config, tokenizer, **kwargs):
        config = cls.get_default_config(config)
        if config.type in types:
            return types[config.type](config[config.type], tokenizer, None, **kwargs)
        return original_load(cls, config, tokenizer, **kwargs)

    factory.get_default_config = staticmethod(get_default_config)
    factory.load_dataset = classmethod(load_dataset)
    factory._easylm_commit_installed = True
    return factory


def entry_point_names() -> list[str]:
    """Names this environment declares in the ``easylm.datasets`` group."""
    from importlib import metadata

    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # Python < 3.10
        eps = metadata.entry_points().get(ENTRY_POINT_GROUP, [])
    return sorted(ep.name for ep in eps)
