"""Where a policy's return comes from: cumulative profit against the terminal valuation.

For every heuristic baseline (and the exact oracle where the scenario has one),
plays ``--episodes`` episodes on the batched SB3 face with the default
:class:`~lepton_env.reward.ProfitReward` and prints the mean of each reward
component (reward units: $M over ``reward_scale``) and the valuation's share of
the return. Usage::

    python -m lepton_env.experiments.return_split                      # toy and global, 64 episodes
    python -m lepton_env.experiments.return_split --scenario global --episodes 256
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lepton_env.agents import baselines
from lepton_env.agents.oracle import NotDeterministicError, OracleAgent
from lepton_env import make_vec_env

BASELINES: dict[str, type[baselines.HeuristicAgent]] = {
    "home_only": baselines.HomeOnlyAgent,
    "random": baselines.RandomAgent,
    "greedy_largest_market": baselines.GreedyLargestMarketAgent,
    "uppsala": baselines.UppsalaAgent,
    "pilot_then_scale": baselines.PilotThenScaleAgent,
    "born_global": baselines.BornGlobalAgent,
}


def episode_components(
    agent: Any, env_id: str, num_envs: int, seed: int, **env_kwargs: Any
) -> dict[str, NDArray[np.float64]]:
    """One episode per env (seeds ``seed .. seed + num_envs - 1``): each reward component
    summed over the episode, and ``return``, (num_envs,) each."""
    venv = make_vec_env(env_id, num_envs, seed=seed, **env_kwargs)
    observation = venv.reset()
    totals: dict[str, NDArray[np.float64]] = {}
    alive = np.ones(num_envs, dtype=bool)
    while alive.any():
        action, _ = agent.predict(observation, action_masks=venv.action_masks())
        observation, _, dones, _ = venv.step(action)
        for name, value in venv.kpis["reward_components"].items():
            totals.setdefault(name, np.zeros(num_envs))
            totals[name] += np.where(alive, value, 0.0)
        alive &= ~dones
    venv.close()
    totals["return"] = np.sum([v for k, v in totals.items()], axis=0)
    return totals


def split_table(scenario: str, episodes: int, seed: int = 0) -> pd.DataFrame:
    """Mean profit, valuation and bankruptcy components of every baseline (and oracle)."""
    rows = []
    contenders: list[tuple[str, str, int, Any]] = []
    try:
        contenders.append(
            ("oracle", "LeptonExpansion-Single-v0", 1, OracleAgent(scenario, seed=seed))
        )
    except NotDeterministicError:
        pass
    for name, cls in BASELINES.items():
        venv = make_vec_env("LeptonExpansion-v0", 1, scenario=scenario)
        contenders.append((name, "LeptonExpansion-v0", episodes, cls(venv)))
        venv.close()
    for name, env_id, count, agent in contenders:
        parts = episode_components(agent, env_id, count, seed, scenario=scenario)
        mean = {key: float(np.mean(value)) for key, value in parts.items()}
        share = mean["valuation"] / mean["return"] if mean["return"] != 0 else float("nan")
        rows.append(
            {
                "scenario": scenario,
                "policy": name,
                "episodes": count,
                "return": mean["return"],
                "profit": mean["profit"],
                "valuation": mean["valuation"],
                "bankruptcy": mean["bankruptcy"],
                "valuation_share": share,
            }
        )
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="toy and global by default")
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tables = [split_table(s, args.episodes, args.seed) for s in args.scenario or ["toy", "global"]]
    print(pd.concat(tables).to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
