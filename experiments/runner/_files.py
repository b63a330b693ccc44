"""The run directory's files: cell results, the run's record, atomic writes and the run log.

A private module of :mod:`pricegym.experiments.runner` (which re-exports its public
names). Every file a run writes goes through an atomic write
(temp file + rename): a finished cell's JSON (:func:`read_cell` reads it back, and
a missing or torn file means "recompute"), ``resolved.json`` / ``inputs.json`` (a
rerun checks them before reusing any cell), ``versions.json``, the episode and
league tables (CSV, Parquet) and ``logs/run.log``. It builds no market and runs
no cell.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym._json import jsonable
from pricegym.errors import ConfigError

if TYPE_CHECKING:
    from pricegym.experiments.schema import ExperimentConfig

_log = logging.getLogger("pricegym.experiments")


#: Packages whose versions are recorded in versions.json.
_PACKAGES = (
    "pricegym",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "scikit-learn",
    "torch",
    "gymnasium",
    "stable-baselines3",
    "sb3-contrib",
    "pettingzoo",
    "pyarrow",
    "ray",
)
_MARKER = "resolved.json"


def _write_json(path: Path, document: Any) -> None:
    from pricegym.demand.io import atomic_write_bytes  # numpy

    atomic_write_bytes(
        path,
        (json.dumps(jsonable(document, strict=True), indent=1, allow_nan=False) + "\n").encode(),
    )


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for pkg in _PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _comparable(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """What must match for cells to be reused: all but ``output`` and ``market.validate``
    (validation changes no cell; ``validation.json`` records its own settings)."""
    out = {k: v for k, v in resolved.items() if k != "output"}
    if isinstance(out.get("market"), Mapping):
        out["market"] = {k: v for k, v in out["market"].items() if k != "validate"}
    return out


def _input_digests(config: ExperimentConfig) -> dict[str, str]:
    """sha256 of every input file (data, saved models, saved policies) by path."""
    spec = config.market
    paths = []
    if spec.data is not None and spec.data.path:
        paths.append(Path(spec.data.path))
    files = [m.file for m in spec.models if m.file]
    if spec.source == "env" and spec.options.get("model_path"):  # pricegym/Fitted-v0
        files.append(str(spec.options["model_path"]))
    for file in files:
        paths += [Path(file), Path(file).with_suffix(".npz")]
    for agent in config.agents:
        if agent.policy:
            paths += [Path(agent.policy), Path(agent.policy).with_suffix(".npz")]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _prepare_dir(
    run_dir: Path, resolved: dict[str, Any], inputs: dict[str, str], force: bool
) -> None:
    marker = run_dir / _MARKER
    if run_dir.exists() and any(run_dir.iterdir()) and not marker.is_file():
        raise ConfigError(
            f"output directory {str(run_dir)!r} exists and is not a pricegym run directory (no "
            f"{_MARKER}); refusing to write into it. Fix: choose another --out DIR (or output.dir)."
        )
    if marker.is_file() and not force:
        old = json.loads(marker.read_text(encoding="utf-8"))
        if _comparable(old) != _comparable(resolved):
            raise ConfigError(
                f"run directory {str(run_dir)!r} holds results of a different experiment "
                "configuration, so its cells cannot be reused. Fix: pass --force to recompute "
                "everything there, or choose another --out DIR."
            )
        known = run_dir / "inputs.json"
        previous = json.loads(known.read_text(encoding="utf-8")) if known.is_file() else {}
        changed = sorted(p for p, digest in inputs.items() if previous.get(p, digest) != digest)
        if changed:
            raise ConfigError(
                f"input file(s) {changed} changed since the cells in {str(run_dir)!r} were "
                "computed, so they cannot be reused. Fix: pass --force to recompute, or choose "
                "another --out DIR."
            )
    if force:
        for sub in ("cells", "policies", "models"):
            shutil.rmtree(run_dir / sub, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(marker, resolved)
    _write_json(run_dir / "inputs.json", inputs)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _atomic_csv(frame: Any, path: Path) -> None:
    from pricegym.demand.io import atomic_write_bytes  # numpy

    atomic_write_bytes(path, frame.to_csv(index=False, float_format="%.17g").encode())


def _atomic_parquet(frame: Any, path: Path) -> None:
    import io

    from pricegym.demand.io import atomic_write_bytes  # numpy

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())


@contextlib.contextmanager
def _run_log(run_dir: Path) -> Iterator[None]:
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "logs" / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    _log.addHandler(handler)
    level = _log.level
    _log.setLevel(logging.INFO)
    try:
        yield
    finally:
        _log.removeHandler(handler)
        _log.setLevel(level)
        handler.close()
