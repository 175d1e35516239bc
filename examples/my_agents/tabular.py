"""Tabular Q-learning (Watkins 1989) over rounded observations: a custom agent example.

It uses nothing from lepton-env: it satisfies the agent protocol
(``learn`` / ``predict`` / ``save`` / ``load``, agents/players/protocol.py) and steps
the VecEnv it is given, so the training pipeline logs its KPIs, evaluates it
on held-out seeds and checkpoints it like any SB3 algorithm. Name it in a
config by ``_target_: my_agents.tabular.TabularQAgent``.

Update, for a transition (s, a, r, s') of a discrete action space::

    Q(s, a) <- Q(s, a) + alpha * (r + gamma * (1 - done) * max_b Q(s', b) - Q(s, a))

States are observations rounded to ``decimals`` places; exploration is
epsilon-greedy with epsilon decaying linearly over ``exploration_fraction`` of
the budget. Suited to small deterministic worlds (the ``toy`` scenario).
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces


class TabularQAgent:
    """Q-learning with a table keyed by rounded observations (Discrete actions only)."""

    def __init__(
        self,
        env: Any = None,
        seed: int = 0,
        learning_rate: float = 0.2,
        gamma: float = 0.99,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.05,
        exploration_fraction: float = 0.5,
        decimals: int = 2,
    ) -> None:
        if env is not None and not isinstance(env.action_space, spaces.Discrete):
            raise ValueError(
                f"TabularQAgent needs a Discrete action space, got {env.action_space} "
                "(use env=discrete)"
            )
        self.env = env
        self.seed = seed
        self.learning_rate = learning_rate
        self.gamma = gamma
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.exploration_fraction = exploration_fraction
        self.decimals = decimals
        self.num_actions = int(env.action_space.n) if env is not None else 0
        self.q_table: dict[bytes, np.ndarray] = defaultdict(self._zeros)
        self.num_timesteps = 0
        self._rng = np.random.default_rng(seed)

    def _zeros(self) -> np.ndarray:
        return np.zeros(self.num_actions)

    def _key(self, observation: np.ndarray) -> bytes:
        return np.round(np.asarray(observation, dtype=np.float64), self.decimals).tobytes()

    def _epsilon(self, progress: float) -> float:
        fraction = min(1.0, progress / max(self.exploration_fraction, 1e-9))
        start, end = self.exploration_initial_eps, self.exploration_final_eps
        return start + fraction * (end - start)

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> TabularQAgent:
        """Step the env ``total_timesteps`` times (summed over its sub-envs), updating Q."""
        env = self.env
        observations = env.reset()
        start, steps = self.num_timesteps, 0
        while steps < total_timesteps:
            epsilon = self._epsilon(steps / total_timesteps)
            greedy, _ = self.predict(observations, deterministic=True)
            explore = self._rng.random(env.num_envs) < epsilon
            random_actions = self._rng.integers(0, self.num_actions, env.num_envs)
            actions = np.where(explore, random_actions, greedy)
            next_observations, rewards, dones, infos = env.step(actions)
            for index in range(env.num_envs):
                # At an episode's end the VecEnv has already reset: use the terminal observation.
                successor = (
                    infos[index]["terminal_observation"]
                    if dones[index]
                    else next_observations[index]
                )
                truncated = infos[index].get("TimeLimit.truncated", False)
                bootstrap = 0.0 if dones[index] and not truncated else 1.0
                target = (
                    rewards[index]
                    + self.gamma * bootstrap * self.q_table[self._key(successor)].max()
                )
                row = self.q_table[self._key(observations[index])]
                row[actions[index]] += self.learning_rate * (target - row[actions[index]])
            observations = next_observations
            steps += env.num_envs
            self.num_timesteps = start + steps
        return self

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        **kwargs: Any,
    ) -> tuple[np.ndarray, None]:
        """The greedy action of each observation (random among ties broken by index)."""
        batch = np.atleast_2d(observation)
        actions = np.array([int(np.argmax(self.q_table[self._key(row)])) for row in batch])
        return actions, None

    def save(self, path: str) -> None:
        """Pickle the hyperparameters and the table."""
        data = {
            "hyperparameters": {
                "seed": self.seed,
                "learning_rate": self.learning_rate,
                "gamma": self.gamma,
                "exploration_initial_eps": self.exploration_initial_eps,
                "exploration_final_eps": self.exploration_final_eps,
                "exploration_fraction": self.exploration_fraction,
                "decimals": self.decimals,
            },
            "num_actions": self.num_actions,
            "num_timesteps": self.num_timesteps,
            "q_table": dict(self.q_table),
        }
        Path(path).write_bytes(pickle.dumps(data))

    @classmethod
    def load(cls, path: str, env: Any = None, **kwargs: Any) -> TabularQAgent:
        """Read an agent written by :meth:`save`, attached to ``env``."""
        data = pickle.loads(Path(path).read_bytes())
        agent = cls(env=env, **data["hyperparameters"])
        agent.num_actions = data["num_actions"]
        agent.num_timesteps = data["num_timesteps"]
        agent.q_table.update(data["q_table"])
        return agent
