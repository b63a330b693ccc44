"""Exceptions and warnings raised for user input.

Every error a user can cause by what they pass in (a file, a column, a
hyper-parameter, a model file) is one of these classes, and its message gives
three things: the offending value, the rule it breaks, and how to fix it. The CLI
turns any :class:`PricegymError` into exit code 2 and a one-paragraph message.
"""

from __future__ import annotations

__all__ = [
    "CensoringWarning",
    "ConfigError",
    "DataValidationError",
    "DecisionWarning",
    "ExtrapolationWarning",
    "ModelError",
    "ModelFileError",
    "NotFittedError",
    "PanelWarning",
    "PricegymError",
    "PricegymWarning",
]


class PricegymError(ValueError):
    """Base class of every error caused by user input.

    Subclasses :class:`ValueError` so that code written against the standard
    library's conventions still catches it.
    """


class DataValidationError(PricegymError):
    """A sales history breaks a validation rule (the message names file, rows, column, rule)."""


class ModelError(PricegymError):
    """A demand model cannot be fitted or used as asked (e.g. price does not enter it)."""


class NotFittedError(ModelError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(PricegymError):
    """A saved model file is missing, malformed, of an unknown version, or unsafe to load."""


class ConfigError(PricegymError):
    """A configuration value is out of its allowed range or inconsistent with another."""


class PricegymWarning(UserWarning):
    """Base class of pricegym's warnings: legal but suspicious settings."""


class ExtrapolationWarning(PricegymWarning):
    """A fitted model was asked for demand at prices outside the range seen in its data."""


class DecisionWarning(PricegymWarning):
    """The answer cannot support a pricing decision: the profit-maximising price sits at the
    edge of the prices tried, or no finite optimum exists (see
    :func:`pricegym.demand.optimum.optimum_check`)."""


class CensoringWarning(PricegymWarning):
    """A history has sold-out (censored) periods, but the model treats their sales as
    demand, so demand is underestimated (see :mod:`pricegym.demand.censored`)."""


class PanelWarning(PricegymWarning):
    """A market was built from a model fitted on several products; it simulates the first."""
