"""Training-time machinery of :class:`~pricegym.agents.sb3.SB3Agent`: callbacks and torch settings.

:class:`_AgentCheckpoint` is SB3's ``CheckpointCallback`` saving the whole agent (our
files) instead of SB3's zip + pickle; :class:`_SaveBest` saves the agent when SB3's
``EvalCallback`` sees a new best mean reward; :func:`_torch_settings` fixes torch's
thread count (and determinism off the CPU) while training. ``SB3Agent.train`` wires
them; everything here is re-exported by :mod:`pricegym.agents.sb3`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.utils import get_device

if TYPE_CHECKING:
    from pricegym.agents.sb3 import SB3Agent


@contextmanager
def _torch_settings(threads: int, device: str = "cpu") -> Iterator[None]:
    """torch with ``threads`` intra-op threads (and deterministic algorithms off the CPU).

    On the CPU the ops SB3's MLP policies use give the same results run to run for a
    fixed thread count, so ``torch.use_deterministic_algorithms`` is only switched on
    for other devices: its first call imports torch's compiler stack (~4 s per
    process, measured), which every runner worker would pay.
    """
    old_threads = torch.get_num_threads()
    strict = get_device(device).type != "cpu"  # SB3 resolves "auto" (and "cuda" without one)
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    if strict:
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        if strict:
            torch.use_deterministic_algorithms(old_det)


# ==================================================================== callbacks
class _AgentCheckpoint(CheckpointCallback):
    """SB3's CheckpointCallback saving the whole agent (our files) instead of the zip + pickle."""

    def __init__(self, agent: SB3Agent, save_freq: int, save_path: str) -> None:
        super().__init__(save_freq, save_path, name_prefix="agent")
        self._agent = agent

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            path = self._checkpoint_path(extension="json")
            self._agent.save(path)
            if self.verbose >= 2:
                print(f"Saving agent checkpoint to {path}")
        return True


class _SaveBest(BaseCallback):
    """Called by EvalCallback on a new best mean reward: saves the agent as ``path``."""

    def __init__(self, agent: SB3Agent, path: Path) -> None:
        super().__init__()
        self._agent, self._path = agent, path

    def _on_step(self) -> bool:
        self._agent.save(self._path)
        return True
