"""The registration modules import cleanly in a fresh process, in any import order.

pricegym/__init__.py registers the ids from an import hook that runs right after
gymnasium finishes importing; a registration module that imported gymnasium at module
level ran that hook while it was half-loaded (a circular ImportError). Each probe runs
in its own interpreter, so what this test process imported does not hide the order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

_MAKE = textwrap.dedent(
    """
    import json, sys
    import gymnasium as gym
    env = gym.make({single!r})
    obs, _ = env.reset(seed=0)
    cat = gym.make("pricegym/LogitCatalogue-v0")
    cat_obs, _ = cat.reset(seed=0)
    ids = sorted(k for k in gym.registry if k.startswith("pricegym/"))
    print(json.dumps({{"obs": list(map(float, obs)), "n_cat": len(cat_obs), "ids": ids,
                      "env": type(env.unwrapped).__name__}}))
    """
)

# what runs before the probe above: (name, prelude, id given to gym.make)
_ORDERS = [
    ("registration first", "import pricegym.registration", "pricegym/Monopoly-v0"),
    (
        "catalogue registration first",
        "import pricegym.envs.multiproduct_registration",
        "pricegym/Monopoly-v0",
    ),
    (
        "register_envs before gymnasium",
        "import pricegym.registration as r; assert r.register_envs() == []",
        "pricegym/Monopoly-v0",
    ),
    ("gymnasium, then pricegym", "import gymnasium, pricegym", "pricegym/Monopoly-v0"),
    ("gymnasium's module:id", "import gymnasium", "pricegym:pricegym/Monopoly-v0"),
]


def _probe(prelude: str, single: str) -> dict:
    code = prelude + "\n" + _MAKE.format(single=single)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reference() -> dict:
    return _probe("import pricegym", "pricegym/Monopoly-v0")


@pytest.mark.parametrize(
    ("prelude", "single"), [o[1:] for o in _ORDERS], ids=[o[0] for o in _ORDERS]
)
def test_every_import_order_registers_every_id(prelude, single, reference):
    got = _probe(prelude, single)
    assert got["env"] == "PricingEnv"
    assert got["ids"] == reference["ids"]
    assert len(got["ids"]) == 7  # 4 single-seller ids + 3 catalogue ids
    assert got["obs"] == reference["obs"]  # same seed, same market: the same first state
    assert got["n_cat"] == reference["n_cat"]


def test_registration_modules_do_not_import_gymnasium():
    """Importing them alone leaves gymnasium (and so the hook) for later."""
    code = (
        "import sys, pricegym.registration, pricegym.envs.multiproduct_registration; "
        "assert 'gymnasium' not in sys.modules, 'gymnasium imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
