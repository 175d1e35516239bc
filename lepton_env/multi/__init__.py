"""The multi-agent faces: every firm of a scenario as an agent.

* :func:`parallel_env` / :func:`env` / :func:`raw_env`: PettingZoo's parallel and
  AEC environments (:mod:`lepton_env.multi.parallel`).
* :class:`~lepton_env.multi.vec_env.LeptonMultiVecEnv`: a Stable-Baselines3
  ``VecEnv`` whose rows are (env, learning firm) pairs, the other firms played
  inside it by agents of :mod:`lepton_env.agents` (needs the ``train`` extra,
  imported on first use); a scripted firm may be a
  :class:`~lepton_env.multi.population.Population`, a member drawn per env and episode.
"""

from __future__ import annotations

from typing import Any

from lepton_env.multi.parallel import LeptonParallelEnv, env, parallel_env, raw_env
from lepton_env.multi.population import Population

__all__ = ["LeptonMultiVecEnv", "LeptonParallelEnv", "Population", "env", "parallel_env", "raw_env"]


def __getattr__(name: str) -> Any:
    # Stable-Baselines3 is an optional extra: the VecEnv is imported only when asked for
    if name == "LeptonMultiVecEnv":
        from lepton_env.multi.vec_env import LeptonMultiVecEnv

        return LeptonMultiVecEnv
    raise AttributeError(f"module 'lepton_env.multi' has no attribute {name!r}")
