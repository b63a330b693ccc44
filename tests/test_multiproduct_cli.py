"""``pricegym fit DATA --product COL --catalogue FAMILY`` (issue 13)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pricegym.cli import main
from pricegym.demand.multiproduct_io import load_multiproduct


@pytest.fixture
def catalogue_csv(tmp_path):
    import test_multiproduct_demand as systems

    path = tmp_path / "catalogue.csv"
    systems._loglog_frame(n=120).to_csv(path, index=False)
    return path


def test_fit_catalogue_prints_the_matrix_and_saves(catalogue_csv, tmp_path, capsys):
    import test_multiproduct_demand as systems

    out = tmp_path / "cat.json"
    argv = ["fit", str(catalogue_csv), "--period", "week", "--product", "sku"]
    argv += ["--competitor", "rival", "--catalogue", "loglog", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "loglog_system fitted to" in text and "120 periods × 3 products" in text
    assert "q[a]" in text and "p[c]" in text and "Sign checks: none implausible." in text
    model = load_multiproduct(out)
    # 120 periods: SE about 0.06; 0.25 is 4 SE
    np.testing.assert_allclose(model.elasticity_.estimate, systems.E_TRUE, atol=0.25)
    assert main([*argv[:-2], "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "loglog_system" and doc["products"] == ["a", "b", "c"]
    np.testing.assert_allclose(doc["elasticity"]["estimate"], model.elasticity_.estimate)


def test_fit_catalogue_logit_and_option_errors(tmp_path, capsys):
    import test_logit_shares as shares

    path = tmp_path / "shares.csv"
    shares._catalogue(n=100).to_csv(path, index=False)
    base = ["fit", str(path), "--period", "week", "--product", "sku", "--cost", "cost"]
    assert main([*base, "--catalogue", "logit", "--market-size", "1000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "logit_shares" and doc["alpha"] > 0
    assert main([*base, "--catalogue", "logit"]) == 2
    assert "market_size=None" in capsys.readouterr().err
    assert main([*base, "--catalogue", "loglog", "--market-size", "5"]) == 2
    assert "--market-size: options of the logit" in capsys.readouterr().err
    assert main([*base, "--catalogue", "probit"]) == 2
    assert "choose one of ['linear', 'logit', 'loglog']" in capsys.readouterr().err
