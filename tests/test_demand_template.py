"""DemandModel owns the prediction paths; each family overrides small hooks.

``expected_units`` / ``library_expected_units`` are defined once in
:class:`~pricegym.demand.base.DemandModel` (price checks, context defaults, the
kernel call); a family supplies ``_library_units`` (its library's prediction) and,
when its markets start from a per-product state, ``_initial_state``. The
statsmodels-backed families take ``params_table`` / ``information`` from one mixin.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import FAMILY_PARAMS

from pricegym.demand._results import StatsmodelsResultsMixin
from pricegym.demand.base import DemandModel, model_families
from pricegym.demand.selection import make_model

FAMILIES = model_families()
#: Families whose inference is the statsmodels (or linearmodels) results object.
RESULTS_FAMILIES = ["linear", "loglinear", "poisson", "arimax"]
RESULTS_FAMILIES += ["linear_iv", "loglinear_iv", "poisson_cf", "arimax_cf"]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_predicts_through_the_base_template(name: str) -> None:
    cls = FAMILIES[name]
    assert cls.expected_units is DemandModel.expected_units
    assert cls.library_expected_units is DemandModel.library_expected_units
    assert cls._library_units is not DemandModel._library_units  # the family's own hook


@pytest.mark.parametrize("name", RESULTS_FAMILIES)
def test_statsmodels_families_share_one_results_mixin(name: str) -> None:
    cls = FAMILIES[name]
    assert issubclass(cls, StatsmodelsResultsMixin)
    assert cls.params_table is StatsmodelsResultsMixin.params_table
    assert cls.information is StatsmodelsResultsMixin.information
    assert not issubclass(FAMILIES["neural"], StatsmodelsResultsMixin)


def test_unknown_library_keyword_is_a_type_error_naming_it() -> None:
    # Checked before anything else, so an unfitted model shows it too.
    with pytest.raises(TypeError, match=r"LinearDemand.*\['lags'\].*it takes \['prices'"):
        make_model("linear").library_expected_units(1.0, lags=np.ones((1, 1)))
    assert FAMILIES["neural"]._library_options == ("lags",)


@pytest.mark.parametrize("family", list(FAMILY_PARAMS))
def test_loaded_model_reports_the_saved_table_and_criteria(fitted_models, family, tmp_path):
    model = fitted_models[family]
    loaded = DemandModel.load(model.save(tmp_path / f"{family}.json"))
    assert loaded.results_ is None
    fitted_table, loaded_table = model.params_table(), loaded.params_table()
    assert list(loaded_table.columns) == ["term", "estimate", "std_err", "ci_low", "ci_high"]
    assert loaded_table["term"].tolist() == fitted_table["term"].tolist()
    # JSON keeps every float exactly (shortest repr round trip).
    numbers = ["estimate", "std_err", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(
        loaded_table[numbers].astype(float), fitted_table[numbers].astype(float), rtol=0, atol=0
    )
    assert loaded.information() == json.loads(json.dumps(model.information()))
