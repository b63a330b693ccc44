"""``params_table`` / ``information`` read from the fitting library's results object.

The statsmodels-backed families (the regressions, ARIMAX, their instrumented twins)
keep the library's results object in ``results_`` and report its inference as it
gives it (standard errors, confidence intervals, AIC), as STYLE.md asks. What they
share lives here once: a loaded model (``results_`` is ``None``: results objects are
not saved, that would need pickle) returns the table and criteria saved with it; a
model fitted in this process asks the results object through two hooks a family
overrides when its library or its parameters differ:

- :meth:`StatsmodelsResultsMixin._params_from` — the coefficient table;
- :meth:`StatsmodelsResultsMixin._information_from` — the information criteria.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand.features import FeatureSpec

__all__ = ["StatsmodelsResultsMixin"]


class StatsmodelsResultsMixin:
    """Inference of a statsmodels results object in ``results_``; mixed in before
    :class:`~pricegym.demand.base.DemandModel`."""

    results_: Any
    spec_: FeatureSpec
    _saved_params_table: pd.DataFrame
    _saved_information: dict[str, Any]

    def params_table(self) -> pd.DataFrame:
        """Coefficients with standard errors and 95% CIs from the results object
        (columns ``term``, ``estimate``, ``std_err``, ``ci_low``, ``ci_high``); the
        saved table on a loaded model."""
        res = getattr(self, "results_", None)
        if res is None:
            return self._saved_params_table
        return self._params_from(res)

    def information(self) -> dict[str, float]:
        """AIC, BIC and log-likelihood from the results object; the saved ones on a
        loaded model."""
        res = getattr(self, "results_", None)
        if res is None:
            return dict(self._saved_information)
        return self._information_from(res)

    # ---------------------------------------------------------------- hooks
    def _param_terms(self, res: Any) -> list[str]:
        """Names of the rows of :meth:`params_table`: the regression terms."""
        return self.spec_.names

    def _params_from(self, res: Any) -> pd.DataFrame:
        """statsmodels' ``params``, ``bse`` and ``conf_int(alpha=0.05)``, one row each."""
        ci = np.asarray(res.conf_int(alpha=0.05), dtype=np.float64)
        return pd.DataFrame(
            {
                "term": self._param_terms(res),
                "estimate": np.asarray(res.params, dtype=np.float64),
                "std_err": np.asarray(res.bse, dtype=np.float64),
                "ci_low": ci[:, 0],
                "ci_high": ci[:, 1],
            }
        )

    def _information_from(self, res: Any) -> dict[str, float]:
        """statsmodels' ``aic``, ``bic`` and ``llf``."""
        return {"aic": float(res.aic), "bic": float(res.bic), "llf": float(res.llf)}
