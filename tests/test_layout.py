"""The package layout that tools see: literal ``__all__`` and ``TYPE_CHECKING`` imports
equal to each lazy package's exports, every package folder listed in pyproject, and the
type checkers' symlink mirror (``make typing-tree``) equal to the installed layout."""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAZY = ["envs", "demand", "agents", "experiments"]


def _lazy_init(folder: str) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """(_EXPORTS, the literal __all__, name → module of the TYPE_CHECKING imports)."""
    tree = ast.parse((ROOT / folder / "__init__.py").read_text(encoding="utf-8"))
    exports: dict[str, str] = {}
    names: list[str] = []
    checked: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "_EXPORTS":
                exports = ast.literal_eval(node.value)
            elif node.targets[0].id == "__all__":
                names = ast.literal_eval(node.value)  # raises unless a literal
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), ast.dump(imp)
                for alias in imp.names:
                    checked[alias.asname or alias.name] = imp.module
    return exports, names, checked


@pytest.mark.parametrize("folder", LAZY)
def test_lazy_package_all_and_type_checking_imports_equal_its_exports(folder):
    exports, names, checked = _lazy_init(folder)
    assert exports, f"{folder}/__init__.py has no _EXPORTS"
    # the order is ruff's (RUF022, isort-style); the names are what must agree
    assert len(names) == len(set(names)), f"{folder}: __all__ lists a name twice"
    assert set(names) == set(exports), f"{folder}: __all__ differs from _EXPORTS"
    assert checked == exports, f"{folder}: TYPE_CHECKING imports differ from _EXPORTS"
    package = importlib.import_module(f"pricegym.{folder}")
    for name, module in exports.items():
        if f"{package.__name__}.{name}" == module:
            # a function named like its own submodule (experiments.evaluate): once
            # anything imports the submodule, Python binds the package attribute to
            # the module, whatever the lazy export says. Known wart, to be renamed.
            continue
        assert getattr(package, name) is getattr(importlib.import_module(module), name)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_folder_is_listed_in_pyproject():
    """An unlisted folder with an ``__init__.py`` silently drops out of the wheel."""
    tool = _pyproject()["tool"]["setuptools"]
    listed, mapping = set(tool["packages"]), tool["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    assert found - listed == set(), "package folders missing from [tool.setuptools] packages"
    assert listed - found == set(), "listed packages without a folder"


def test_makefile_typing_tree_mirrors_pyproject_package_dir():
    """``make typing-tree`` links the same folders that package-dir maps."""
    mapping = _pyproject()["tool"]["setuptools"]["package-dir"]
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("TYPING_DIRS"))
    linked = set(line.split(":=", 1)[1].split())
    assert linked == {v for k, v in mapping.items() if k != "pricegym"}
    assert all(k == f"pricegym.{v}" for k, v in mapping.items() if k != "pricegym")


#: The layer order (lowest first): a module may import only from its own layer or
#: below — at module level, inside functions and under TYPE_CHECKING alike.
#: ``pricegym.registration`` is the composition root of the gymnasium ids (it builds
#: the Duopoly preset's rival agent), so it sits above envs and agents.
LAYERS = [
    (
        "core",
        (
            "pricegym.errors",
            "pricegym._lazy",
            "pricegym._json",
            "pricegym._validate",
            "pricegym.runtime",
            "pricegym.seller_inputs",
        ),
    ),
    ("demand", ("pricegym.demand",)),
    ("envs", ("pricegym.envs",)),
    ("agents", ("pricegym.agents",)),
    ("registration", ("pricegym.registration",)),
    ("experiments", ("pricegym.experiments",)),
    ("cli", ("pricegym.cli", "pricegym.__main__", "pricegym")),
]


def _layer(module: str) -> int:
    """Index in :data:`LAYERS` of the longest prefix that matches ``module``."""
    best, length = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = i, len(prefix)
    assert best >= 0, f"{module} is in no layer of LAYERS"
    return best


def _modules() -> dict[str, Path]:
    """Dotted name → file of every module of the installed package (pyproject's mapping)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    out: dict[str, Path] = {}
    for package, folder in tool["setuptools"]["package-dir"].items():
        for path in sorted((ROOT / folder).glob("*.py")):
            out[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
        for path in sorted((ROOT / folder).glob("*/*.py")):
            sub = f"{package}.{path.parent.name}"
            out[sub if path.stem == "__init__" else f"{sub}.{path.stem}"] = path
    return out


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every ``pricegym`` import in a file, relative ones resolved."""
    found = []
    package = module if path.stem == "__init__" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
    return [(line, name) for line, name in found if name.split(".")[0] == "pricegym"]


def test_every_import_follows_the_layer_order():
    """core < demand < envs < agents < registration < experiments < cli, no exceptions."""
    breaks = []
    for module, path in _modules().items():
        own = _layer(module)
        for line, target in _imports(module, path):
            if target != "pricegym" and _layer(target) > own:
                rel = path.relative_to(ROOT)
                breaks.append(f"{rel}:{line} ({LAYERS[own][0]}) imports {target}")
    assert breaks == []


def test_layer_check_sees_in_function_and_type_checking_imports(tmp_path):
    """The checker is not blind: a lower layer importing upward, anywhere, is found."""
    bad = tmp_path / "m.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pricegym.agents.base import PricingAgent\n"
        "def f():\n    import pricegym.experiments.runner\n",
        encoding="utf-8",
    )
    targets = [t for _, t in _imports("pricegym.envs.m", bad)]
    assert targets == ["pricegym.agents.base", "pricegym.experiments.runner"]
    assert all(_layer(t) > _layer("pricegym.envs.m") for t in targets)
