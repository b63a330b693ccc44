"""Noise models: sampled units have the stated mean and variance; fits recover them."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.demand.noise import NoiseModel
from pricegym.errors import ModelError

# 200,000 draws: the standard error of the sample mean is sd/447, so 1% tolerances
# on means of ~20 with sd <= 8 are > 5 standard errors wide.
N = 200_000


@pytest.mark.parametrize(
    "noise",
    [NoiseModel("poisson"), NoiseModel("negbin", alpha=0.1), NoiseModel("lognormal", sigma=0.2)],
)
def test_sample_mean_and_variance(noise):
    mu = np.full(N, 20.0)
    x = noise.sample(np.random.default_rng(0), mu)
    assert x.shape == (N,)
    assert x.min() >= 0
    assert x.mean() == pytest.approx(20.0, rel=0.01)
    assert x.var() == pytest.approx(float(noise.variance(np.array([20.0]))[0]), rel=0.03)


def test_same_rng_seed_same_draws():
    noise = NoiseModel("negbin", alpha=0.2)
    mu = np.linspace(1, 50, 100)
    a = noise.sample(np.random.default_rng(3), mu)
    b = noise.sample(np.random.default_rng(3), mu)
    np.testing.assert_array_equal(a, b)


def test_fit_recovers_dispersion():
    rng = np.random.default_rng(1)
    mu = rng.uniform(5, 50, N)
    y = NoiseModel("negbin", alpha=0.15).sample(rng, mu)
    fitted = NoiseModel.fit("negbin", y, mu)
    assert fitted.alpha == pytest.approx(0.15, rel=0.05)
    assert NoiseModel.fit("auto", y, mu).kind == "negbin"
    y_pois = NoiseModel("poisson").sample(rng, mu)
    assert NoiseModel.fit("auto", y_pois, mu).kind == "poisson"
    y_ln = NoiseModel("lognormal", sigma=0.3).sample(rng, mu)
    fitted_ln = NoiseModel.fit("auto", y_ln, mu)
    assert fitted_ln.kind == "lognormal"
    assert fitted_ln.sigma == pytest.approx(0.3, rel=0.03)


def test_bad_noise_settings_raise():
    with pytest.raises(ModelError, match="unknown"):
        NoiseModel("gaussian")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="alpha=-1"):
        NoiseModel("negbin", alpha=-1)
    assert NoiseModel.from_dict(NoiseModel("negbin", alpha=0.3).to_dict()) == NoiseModel(
        "negbin", alpha=0.3
    )
