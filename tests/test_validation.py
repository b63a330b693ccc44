"""Market validation on held-out history: scores against known truths, verdicts, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pricegym import cli
from pricegym.demand.synthetic import default_truth, generate_history
from pricegym.demand.validation import (
    _crps_numpy,
    crps_ensemble,
    parse_holdout,
    randomised_pit,
    split_history,
    validate,
)
from pricegym.errors import ConfigError

#: Weekly history from a constant-elasticity Poisson truth that the ``poisson`` family
#: specifies exactly (no trend, no seasonality): its market should be calibrated.
N_PERIODS = 600


def _history(noise: str = "poisson", dispersion: float | None = None, seed: int = 1):
    truth = default_truth("W", trend=0.0, seasonality=0.0, scale=20.0)
    return generate_history(
        truth, n_periods=N_PERIODS, noise=noise, dispersion=dispersion, seed=seed
    )


def test_well_specified_market_covers_its_nominal_levels():
    """300 held-out weeks of the true model family: each central interval covers its
    level within the binomial band 1.96·sqrt(p(1-p)/300) (±4.5% at 80%), the only slack
    being sampling noise of the held-out sales and the refit's estimation error."""
    result = validate(_history(), "poisson", 0.5, n_paths=400, seed=0, seasonality=0)
    assert result.n_rows == 300 and result.n_holdout_periods == 300
    for level, cover in result.coverage.items():
        assert abs(cover - level) <= result.tolerance[level], (level, cover)
    assert result.tolerance[0.8] == pytest.approx(1.96 * math.sqrt(0.16 / 300))
    assert result.calibration == "calibrated", result.verdict
    assert abs(result.revenue_bias) < 0.03  # 300 weeks of ~20 units: sd of the total ~0.4%
    assert result.crps_skill > 0.2  # prices move demand; the naive market ignores them
    assert sum(result.pit_counts) == 300


def test_too_narrow_noise_model_is_called_overconfident():
    """Over-dispersed counts (NB2 alpha 0.3: sd 2.6x Poisson's at 20 units) simulated with
    Poisson noise: the 95% intervals cover far less than 95% and the verdict says why."""
    history = _history(noise="negbin", dispersion=0.3)
    narrow = validate(history, "poisson", 0.5, n_paths=400, seed=0, seasonality=0, noise="poisson")
    assert narrow.coverage[0.95] < 0.95 - 3 * narrow.tolerance[0.95]
    assert narrow.calibration == "overconfident"
    assert "overconfident; its noise model is too narrow" in narrow.verdict
    # with its fitted (negative binomial) noise the 95% band is no longer too narrow
    fitted = validate(history, "poisson", 0.5, n_paths=400, seed=0, seasonality=0)
    assert fitted.coverage[0.95] >= 0.95 - fitted.tolerance[0.95]


def test_same_seed_same_scores():
    history = _history()
    a = validate(history, "poisson", 40, n_paths=200, seed=3, seasonality=0).to_dict(rows=True)
    b = validate(history, "poisson", 40, n_paths=200, seed=3, seasonality=0).to_dict(rows=True)
    assert json.dumps(a) == json.dumps(b)


def test_crps_matches_properscoring_and_the_point_mass_case():
    properscoring = pytest.importorskip("properscoring")
    rng = np.random.default_rng(0)
    y = rng.poisson(5.0, 50).astype(float)
    ens = rng.poisson(5.0, (50, 300)).astype(float)
    expected = properscoring.crps_ensemble(y, ens)
    np.testing.assert_allclose(_crps_numpy(y, ens), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(crps_ensemble(y, ens), expected, rtol=1e-12)
    point = np.full((50, 7), 3.0)  # a point forecast: CRPS = |y - 3|
    np.testing.assert_allclose(_crps_numpy(y, point), np.abs(y - 3.0), atol=1e-12)


def test_randomised_pit_is_uniform_for_counts():
    """Counts drawn from the ensemble's own distribution (Poisson mean 1.5, where a plain
    PIT piles up at a few values): the randomised PIT's deciles hold 10% each within
    the multinomial band 1.96·sqrt(0.09/4000) = ±0.93 points."""
    rng = np.random.default_rng(4)
    y = rng.poisson(1.5, 4000).astype(float)
    ens = rng.poisson(1.5, (4000, 2000)).astype(float)
    pit = randomised_pit(y, ens, rng)
    share = np.histogram(pit, bins=10, range=(0, 1))[0] / y.size
    assert np.all(np.abs(share - 0.1) < 1.96 * math.sqrt(0.09 / 4000) + 0.005)  # + MC of ens


@pytest.mark.parametrize("bad", ["0%", "100%", "1.5", "-3", "0", "abc", "20 %%"])
def test_bad_holdout_is_refused_with_the_rule(bad):
    with pytest.raises(ConfigError, match="share of the periods strictly between"):
        parse_holdout(bad)


def test_split_rounds_a_share_up_to_whole_periods():
    history = _history()
    train, test = split_history(history, "10%")
    assert (train.periods().size, test.periods().size) == (540, 60)
    assert train.t.max() < test.t.min()
    _, test = split_history(history, 7)
    assert test.periods().size == 7
    with pytest.raises(ConfigError, match="leaves 1 to train on"):
        split_history(history, N_PERIODS - 1)


def test_cli_validate_json_and_model_file(tmp_path, capsys):
    frame = _history().frame.drop(columns=["t"])
    data = tmp_path / "sales.csv"
    frame.to_csv(data, index=False)
    options = ["--competitor", "competitor_price", "--promotion", "promo"]
    model = tmp_path / "m.json"
    assert cli.main(["fit", str(data), *options, "--model", "poisson", "--out", str(model)]) == 0
    capsys.readouterr()
    argv = ["validate", str(model), str(data), *options, "--paths", "200", "--holdout", "30%"]
    assert cli.main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (result,) = doc["results"]
    assert result["family"] == "poisson" and result["n_holdout_periods"] == 180
    assert set(result["coverage"]) == {"0.5", "0.8", "0.95"}
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "95% intervals cover" in out and "Market validation on" in out
    # a model file alone, fitted on a user file: the data are needed, and said so
    code = cli.main(["validate", str(model)])
    assert code == 2
    assert "needs the data" in capsys.readouterr().err
