"""The agent protocol: what any agent, ours, SB3's or a user's, provides.

It is Stable-Baselines3's own surface (``BaseAlgorithm``), so every SB3 and
sb3-contrib algorithm satisfies it unchanged; a user's class named by
``_target_`` in a config needs only these four methods.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Agent(Protocol):
    """learn / predict / save / load."""

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> Any:
        """Train for ``total_timesteps`` env steps; return self."""
        ...

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        **kwargs: Any,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Actions for a batch of observations (and the recurrent state, if any).

        Maskable agents receive ``action_masks=`` as a keyword.
        """
        ...

    def save(self, path: str) -> None:
        """Write the agent to ``path``."""
        ...

    @classmethod
    def load(cls, path: str, env: Any = None, **kwargs: Any) -> Any:
        """Read an agent written by :meth:`save`."""
        ...
