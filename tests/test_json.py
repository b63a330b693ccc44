"""The one JSON helper (:func:`pricegym._json.jsonable`): what every writer relies on."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pricegym._json import jsonable

VALUE = {
    "tuple": (1, np.float64(0.25), np.int64(3)),
    7: np.arange(4, dtype=np.int32).reshape(2, 2),
    "flags": [np.bool_(True), False],
    "scalar": np.array(2.5),
    "set": {5},
    "nested": {"nan": float("nan"), "inf": np.float32("inf"), "na": pd.NA, "nat": pd.NaT},
}


def test_strict_output_is_strict_json_with_plain_python_types():
    out = jsonable(VALUE, strict=True)
    text = json.dumps(out, allow_nan=False)  # raises on NaN/inf or numpy values
    assert json.loads(text) == {
        "tuple": [1, 0.25, 3],
        "7": [[0, 1], [2, 3]],
        "flags": [True, False],
        "scalar": 2.5,
        "set": [5],
        "nested": {"nan": None, "inf": None, "na": None, "nat": None},
    }
    assert type(out["tuple"][1]) is float and type(out["tuple"][2]) is int
    assert type(out["flags"][0]) is bool


def test_lenient_output_keeps_non_finite_floats():
    out = jsonable({"x": np.float64("nan"), "y": (np.float64("-inf"),)})
    assert math.isnan(out["x"]) and out["y"] == [-math.inf]
    assert type(out["x"]) is float


def test_unknown_objects_pass_through_or_take_the_fallback():
    class Thing:
        def __str__(self) -> str:
            return "thing"

    thing = Thing()
    assert jsonable([thing])[0] is thing
    assert jsonable({"a": [thing]}, fallback=str) == {"a": ["thing"]}
    with pytest.raises(TypeError):
        json.dumps(jsonable(thing))
