"""Benchmark of the multi-agent faces: agent-steps per second, batched against SuperSuit.

Measures, in one run on one machine, agent-steps per wall-clock second (one
agent-step is one firm's quarter in one env) of:

* the batched multi-agent SB3 face (:class:`~lepton_env.multi.vec_env.LeptonMultiVecEnv`)
  on ``race`` at n = 4096 envs, every firm learning (n F rows);
* the same face with every rival scripted inside it (``HomeOnlyAgent``: one batched
  ``predict`` per rival and step), counting every firm's step;
* the same face and SuperSuit's vectorization of the ParallelEnv
  (``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``, n copies stepped one
  after the other) at a smaller n on a world where no firm goes bankrupt
  (``credit_line`` raised): SuperSuit 3.11 cannot run agents that leave before the
  episode ends (its ``black_death`` wrapper never ends an episode on truncation,
  SuperSuit PR #265);
* the ParallelEnv itself, one env stepped by a Python loop;
* Gymnasium's ``CartPoleVectorEnv`` at n = 4096 (one agent per env), a yardstick
  of the machine's speed;

and each as a ratio to the batched face at n = 4096. Actions are uniform random
over each agent's action space (masked moves are no-ops), drawn before timing.
Usage::

    python -m lepton_env.experiments.bench.multi                   # race, ~1 minute
    python -m lepton_env.experiments.bench.multi --quick           # a short check
    python -m lepton_env.experiments.bench.multi --scenario duel_toy --output bench.json
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

import lepton_env
from lepton_env.experiments.bench.env import batch_actions, timed_rate
from lepton_env.multi import LeptonMultiVecEnv, parallel_env

#: A credit line no firm exhausts in a benchmark run: every firm stays to the horizon.
NO_BANKRUPTCY: dict[str, Any] = {"credit_line": 1e9}
ACTION_POOL = 16  # distinct pre-drawn action batches, cycled while timing


def vec_env_rate(
    n: int, scenario: str, seconds: float, scripted: str | None = None, **overrides: Any
) -> tuple[float, float]:
    """Agent-steps/s of :class:`LeptonMultiVecEnv` (every firm's step counted)."""
    probe = parallel_env(scenario, **overrides)
    rivals = probe.possible_agents[1:]
    venv = LeptonMultiVecEnv(
        n, scenario, scripted={a: scripted for a in rivals} if scripted else None, **overrides
    )
    venv.seed(0)
    venv.reset()
    actions = batch_actions(venv.action_space, venv.num_envs, ACTION_POOL)
    counter = [0]

    def step() -> None:
        counter[0] += 1
        venv.step(actions[counter[0] % len(actions)])

    return timed_rate(step, n * len(probe.possible_agents), seconds)


def supersuit_rate(n: int, scenario: str, seconds: float, **overrides: Any) -> tuple[float, float]:
    """Agent-steps/s of SuperSuit's vectorization of the ParallelEnv (n copies, in process)."""
    import supersuit

    markov = supersuit.pettingzoo_env_to_vec_env_v1(parallel_env(scenario, **overrides))
    venv = supersuit.concat_vec_envs_v1(markov, n, num_cpus=0, base_class="gymnasium")
    venv.reset(seed=0)
    actions = batch_actions(venv.action_space, venv.num_envs, ACTION_POOL)
    counter = [0]

    def step() -> None:
        counter[0] += 1
        venv.step(actions[counter[0] % len(actions)])

    return timed_rate(step, venv.num_envs, seconds)


def parallel_rate(scenario: str, seconds: float) -> tuple[float, float]:
    """Agent-steps/s of one ParallelEnv stepped by a Python loop (reset when it ends)."""
    env = parallel_env(scenario)
    env.reset(seed=0)
    spaces = {a: env.action_space(a) for a in env.possible_agents}
    for index, space in enumerate(spaces.values()):
        space.seed(index)
    pool = [{a: s.sample() for a, s in spaces.items()} for _ in range(ACTION_POOL * 8)]
    counter = [0]
    acted = [0]

    def step() -> None:
        counter[0] += 1
        if not env.agents:
            env.reset()
        actions = pool[counter[0] % len(pool)]
        acted[0] += len(env.agents)
        env.step({a: actions[a] for a in env.agents})

    # agents leave mid-episode, so count the agent-steps taken, not calls x F
    wall, cpu = timed_rate(step, 1, seconds)
    return wall * acted[0] / counter[0], cpu * acted[0] / counter[0]


def cartpole_rate(n: int, seconds: float) -> tuple[float, float]:
    venv = CartPoleVectorEnv(num_envs=n)
    venv.reset(seed=0)
    actions = batch_actions(venv.single_action_space, n, ACTION_POOL)
    counter = [0]

    def step() -> None:
        counter[0] += 1
        venv.step(actions[counter[0] % len(actions)])

    return timed_rate(step, n, seconds)


def table(scenario: str, n: int, small_n: int, seconds: float) -> list[dict[str, Any]]:
    """Every row, measured in this run; ``ratio`` is to the batched face at n."""
    cases: list[tuple[str, str, int, Callable[[], tuple[float, float]]]] = [
        ("ours: LeptonMultiVecEnv", "default", n, lambda: vec_env_rate(n, scenario, seconds)),
        (
            "ours: LeptonMultiVecEnv, rivals scripted (HomeOnlyAgent)",
            "default",
            n,
            lambda: vec_env_rate(n, scenario, seconds, scripted="HomeOnlyAgent"),
        ),
        (
            "ours: LeptonMultiVecEnv",
            "no bankruptcy",
            n,
            lambda: vec_env_rate(n, scenario, seconds, **NO_BANKRUPTCY),
        ),
        (
            "ours: LeptonMultiVecEnv",
            "no bankruptcy",
            small_n,
            lambda: vec_env_rate(small_n, scenario, seconds, **NO_BANKRUPTCY),
        ),
        (
            "SuperSuit concat_vec_envs_v1(pettingzoo_env_to_vec_env_v1(ParallelEnv))",
            "no bankruptcy",
            small_n,
            lambda: supersuit_rate(small_n, scenario, seconds, **NO_BANKRUPTCY),
        ),
        ("ours: ParallelEnv, Python loop", "default", 1, lambda: parallel_rate(scenario, seconds)),
        ("Gymnasium CartPoleVectorEnv (1 agent)", "CartPole", n, lambda: cartpole_rate(n, seconds)),
    ]
    rows: list[dict[str, Any]] = []
    print(f"{'face':74s} {'world':14s} {'n':>6s} {'agent-steps/s':>14s} {'per CPU s':>14s} ratio")
    for face, world, envs, measure in cases:
        wall, cpu = measure()
        rows.append({"face": face, "world": world, "n": envs, "steps_per_s": wall, "cpu": cpu})
        ratio = wall / rows[0]["steps_per_s"]
        print(
            f"{face:74s} {world:14s} {envs:6d} {wall:14,.0f} {cpu:14,.0f} {ratio:6.3f}", flush=True
        )
        rows[-1]["ratio"] = ratio
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="race", help="a multi-firm scenario (default race)")
    parser.add_argument("--num-envs", type=int, default=4096, help="envs of the batched face")
    parser.add_argument(
        "--small-num-envs", type=int, default=64, help="envs of SuperSuit's vectorization"
    )
    parser.add_argument("--quick", action="store_true", help="short run: n = 256 and 16, 0.3 s")
    parser.add_argument("--seconds", type=float, default=None, help="timing per measurement")
    parser.add_argument("--output", type=Path, default=None, help="write the rows as JSON")
    args = parser.parse_args(argv)
    n, small_n = (256, 16) if args.quick else (args.num_envs, args.small_num_envs)
    seconds = args.seconds if args.seconds is not None else (0.3 if args.quick else 3.0)
    firms = len(parallel_env(args.scenario).possible_agents)
    print(
        f"lepton-env {lepton_env.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; scenario {args.scenario} ({firms} firms); "
        "agent-steps per wall-clock second (best of 3 rounds), per CPU second of this process"
    )
    rows = table(args.scenario, n, small_n, seconds)
    result = {"scenario": args.scenario, "firms": firms, "rows": rows}
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=2))
        print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
