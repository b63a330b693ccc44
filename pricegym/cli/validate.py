"""``pricegym validate``: score fitted markets on held-out history (see :mod:`.validation`).

::

    pricegym validate MODEL.json [DATA] [--holdout 20%] [--paths N] [--seed S] [--json]
    pricegym validate DATA | --dataset NAME [--model FAMILY[,FAMILY...] | --model all] ...

With a model file, its family and hyper-parameters are refitted on the first
periods of the data and scored on the rest. The file does not hold the
competitor prices, promotions and calendar of its history, so the data are
needed too: DATA with the same column options as ``pricegym fit``, or nothing
when the model was fitted on a bundled data set (its source names it).

**Sold-out periods.** With ``--stock-col COL`` each simulated path's demand is capped
at the held-out period's stock (sales = min(demand, stock)) before scoring, so a
history whose sales were capped is scored sales against sales (coverage, PIT, CRPS
and revenue alike); the verdict says how many held-out periods sold out. With only
``--stockout-col`` there is no stock to cap with, and the verdict warns that the
scores read the market as too high there. (A time-series market's state is updated
with the simulated demand, as in an env.)

``--instrument NAME`` (as for ``pricegym fit``) validates each family's
instrumented twin; both of its stages are refitted on the training periods only,
so no held-out period informs the first stage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pricegym._json import jsonable
from pricegym.cli._common import (
    _add_data_arguments,
    _add_row,
    _check_family,
    _load,
    _load_families,
    _num,
    _pct,
    _positive_int,
    _stderr,
    _stdout,
)
from pricegym.errors import ConfigError, PricegymError

__all__ = ["cli_validate", "configure_validate_parser", "validation_document"]

#: Blocks of the PIT sparkline, lowest to highest bin count.
_BARS = "▁▂▃▄▅▆▇█"


def configure_validate_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pricegym validate``."""
    from pricegym.demand.validation import DEFAULT_PATHS

    parser.add_argument(
        "model_file",
        nargs="?",
        metavar="MODEL.json",
        help="a model saved by `pricegym fit --out` (its family and hyper-parameters are "
        "refitted); or omit it and give DATA / --dataset with --model",
    )
    _add_data_arguments(parser)
    group = parser.add_argument_group("validation")
    group.add_argument(
        "--model",
        metavar="FAMILY",
        help="family to validate without a model file: one, a comma list, or all (default: linear)",
    )
    group.add_argument(
        "--holdout",
        default="20%",
        metavar="SHARE|N",
        help="the last periods held out: a share (20%%) or a number of periods (default 20%%)",
    )
    group.add_argument(
        "--paths",
        type=_positive_int,
        default=DEFAULT_PATHS,
        metavar="N",
        help=f"simulated paths per held-out period (default {DEFAULT_PATHS}, at least 100)",
    )
    group.add_argument("--seed", type=int, default=0, help="seed of the simulation (default 0)")
    group.add_argument("--json", action="store_true", help="print one JSON document instead")


def _resolve(args: argparse.Namespace) -> tuple[list[tuple[str, Any]], Any]:
    """[(family, model-or-family-name)] and the history to validate on."""
    from pricegym.cli._causal import endogenous_of, instrumented_families, instruments_of
    from pricegym.demand.base import DemandModel
    from pricegym.demand.datasets import available_datasets
    from pricegym.demand.selection import DEFAULT_FAMILIES

    _load_families()
    if args.model_file is not None and not args.model_file.lower().endswith(".json"):
        if args.data is not None:
            raise ConfigError(
                f"{args.model_file!r} is not a model file (.json) and DATA {args.data!r} is "
                "given too; pass `pricegym validate MODEL.json DATA` or `pricegym validate "
                "DATA --model FAMILY`."
            )
        args.data, args.model_file = args.model_file, None
    if args.model_file is not None:
        if args.model is not None:
            raise ConfigError(
                f"--model {args.model} and the model file {args.model_file!r} both name a "
                "family; drop --model to validate the file's, or drop the file."
            )
        saved = DemandModel.load(args.model_file)
        if args.data is None and args.dataset is None:
            source = str((saved.data_summary_ or {}).get("source", ""))
            if source not in available_datasets():
                raise ConfigError(
                    f"{args.model_file!r} was fitted on {source!r}; a model file does not hold "
                    "its history's competitor prices, promotions and calendar, so validation "
                    f"needs the data: `pricegym validate {args.model_file} DATA` with the "
                    "column options you fitted with (or --dataset NAME)."
                )
            args.dataset = source
        return [(saved.family, saved)], _load(args)
    text = args.model or "linear"
    if text == "all":
        names: tuple[str, ...] = DEFAULT_FAMILIES
    else:
        names = tuple(p.strip() for p in text.split(",") if p.strip())
        if not names:
            raise ConfigError(f"--model {text!r} names no family; e.g. --model linear,poisson.")
        names = tuple(_check_family(n, allow_auto=False) for n in names)
    instruments = instruments_of(args)
    if instruments:  # each family's instrumented twin ('all': every family that has one)
        chosen = None if text == "all" else names
        twins = instrumented_families(
            "auto", chosen, instruments, endogenous_of(args), args.instrument_scale
        )[1]
        assert twins is not None  # "auto" with instruments: the families' twins
        names = twins
    return [(n, n) for n in names], _load(args)


def validation_document(
    results: list[Any], skipped: dict[str, str], history: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """What ``validate --json`` prints: settings, one result per family, skipped families."""
    return jsonable(
        {
            "source": history.source,
            "holdout": args.holdout,
            "n_paths": args.paths,
            "seed": args.seed,
            "results": [r.to_dict() for r in results],
            "skipped": skipped,
            "notes": list(history.notes),
        },
        strict=True,
    )


def cli_validate(args: argparse.Namespace) -> int:
    """``pricegym validate``: refit on the first periods, simulate the rest, score."""
    from pricegym.cli._causal import iv_params_of
    from pricegym.demand.validation import parse_holdout, validate

    holdout = parse_holdout(args.holdout)
    candidates, history = _resolve(args)
    instruments = iv_params_of(args)
    results, skipped = [], {}
    many = len(candidates) > 1
    for family, model in candidates:
        # a family name refits its IV twin with them; a file has its own
        iv_params: dict[str, Any] = instruments if isinstance(model, str) else {}
        with _stderr().status(f"Validating the {family} market on {history.source} ..."):
            try:
                results.append(
                    validate(
                        history,
                        model,
                        holdout,
                        n_paths=args.paths,
                        seed=args.seed,
                        quiet=many,
                        **iv_params,
                    )
                )
            except PricegymError as exc:
                if not many:
                    raise
                skipped[family] = str(exc)
    if not results:
        raise ConfigError(
            "no family could be validated: " + "; ".join(f"{k}: {v}" for k, v in skipped.items())
        )
    document = validation_document(results, skipped, history, args)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
        return 0
    _render(document)
    return 0


def _sparkline(counts: list[int]) -> str:
    top = max(counts) or 1
    return "".join(
        _BARS[min(len(_BARS) - 1, int(c / top * (len(_BARS) - 1) + 0.5))] for c in counts
    )


def _render(document: dict[str, Any]) -> None:
    from rich.table import Table

    console = _stdout()
    first = document["results"][0]
    table = Table(
        title=(
            f"Market validation on {document['source']}: trained on {first['n_train_periods']} "
            f"periods, {first['n_holdout_periods']} held out ({first['n_rows']} rows), "
            f"{document['n_paths']} paths, seed {document['seed']}"
        ),
        title_justify="left",
    )
    columns = ["model", "50% cover", "80% cover", "95% cover", "PIT histogram", "PIT mean"]
    columns += ["CRPS", "CRPS skill", "revenue bias", "verdict"]
    for name in columns:
        table.add_column(name, justify="left" if name in ("model", "verdict") else "right")
    for r in document["results"]:
        cover = r["coverage"]
        _add_row(
            table,
            r["family"],
            *(_pct(cover.get(k), 0) for k in ("0.5", "0.8", "0.95")),
            _sparkline(r["pit_counts"]),
            _num(r["pit_mean"], 2),
            _num(r["crps"], 4),
            _pct(r["crps_skill"], 0),
            _pct(r["revenue_bias"], 1),
            r["calibration"],
        )
    console.print(table)
    tol = first["tolerance"]
    console.print(
        "Coverage: share of held-out rows inside the market's central interval (randomised "
        f"PIT); a calibrated market is within ±{_pct(tol.get('0.5'), 0)} / "
        f"±{_pct(tol.get('0.8'), 0)} / ±{_pct(tol.get('0.95'), 0)} of 50/80/95%. PIT: 10 bins "
        "of (0, 1), flat when calibrated, ∪ too narrow, ∩ too wide, tilted biased. CRPS in "
        "units (lower is better); skill vs sampling past sales regardless of price.",
        markup=False,
    )
    for r in document["results"]:
        console.print(f"{r['family']}: {r['verdict']}", markup=False)
    for family, reason in document["skipped"].items():
        console.print(f"  - {family}: skipped: {reason}", markup=False)
    for note in document["notes"]:
        console.print(f"Note: {note}", markup=False)
