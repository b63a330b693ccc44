"""``python -m pricegym``: the same program as the ``pricegym`` command."""

from __future__ import annotations

import sys

from pricegym.cli import main

if __name__ == "__main__":
    sys.exit(main())
