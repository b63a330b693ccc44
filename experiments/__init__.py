"""Experiment configs, runner, tournaments and reports.

Specified in issue 5 of the project tracker; this package is the place they
live. It deliberately exports nothing yet.
"""

__all__: list[str] = []
