"""What every reproduction benchmark writes beside its numbers: the machine it ran
on, the command that reproduces it, and the JSON itself (written atomically).

Imported by the scripts as ``from _bench_io import ...``: a script run as
``python benchmarks/bench_x.py`` has its folder on ``sys.path``, and the tests that
load a script by its file path get it from pytest's ``pythonpath`` (pyproject).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.demand.io import atomic_write_bytes

__all__ = ["command", "machine", "write_json"]


def machine() -> dict[str, Any]:
    """CPUs, Python and numpy of this machine (the JSON's ``machine`` entry)."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}


def command(script: str) -> str:
    """The command line that reproduces this run of ``benchmarks/<script>``."""
    return " ".join(["python", f"benchmarks/{script}", *sys.argv[1:]])


def write_json(out: Path, doc: dict[str, Any]) -> None:
    """``doc`` as indented UTF-8 JSON at ``out``, all or nothing (no half-written file)."""
    atomic_write_bytes(out, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
