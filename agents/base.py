"""The one protocol every pricing agent follows, and the action ↔ price helpers.

Rule-based sellers, bandits, tabular Q-learning, stable-baselines3 policies and
the dynamic-programming optimum all subclass :class:`PricingAgent`, so that they
meet on equal terms in the same markets, tournaments and reports:

- ``reset(seed)`` starts an episode (or a whole run, for learners that keep what
  they learned across episodes) and re-seeds the agent's **one** random source,
  ``self.rng``; nothing else random is used.
- ``act(observation) → action`` returns an action of the market's action space
  (a grid index for discrete markets, a value in [-1, 1] for continuous ones).
- ``update(observation, action, reward, next_observation, terminated, info=None)``
  feeds one transition to an agent that learns online; it does nothing for the others.
- ``bind(env) → self`` tells the agent the market it will act in: the action ↔
  price mapping (:class:`ActionCodec`, ``self.codec``) and the meaning of each
  observation entry (``self.obs_index``: name → position, from the env's
  ``observation_names``). Runners bind before the first ``reset``; an agent
  that reads prices or named features from observations needs it, and raises
  :class:`~pricegym.errors.ConfigError` from ``act`` when it was never bound.
- ``name`` (for reports; defaults to the agent kind) and ``params`` (the
  constructor's arguments, scikit-learn style) describe the agent.
- ``save(path)`` / ``load(path)`` write and read ``<path>.json`` + ``<path>.npz``
  (never pickle) through :mod:`pricegym.demand.io`; a subclass that learns
  overrides :meth:`_get_state` / :meth:`_set_state`.

Subclasses register themselves by their ``kind`` so that :func:`make_agent` and
:meth:`PricingAgent.load` can rebuild them from a name and parameters (as the
experiment YAML does).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

import pricegym
from pricegym._json import jsonable
from pricegym.agents.view import ActionCodec, MarketView
from pricegym.demand.io import read_model_files, write_model_files
from pricegym.errors import ConfigError, ModelFileError

__all__ = [
    "AGENT_FORMAT",
    "ActionCodec",
    "PricingAgent",
    "agent_kinds",
    "make_agent",
]

#: The ``format`` field of agent files (see :func:`pricegym.demand.io.write_model_files`).
AGENT_FORMAT = "pricegym.agent"

_REGISTRY: dict[str, type[PricingAgent]] = {}

#: Modules whose agents register themselves on import; loaded on first registry use
#: so that ``make_agent("ucb1")`` works without importing the module first.
_BUILTIN_MODULES = (
    "rules",
    "bandits",
    "dp",
    "qlearning",
    "sb3",
    "catalogue_rules",
    "catalogue_bandit",
)


def _load_builtins() -> None:
    for name in _BUILTIN_MODULES:
        try:
            importlib.import_module(f"pricegym.agents.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pricegym.agents.{name}":
                raise


def agent_kinds() -> dict[str, type[PricingAgent]]:
    """Every registered agent kind (name → class), in registration order."""
    _load_builtins()
    return dict(_REGISTRY)


def make_agent(kind: str, **params: Any) -> PricingAgent:
    """An agent of the registered ``kind`` built with ``params``.

    Raises:
        ConfigError: an unknown kind (with a did-you-mean) or parameters the kind
            does not take.
    """
    _load_builtins()
    if kind not in _REGISTRY:
        close = difflib.get_close_matches(str(kind), list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown agent kind {kind!r}; known kinds: {', '.join(sorted(_REGISTRY))}.{hint}"
        )
    cls = _REGISTRY[kind]
    accepted = set(cls._param_names())
    unknown = sorted(set(params) - accepted)
    if unknown:
        hints = []
        for u in unknown:
            close = difflib.get_close_matches(u, sorted(accepted), n=1)
            if close:
                hints.append(f"{u!r} → did you mean {close[0]!r}?")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ConfigError(
            f"agent kind {kind!r} does not take parameter(s) {', '.join(unknown)}{hint}; "
            f"it takes: {', '.join(sorted(accepted)) or 'no parameters'}."
        )
    return cls(**params)


class PricingAgent(ABC):
    """Base class of every pricing agent (see the module docstring for the protocol).

    Subclasses set the class attribute ``kind`` (a unique registry name), store
    their constructor arguments unchanged under the same attribute names (so that
    :attr:`params` can read them back), and implement :meth:`act`.
    """

    #: Registry name; each concrete subclass sets its own.
    kind: ClassVar[str] = ""
    #: Whether :meth:`update` learns (reports and runners use it to decide on training).
    learns: ClassVar[bool] = False
    #: Whether :meth:`act` also takes a (B, d) batch of observations, returning one action
    #: per row, as a pure function of the observation (no randomness, no per-episode
    #: state); evaluation then plays many episodes at once in a batched market.
    batch_act: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind and not inspect.isabstract(cls):
            if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
                raise TypeError(
                    f"agent kind {cls.kind!r} is registered twice "
                    f"({_REGISTRY[cls.kind].__qualname__} and {cls.__qualname__})"
                )
            _REGISTRY[cls.kind] = cls

    # ------------------------------------------------------------------ identity
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            n
            for n, p in sig.parameters.items()
            if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    @property
    def params(self) -> dict[str, Any]:
        """The constructor's arguments, as stored on the agent (JSON-friendly values)."""
        return {n: jsonable(getattr(self, n)) for n in self._param_names() if n != "name"}

    @property
    def name(self) -> str:
        """Label for reports: the ``name`` given at construction, else the kind."""
        return getattr(self, "_name", None) or self.kind

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ protocol
    def bind(self, env: Any) -> Self:
        """Adopt ``env``'s action codec, observation names and market facts; returns ``self``.

        ``env`` is any pricegym market (see :class:`~pricegym.agents.view.MarketView`):
        sets ``self.codec``, ``self.obs_index`` and ``self.market`` (the view).
        """
        view = MarketView.from_env(env)
        self.codec = view.codec
        self.obs_index = {n: i for i, n in enumerate(view.names)}
        self.market = view
        self._bind(env)
        return self

    def _bind(self, env: Any) -> None:
        """Hook: anything else the subclass reads from the env (default: nothing)."""
        return None

    def _require_bound(self) -> ActionCodec:
        """The codec, or a ConfigError naming the fix when :meth:`bind` was never called."""
        codec = getattr(self, "codec", None)
        if codec is None:
            raise ConfigError(
                f"agent {self.name!r} ({type(self).__name__}) has not been bound to a market; "
                "call agent.bind(env) before reset/act so it knows the price grid and the "
                "observation layout."
            )
        return codec

    def reset(self, seed: int | None = None) -> None:
        """Re-seed ``self.rng`` and start an episode (learners keep what they learned)."""
        self.rng = np.random.default_rng(seed)
        self._reset()

    def _reset(self) -> None:
        """Hook: per-episode state of the subclass (default: none)."""
        return None

    def policy_memory(self) -> tuple[str, ...] | None:
        """The attributes that, with the observation, fix :meth:`act` (None: no such promise).

        ``()`` promises that ``act`` is a deterministic function of the observation
        alone; names promise that it is a deterministic function of the observation
        and those attributes (the rule's memory, e.g. "has the trigger been pulled"),
        which ``act`` may change and :meth:`reset` restores. Such an agent can be
        compiled into a finite automaton over the market's states, which is how
        Q-learning against it runs compiled
        (:func:`pricegym.agents.qlearning.train_against`). Default: ``()`` when
        :attr:`batch_act` (a pure function of the observation), else None (the
        agent draws random numbers, learns, or keeps other memory).
        """
        return () if self.batch_act else None

    @abstractmethod
    def act(self, observation: np.ndarray) -> Any:
        """The action for ``observation`` (an element of the market's action space)."""

    def update(
        self,
        observation: np.ndarray,
        action: Any,
        reward: float,
        next_observation: np.ndarray,
        terminated: bool,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Learn from one transition (agents that do not learn ignore it).

        ``info`` is the env's step info when the caller has it (exact units sold,
        prices); learners must also work without it.
        """
        return None

    # ------------------------------------------------------------------ files
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Hook: learned state as (JSON-able dict, numpy arrays). Default: nothing."""
        return {}, {}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Hook: restore what :meth:`_get_state` returned."""
        return None

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (.json) and its ``.npz`` atomically; returns the JSON path.

        Besides the kind, name, parameters and learned state, the JSON records the
        module that defines the agent's class and the pricegym version that wrote it:
        :meth:`load` imports that module (when it is part of pricegym) and tells a
        file from a newer pricegym from one of an unknown kind.
        """
        state, arrays = self._get_state()
        document = {
            "kind": self.kind,
            "module": type(self).__module__,
            "pricegym_version": _pricegym_version(),
            "name": self.name,
            "params": self.params,
            "state": state,
        }
        return write_model_files(path, document, arrays, fmt=AGENT_FORMAT)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Rebuild an agent saved by :meth:`save` (of this class or, on the base, any kind).

        Works in a fresh interpreter: the module recorded in the file (a pricegym
        module), else every built-in agent module, is imported to register the kind.
        A module outside pricegym is never imported on a file's say-so: import it
        first (its classes register their kinds on import).

        Raises:
            ModelFileError: not an agent file; a kind this pricegym does not have
                (the message says whether the file comes from a newer pricegym —
                then upgrading helps —, from this or an older one, or from a module
                outside pricegym); or a file of another kind than the class it is
                loaded through.
        """
        doc, arrays = read_model_files(path, fmt=AGENT_FORMAT)
        target = _registered_class(doc, path)
        kind = target.kind
        if cls is not PricingAgent and not issubclass(target, cls):
            raise ModelFileError(
                f"{str(path)!r} holds a {kind!r} agent, not a {cls.kind or cls.__name__!r}; "
                "load it with PricingAgent.load(path)."
            )
        params = dict(doc.get("params", {}))
        if "name" in target._param_names():
            params["name"] = doc.get("name")
        agent = target(**params)
        if "name" not in target._param_names():
            agent.name = doc.get("name")
        agent._set_state(doc.get("state", {}), arrays)
        assert isinstance(agent, cls)  # target is cls or a subclass (checked above)
        return agent


def _pricegym_version() -> str:
    return str(pricegym.__version__)


def _release(text: Any) -> tuple[int, ...] | None:
    """The numeric release of a version string (``"0.2.1rc1"`` → (0, 2, 1)), else None."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(text)) if text is not None else None
    if match is None:
        return None
    parts = [int(p) for p in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # 1.0 == 1.0.0
    return tuple(parts)


def _import_recorded_module(module: str) -> None:
    """Import a pricegym module a file names (a module that no longer exists is skipped)."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not (module == missing or module.startswith(missing + ".")):
            raise  # the module exists but one of its own imports is missing: say so


def _registered_class(doc: dict[str, Any], path: str | Path) -> type[PricingAgent]:
    """The class of the file's ``kind``, importing what registers it; else a ModelFileError."""
    kind = doc.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ModelFileError(
            f"{str(path)!r} is an agent file without a valid 'kind' (got {kind!r}); it is "
            "corrupt or hand-edited: save the agent again."
        )
    module = doc.get("module")
    if not isinstance(module, str) or not module:
        module = None
    ours_in_pricegym = module is not None and (
        module == "pricegym" or module.startswith("pricegym.")
    )
    if kind not in _REGISTRY and module is not None and ours_in_pricegym:
        _import_recorded_module(module)
    if kind not in _REGISTRY:
        _load_builtins()
    if kind in _REGISTRY:
        return _REGISTRY[kind]

    ours = _pricegym_version()
    written = doc.get("pricegym_version")
    known = ", ".join(sorted(_REGISTRY))
    where = f"{str(path)!r} holds an agent of kind {kind!r}"
    if module is not None and not ours_in_pricegym:
        raise ModelFileError(
            f"{where}, defined in module {module!r}, which is not part of pricegym and is "
            f"not imported on a file's say-so; `import {module}` (it registers the kind) "
            "before PricingAgent.load, or load it through its class."
        )
    new, old = _release(written), _release(ours)
    if new is not None and old is not None and new > old:
        raise ModelFileError(
            f"{where}, written by pricegym {written}, newer than this pricegym {ours}, which "
            f"has no such kind (known: {known}); upgrade pricegym to {written} or later."
        )
    if written is None:
        raise ModelFileError(
            f"{where}, which pricegym {ours} does not have (known: {known}); the file is in "
            "an older format that does not record the pricegym version that wrote it, so "
            "load it with that pricegym, or retrain and save the agent again."
        )
    raise ModelFileError(
        f"{where}, written by pricegym {written}; this pricegym {ours} has no such kind "
        f"(known: {known}), and upgrading will not add it: it was renamed or removed since "
        f"{written}, or the file was edited. Load it with pricegym {written}, or retrain "
        "and save the agent again."
    )
