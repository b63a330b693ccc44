"""pricegym.runtime: loading policy cards, validating observations, the `price` CLI.

The import test runs in a subprocess, so that what this test process imported
(torch, gymnasium, ...) does not hide what the runtime itself imports.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("onnx", reason="the [onnx] extra")
pytest.importorskip("onnxruntime", reason="the [onnx] extra")

import pricegym  # noqa: F401  (registers the ids)
from pricegym.agents.sb3 import SB3Agent
from pricegym.cli.price import cli_price, configure_price_parser
from pricegym.errors import DataValidationError, PricegymError
from pricegym.experiments.export import export_policy
from pricegym.runtime import (
    ObservationError,
    PolicyFileError,
    load_policy,
)

MARKET = "pricegym/Markdown-v0"
NAMES = ["time_remaining", "inventory_fraction", "own_last_price", "last_sales"]
OBS = {"time_remaining": 0.5, "inventory_fraction": 0.3, "own_last_price": 0.6, "last_sales": 0.2}


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory):
    hp = {"n_envs": 4, "eval_freq": 0, "checkpoint_freq": 0, "n_steps": 16, "batch_size": 32}
    agent = SB3Agent("ppo", hyperparams={**hp, "n_epochs": 2}, seed=0)
    agent.train(gym.make(MARKET), total_timesteps=128)
    out = tmp_path_factory.mktemp("ppo")
    export_policy(agent, out, market=MARKET)
    return out


@pytest.fixture(scope="module")
def policy(policy_dir):
    return load_policy(policy_dir)


def test_card_spec(policy):
    assert list(policy.feature_names) == NAMES
    np.testing.assert_array_equal(policy.low, [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(policy.high, [1.0, 1.0, 1.0, 10.0])
    assert policy.price_bounds == (0.5, 4.0)
    grid = np.linspace(0.5, 4.0, 15)
    price = policy.price(OBS)
    assert isinstance(price, float) and np.isclose(grid, price, rtol=0, atol=1e-12).any()
    # the card file itself loads too, and key order of the mapping does not matter
    same = load_policy(policy.folder / "policy.json")
    assert same.price(dict(reversed(list(OBS.items())))) == price


def test_batch_shapes(policy):
    rng = np.random.default_rng(0)
    batch = rng.uniform(policy.low, policy.high, size=(64, 4))
    prices = policy.prices(batch)
    assert prices.shape == (64,)
    assert policy.prices(np.empty((0, 4))).shape == (0,)
    assert prices[5] == policy.price(dict(zip(NAMES, batch[5], strict=True)))


@pytest.mark.parametrize(
    ("obs", "pattern"),
    [
        ({k: v for k, v in OBS.items() if k != "last_sales"}, r"missing features \['last_sales'\]"),
        ({**OBS, "weather": 1.0}, r"unknown features \['weather'\]"),
        ({**OBS, "time_remaining": 1.5}, r"'time_remaining'.*1\.5.*\[0, 1\]"),
        ({**OBS, "last_sales": -0.1}, r"'last_sales'.*-0\.1.*\[0, 10\]"),
        ({**OBS, "own_last_price": math.nan}, r"'own_last_price'.*nan.*finite"),
        ({**OBS, "own_last_price": math.inf}, r"'own_last_price'.*inf.*finite"),
        ({**OBS, "own_last_price": "high"}, r"'own_last_price' = 'high' is not a number"),
        ([0.5, 0.3, 0.6, 0.2], r"pass a mapping"),
    ],
)
def test_bad_observation(policy, obs, pattern):
    with pytest.raises(ObservationError, match=pattern) as info:
        policy.price(obs)
    assert isinstance(info.value, DataValidationError) and isinstance(info.value, ValueError)


def test_bad_batch(policy):
    with pytest.raises(ObservationError, match=r"shape \(3, 5\).*\(B, 4\)"):
        policy.prices(np.zeros((3, 5)))
    bad = np.full((3, 4), 0.5)
    bad[2, 1] = 2.0
    with pytest.raises(
        ObservationError, match=r"'inventory_fraction'.* in row 2 = 2\.0 .*\[0, 1\]"
    ):
        policy.prices(bad)


def _copy(policy_dir, tmp_path):
    for name in ("policy.json", "policy.onnx"):
        (tmp_path / name).write_bytes((policy_dir / name).read_bytes())
    return json.loads((tmp_path / "policy.json").read_text())


def test_bad_policy_files(policy_dir, tmp_path):
    with pytest.raises(PolicyFileError, match="does not exist"):
        load_policy(tmp_path / "nowhere")
    card = _copy(policy_dir, tmp_path)
    (tmp_path / "policy.json").write_text(json.dumps({**card, "sha256": None, "format": "x"}))
    with pytest.raises(PolicyFileError, match="format 'x'"):
        load_policy(tmp_path)
    (tmp_path / "policy.json").write_text(json.dumps({**card, "version": 99}))
    with pytest.raises(PolicyFileError, match="version-99"):
        load_policy(tmp_path)
    (tmp_path / "policy.json").write_text(json.dumps({**card, "kind": "tflite"}))
    with pytest.raises(PolicyFileError, match="kind 'tflite'"):
        load_policy(tmp_path)
    (tmp_path / "policy.json").write_text(
        json.dumps({**card, "onnx": {**card["onnx"], "sha256": "0"}})
    )
    with pytest.raises(PolicyFileError, match="sha256"):
        load_policy(tmp_path)
    (tmp_path / "policy.json").write_text("{not json")
    with pytest.raises(PolicyFileError, match="not a readable JSON"):
        load_policy(tmp_path)
    (tmp_path / "policy.json").write_text(json.dumps(card))
    (tmp_path / "policy.onnx").unlink()
    with pytest.raises(PolicyFileError, match=r"policy\.onnx is missing"):
        load_policy(tmp_path)
    assert issubclass(PolicyFileError, PricegymError)


def _args(*argv):
    return configure_price_parser(argparse.ArgumentParser()).parse_args(list(argv))


def test_cli_price_one_and_many(policy_dir, policy):
    out = io.StringIO()
    assert cli_price(_args(str(policy_dir), "--obs", json.dumps(OBS)), stdout=out) == 0
    assert float(out.getvalue()) == policy.price(OBS)
    rows = [OBS, {**OBS, "time_remaining": 0.05}, {**OBS, "inventory_fraction": 1.0}]
    stdin = io.StringIO("\n".join(json.dumps(r) for r in rows) + "\n\n")
    out = io.StringIO()
    assert cli_price(_args(str(policy_dir)), stdin=stdin, stdout=out) == 0
    got = [float(v) for v in out.getvalue().split()]
    assert got == [policy.price(r) for r in rows]
    with pytest.raises(ObservationError, match=r"stdin line 1: unknown features \['a'\]"):
        cli_price(_args(str(policy_dir)), stdin=io.StringIO('{"a": 1}\n'), stdout=out)
    with pytest.raises(ObservationError, match=r"stdin line 2: .* is a JSON list"):
        cli_price(
            _args(str(policy_dir)), stdin=io.StringIO(json.dumps(OBS) + "\n[1]\n"), stdout=out
        )


_IMPORT_PROBE = textwrap.dedent(
    """
    import json, sys
    import pricegym.runtime as rt
    policy = rt.load_policy(sys.argv[1])
    price = policy.price(json.loads(sys.argv[2]))
    mods = [m for m in ("torch", "stable_baselines3", "sb3_contrib", "gymnasium")
            if m in sys.modules]
    print(json.dumps({"price": price, "modules": mods}))
    """
)


def _probe(policy_dir):
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, str(policy_dir), json.dumps(OBS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_runtime_imports_no_training_stack(policy_dir, policy):
    result = _probe(policy_dir)
    assert result["price"] == policy.price(OBS)
    assert not {"torch", "stable_baselines3", "sb3_contrib"} & set(result["modules"])


def test_runtime_imports_no_gymnasium(policy_dir):
    assert "gymnasium" not in _probe(policy_dir)["modules"]


_CLI_PROBE = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {"pandas", "scipy", "statsmodels", "sklearn", "torch", "gymnasium",
               "stable_baselines3", "sb3_contrib", "matplotlib", "rich", "yaml", "pyarrow"}
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not installed (blocked by the test)")
    sys.meta_path.insert(0, Block())
    from pricegym.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_price_command_runs_with_only_numpy_and_onnxruntime(policy_dir, policy):
    """``pricegym price`` through the real CLI entry point, in a process where pandas,
    scipy, statsmodels, scikit-learn, torch, gymnasium, SB3, matplotlib, rich and yaml
    cannot be imported: the parser of every other command is never built."""
    proc = subprocess.run(
        [sys.executable, "-c", _CLI_PROBE, "price", str(policy_dir), "--obs", json.dumps(OBS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split()[-1]) == policy.price(OBS)
