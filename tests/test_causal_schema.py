"""``market.model.instruments`` in experiment files (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pricegym.demand.synthetic import generate_confounded_history
from pricegym.errors import ConfigError
from pricegym.experiments.schema import parse_market


def _csv(tmp_path: Path) -> Path:
    history = generate_confounded_history(n_periods=500, seed=3)
    path = tmp_path / "sales.csv"
    history.frame.drop(columns=["t"]).rename(columns={"cost": "unit_cost"}).to_csv(
        path, index=False
    )
    return path


def test_model_instruments_fit_the_iv_twin_and_load_the_columns(tmp_path):
    pytest.importorskip("linearmodels")
    from pricegym.experiments.evaluate import fit_model

    path = _csv(tmp_path)
    spec = parse_market(
        {
            "data": {"path": str(path)},
            "model": [
                {"family": "loglinear", "instruments": ["unit_cost"]},
                {"family": "loglinear", "name": "ordinary"},
            ],
        }
    )
    iv, ordinary = spec.models
    assert (iv.family, iv.name, iv.params) == (
        "loglinear_iv",
        "loglinear_iv",
        {"instruments": ["unit_cost"]},
    )
    assert ordinary.family == "loglinear" and ordinary.params == {}
    assert spec.data.load["instruments"] == ["unit_cost"]
    fitted = fit_model(iv, spec.data)
    # 500 rows, F ≈ 80: the IV interval covers the true -2 (as tests/test_causal.py)
    e = fitted.elasticity()
    assert e.ci_low <= -2.0 <= e.ci_high
    assert fitted.causal_["instruments"] == ["unit_cost"]
    # the resolved config re-parses to the same market (the load keys now list the column)
    again = parse_market({"data": spec.data.to_dict(), "model": [m.to_dict() for m in spec.models]})
    assert again.models == spec.models and again.data.load == spec.data.load


def test_instrument_cost_maps_a_cost_column(tmp_path):
    path = _csv(tmp_path)
    spec = parse_market(
        {
            "data": {"path": str(path), "cost": "unit_cost"},
            "model": {"family": "linear", "instruments": "cost"},
        }
    )
    assert spec.models[0].family == "linear_iv"
    assert spec.models[0].params == {"instruments": ["cost"]}
    assert "instruments" not in spec.data.load and spec.data.load["cost"] == "unit_cost"


@pytest.mark.parametrize(
    ("model", "data", "needle"),
    [
        ({"family": "tobit", "instruments": ["cost"]}, None, "no instrumental-variable"),
        ({"family": "loglinear", "instruments": []}, None, "non-empty list"),
        ({"family": "loglinear", "instruments": [3]}, None, "non-empty list"),
        (
            {"family": "loglinear", "instruments": ["cost"], "params": {"instruments": ["x"]}},
            None,
            "given twice",
        ),
        ({"family": "loglinear", "instruments": ["wave2"]}, {"dataset": "article"}, "bundled"),
    ],
)
def test_bad_model_instruments_name_the_key_and_the_fix(tmp_path, model, data, needle):
    data = data or {"path": str(_csv(tmp_path))}
    with pytest.raises(ConfigError, match="instruments") as info:
        parse_market({"data": data, "model": model})
    assert needle in str(info.value) and "Fix" in str(info.value)
