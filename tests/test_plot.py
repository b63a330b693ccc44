"""Demand-model figures: ``pricegym demand plot`` and :mod:`pricegym.demand.plot`."""

from __future__ import annotations

import os
import stat
import struct
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from pricegym import cli
from pricegym.demand.base import DemandModel
from pricegym.demand.datasets import load_dataset
from pricegym.demand.plot import (
    FIGURE_DPI,
    PANEL_SIZE,
    demand_band,
    has_time_panel,
    plot_demand,
    plot_model,
    save_figure,
)
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import generate_history
from pricegym.errors import ConfigError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from a PNG file's IHDR chunk, after checking the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def fit(family: str, history, **params) -> DemandModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_model(family, **params).fit(history)


@pytest.fixture(scope="module")
def article_model() -> DemandModel:
    """The 8-week example: too short for a backtest, so a one-panel figure."""
    return fit("linear", load_dataset("article"))


@pytest.fixture(scope="module")
def short_weekly():
    return generate_history(n_periods=80, seed=5)


@pytest.fixture(scope="module")
def arimax_model(short_weekly) -> DemandModel:
    return fit("arimax", short_weekly, order=(1, 0, 0))


def test_cli_writes_a_png_of_the_expected_size(capsys, tmp_path, article_model):
    model_path = article_model.save(tmp_path / "article.json")
    figure = tmp_path / "figs" / "demand.png"
    code = cli.main(["demand", "plot", str(model_path), "--out", str(figure)])
    out, err = capsys.readouterr()
    assert code == 0, err
    width, height = png_size(figure)
    assert (width, height) == (PANEL_SIZE[0] * FIGURE_DPI, PANEL_SIZE[1] * FIGURE_DPI)
    assert f"{width} x {height} px" in out
    assert sorted(p.name for p in figure.parent.iterdir()) == ["demand.png"]  # no temp file left


def test_cli_dpi_and_default_output_name(capsys, tmp_path, article_model):
    model_path = article_model.save(tmp_path / "article.json")
    assert cli.main(["demand", "plot", str(model_path), "--dpi", "50"]) == 0
    assert png_size(tmp_path / "article.png") == (400, 250)


def test_cli_arimax_figure_has_two_panels(capsys, tmp_path, arimax_model):
    model_path = arimax_model.save(tmp_path / "arimax.json")
    figure = tmp_path / "arimax.png"
    assert cli.main(["demand", "plot", str(model_path), "--out", str(figure)]) == 0
    assert png_size(figure) == (800, 1000)
    loaded = DemandModel.load(model_path)
    assert has_time_panel(loaded)
    assert len(plot_model(loaded).axes) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demand", "plot", "missing.json"], "does not exist"),
        (["demand", "plot", "model.json", "--out", "fig.gif"], "'.gif' is not one of"),
    ],
)
def test_cli_plot_errors_exit_2(capsys, argv, message):
    code = cli.main(argv)
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_band_contains_the_curve_over_the_extended_support(article_model, arimax_model):
    for model in (article_model, arimax_model):
        band = demand_band(model)
        lo, hi = model.support_
        assert band.kind == "coefficients"
        assert band.prices[0] == pytest.approx(0.9 * lo)
        assert band.prices[-1] == pytest.approx(1.1 * hi)
        assert lo in band.prices and hi in band.prices
        assert np.all(np.diff(band.prices) > 0)
        tol = 1e-9 * np.maximum(1.0, np.abs(band.expected))
        assert np.all(band.low <= band.expected + tol)
        assert np.all(band.expected <= band.high + tol)
        assert np.array_equal(band.in_support, (band.prices >= lo) & (band.prices <= hi))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert np.allclose(band.expected, model.expected_units(band.prices))


def test_coefficient_band_has_width_where_the_coefficients_are_uncertain(arimax_model):
    band = demand_band(arimax_model, level=0.9)
    assert np.all(band.high - band.low > 0)
    wider = demand_band(arimax_model, level=0.99)
    assert np.all(wider.high - wider.low >= band.high - band.low - 1e-12)
    assert "90% CI" in band.label


def test_noise_band_for_a_model_without_coefficient_covariance(short_weekly):
    model = fit("neural", short_weekly, hidden=(4,), n_bootstrap=0, max_iter=30)
    assert getattr(model, "coef_cov_", None) is None
    band = demand_band(model)
    assert band.kind == "noise"
    sd = np.sqrt(model.noise_.variance(band.expected))
    assert np.allclose(band.high, band.expected + 2 * sd)
    assert np.allclose(band.low, np.maximum(band.expected - 2 * sd, 0))
    assert "s.d. of sampled units" in band.label


def test_curve_is_drawn_over_the_support_and_dashed_outside(article_model):
    fig = plot_demand(article_model)
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    curve = next(line for label, line in lines.items() if "fit: expected units" in label)
    x = np.asarray(curve.get_xdata())
    assert (x.min(), x.max()) == article_model.support_
    assert curve.get_linestyle() == "-"
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    assert min(np.min(d.get_xdata()) for d in dashed) == pytest.approx(0.9 * 840)
    assert max(np.max(d.get_xdata()) for d in dashed) == pytest.approx(1.1 * 1000)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("CI of expected units" in t for t in legend)
    points = ax.collections[0].get_offsets()
    assert len(points) == 8


def test_one_panel_without_backtest_two_with(article_model, short_weekly):
    assert not has_time_panel(article_model)
    assert len(plot_model(article_model).axes) == 1
    model = fit("linear", short_weekly)
    model.backtest(n_splits=3)
    assert has_time_panel(model)
    fig = plot_model(model)
    assert len(fig.axes) == 2
    assert tuple(fig.get_size_inches()) == (PANEL_SIZE[0], 2 * PANEL_SIZE[1])


def test_save_figure_is_atomic_and_checks_the_suffix(tmp_path, article_model):
    fig = plot_model(article_model)
    with pytest.raises(ConfigError, match="suffix"):
        save_figure(fig, tmp_path / "fig.jpeg")
    target = save_figure(fig, tmp_path / "fig.svg")
    assert target.read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.svg"]
    # a plain open()'s permissions (0666 minus the umask), not the temporary file's 0600
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_band_arguments_are_checked(article_model):
    with pytest.raises(ConfigError, match="extend"):
        demand_band(article_model, extend=1.5)
    with pytest.raises(ConfigError, match="level"):
        demand_band(article_model, level=1.0)
