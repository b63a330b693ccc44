"""How a model comparison scores backtest forecasts of periods that sold out.

A sold-out period's units are a lower bound of its demand, so the usual backtest
error (forecast demand − recorded units) calls a model that forecasts the true
demand there an over-forecaster, and ranks the censored families
(:mod:`pricegym.demand.censored`) below models that learnt the capped sales. When
the history has censored periods, :func:`~pricegym.demand.selection.compare_models`
scores every family's backtest forecasts with one of two rules instead, the same
for every family:

- **a stock column is mapped**: each forecast becomes the *sales* it implies under
  that period's stock, ``E[min(demand, stock)]`` (closed forms in
  :func:`~pricegym.demand._stockout.expected_sales`, with the family's fitted noise
  model), and is compared with the recorded sales of every period: sales against
  sales, which the true demand model forecasts without bias;
- **only a sold-out flag**: the stock of a sold-out period is its sales, the stock
  of the others unknown, so a sold-out period counts as an error only by how far
  the forecast falls *below* its sales (``min(forecast − sales, 0)``: demand was at
  least the sales), every other period as usual.

The noise model that turns demand into expected sales is the one each family
fitted on the whole history (a fold's refit does not keep it): its dispersion is
the only thing the folds did not re-estimate. :func:`scoring_note` says the rule in
the comparison's notes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand._stockout import censoring_text, expected_sales

__all__ = ["censored_metrics", "has_censoring", "scoring_note"]


def has_censoring(history: Any) -> bool:
    """Whether ``history`` maps stock columns and some period sold out."""
    return bool(getattr(history, "has_stock", False)) and bool(history.censored.any())


def _keyed(history: Any) -> pd.DataFrame:
    """The history's ``t``, ``product``, ``censored`` and (if mapped) ``stock``, one row each."""
    frame = pd.DataFrame(
        {
            "t": history.t,
            "product": history.frame["product"].to_numpy() if "product" in history.frame else "all",
            "censored": history.censored,
        }
    )
    if "stock" in history.frame:
        frame["stock"] = history.column("stock")
    return frame


def censored_metrics(model: Any, history: Any, predictions: pd.DataFrame) -> dict[str, float]:
    """``mae``, ``rmse``, ``wape``, ``bias`` and ``n`` of backtest ``predictions`` of
    ``history`` under the module's rule (the stock rule when a ``stock`` column is
    mapped, else the lower-bound rule)."""
    rows = predictions.merge(_keyed(history), on=["t", "product"], how="left", validate="m:1")
    y = rows["actual"].to_numpy(dtype=np.float64)
    f = rows["predicted"].to_numpy(dtype=np.float64)
    if "stock" in rows:
        err = expected_sales(model.noise_, f, rows["stock"].to_numpy(dtype=np.float64)) - y
    else:
        err = f - y
        censored = rows["censored"].to_numpy(dtype=bool)
        err[censored] = np.minimum(err[censored], 0.0)
    total = float(np.sum(np.abs(y)))
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "wape": float(np.sum(np.abs(err)) / total) if total > 0 else float("nan"),
        "bias": float(np.mean(err)),
        "n": int(y.size),
    }


def scoring_note(history: Any) -> str:
    """The comparison's note saying how the sold-out periods were scored."""
    text = censoring_text(history)
    if "stock" in history.frame:
        rule = (
            "every family's backtest forecast of a period is scored as the sales it implies "
            "under that period's stock, E[min(demand, stock)] with the family's fitted noise "
            "model, against the recorded sales (sales against sales), so a family is not "
            "called an over-forecaster for seeing demand beyond the stock"
        )
    else:
        rule = (
            "only a sold-out flag is mapped, so a sold-out period counts as a backtest error "
            "only by how far the forecast falls below its sales (demand was at least the "
            "sales); a forecast above them is not an error there. Map the stock on hand "
            "(--stock-col) to score forecasts as expected sales under the stock"
        )
    return (
        f"{text}: WAPE, MAE and bias of the ranking are censoring-aware: {rule}. The "
        "censored families (censored_poisson, censored_negbin, tobit) are compared too; "
        "in-sample WAPE is the plain one."
    )
