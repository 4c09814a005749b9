"""The public API is typed: every public function, method and property of the listed modules
annotates each parameter and its return, so a reader (and an editor) sees what goes in and
what comes out without reading the body.

Public means: defined in the module (not imported into it), and a name without a leading
underscore, or ``__init__``. Other dunders (``__len__``, ``__getstate__``) keep the protocol's
meaning and are not checked. ``self`` and ``cls`` need no annotation.
"""

import importlib
import inspect
import pathlib
import types

import pytest

# Modules whose whole public API is typed. A module joins this list once it is typed.
TYPED = [
    "easylm_commit",
    "easylm_commit.alpha_schedule",
    "easylm_commit.atomic",
    "easylm_commit.cli",
    "easylm_commit.commands",
    "easylm_commit.commands._common",
    "easylm_commit.commands.dictcmd",
    "easylm_commit.commands.doctor",
    "easylm_commit.commands.evaluate",
    "easylm_commit.commands.fetch",
    "easylm_commit.commands.mix",
    "easylm_commit.commands.patch",
    "easylm_commit.commands.plan",
    "easylm_commit.commands.preview",
    "easylm_commit.commands.report",
    "easylm_commit.commands.stats",
    "easylm_commit.coverage",
    "easylm_commit.dataset_types",
    "easylm_commit.interleave",
    "easylm_commit.joint",
    "easylm_commit.languages",
    "easylm_commit.datasets",
    "easylm_commit.demo",
    "easylm_commit.demo.model",
    "easylm_commit.dictionary",
    "easylm_commit.dictionary_tools",
    "easylm_commit.easylm_path",
    "easylm_commit.errors",
    "easylm_commit.eval",
    "easylm_commit.eval.data",
    "easylm_commit.eval.harness",
    "easylm_commit.eval.metrics",
    "easylm_commit.eval.prompts",
    "easylm_commit.eval.report",
    "easylm_commit.eval.tasks.utils",
    "easylm_commit.experiment",
    "easylm_commit.fetching",
    "easylm_commit.fileio",
    "easylm_commit.hf_paths",
    "easylm_commit.llama_train",
    "easylm_commit.mixer",
    "easylm_commit.options",
    "easylm_commit.packing",
    "easylm_commit.patching",
    "easylm_commit.pod",
    "easylm_commit.preview",
    "easylm_commit.progress",
    "easylm_commit.protect",
    "easylm_commit.records",
    "easylm_commit.registry",
    "easylm_commit.resumable",
    "easylm_commit.sources",
    "easylm_commit.spm_tokenizer",
    "easylm_commit.templates",
    "easylm_commit.tokens",
    "easylm_commit.transform",
]
# Modules that import an optional dependency at their top: checked where it is installed.
OPTIONAL = {
    "easylm_commit.dataset_types": "mlxu",
    "easylm_commit.datasets": "mlxu",
    "easylm_commit.registry": "mlxu",
}


def _functions(module):
    """``(qualified name, function)`` of every public function, method and property."""
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            # A dataclass's generated __init__ is among them: its fields' annotations type it.
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                elif isinstance(member, property):
                    member = member.fget
                # Not what a base class puts there (typing.Protocol's own __init__).
                if inspect.isfunction(member) and member.__module__ == module.__name__:
                    yield f"{name}.{attr}", member


def untyped(module):
    """What lacks an annotation: ``name(parameter)`` or ``name -> return``."""
    missing = []
    for name, fn in _functions(module):
        params = list(inspect.signature(fn).parameters.values())
        if params and params[0].name in ("self", "cls"):
            params = params[1:]
        missing += [f"{name}({p.name})" for p in params if p.annotation is inspect.Parameter.empty]
        if "return" not in fn.__annotations__:
            missing.append(f"{name} -> return")
    return missing


@pytest.mark.parametrize("name", TYPED)
def test_every_public_function_is_typed(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    assert untyped(module) == [], f"{name}: add type hints to these"


def test_every_module_of_the_package_is_listed():
    # A new module is typed from its first commit: it cannot be left out of TYPED unnoticed.
    # Files, not pkgutil: eval/tasks is a folder lm-eval reads (no __init__.py).
    root = pathlib.Path(importlib.import_module("easylm_commit").__file__).parent
    modules = {".".join(("easylm_commit",) + p.relative_to(root).with_suffix("").parts)
               for p in root.rglob("*.py")}
    modules = {m.removesuffix(".__init__") for m in modules}
    assert sorted(modules - set(TYPED)) == []


def test_an_untyped_function_is_found():
    module = types.ModuleType("example")
    exec(
        "class Box:\n"
        "    def __init__(self, size: int) -> None: ...\n"
        "    def put(self, item, *, count: int = 1) -> None: ...\n"
        "    @property\n"
        "    def full(self): ...\n"
        "    def __len__(self): ...\n"
        "def typed(a: int, *rest: str, **kw: float) -> str: ...\n"
        "def untyped_return(a: int): ...\n"
        "def _private(a): ...\n",
        module.__dict__,
    )
    assert untyped(module) == ["Box.put(item)", "Box.full -> return", "untyped_return -> return"]


def test_names_imported_into_a_module_are_not_its_own():
    module = types.ModuleType("example")
    exec("from os.path import join\nimport json\n", module.__dict__)
    assert untyped(module) == []
