"""The validation step: every fitted market scored on held-out history (``validation.json``).

A private module of :mod:`pricegym.experiments.runner`. After the fit stage,
:func:`_validate` takes each market fitted to ``market.data`` (a family fitted by
the run, or a saved ``market.model[].file``), refits its family with the same
hyper-parameters on the first periods of the history and scores the held-out rest
with :func:`pricegym.demand.validation.validate` (``market.validate``: ``holdout``,
``paths``; see :mod:`pricegym.experiments.schema._validate`). The market the
agents play is the model fitted to the whole history; the refit exists only to be
scored.

``validation.json`` (written atomically after each market, so an interrupted run
keeps what it finished)::

    {"settings": {"holdout": "20%", "paths": 1000},
     "markets": {"<market>": {"model": ..., "family": ..., "seed": ..., "status": "ok",
                              "result": ValidationResult.to_dict(rows=True), "note": ...},
                 "<market>": {"model": ..., "family": ..., "seed": ..., "status": "failed",
                              "reason": "..."}}}

Randomness: each market's seed is ``derive_seeds(experiment seed, ("validate",
market), 1)``, independent of the cells' seeds and of the order markets are
validated in, so validation changes no cell's result. A rerun reuses a market's
entry when the settings, its model and its seed are unchanged (``force``
recomputes); the time it took goes to ``logs/run.log`` only, so the file is the
same on every rerun.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import PricegymError
from pricegym.experiments.rundir import _model_path
from pricegym.experiments.runner._exec import _torch_threads
from pricegym.experiments.runner._files import _write_json

if TYPE_CHECKING:
    from pricegym.experiments.schema import ExperimentConfig

_log = logging.getLogger("pricegym.experiments")

#: The file the validation results are written to, in the run directory.
VALIDATION_FILE = "validation.json"


def _validate(config: ExperimentConfig, run_dir: Path, force: bool) -> dict[str, Any] | None:
    """Validate every fitted market of ``config`` (see the module docstring).

    Returns the document written to ``validation.json``, or ``None`` when the
    experiment validates nothing (validation off, or no market fitted to data); a
    stale ``validation.json`` is then removed.
    """
    spec = config.market
    path = run_dir / VALIDATION_FILE
    if spec.validation is None or spec.source != "data":
        path.unlink(missing_ok=True)
        return None
    from pricegym.experiments.evaluate import derive_seeds, load_sales_history  # pandas, numpy

    settings = dict(spec.validation)
    old = _read(path) if not force else {}
    reuse = old.get("markets", {}) if old.get("settings") == settings else {}
    document: dict[str, Any] = {"settings": settings, "markets": {}}
    history = None
    product = (spec.options or {}).get("product")
    for base, model in spec.market_names().items():
        assert model is not None  # a data market: every base market has its model
        seed = derive_seeds(config.seed, ("validate", base), 1)[0]
        file = _model_path(run_dir, model)
        head = {"model": model.name, "seed": seed}
        previous = reuse.get(base)
        if previous is not None and all(previous.get(k) == v for k, v in head.items()):
            document["markets"][base] = previous
            continue
        if history is None:
            history = load_sales_history(spec.data)
        document["markets"][base] = _one(base, file, history, settings, head, product)
        _write_json(path, document)
    _write_json(path, document)
    return document


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _one(
    base: str,
    file: Path,
    history: Any,
    settings: dict[str, Any],
    head: dict[str, Any],
    product: Any,
) -> dict[str, Any]:
    """One market's entry: its model's family refitted on the first periods and scored."""
    from pricegym.demand.base import DemandModel  # pandas, numpy
    from pricegym.demand.validation import validate  # pandas, numpy

    start = time.perf_counter()
    entry: dict[str, Any] = dict(head)
    try:
        model = DemandModel.load(file)
        entry["family"] = model.family
        with _torch_threads(), warnings.catch_warnings():  # one thread: the same weights
            warnings.simplefilter("ignore")  # the fit stage has said its warnings
            result = validate(
                history,
                model,
                settings["holdout"],
                n_paths=int(settings["paths"]),
                seed=int(head["seed"]),
                quiet=True,
            )
    except PricegymError as exc:
        entry.update(status="failed", reason=str(exc))
        _log.warning("validation of %s failed: %s", base, exc)
        return entry
    entry.update(status="ok", result=result.to_dict(rows=True))
    if product is not None and history.is_panel:
        entry["note"] = (
            f"the market simulates product {product!r} of the pooled model; the scores cover "
            f"every product of the panel's held-out periods ({result.n_rows} rows)"
        )
    _log.info(
        "validated %s (%s) in %.2fs: %s",
        base,
        model.family,
        time.perf_counter() - start,
        result.calibration,
    )
    return entry


def validation_lines(run_dir: Path) -> list[str]:
    """One line per market of ``run_dir``'s ``validation.json`` (``pricegym run`` prints them)."""
    document = _read(Path(run_dir) / VALIDATION_FILE)
    lines = []
    for market, entry in (document.get("markets") or {}).items():
        if entry.get("status") != "ok":
            lines.append(f"Validation: {market}: not validated: {entry.get('reason')}")
            continue
        r = entry["result"]
        cover = r["coverage"]
        bias = r.get("revenue_bias")
        state = (
            "cannot be judged (too few held-out rows)"
            if r["calibration"] == "too few rows"
            else f"is {r['calibration']}"
        )
        lines.append(
            f"Validation: {market} ({r['family']}) {state} on the last "
            f"{r['n_holdout_periods']} periods: 50/80/95% intervals cover "
            + "/".join(f"{float(cover[k]):.0%}" for k in ("0.5", "0.8", "0.95"))
            + " of the held-out sales"
            + (f", revenue {float(bias):+.1%} vs actual" if bias is not None else "")
            + " (validation.json; the report's Market validation section)."
        )
    return lines
