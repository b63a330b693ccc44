"""The one parameter-check module (:mod:`pricegym._validate`): intervals against a
plain comparison oracle, and the messages each family keeps through it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pricegym._validate import NON_NEGATIVE, POSITIVE, REAL, Interval, choice, integer, real
from pricegym.errors import ConfigError, ModelError

#: (closed, low included, high included)
ENDS = [
    ("both", True, True),
    ("left", True, False),
    ("right", False, True),
    ("neither", False, False),
]
POINTS = [-math.inf, -1.0, 0.0, 0.5, 1.0, 2.0, math.inf, math.nan]


@pytest.mark.parametrize(("closed", "low_in", "high_in"), ENDS)
def test_interval_membership_matches_plain_comparisons(closed, low_in, high_in):
    box = Interval(0.0, 1.0, closed)
    for x in POINTS:
        above = x >= 0.0 if low_in else x > 0.0
        below = x <= 1.0 if high_in else x < 1.0
        assert (x in box) == (math.isfinite(x) and above and below), (closed, x)


def test_rule_text_names_each_bound_as_closed_says():
    assert Interval(0.0, 1.0).rule == "finite and >= 0 and <= 1"
    assert Interval(0.0, 1.0, "right").bounds == "> 0 and <= 1"
    assert Interval(high=2.5, closed="left").rule == "finite and < 2.5"
    assert (POSITIVE.rule, NON_NEGATIVE.rule, REAL.rule) == (
        "finite and > 0",
        "finite and >= 0",
        "finite",
    )
    assert math.inf not in REAL and math.nan not in REAL and -1e300 in REAL


def test_real_converts_and_returns_a_float():
    assert real("x", "2.5", POSITIVE, message="m") == 2.5
    assert real("x", np.float32(0.5), POSITIVE, message="m") == 0.5
    assert real("x", True, POSITIVE, message="m") == 1.0  # a bool is an int, as float() says
    assert type(real("x", np.int64(3), message="m")) is float


def test_real_raises_the_callers_error_with_its_template():
    with pytest.raises(ModelError, match=r"^b=-1 must be finite and > 0; see 7\.$"):
        real(
            "b",
            -1,
            POSITIVE,
            message="{name}={value!r} must be {rule}; see {n}.",
            error=ModelError,
            n=7,
        )
    with pytest.raises(ConfigError, match=r"^x='abc' must be a number\.$"):
        real("x", "abc", message="{rule}", not_a_number="{name}={value!r} must be a number.")
    with pytest.raises(ConfigError, match=r"^x=nan: finite, >= 0$"):  # no not_a_number: message
        real("x", float("nan"), NON_NEGATIVE, message="{name}={value!r}: finite, {bounds}")
    with pytest.raises(ConfigError, match=r"^x='3' is no number$"):  # convert=False: no strings
        real("x", "3", POSITIVE, message="{name}={value!r} is no number", convert=False)


def test_integer_takes_python_and_numpy_integers_but_no_bool_or_float():
    assert integer("n", np.int32(4), 2, "fix") == 4 and type(integer("n", 3, 2, "f")) is int
    for bad in (True, 2.0, "3", 1):
        with pytest.raises(ConfigError, match=r"^n=.* must be an integer >= 2; use n=2\.$"):
            integer("n", bad, 2, "use n=2")


def test_choice_suggests_the_closest_option_or_gives_the_note():
    assert choice("mode", "fast", ("fast", "slow")) == "fast"
    with pytest.raises(
        ConfigError, match=r"use one of \['fast', 'slow'\]\. Did you mean 'fast'\?$"
    ):
        choice("mode", "fats", ("fast", "slow"))
    with pytest.raises(
        ConfigError, match=r"^mode='x' is unknown; use one of \['fast'\]\. See docs\.$"
    ):
        choice("mode", "x", ("fast",), " See docs.")


def test_the_families_keep_their_messages():
    """One case per module that now checks through here (the wording their users know)."""
    from pricegym.agents.bandits import EpsilonGreedy
    from pricegym.agents.rules import FixedPrice
    from pricegym.demand.parametric import LinearTruth

    with pytest.raises(ConfigError, match=r"^epsilon=2 must be finite, >= 0 and <= 1\.$"):
        EpsilonGreedy(epsilon=2)
    with pytest.raises(
        ConfigError, match=r"^price=0 must be finite and > 0; pass e.g\. price=1\.0\.$"
    ):
        FixedPrice(price=0)
    with pytest.raises(ModelError, match=r"^b=-1\.0 must be finite and > 0\.$"):
        LinearTruth(a=10.0, b=-1.0)


def test_docstring_example_runs():
    import doctest

    from pricegym import _validate

    assert doctest.testmod(_validate).failed == 0
