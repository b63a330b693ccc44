"""No leakage: the IV families' first stage is refitted inside every backtest fold and
on the training periods of a held-out validation (issue 12).

The check poisons the instrument in the last periods only (random numbers instead of
the cost; the last fold's test periods, which no fold trains on, and inside the
validation's holdout): the structural equation predicts from prices, not instruments, so a fit that
never sees those periods gives the *same* numbers, while a fit on all rows changes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pricegym.demand.data import load_history
from pricegym.demand.synthetic import generate_confounded_history

pytest.importorskip("linearmodels")

N, LAST = 300, 30  # the last backtest fold's 30 periods (5 folds x 300 // 10); 20% holdout: 60


def _histories():
    frame = generate_confounded_history(n_periods=N, seed=5).frame.drop(columns=["t"])
    poisoned = frame.copy()
    noise = np.random.default_rng(9).uniform(1.0, 20.0, LAST)
    poisoned.loc[poisoned.index[-LAST:], "cost"] = noise
    load = {"date": "date", "cost": "cost"}
    return load_history(frame, **load), load_history(poisoned, **load)


# linear_iv shares the 2SLS code path of loglinear_iv (kept out to stay fast)
@pytest.mark.parametrize("family", ["loglinear_iv", "poisson_cf"])
def test_backtest_folds_never_see_the_held_out_instruments(family):
    from pricegym.demand.selection import make_model

    clean, poisoned = _histories()
    params = {"instruments": ["cost"]} | ({"n_boot": 0} if family == "poisson_cf" else {})
    a = make_model(family, **params).fit(clean)
    b = make_model(family, **params).fit(poisoned)
    # the poison matters for a fit that sees it (sanity: the test can fail) ...
    assert abs(a.elasticity_.estimate - b.elasticity_.estimate) > 1e-3
    # ... and leaves every fold unchanged: no fold trains on the last fold's periods
    bt_a, bt_b = a.backtest(n_splits=5), b.backtest(n_splits=5)
    assert bt_a.test_size == LAST
    # same rows through the same code on one machine: equal to rounding
    np.testing.assert_allclose(
        bt_a.predictions["predicted"], bt_b.predictions["predicted"], rtol=1e-10
    )


def test_validate_refits_the_first_stage_on_the_training_periods(tmp_path, capsys):
    from pricegym import cli

    clean, poisoned = _histories()
    docs = []
    for name, history in (("clean", clean), ("poisoned", poisoned)):
        path = tmp_path / f"{name}.csv"
        history.frame.drop(columns=["t"]).to_csv(path, index=False)
        argv = ["validate", str(path), "--cost", "cost", "--instrument", "cost"]
        code = cli.main([*argv, "--model", "loglinear", "--paths", "100", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        docs.append(json.loads(out))
    a, b = (d["results"][0] for d in docs)
    assert a["family"] == "loglinear_iv"  # the twin of --model loglinear
    a.pop("source"), b.pop("source")
    assert a == b  # 20% = 60 held-out periods, the last 30 poisoned: the same, seeded result
