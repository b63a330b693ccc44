"""Multi-armed bandits over a market's price grid: ε-greedy, UCB1, Thompson sampling.

Each arm is one price of a discrete market's grid (a continuous market raises
:class:`~pricegym.errors.ConfigError` at ``bind``). The agents learn online
through :meth:`~pricegym.agents.base.PricingAgent.update` and keep what they have
learned across ``reset`` (which only re-seeds their random source); build a new
agent to start from scratch. Learned attributes end in ``_`` and are saved by
``save`` (JSON + .npz) and restored by ``load``.

**Exploring and greedy play.** With ``explore=True`` (the default) each agent
plays its rule below, which keeps trying prices it is unsure of. With
``explore=False`` it plays its **greedy** choice — what it has learned, without
exploration: the price with the best learned mean reward (ε-greedy, UCB1; prices
never tried are skipped), or the best value at the posterior-mean demand (Thompson
sampling; inventory Thompson solves its LP at the posterior means). Evaluation with
learning frozen (:func:`~pricegym.experiments.evaluate.play_episodes` with
``learn=False``, the experiment default ``evaluation.learn_online: false``) plays
every bandit greedy through :meth:`GridBandit.frozen`; an exploration bonus or a
posterior draw only pays off when the agent learns from what it sees.

**What is learned from a transition.** ``reward="profit"`` learns the period's
reward (the market's profit); ``reward="units"`` learns units sold. Units come,
in this order, from ``info`` when ``update(..., info=...)`` is given one
(PricingEnv's ``info["sales"]``, OligopolyEnv's ``info["quantity"]``), else from
the next observation's ``last_sales`` × the market's ``sales_scale`` (exact for
counts: a value within 1e-4 of an integer is that integer; the observation caps
sales at 10 × ``sales_scale``, which a warning reports), else — in a market with no
``last_sales`` such as the oligopoly — from ``reward / (price − unit_cost)``. The
posteriors of Thompson sampling treat units sold as demand, so sales cut off by a
stock-out count as demand (censoring is ignored).

=======================  ==================================================================
kind                     rule (one sentence)
=======================  ==================================================================
``epsilon_greedy``       Try each price once, then with probability ε_t a uniformly random
                         price, otherwise the price with the best average reward.
``ucb1``                 Try each price once, then the price with the highest
                         ``mean + scale·sqrt(2 ln n / n_k)`` (Auer et al. 2002).
``thompson``             Draw each price's mean demand from its conjugate posterior
                         (Beta–Bernoulli or Gamma–Poisson) and charge the price with the
                         best drawn profit (or units).
``inventory_thompson``   Thompson sampling with inventory (Ferreira, Simchi-Levi & Wang
                         2018): draw demands, solve the LP over price mixes whose expected
                         sales fit the inventory rate, and draw a price from the mix.
=======================  ==================================================================
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal, Self

import numpy as np
from scipy.optimize import linprog

from pricegym._validate import Interval, real
from pricegym.agents.rules import MarketAgent, MarketView
from pricegym.errors import ConfigError, PricegymWarning

__all__ = ["UCB1", "EpsilonGreedy", "GridBandit", "InventoryThompsonSampling", "ThompsonSampling"]

RewardKind = Literal["profit", "units"]


def _number(name: str, value: Any, low: float, high: float = math.inf, *, open_low=False) -> float:
    return real(
        name,
        value,
        Interval(low, high, "right" if open_low else "both"),
        message="{name}={value!r} must be finite, {bounds}.",
        not_a_number="{name}={value!r} must be a number.",
    )


class GridBandit(MarketAgent):
    """Shared machinery of the price-grid bandits (not registered; see the subclasses).

    Parameters:
        reward: ``"profit"`` (the period's reward) or ``"units"`` (units sold).
        explore: play the exploring rule (True) or the greedy choice (False; see the
            module docstring). Training explores whatever the setting.
        name: label for reports.

    Learned attributes: ``counts_`` (pulls per price), ``t_`` (updates so far).
    """

    learns = True

    def __init__(
        self, reward: RewardKind = "profit", explore: bool = True, name: str | None = None
    ) -> None:
        if reward not in ("profit", "units"):
            raise ConfigError(f"reward={reward!r} must be 'profit' or 'units'.")
        if not isinstance(explore, bool | np.bool_):
            raise ConfigError(f"explore={explore!r} must be true or false.")
        self.reward = reward
        self.explore = bool(explore)
        self.name = name
        self.counts_: np.ndarray | None = None
        self.t_ = 0
        self._warned_cap = False

    # ------------------------------------------------------------ market
    @property
    def n_arms(self) -> int:
        """Number of prices (arms) of the bound market's grid."""
        codec = self._require_bound()
        assert codec.grid is not None  # guaranteed by _check_market
        return int(codec.grid.size)

    def _check_market(self, view: MarketView) -> None:
        if view.codec.grid is None:
            raise ConfigError(
                f"agent {self.name!r} ({type(self).__name__}) chooses among the prices of a grid, "
                "but the market has a continuous price action; use action='discrete' "
                "(with n_prices=... or prices=[...])."
            )

    def _bind(self, env: Any) -> None:
        super()._bind(env)
        n = self.n_arms
        if self.counts_ is None:
            self._init_arrays(n)
        elif self.counts_.shape != (n,):
            raise ConfigError(
                f"agent {self.name!r} learned about {self.counts_.shape[0]} prices but the market "
                f"has {n}; bind it to a market with the same grid, or start a new agent."
            )
        self._on_bind()

    def _init_arrays(self, n: int) -> None:
        self.counts_ = np.zeros(n)

    def _on_bind(self) -> None:
        """Hook: resolve defaults that depend on the market."""
        return None

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts_} if self.counts_ is not None else {}

    def _untried(self) -> int | None:
        counts = self._counts()
        idle = np.flatnonzero(counts == 0)
        return int(idle[0]) if idle.size else None

    def _counts(self) -> np.ndarray:
        self._view()
        assert self.counts_ is not None
        return self.counts_

    # ------------------------------------------------------------ playing
    def act(self, observation: np.ndarray) -> int:
        """The exploring rule's price index, or the greedy one when ``explore`` is False."""
        if not self.explore:
            return self.greedy_action(observation)
        return self._explore_action(observation)

    def greedy_action(self, observation: np.ndarray) -> int:
        """The price index of the greedy choice (see the module docstring)."""
        raise NotImplementedError

    def _explore_action(self, observation: np.ndarray) -> int:
        raise NotImplementedError

    @contextlib.contextmanager
    def frozen(self) -> Iterator[Self]:
        """Play greedy (``explore = False``) inside the block, then restore ``explore``.

        Evaluation with learning frozen enters it (through
        :func:`~pricegym.experiments.evaluate.frozen_play`, which warns when the agent
        has learned nothing yet).
        """
        saved = self.explore
        self.explore = False
        try:
            yield self
        finally:
            self.explore = saved

    # ------------------------------------------------------------ learning
    def units_sold(
        self,
        action: Any,
        reward: float,
        next_observation: np.ndarray,
        info: dict[str, Any] | None = None,
    ) -> float:
        """Units sold in the transition (see the module docstring for the sources)."""
        if info is not None:
            for key in ("sales", "quantity"):
                if key in info:
                    return float(info[key])
        view = self._view()
        units = view.last_sales(np.asarray(next_observation))
        if units is not None:
            if view.sales_index is not None and float(next_observation[view.sales_index]) >= 10.0:
                if not self._warned_cap:
                    warnings.warn(
                        f"agent {self.name!r}: last_sales hit its observation cap (10 × "
                        f"sales_scale = {10 * view.sales_scale:g} units), so sales are "
                        "under-counted; pass info=... to update for exact units.",
                        PricegymWarning,
                        stacklevel=3,
                    )
                    self._warned_cap = True
            return units
        price = float(view.codec.to_price(action).reshape(-1)[0])
        cost = view.unit_cost
        if cost is not None and abs(price - cost) > 1e-12:
            return float(reward) / (price - cost)
        raise ConfigError(
            f"agent {self.name!r} cannot tell the units sold: the market shows no last_sales, "
            "and price equals unit cost; pass info=... (the env's step info) to update."
        )

    def update(
        self,
        observation: np.ndarray,
        action: Any,
        reward: float,
        next_observation: np.ndarray,
        terminated: bool,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Learn from one period at the price of ``action``.

        ``info`` (optional, the env's step info) gives exact units; without it they
        are read from ``next_observation`` (see the module docstring).
        """
        counts = self._counts()
        arm = int(np.asarray(action).reshape(-1)[0])
        if not 0 <= arm < counts.size:
            raise ConfigError(f"action {action!r} is not a price index in [0, {counts.size}).")
        units = None
        if self.reward == "units" or self._needs_units:
            units = self.units_sold(action, reward, next_observation, info)
        if self.reward == "profit":
            value = float(reward)
        else:
            assert units is not None  # reward="units" reads them above
            value = float(units)
        if not math.isfinite(value):
            raise ConfigError(f"reward={reward!r} is not finite; check the market's rewards.")
        counts[arm] += 1.0
        self.t_ += 1
        self._learn(arm, value, units)

    _needs_units = False

    def _learn(self, arm: int, value: float, units: float | None) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ files
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"t": int(self.t_)}, self._arrays()

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.t_ = int(state.get("t", 0))
        if "counts" in arrays:
            self._restore({k: np.asarray(v, dtype=np.float64).copy() for k, v in arrays.items()})

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.counts_ = arrays["counts"]


class _RunningMeanBandit(GridBandit):
    """A grid bandit that learns the average reward of each price (``means_``)."""

    means_: np.ndarray | None = None

    def _init_arrays(self, n: int) -> None:
        super()._init_arrays(n)
        self.means_ = np.zeros(n)

    def _arrays(self) -> dict[str, np.ndarray]:
        out = super()._arrays()
        if self.means_ is not None:
            out["means"] = self.means_
        return out

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        super()._restore(arrays)
        self.means_ = arrays["means"]

    def _learn(self, arm: int, value: float, units: float | None) -> None:
        assert self.means_ is not None and self.counts_ is not None
        self.means_[arm] += (value - self.means_[arm]) / self.counts_[arm]

    def greedy_action(self, observation: np.ndarray) -> int:
        """The tried price with the best mean learned reward (lowest index on ties;
        the first price when none was tried)."""
        counts = self._counts()
        assert self.means_ is not None
        return int(np.argmax(np.where(counts > 0, self.means_, -np.inf)))


# ==================================================================== ε-greedy
class EpsilonGreedy(_RunningMeanBandit):
    """Try each price once, then with probability ε_t a random price, else the best average.

    ε_t = max(``min_epsilon``, ``epsilon``·``decay``^t) after t updates; the best
    average is the price with the highest mean learned reward (lowest index on ties).

    Parameters:
        epsilon: exploration probability at the start, in [0, 1].
        decay: multiplicative decay of ε per update, in (0, 1] (1 = constant ε).
        min_epsilon: floor of ε_t, in [0, epsilon].
        reward: ``"profit"`` or ``"units"``.
        explore: False plays the greedy choice (see the module docstring).
        name: label for reports.

    Learned attributes: ``counts_``, ``means_`` (average reward per price), ``t_``.
    """

    kind = "epsilon_greedy"

    def __init__(
        self,
        epsilon: float = 0.1,
        decay: float = 1.0,
        min_epsilon: float = 0.0,
        reward: RewardKind = "profit",
        explore: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(reward, explore, name)
        self.epsilon = _number("epsilon", epsilon, 0.0, 1.0)
        self.decay = _number("decay", decay, 0.0, 1.0, open_low=True)
        self.min_epsilon = _number("min_epsilon", min_epsilon, 0.0, self.epsilon)

    @property
    def current_epsilon(self) -> float:
        """ε_t for the next choice."""
        return max(self.min_epsilon, self.epsilon * self.decay**self.t_)

    def _explore_action(self, observation: np.ndarray) -> int:
        first = self._untried()
        if first is not None:
            return first
        rng = self._rng()
        assert self.means_ is not None
        if rng.random() < self.current_epsilon:
            return int(rng.integers(self.means_.size))
        return int(np.argmax(self.means_))


# ==================================================================== UCB1
class UCB1(_RunningMeanBandit):
    """Try each price once, then the price with the highest ``mean + scale·sqrt(2 ln n / n_k)``.

    n is the number of updates so far and n_k those at price k (Auer, Cesa-Bianchi &
    Fischer 2002); ties go to the lowest index. UCB1's guarantee (expected regret
    O(Σ_k ln n / Δ_k)) holds for rewards in [0, ``scale``].

    Parameters:
        scale: the range of one period's reward. ``None`` resolves at ``bind`` to an
            upper bound for decreasing demand: (highest price − unit cost) ×
            ``sales_scale`` for ``reward="profit"`` (sales_scale: expected units at the
            lowest price), ``sales_scale`` for ``"units"``.
        reward: ``"profit"`` or ``"units"``.
        explore: False plays the greedy choice, the best learned mean without the bonus
            (see the module docstring).
        name: label for reports.

    Learned attributes: ``counts_``, ``means_``, ``t_``, ``scale_`` (the scale in use).
    """

    kind = "ucb1"

    def __init__(
        self,
        scale: float | None = None,
        reward: RewardKind = "profit",
        explore: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(reward, explore, name)
        self.scale = None if scale is None else _number("scale", scale, 0.0, open_low=True)
        self.scale_: float | None = self.scale

    def _on_bind(self) -> None:
        if self.scale is not None:
            self.scale_ = self.scale
            return
        view = self._view()
        if self.reward == "units":
            self.scale_ = view.sales_scale
        else:
            cost = view.unit_cost or 0.0
            self.scale_ = max(view.codec.p_max - cost, 1e-12) * view.sales_scale

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        state["scale"] = self.scale_
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.scale_ = state.get("scale", self.scale)

    def indices(self) -> np.ndarray:
        """The upper confidence bound of every price (inf for untried prices)."""
        counts = self._counts()
        assert self.means_ is not None and self.scale_ is not None
        n = max(float(counts.sum()), 1.0)
        with np.errstate(divide="ignore"):
            bonus = self.scale_ * np.sqrt(2.0 * math.log(n) / counts)
        return np.where(counts > 0, self.means_ + bonus, np.inf)

    def _explore_action(self, observation: np.ndarray) -> int:
        first = self._untried()
        if first is not None:
            return first
        return int(np.argmax(self.indices()))


# ==================================================================== Thompson sampling
class ThompsonSampling(GridBandit):
    """Draw each price's mean demand from its posterior and charge the best drawn price.

    ``likelihood="bernoulli"``: each period ``trials`` customers each buy with
    probability θ_k at price k; θ_k ~ Beta(a, b), updated a += units,
    b += trials − units. ``likelihood="poisson"``: units ~ Poisson(λ_k) with
    λ_k ~ Gamma(shape a, rate b), updated a += units, b += 1. The drawn mean demand
    d_k (trials·θ_k or λ_k) is valued at (price_k − unit_cost)·d_k for
    ``reward="profit"`` and d_k for ``"units"``; ties go to the lowest index.

    ``likelihood="auto"`` (the default) chooses at ``bind`` from the market:
    ``"poisson"`` for every market with a demand kernel — all pricegym markets,
    whose units are counts or volumes drawn around the kernel's mean (Poisson,
    negative binomial, log-normal) with no upper bound — and for any market whose
    expected units at the lowest price (``sales_scale``) exceed ``trials``;
    ``"bernoulli"`` otherwise (a market of one's own without a kernel that sells at
    most ``trials`` units a period, such as one customer per period). The choice is
    ``likelihood_``. An explicit ``"bernoulli"`` in a market whose ``sales_scale``
    exceeds ``trials`` raises ConfigError at ``bind``.

    Parameters:
        likelihood: ``"auto"``, ``"bernoulli"`` (Beta–Bernoulli) or ``"poisson"``
            (Gamma–Poisson).
        prior_a: Beta a or Gamma shape of every price's prior (> 0).
        prior_b: Beta b or Gamma rate (> 0); ``None`` gives 1 for Beta and
            1 / sales_scale for Gamma (prior mean demand = expected units at the
            lowest price, an optimistic start, worth 1/sales_scale periods of data).
        trials: customers per period of the Bernoulli likelihood (integer >= 1);
            units above it raise ConfigError (use the Poisson likelihood).
        reward: ``"profit"`` or ``"units"``: what the drawn demands are valued at.
        unit_cost: cost per unit for the profit value; ``None`` for the market's.
        explore: False plays the greedy choice, the best value at the posterior-mean
            demand (see the module docstring).
        name: label for reports.

    Learned attributes: ``counts_``, ``a_`` and ``b_`` (posterior parameters per
    price), ``t_``, ``likelihood_`` (the likelihood in use).
    """

    kind = "thompson"
    _needs_units = True

    def __init__(
        self,
        likelihood: Literal["auto", "bernoulli", "poisson"] = "auto",
        prior_a: float = 1.0,
        prior_b: float | None = None,
        trials: int = 1,
        reward: RewardKind = "profit",
        unit_cost: float | None = None,
        explore: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(reward, explore, name)
        if likelihood not in ("auto", "bernoulli", "poisson"):
            raise ConfigError(
                f"likelihood={likelihood!r} must be 'auto' (chosen from the market), "
                "'bernoulli' (Beta posterior, purchase probability) or 'poisson' (Gamma "
                "posterior, demand rate)."
            )
        self.likelihood = likelihood
        self.likelihood_: Literal["bernoulli", "poisson"] | None = (
            None if likelihood == "auto" else likelihood
        )
        self.prior_a = _number("prior_a", prior_a, 0.0, open_low=True)
        self.prior_b = None if prior_b is None else _number("prior_b", prior_b, 0, open_low=True)
        if isinstance(trials, bool) or int(trials) != trials or trials < 1:
            raise ConfigError(f"trials={trials!r} must be an integer >= 1 (customers per period).")
        self.trials = int(trials)
        self.unit_cost = None if unit_cost is None else _number("unit_cost", unit_cost, 0.0)
        self.a_: np.ndarray | None = None
        self.b_: np.ndarray | None = None

    def _init_arrays(self, n: int) -> None:
        super()._init_arrays(n)
        self.a_ = np.full(n, self.prior_a)
        self.b_ = None  # the default prior rate needs the market: set in _on_bind

    def _on_bind(self) -> None:
        view = self._view()
        if self.likelihood_ is None:
            self.likelihood_ = self.market_likelihood(view)
        if self.likelihood == "bernoulli" and view.sales_scale > self.trials:
            raise ConfigError(
                f"agent {self.name!r} (thompson): likelihood='bernoulli' with trials="
                f"{self.trials} allows at most {self.trials} unit(s) sold per period, but this "
                f"market expects {view.sales_scale:.6g} units a period at its lowest price. "
                "Fix: set likelihood: poisson in the agent's params (YAML agents[i].params."
                "likelihood), or leave it out ('auto' picks poisson here)."
            )
        if self.b_ is None:
            b0 = self.prior_b
            if b0 is None:
                b0 = 1.0 if self.likelihood_ == "bernoulli" else 1.0 / view.sales_scale
            self.b_ = np.full(self.n_arms, b0)

    def market_likelihood(self, view: MarketView) -> Literal["bernoulli", "poisson"]:
        """What ``likelihood="auto"`` chooses for the market of ``view`` (see the class)."""
        if view.kernel is not None or view.sales_scale > self.trials:
            return "poisson"
        return "bernoulli"

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        state["likelihood"] = self.likelihood_
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        if state.get("likelihood") is not None:
            self.likelihood_ = state["likelihood"]

    def _family(self) -> Literal["bernoulli", "poisson"]:
        if self.likelihood_ is None:
            self._view()  # raises: never bound
            raise ConfigError(f"agent {self.name!r} has no likelihood yet; bind it to a market.")
        return self.likelihood_

    def _arrays(self) -> dict[str, np.ndarray]:
        out = super()._arrays()
        if self.a_ is not None and self.b_ is not None:
            out["a"], out["b"] = self.a_, self.b_
        return out

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        super()._restore(arrays)
        self.a_, self.b_ = arrays["a"], arrays["b"]

    def posterior_mean(self) -> np.ndarray:
        """Posterior mean demand per price per period (trials·a/(a+b) or a/b)."""
        self._counts()
        assert self.a_ is not None and self.b_ is not None
        if self._family() == "bernoulli":
            return self.trials * self.a_ / (self.a_ + self.b_)
        return self.a_ / self.b_

    def sample_demand(self) -> np.ndarray:
        """One draw of every price's mean demand per period from the posterior."""
        self._counts()
        rng = self._rng()
        assert self.a_ is not None and self.b_ is not None
        if self._family() == "bernoulli":
            return self.trials * rng.beta(self.a_, self.b_)
        return rng.gamma(self.a_, 1.0 / self.b_)

    def unit_values(self) -> np.ndarray:
        """What one unit sold at each price is worth to the objective."""
        codec = self._require_bound()
        assert codec.grid is not None
        if self.reward == "units":
            return np.ones(codec.grid.size)
        return codec.grid - self._cost(self.unit_cost)

    def _explore_action(self, observation: np.ndarray) -> int:
        return int(np.argmax(self.unit_values() * self.sample_demand()))

    def greedy_action(self, observation: np.ndarray) -> int:
        """The price with the best value at the posterior-mean demand (lowest index on ties)."""
        return int(np.argmax(self.unit_values() * self.posterior_mean()))

    def _learn(self, arm: int, value: float, units: float | None) -> None:
        assert self.a_ is not None and self.b_ is not None and units is not None
        if units < 0 or not math.isfinite(units):
            raise ConfigError(f"units sold {units!r} must be finite and >= 0.")
        if self._family() == "bernoulli":
            if units > self.trials + 1e-9:
                raise ConfigError(
                    f"{units:g} units sold in one period, but the Bernoulli likelihood allows at "
                    f"most trials={self.trials}. Fix: use likelihood='poisson' (YAML: "
                    "agents[i].params.likelihood: poisson), or raise trials."
                )
            self.a_[arm] += units
            self.b_[arm] += self.trials - units
        else:
            self.a_[arm] += units
            self.b_[arm] += 1.0


class InventoryThompsonSampling(ThompsonSampling):
    """Thompson sampling with an inventory constraint (Ferreira, Simchi-Levi & Wang 2018).

    Each period: (1) draw every price's mean demand d_k from its posterior; (2) solve
    the linear program over price probabilities x_k
    ``max Σ_k v_k·d_k·x_k  s.t.  Σ_k d_k·x_k ≤ c,  Σ_k x_k ≤ 1,  x ≥ 0`` with
    ``scipy.optimize.linprog`` (HiGHS), v_k the value of a unit (price − unit cost,
    or 1 for ``reward="units"``) and c the inventory rate; (3) charge price k with
    probability x_k, and the shut-off price with the remaining probability; (4)
    update the posterior of the price charged. With ``inventory_rate="update"``
    (TS-update) c = remaining stock / remaining periods, with ``"fixed"`` (TS-fixed)
    c = initial stock / horizon. Once the stock is gone the shut-off price is charged.

    Without a shut-off action the prices must fill the whole period (Σ_k x_k = 1);
    if no mix can keep expected sales within c the price with the smallest drawn
    demand is charged.

    Parameters:
        likelihood, prior_a, prior_b, trials, reward, unit_cost: as in
            :class:`ThompsonSampling`.
        inventory_rate: ``"update"`` (TS-update) or ``"fixed"`` (TS-fixed).
        shutoff_action: the action whose price stands for "no sale" (demand taken as 0
            and left out of the LP), e.g. a prohibitive last grid price; ``None`` when
            the grid has none (then the highest price is charged once the stock is gone).
        inventory: the initial stock the ``inventory_fraction`` observation refers to;
            ``None`` for the market's.
        horizon: periods per season; ``None`` for the market's.
        explore: False solves the LP at the posterior-mean demands instead of a draw
            (the price is still drawn from the LP's mix; see the module docstring).
        name: label for reports.

    Needs ``inventory_fraction`` and ``time_remaining`` in the observation.
    """

    kind = "inventory_thompson"

    def __init__(
        self,
        likelihood: Literal["auto", "bernoulli", "poisson"] = "auto",
        prior_a: float = 1.0,
        prior_b: float | None = None,
        trials: int = 1,
        reward: RewardKind = "profit",
        unit_cost: float | None = None,
        inventory_rate: Literal["update", "fixed"] = "update",
        shutoff_action: int | None = None,
        inventory: float | None = None,
        horizon: int | None = None,
        explore: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(likelihood, prior_a, prior_b, trials, reward, unit_cost, explore, name)
        if inventory_rate not in ("update", "fixed"):
            raise ConfigError(
                f"inventory_rate={inventory_rate!r} must be 'update' (remaining stock / remaining "
                "periods, TS-update) or 'fixed' (initial stock / horizon, TS-fixed)."
            )
        self.inventory_rate = inventory_rate
        if shutoff_action is not None and (
            isinstance(shutoff_action, bool) or int(shutoff_action) != shutoff_action
        ):
            raise ConfigError(f"shutoff_action={shutoff_action!r} must be an action index.")
        self.shutoff_action = None if shutoff_action is None else int(shutoff_action)
        self.inventory = None if inventory is None else _number("inventory", inventory, 0.0)
        if horizon is not None and (int(horizon) != horizon or horizon < 1):
            raise ConfigError(f"horizon={horizon!r} must be an integer >= 1 period.")
        self.horizon = None if horizon is None else int(horizon)
        self.last_mix_: np.ndarray | None = None

    def _check_market(self, view: MarketView) -> None:
        super()._check_market(view)
        if self.inventory is None:
            view.require("inventory", self)
        elif view.inventory_index is None:
            view.require("inventory", self)
        view.require("time", self)
        if self.horizon is None:
            view.require("horizon", self)
        grid = view.codec.grid
        assert grid is not None  # super()._check_market refuses a continuous market
        n = grid.size
        if self.shutoff_action is not None and not 0 <= self.shutoff_action < n:
            raise ConfigError(
                f"shutoff_action={self.shutoff_action} is not an action of the {n}-price grid."
            )

    def _stock0(self) -> float:
        view = self._view()
        stock = self.inventory if self.inventory is not None else view.inventory
        assert stock is not None
        return float(stock)

    def _horizon(self) -> int:
        view = self._view()
        h = self.horizon if self.horizon is not None else view.horizon
        assert h is not None
        return int(h)

    def inventory_rate_now(self, observation: np.ndarray) -> tuple[float, float]:
        """(remaining stock, the LP's right-hand side c) for ``observation``."""
        view = self._view()
        stock = view.inventory_fraction(observation) * self._stock0()
        if self.inventory_rate == "fixed":
            return stock, self._stock0() / self._horizon()
        left = max(round(view.time_remaining(observation) * self._horizon()), 1)
        return stock, stock / left

    def solve_mix(self, demand: np.ndarray, rate: float) -> np.ndarray:
        """The LP's price probabilities x (shape n; the shut-off action gets the rest).

        Returns all zeros when no mix is feasible (only possible without a shut-off
        action); :meth:`act` then charges the price with the smallest demand.
        """
        n = demand.size
        arms = np.array([k for k in range(n) if k != self.shutoff_action])
        d = np.maximum(demand[arms], 0.0)
        v = self.unit_values()[arms]
        kwargs: dict[str, Any] = {}
        if self.shutoff_action is None:
            a_ub, b_ub = d[None, :], [rate]
            kwargs = {"A_eq": np.ones((1, arms.size)), "b_eq": [1.0]}
        else:
            a_ub, b_ub = np.vstack([d, np.ones(arms.size)]), [rate, 1.0]
        res = linprog(-(v * d), A_ub=a_ub, b_ub=b_ub, bounds=(0.0, None), method="highs", **kwargs)
        x = np.zeros(n)
        if res.status == 0:
            x[arms] = np.clip(res.x, 0.0, None)
            total = x.sum()
            if total > 1.0:
                x /= total
        return x

    def _explore_action(self, observation: np.ndarray) -> int:
        return self._mix_action(observation, self.sample_demand)

    def greedy_action(self, observation: np.ndarray) -> int:
        """A price drawn from the LP's mix at the posterior-mean demands."""
        return self._mix_action(observation, self.posterior_mean)

    def _mix_action(self, observation: np.ndarray, demands: Callable[[], np.ndarray]) -> int:
        obs = np.asarray(observation)
        stock, rate = self.inventory_rate_now(obs)
        fallback = self.shutoff_action if self.shutoff_action is not None else self.n_arms - 1
        if stock <= 1e-9:
            self.last_mix_ = None
            return int(fallback)
        demand = demands()
        x = self.solve_mix(demand, rate)
        self.last_mix_ = x
        if x.sum() <= 0.0:
            if self.shutoff_action is not None:
                return self.shutoff_action
            return int(np.argmin(demand))
        u = self._rng().random()
        k = int(np.searchsorted(np.cumsum(x), u, side="right"))
        return k if k < x.size and x[k] > 0 else int(fallback)
