"""The experiment schema: bundled configs load, and every error names path, value and fix."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pricegym.demand.data import load_history
from pricegym.errors import ConfigError
from pricegym.experiments.schema import (
    ExperimentConfig,
    bundled_experiments,
    load_experiment,
    parse_market,
)

#: A small valid experiment every error test starts from (one change each).
BASE: dict[str, Any] = {
    "name": "unit",
    "seed": 7,
    "market": {
        "demand": {"form": "exponential", "a": 10.0, "alpha": 1.0},
        "options": {"n_prices": 6, "p_min": 0.5, "p_max": 5.0, "horizon": 8, "inventory": 5},
    },
    "agents": [
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 2.0}},
        {"name": "greedy", "kind": "epsilon_greedy", "params": {"epsilon": 0.1}},
        {"name": "optimum", "kind": "dp"},
    ],
    "evaluation": {"episodes": 2, "seeds": 2},
}

OLIGOPOLY = {"oligopoly": {"n_sellers": 2, "horizon": 10}}


def variant(**changes: Any) -> dict[str, Any]:
    """BASE with top-level sections replaced."""
    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(changes))
    return out


def error_of(config: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load_experiment(config)
    return str(info.value)


def assert_message(message: str, path: str, value: str, *fragments: str) -> None:
    """The message starts with the key path and shows the value, the fix and ``fragments``."""
    assert message.startswith(path), message
    assert value in message, message
    assert "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message


# ============================================================ valid configs
@pytest.mark.parametrize(
    "name", ["quickstart", "markdown", "duopoly", "calvano", "avocado", "catalogue"]
)
def test_bundled_config_loads_and_round_trips(name):
    assert name in bundled_experiments()
    config = load_experiment(name)
    assert isinstance(config, ExperimentConfig)
    assert config.name == name
    assert config.agents, "a bundled experiment has agents"
    resolved = config.resolved()
    json.dumps(resolved)  # JSON-ready
    again = load_experiment(resolved)
    assert again.resolved() == resolved
    assert again.market == config.market and again.agents == config.agents


def test_quickstart_is_the_default_and_has_the_promised_field():
    config = load_experiment(None)
    assert config.name == "quickstart"
    kinds = {a.kind for a in config.agents}
    assert {"fixed_price", "myopic", "dp", "sb3"} <= kinds
    assert kinds & {"thompson", "inventory_thompson", "ucb1", "epsilon_greedy"}
    assert config.market.source == "data" and config.market.data.dataset == "article"


def test_defaults_are_filled_in():
    config = load_experiment(BASE)
    assert config.evaluation.seeds == (0, 1)
    assert config.evaluation.benchmarks == "auto"
    assert config.tournament.modes == ("solo",)
    assert config.market.name == "exponential" and config.market.action == "discrete"
    assert config.run_dir() == Path("runs") / "unit"
    assert config.resolved()["output"] == {"dir": None, "parquet": "auto"}


def test_yaml_file_with_relative_paths(tmp_path):
    (tmp_path / "data").mkdir()
    csv = tmp_path / "data" / "sales.csv"
    csv.write_text("week,avgprc,totqty\n1,2.0,10\n2,1.8,14\n3,2.1,9\n4,1.9,12\n")
    doc = variant(
        market={
            "data": {"path": "data/sales.csv", "price": "avgprc", "units": "totqty"},
            "model": {"family": "loglinear"},
            "options": {"n_prices": 4, "horizon": 4},
        }
    )
    doc["agents"] = [{"kind": "fixed_price", "params": {"price": 2.0}}]
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    config = load_experiment(path)
    assert config.market.data.path == str(csv.resolve())
    assert config.market.data.load == {"price": "avgprc", "units": "totqty"}
    assert config.source == str(path)
    assert config.market.name == "sales"


def test_yaml_data_section_takes_the_csv_dialect(tmp_path):
    (tmp_path / "data").mkdir()
    csv = tmp_path / "data" / "export.csv"
    csv.write_text("week;price;units\n1;2,0;10\n2;1,8;14\n3;2,1;9\n4;1,9;12\n")
    doc = variant(
        market={
            "data": {"path": "data/export.csv", "sep": ";", "decimal": ","},
            "model": {"family": "loglinear"},
            "options": {"n_prices": 4, "horizon": 4},
        }
    )
    doc["agents"] = [{"kind": "fixed_price", "params": {"price": 2.0}}]
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    config = load_experiment(path)
    assert config.market.data.load == {"sep": ";", "decimal": ","}
    history = load_history(config.market.data.path, **config.market.data.load)
    assert history.price.tolist() == [2.0, 1.8, 2.1, 1.9]


def test_parse_market_alone():
    spec = parse_market(OLIGOPOLY)
    assert spec.is_oligopoly and spec.n_sellers == 2 and spec.finite


# ============================================================ unknown keys (did-you-mean)
def test_unknown_top_level_key_suggests_the_right_one():
    doc = copy.deepcopy(BASE)
    doc["agent"] = doc.pop("agents")
    msg = error_of(doc)
    assert_message(msg, "agent:", "'agent'", "Did you mean 'agents'?")


def test_unknown_agent_parameter_names_its_path():
    doc = copy.deepcopy(BASE)
    doc["agents"][1]["params"] = {"epsilom": 0.2}
    msg = error_of(doc)
    assert_message(msg, "agents[1].params.epsilom", "'epsilom'", "Did you mean 'epsilon'?")


def test_unknown_market_option_goes_through_market_config():
    doc = copy.deepcopy(BASE)
    doc["market"]["options"]["inventroy"] = 3
    msg = error_of(doc)
    assert msg.startswith("market.options.inventroy"), msg
    assert "Did you mean 'inventory'?" in msg


def test_unknown_agent_kind_suggests_a_kind():
    doc = copy.deepcopy(BASE)
    doc["agents"][0]["kind"] = "fixed_prise"
    msg = error_of(doc)
    assert_message(msg, "agents[0].kind", "'fixed_prise'", "Did you mean 'fixed_price'?")


def test_unknown_model_family_and_bundled_name():
    doc = variant(
        market={"data": {"dataset": "article"}, "model": {"family": "poison"}, "options": {}}
    )
    msg = error_of(doc)
    assert_message(msg, "market.model.family", "'poison'", "Did you mean 'poisson'?")
    msg = error_of("quickstrat")
    assert "Did you mean 'quickstart'?" in msg and "Fix:" in msg


# ============================================================ wrong types and values
def test_wrong_type_names_path_value_and_rule():
    msg = error_of(variant(evaluation={"episodes": "ten"}))
    assert_message(msg, "evaluation.episodes", "'ten'", "must be an integer")
    msg = error_of(variant(evaluation={"seeds": [0, 0]}))
    assert_message(msg, "evaluation.seeds", "[0, 0]", "repeat")
    doc = copy.deepcopy(BASE)
    doc["agents"] = {"name": "x"}
    assert_message(error_of(doc), "agents", "{'name': 'x'}", "list")


def test_bad_parameter_value_is_narrowed_to_the_parameter():
    doc = copy.deepcopy(BASE)
    doc["agents"][1]["params"] = {"epsilon": 2.0}
    msg = error_of(doc)
    assert msg.startswith("agents[1].params.epsilon"), msg
    assert "2.0" in msg


def test_bad_market_option_value():
    doc = copy.deepcopy(BASE)
    doc["market"]["options"]["cost"] = -1
    msg = error_of(doc)
    assert msg.startswith("market.options.cost"), msg
    assert "-1" in msg


def test_missing_horizon_is_refused():
    doc = copy.deepcopy(BASE)
    doc["market"]["options"]["horizon"] = None
    assert_message(error_of(doc), "market.options.horizon", "None", "season")


def test_invalid_yaml_reports_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nagents:\n  - {kind: fixed_price\n")
    msg = error_of(path)
    assert "not valid YAML" in msg and "line" in msg and "Fix:" in msg


def test_two_market_sources():
    doc = copy.deepcopy(BASE)
    doc["market"]["oligopoly"] = {"n_sellers": 2}
    assert_message(error_of(doc), "market", "oligopoly", "exactly one")


# ============================================================ missing files
def test_missing_data_file(tmp_path):
    doc = variant(
        market={"data": {"path": "nope.csv"}, "model": {"family": "linear"}, "options": {}}
    )
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    msg = error_of(path)
    assert_message(msg, "market.data.path", "'nope.csv'", "does not exist", str(tmp_path))


def test_missing_model_file_and_policy_file(tmp_path):
    doc = variant(
        market={"data": {"dataset": "article"}, "model": {"file": str(tmp_path / "m.json")}}
    )
    assert_message(error_of(doc), "market.model.file", "m.json", "does not exist")
    doc = copy.deepcopy(BASE)
    doc["agents"][0]["policy"] = str(tmp_path / "agent.json")
    assert_message(error_of(doc), "agents[0].policy", "agent.json", "does not exist")


# ============================================================ impossible combinations
def test_continuous_algorithm_in_a_discrete_market():
    doc = copy.deepcopy(BASE)
    doc["agents"].append({"name": "sac", "kind": "sb3", "params": {"algo": "sac"}})
    msg = error_of(doc)
    assert_message(msg, "agents[3].kind", "'sb3'", "continuous price action", "'discrete'")


def test_dqn_in_a_continuous_market():
    doc = copy.deepcopy(BASE)
    doc["market"]["options"]["action"] = "continuous"
    doc["agents"] = [{"name": "dqn", "kind": "sb3", "params": {"algo": "dqn"}}]
    msg = error_of(doc)
    assert_message(msg, "agents[0].kind", "'sb3'", "discrete price action", "'continuous'")


def test_dp_in_an_oligopoly():
    doc = variant(market=OLIGOPOLY, tournament={"modes": ["round_robin"]})
    doc["agents"] = [{"kind": "tit_for_tat"}, {"name": "opt", "kind": "dp"}]
    msg = error_of(doc)
    assert_message(msg, "agents[1].kind", "'dp'", "oligopoly")


def test_dp_against_rivals_must_be_restricted_to_solo():
    doc = variant(
        market={
            "data": {"synthetic": {"seed": 0, "n_periods": 40}},
            "model": {"family": "loglinear"},
            "options": {"n_prices": 5, "horizon": 4},
        },
        tournament={"modes": ["solo", "vs_rules"], "rivals": [{"kind": "undercut"}]},
    )
    doc["agents"] = [{"name": "opt", "kind": "dp"}]
    msg = error_of(doc)
    assert_message(msg, "agents[0].modes", "None", "rival", "agents[0].modes: [solo]")
    doc["agents"][0]["modes"] = ["solo"]
    assert load_experiment(doc).agents[0].modes == ("solo",)


def test_endless_oligopoly_is_refused():
    doc = variant(market={"oligopoly": {"horizon": None}}, tournament={"modes": ["round_robin"]})
    doc["agents"] = [{"kind": "tit_for_tat"}]
    assert_message(error_of(doc), "market.oligopoly.horizon", "None", "end")


def test_qlearning_with_one_seller():
    doc = copy.deepcopy(BASE)
    doc["agents"] = [{"kind": "qlearning"}]
    assert_message(error_of(doc), "agents[0].kind", "'qlearning'", "one seller")


def test_tournament_modes_that_do_not_fit_the_market():
    doc = variant(market=OLIGOPOLY)
    doc["agents"] = [{"kind": "tit_for_tat"}]
    assert_message(error_of(doc), "tournament.modes", "['solo']", "oligopoly")
    doc = variant(tournament={"modes": ["round_robin"]})
    assert_message(error_of(doc), "tournament.modes", "['round_robin']", "one seller")
    doc = variant(tournament={"modes": ["vs_rules"]})
    assert_message(error_of(doc), "tournament.rivals", "[]", "none is listed")
    doc = variant(tournament={"modes": ["vs_rules"], "rivals": [{"kind": "undercut"}]})
    assert_message(error_of(doc), "tournament.modes", "['vs_rules']", "competitor column")
    doc = variant(tournament={"modes": ["cross_model"]})
    assert_message(error_of(doc), "market.model", "None", "at least two models")
    doc = variant(tournament={"modes": ["sollo"]})
    assert_message(error_of(doc), "tournament.modes[0]", "'sollo'", "Did you mean 'solo'?")


def test_learning_rival_is_refused():
    doc = variant(
        market=OLIGOPOLY,
        tournament={"modes": ["vs_rules"], "rivals": [{"kind": "ucb1"}]},
    )
    doc["agents"] = [{"kind": "tit_for_tat"}]
    assert_message(error_of(doc), "tournament.rivals[0].kind", "'ucb1'", "rule-based")


def test_benchmark_that_does_not_fit_the_market():
    doc = variant(evaluation={"benchmarks": ["nash"]})
    assert_message(error_of(doc), "evaluation.benchmarks[0]", "'nash'", "one seller")
    doc = variant(market=OLIGOPOLY, tournament={"modes": ["round_robin"]})
    doc["agents"] = [{"kind": "tit_for_tat"}]
    doc["evaluation"] = {"benchmarks": ["dp"]}
    assert_message(error_of(doc), "evaluation.benchmarks[0]", "'dp'", "oligopoly")


def test_training_budget_for_an_agent_that_cannot_train():
    doc = copy.deepcopy(BASE)
    doc["agents"][0]["train"] = {"episodes": 5}
    assert_message(error_of(doc), "agents[0].train", "{'episodes': 5}", "does not learn")
    doc = copy.deepcopy(BASE)
    doc["agents"][1]["train"] = {"timesteps": 500}
    assert_message(error_of(doc), "agents[1].train", "{'timesteps': 500}", "episodes")
    doc = copy.deepcopy(BASE)
    doc["agents"][1]["train"] = {"epsiodes": 5}
    assert_message(error_of(doc), "agents[1].train.epsiodes", "'epsiodes'", "'episodes'")


def test_bernoulli_likelihood_in_a_market_of_counts_is_refused_before_any_run(tmp_path):
    """Units drawn from count noise have no upper bound; Bernoulli allows <= trials a period.
    Refused by load_experiment, so run_experiment leaves no run folder behind."""
    from pricegym.experiments.runner import run_experiment

    doc = copy.deepcopy(BASE)
    doc["agents"][1] = {"name": "ts", "kind": "thompson", "params": {"likelihood": "bernoulli"}}
    assert_message(
        error_of(doc),
        "agents[1].params.likelihood",
        "'bernoulli'",
        "trials=1",
        "no upper bound",
        "agents[1].params.likelihood: poisson",
    )
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"agents\[1\]\.params\.likelihood"):
        run_experiment(doc, out, progress=False, report=False)
    assert not out.exists()
    expected = copy.deepcopy(doc)  # expected units (noise off): bind compares them to trials
    expected["market"]["options"]["noise"] = False
    assert load_experiment(expected).agent("ts").params == {"likelihood": "bernoulli"}
    doc["agents"][1]["params"] = {}  # the default, 'auto', is fine
    load_experiment(doc)


def test_duplicate_agent_names():
    doc = copy.deepcopy(BASE)
    doc["agents"][1]["name"] = "fixed"
    assert_message(error_of(doc), "agents[1].name", "'fixed'", "same name")


def test_registered_env_id_with_did_you_mean():
    doc = variant(market={"env": "pricegym/Markdwon-v0"})
    msg = error_of(doc)
    assert_message(msg, "market.env", "'pricegym/Markdwon-v0'", "'pricegym/Markdown-v0'")
    config = load_experiment(variant(market={"env": "pricegym/Markdown-v0"}))
    assert config.market.source == "env" and config.market.name == "Markdown-v0"
    assert config.market.action == "discrete" and config.market.finite


def test_offline_learner_cannot_train_in_a_round_robin():
    doc = variant(market=OLIGOPOLY, tournament={"modes": ["round_robin"]})
    doc["agents"] = [{"name": "ppo", "kind": "sb3", "train": {"timesteps": 100}}]
    msg = error_of(doc)
    assert_message(msg, "agents[0].train", "{'timesteps': 100}", "round robin", ".policy")


# ============================================================ fuzz: no raw exceptions
#: Wrong values of every type; each replaces one entry of a valid config.
_BAD_VALUES: list[Any] = ["x", -1, None, [], {"bogus": 1}, 1.5, True, 0, ["solo", "nope"]]


def _mutations(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of ``config`` with one entry replaced by each bad value, deleted, or an
    unknown key added (at every path)."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            paths.append((*path, key))
            if isinstance(value, dict | list):
                walk(value, (*path, key))

    walk(config, ())
    out = []
    for path in paths:
        for change in [*_BAD_VALUES, "delete", "unknown"]:
            c = copy.deepcopy(config)
            node = c
            for key in path[:-1]:
                node = node[key]
            if change == "delete":
                del node[path[-1]]
            elif change == "unknown":
                if isinstance(node, dict):
                    node["__unknown__"] = 1
            else:
                node[path[-1]] = copy.deepcopy(change)
            out.append(c)
    return out


@pytest.mark.parametrize("start", ["base", "oligopoly"])
def test_malformed_configs_raise_pricegym_errors_only(start):
    # Every mutation either loads or raises a PricegymError (a message naming key,
    # value, rule and fix) — never a raw TypeError/ValueError/KeyError from inside.
    from pricegym.errors import PricegymError

    config = BASE
    if start == "oligopoly":
        config = variant(
            market={"oligopoly": {"n_sellers": 2, "horizon": 10}},
            agents=[
                {"name": "q", "kind": "qlearning", "train": {"periods": 100}},
                {"name": "f", "kind": "fixed_price", "params": {"price": 1.5}},
            ],
            tournament={"modes": ["vs_rules", "round_robin"], "rivals": [{"kind": "undercut"}]},
        )
    raw = []
    cases = _mutations(config)
    for case in cases:
        try:
            load_experiment(case)
        except PricegymError:
            pass
        except Exception as exc:  # the point of the test: nothing else may escape
            raw.append(f"{type(exc).__name__}: {exc} for {json.dumps(case, default=str)[:200]}")
    assert len(cases) > 100
    assert not raw, "\n".join(raw[:5])
