"""``pricegym fit DATA --product COL --catalogue FAMILY``: fit a multi-product demand system.

The command-line end of :mod:`pricegym.demand.multiproduct` and
:mod:`pricegym.demand.logit_shares`: the panel is loaded by ``fit``'s own column
options (``--product`` is the product key), then :func:`run_fit_catalogue` fits
the family, prints the K×K elasticity matrix with its intervals and the sign
checks, and with ``--out`` saves the model (:mod:`pricegym.demand.multiproduct_io`).
``--json`` prints one JSON document instead.

Families: ``loglog`` (:class:`~pricegym.demand.multiproduct.LogLogSystem`),
``linear`` (:class:`~pricegym.demand.multiproduct.LinearSystem`), ``logit``
(:class:`~pricegym.demand.logit_shares.LogitShares`; needs ``--market-size``,
takes ``--nest PRODUCT=NEST`` and ``--instrument NAME``, e.g. ``cost`` with
``--cost COL``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError

if TYPE_CHECKING:
    from pricegym.demand.data import SalesHistory

__all__ = ["CATALOGUE_FAMILIES", "add_catalogue_arguments", "fit_catalogue", "run_fit_catalogue"]

#: ``--catalogue`` name → family
CATALOGUE_FAMILIES = {
    "loglog": "loglog_system",
    "linear": "linear_system",
    "logit": "logit_shares",
}


def add_catalogue_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``fit`` for a catalogue (one argument group)."""
    group = parser.add_argument_group(
        "multi-product catalogue (a panel with --product COL: each product's units on all prices)"
    )
    group.add_argument(
        "--catalogue",
        metavar="FAMILY",
        help="fit a demand system over the panel's products: loglog, linear, or logit "
        "(from market shares; needs --market-size)",
    )
    group.add_argument(
        "--products", metavar="LIST", help="comma-separated product keys (default: all)"
    )
    group.add_argument(
        "--market-size", type=float, metavar="M", help="logit: potential buyers per period"
    )
    group.add_argument(
        "--nest",
        metavar="PRODUCT=NEST",
        action="append",
        help="logit: a product's nest (repeatable; all products, for the nested logit)",
    )
    if "--instrument" not in parser._option_string_actions:  # fit may map instruments itself
        group.add_argument(
            "--instrument",
            metavar="NAME",
            action="append",
            help="logit: an instrument of the price, e.g. cost (with --cost COL) (repeatable)",
        )
    group.add_argument(
        "--complements",
        metavar="A,B",
        action="append",
        help="a pair expected to be complements: no warning for its negative cross elasticity",
    )


def _pairs(values: list[str] | None, sep: str, what: str, example: str) -> list[tuple[str, str]]:
    out = []
    for value in values or ():
        parts = [p.strip() for p in value.split(sep)]
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                f"{what} {value!r}: write two names separated by {sep!r}, e.g. {example}."
            )
        out.append((parts[0], parts[1]))
    return out


def fit_catalogue(args: argparse.Namespace, history: SalesHistory) -> Any:
    """The fitted family that ``--catalogue`` and its options describe.

    Raises:
        ConfigError: an unknown family, or logit-only options with another family.
    """
    from pricegym.demand.multiproduct_io import multiproduct_families

    name = str(args.catalogue)
    if name not in CATALOGUE_FAMILIES:
        raise ConfigError(
            f"--catalogue {name!r} is not a multi-product family; choose one of "
            f"{sorted(CATALOGUE_FAMILIES)}."
        )
    products = [p.strip() for p in args.products.split(",")] if args.products else None
    complements = _pairs(args.complements, ",", "--complements", "--complements razor,blades")
    kwargs: dict[str, Any] = {"products": products, "complements": complements}
    logit_only = {
        "--market-size": args.market_size,
        "--nest": args.nest,
        "--instrument": getattr(args, "instrument", None),
    }
    if name == "logit":
        nests = dict(_pairs(args.nest, "=", "--nest", "--nest cola=soda")) or None
        kwargs |= {"market_size": args.market_size, "nests": nests}
        kwargs["instruments"] = tuple(getattr(args, "instrument", None) or ())
    else:
        used = [opt for opt, value in logit_only.items() if value]
        if used:
            raise ConfigError(
                f"{', '.join(used)}: options of the logit from shares; with --catalogue "
                f"{name} drop them, or use --catalogue logit."
            )
    if getattr(args, "trend", None):
        kwargs["trend"] = True
    cls = multiproduct_families()[CATALOGUE_FAMILIES[name]]
    return cls(**kwargs).fit(history)


def _matrix_lines(em: Any) -> list[str]:
    width = max(10, *(len(p) + 2 for p in em.products))
    head = " " * width + "".join(f"{'p[' + p + ']':>24}" for p in em.products)
    lines = [head]
    for j, name in enumerate(em.products):
        cells = "".join(
            f"{em.estimate[j, k]:>8.3f} [{em.ci_low[j, k]:6.2f},{em.ci_high[j, k]:6.2f}]"
            for k in range(len(em.products))
        )
        lines.append(f"{'q[' + name + ']':<{width}}{cells}")
    return lines


def run_fit_catalogue(args: argparse.Namespace, history: SalesHistory) -> int:
    """Fit, print (or ``--json``) and optionally save; returns the exit code 0."""
    import numpy as np

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit_catalogue(args, history)
    texts = list(
        dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning))
    )
    em = model.elasticity_
    doc: dict[str, Any] = {
        "model": model.family,
        "source": history.source,
        "products": list(model.product_names),
        "n_periods": int(model.catalogue_.n_periods),
        "elasticity": em.to_dict(),
        "sign_checks": list(model.sign_checks_),
        "warnings": texts,
    }
    if model.family == "logit_shares":
        doc |= {"alpha": model.alpha_, "sigma": model.sigma_, "first_stage": model.first_stage_}
    if args.out is not None:
        doc["saved"] = str(model.save(args.out))
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False) + "\n")
        return 0
    out = [
        f"{model.family} fitted to {history.source}: {doc['n_periods']} periods × "
        f"{len(doc['products'])} products.",
        f"Elasticity matrix d log q[row] / d log p[column] at the mean prices "
        f"{np.round(em.prices, 4).tolist()}, {em.level:.0%} intervals ({em.method}):",
        *_matrix_lines(em),
    ]
    if model.family == "logit_shares":
        out.append(f"alpha = {model.alpha_:.4g}, sigma = {model.sigma_:.4g}")
    out.append("Sign checks: " + ("none implausible." if not model.sign_checks_ else ""))
    out += [f"  - {t}" for t in model.sign_checks_]
    other = [t for t in texts if t not in model.sign_checks_]
    if other:
        out.append("Warnings:")
        out += [f"  - {t}" for t in other]
    if "saved" in doc:
        out.append(f"Saved: {doc['saved']}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0
