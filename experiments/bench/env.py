"""Benchmark of environment throughput: the batched faces against the standard vectorizations.

Measures, on ``toy`` and ``global`` and in one run on one machine:

* steps/s of the single env (``LeptonExpansionEnv``);
* env-steps/s of Gymnasium's ``SyncVectorEnv`` and SB3's ``DummyVecEnv`` over
  n single envs, and of our faces (``LeptonExpansionVectorEnv``,
  ``LeptonExpansionVecEnv``) at n = 1, 64, 1024, 16384 (the Python-loop
  vectorizations are not run at 16384: one of their steps takes tens of
  seconds and their 16384 env objects several GB);
* Gymnasium's own ``CartPoleVectorEnv`` at the same n, a yardstick of the
  machine's speed;
* peak traced memory per environment of our faces at n = 16384
  (``tracemalloc``, which numpy reports its buffers to);
* SB3 PPO training throughput with our VecEnv against ``DummyVecEnv`` at equal
  n, as wall-clock env-steps per second over the whole ``learn()`` call (SB3's
  ``time/fps`` leaves out the last update), with the share of wall time spent
  in ``collect_rollouts``: with SB3's default minibatch of 64, and with a
  minibatch of the whole 2048-transition rollout (the two readings of "a batch
  of 2048").

Actions are uniform random over the whole action space (invalid moves are
no-ops), drawn before timing starts. Usage::

    python -m lepton_env.experiments.bench.env                # full run (~5 minutes on 2 cores)
    python -m lepton_env.experiments.bench.env --quick        # a short check
    python -m lepton_env.experiments.bench.env --output bench_env.json
    python -m lepton_env.experiments.bench.env --fingerprint  # hashes of trajectories, see below
    python -m lepton_env.experiments.bench.env --compare-with ../base  # A/B against a checkout

``--fingerprint`` prints a SHA-256 of the single env's observations, rewards,
flags, masks and infos (every scenario and action face, masked and unmasked
actions, through resets) and of 60 batched core steps of 64 envs. A
performance change must leave every fingerprint unchanged: run it before and
after and compare.

``--compare-with PATH`` times this checkout against the one at PATH in the same
run: one worker process per checkout (``PYTHONPATH`` set to it, and
``NUMBA_NUM_THREADS=1`` for the serial rows), asked in alternation, A then B
then B then A, for several repetitions, so that a drift of the shared
machine's load hits both alike. Each worker reports env-steps per CPU second
of the SB3 VecEnv face (``make_vec_env``) and of the batched core
(``Model.step_in_place`` with the faces' autoreset) under random valid
actions; only the step calls are timed, not the drawing of the actions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv
from gymnasium.vector.utils import batch_space
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

import lepton_env
from lepton_env.envs.expansion import LeptonExpansionEnv
from lepton_env.envs.sb3_vec import LeptonExpansionVecEnv
from lepton_env.envs.vector import LeptonExpansionVectorEnv

ENV_ID = "LeptonExpansion-v0"
ACTION_POOL = 16  # distinct pre-drawn action batches, cycled while timing


def timed_rate(
    step: Callable[[], None], env_steps_per_call: int, seconds: float, rounds: int = 3
) -> tuple[float, float]:
    """Env-steps per wall-clock second and per CPU second of ``step()``.

    One warm-up call, then ``rounds`` rounds of at least ``seconds / rounds``
    each; the best round counts (as ``timeit`` does), so that a burst of load
    from other processes on a shared machine does not decide the figure.
    """
    step()
    best_wall = best_cpu = 0.0
    for _ in range(rounds):
        calls = 0
        start, start_cpu = time.perf_counter(), time.process_time()
        while True:
            step()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / rounds:
                break
        cpu = max(time.process_time() - start_cpu, 1e-9)
        best_wall = max(best_wall, calls * env_steps_per_call / elapsed)
        best_cpu = max(best_cpu, calls * env_steps_per_call / cpu)
    return best_wall, best_cpu


def action_batches(space: gym.Space[Any], count: int, seed: int) -> list[Any]:
    space.seed(seed)
    return [space.sample() for _ in range(count)]


def single_env_rate(scenario: str, seconds: float) -> tuple[float, float]:
    env = LeptonExpansionEnv(scenario)
    env.reset(seed=0)
    actions = action_batches(env.action_space, ACTION_POOL * 8, 0)
    counter = [0]

    def step() -> None:
        counter[0] += 1
        _, _, terminated, truncated, _ = env.step(actions[counter[0] % len(actions)])
        if terminated or truncated:
            env.reset()

    return timed_rate(step, 1, seconds)


def batch_rate(
    venv: Any, kind: str, seconds: float, actions: list[Any] | None = None
) -> tuple[float, float]:
    """Env-steps/s of a Gymnasium VectorEnv (``kind="gym"``) or an SB3 VecEnv (``"sb3"``)."""
    n = venv.num_envs
    if kind == "gym":
        venv.reset(seed=0)
    else:
        venv.seed(0)
        venv.reset()
    if actions is None:
        actions = batch_actions(venv.single_action_space if kind == "gym" else venv.action_space, n)
    counter = [0]

    def step() -> None:
        counter[0] += 1
        venv.step(actions[counter[0] % len(actions)])

    return timed_rate(step, n, seconds)


def batch_actions(single_space: gym.Space[Any], n: int, count: int = ACTION_POOL) -> list[Any]:
    """``count`` batches of n uniform random actions, as arrays with a leading n axis."""
    space = batch_space(single_space, n)
    space.seed(0)
    return [space.sample() for _ in range(count)]


def measured(scenario: str, face: str, n: int, rates: tuple[float, float]) -> dict[str, Any]:
    """One row of the throughput table, printed as it is measured."""
    wall, cpu = rates
    print(f"  {scenario:8s} {face:26s} n={n:<6d} {wall:14,.0f} {cpu:14,.0f}", flush=True)
    return {"scenario": scenario, "face": face, "n": n, "steps_per_s": wall, "cpu_steps_per_s": cpu}


def throughput_table(
    scenarios: list[str], sizes: list[int], loop_sizes: list[int], seconds: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for scenario in scenarios:
        rows.append(measured(scenario, "single env", 1, single_env_rate(scenario, seconds)))
        for n in sizes:
            candidates: list[tuple[str, Callable[[], Any], str]] = [
                (
                    "ours: Gymnasium VectorEnv",
                    partial(LeptonExpansionVectorEnv, n, scenario),
                    "gym",
                ),
                ("ours: SB3 VecEnv", partial(LeptonExpansionVecEnv, n, scenario), "sb3"),
            ]
            if n in loop_sizes:
                one_env = partial(LeptonExpansionEnv, scenario)
                candidates += [
                    (
                        "Gymnasium SyncVectorEnv",
                        partial(
                            gym.make_vec,
                            ENV_ID,
                            num_envs=n,
                            vectorization_mode="sync",
                            scenario=scenario,
                        ),
                        "gym",
                    ),
                    ("SB3 DummyVecEnv", partial(DummyVecEnv, [one_env] * n), "sb3"),
                ]
            for face, build, kind in candidates:
                rows.append(measured(scenario, face, n, batch_rate(build(), kind, seconds)))
    for n in sizes:
        rate = batch_rate(CartPoleVectorEnv(num_envs=n), "gym", seconds)
        rows.append(measured("CartPole", "CartPoleVectorEnv", n, rate))
    return rows


def memory_per_env(scenario: str, n: int, kind: str) -> dict[str, float]:
    """Peak traced bytes per env while building, resetting and stepping a face of n envs.

    The action batches are drawn before tracing starts: they are the benchmark's
    input, not the environment's memory.
    """
    actions = batch_actions(LeptonExpansionEnv(scenario).action_space, n, count=2)
    tracemalloc.start()
    tracemalloc.reset_peak()
    if kind == "gym":
        venv: Any = LeptonExpansionVectorEnv(n, scenario)
    else:
        venv = LeptonExpansionVecEnv(n, scenario)
    rate, _ = batch_rate(venv, kind, 0.0, actions)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    state = venv.batch.state
    return {
        "peak_bytes_per_env": peak / n,
        "state_bytes_per_env": state.nbytes_per_env(),
        "steps_per_s_traced": rate,
    }


class TimedPPO(PPO):
    """PPO that records the wall time spent collecting rollouts."""

    collect_seconds = 0.0

    def collect_rollouts(self, *args: Any, **kwargs: Any) -> bool:
        start = time.perf_counter()
        try:
            return super().collect_rollouts(*args, **kwargs)
        finally:
            self.collect_seconds += time.perf_counter() - start


def ppo_throughput(
    scenario: str,
    n: int,
    rollout_batch: int,
    rollouts: int,
    face: str,
    minibatch: int | None = None,
) -> dict[str, float]:
    """Wall-clock env-steps/s of ``PPO.learn`` over ``rollouts`` rollouts of ``rollout_batch``.

    ``n_steps = rollout_batch / n``; ``batch_size = minibatch`` when given; every
    other PPO hyperparameter is SB3's default (minibatch 64, 10 epochs), the same
    for both faces.
    """
    if face == "ours":
        venv: Any = LeptonExpansionVecEnv(n, scenario)
    else:
        venv = DummyVecEnv([lambda: LeptonExpansionEnv(scenario) for _ in range(n)])
    venv.seed(0)
    # the VecEnv's own share of the rollouts: the rest is SB3's policy inference and buffer
    step_wait, env_seconds = venv.step_wait, [0.0]

    def timed_step_wait() -> Any:
        start = time.perf_counter()
        try:
            return step_wait()
        finally:
            env_seconds[0] += time.perf_counter() - start

    venv.step_wait = timed_step_wait
    sizes: dict[str, Any] = {"n_steps": rollout_batch // n}
    if minibatch is not None:
        sizes["batch_size"] = minibatch
    model = TimedPPO("MlpPolicy", venv, **sizes, seed=0, device="cpu")
    start, start_cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=rollout_batch * rollouts)
    wall = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    return {
        "env_steps": float(model.num_timesteps),
        "wall_s": wall,
        "cpu_s": cpu,
        "steps_per_s": model.num_timesteps / wall,
        "cpu_steps_per_s": model.num_timesteps / cpu,
        "collect_share": model.collect_seconds / wall,
        "env_step_share": env_seconds[0] / wall,
    }


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            digest.update(key.encode())
            _feed(digest, value[key])
    else:
        array = np.asarray(value)
        digest.update(f"{type(value).__name__}/{array.dtype}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())


def fingerprints(steps: int = 250) -> dict[str, str]:
    """Hashes of single-env and batched-core trajectories (see the module docstring)."""
    import dataclasses
    import hashlib

    from lepton_env import rng
    from lepton_env.core import Action

    result = {}
    for scenario in ("toy", "global", "procedural"):
        for mode in ("multi_discrete", "discrete", "continuous"):
            digest = hashlib.sha256()
            observation_mode: Literal["flat", "dict"] = "dict" if mode == "discrete" else "flat"
            env = LeptonExpansionEnv(scenario, action_mode=mode, observation_mode=observation_mode)
            choices = np.random.default_rng(1)
            _feed(digest, dict(zip("oi", env.reset(seed=3), strict=True)))
            env.action_space.seed(5)
            for t in range(steps):
                mask = env.action_masks()
                if mode == "discrete" and t % 2 == 0:
                    action: Any = int(choices.choice(np.flatnonzero(mask)))
                elif mode == "multi_discrete" and t % 2 == 0:
                    assert isinstance(env.action_space, gym.spaces.MultiDiscrete)
                    nvec = env.action_space.nvec
                    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
                    action = np.array(
                        [
                            choices.choice(np.flatnonzero(mask[o : o + k]))
                            for o, k in zip(offsets, nvec, strict=True)
                        ]
                    )
                else:
                    action = env.action_space.sample()
                observation, reward, terminated, truncated, info = env.step(action)
                _feed(digest, {"o": observation, "r": reward, "f": [terminated, truncated]})
                _feed(digest, {"i": info, "m": mask})
                if terminated or truncated:
                    reset = env.reset() if t % 3 else env.reset(seed=t)
                    _feed(digest, dict(zip("oi", reset, strict=True)))
            result[f"{scenario}/{mode}"] = digest.hexdigest()[:16]
        digest = hashlib.sha256()
        model = LeptonExpansionEnv(scenario).model
        batch, regions = 64, model.params.num_regions
        state = model.reset(rng.episode_key(np.arange(batch), 0))
        draws = np.random.default_rng(2)
        for _ in range(60):
            unit = draws.random((3, batch, regions)).astype(np.float32)
            rnd = np.where(draws.random(batch) < 0.5, np.nan, draws.random(batch))
            action = Action(
                moves=draws.integers(0, 10, (batch, regions)).astype(np.int8),
                marketing=unit[0],
                localization=unit[1],
                compliance=unit[2],
                rnd=rnd.astype(np.float32),
            )
            output = model.step(state, action)
            _feed(digest, {"v": model.valid_moves(state), "r": output.reward})
            _feed(digest, {"k": output.kpis, "c": output.reward_components})
            _feed(digest, {"f": [output.terminated, output.truncated]})
            _feed(
                digest, {f.name: getattr(output.state, f.name) for f in dataclasses.fields(state)}
            )
            state = output.state
        result[f"{scenario}/core64"] = digest.hexdigest()[:16]
    return result


# ---------------------------------------------------------------- A/B against another checkout
AB_PREFIX = "AB "  # a worker's reply lines; anything else it prints is passed over


def _sb3_stepper(scenario: str, n: int) -> tuple[Callable[[], Any], Callable[[Any], None]]:
    """(choose, step) for the SB3 VecEnv face: choose draws a random valid action batch."""
    venv: Any = lepton_env.make_vec_env(ENV_ID, n, scenario=scenario, seed=0)
    venv.reset()
    nvec = np.asarray(venv.action_space.nvec)
    starts = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    draws = np.random.default_rng(0)

    def choose() -> Any:
        # a uniform random score on each valid choice, zero elsewhere: argmax is valid
        scores = draws.random((n, int(nvec.sum()))) * venv.action_masks()
        return np.stack(
            [scores[:, s : s + k].argmax(axis=1) for s, k in zip(starts, nvec, strict=True)],
            axis=1,
        )

    def step(action: Any) -> None:
        venv.step(action)

    return choose, step


def _core_stepper(scenario: str, n: int) -> tuple[Callable[[], Any], Callable[[Any], None]]:
    """(choose, step) for ``Model.step_in_place`` with the vector faces' autoreset."""
    from lepton_env import rng
    from lepton_env.core import Action

    model = LeptonExpansionEnv(scenario).model
    regions = model.params.num_regions
    state = model.empty_state(n)
    valid, observation = model.empty_outputs(n)
    model.restart(state, np.arange(n), rng.episode_key(np.arange(n), 0), valid, observation)
    draws = np.random.default_rng(0)
    episodes = [n]

    def choose() -> Any:
        unit = draws.random((3, n, regions)).astype(np.float32)
        moves = (draws.random(valid.shape) * valid).argmax(axis=2).astype(np.int8)
        rnd = draws.random(n).astype(np.float32)
        return Action(moves, unit[0], unit[1], unit[2], rnd)

    def step(action: Any) -> None:
        output = model.step_in_place(state, action, valid, observation)
        done = np.flatnonzero(output.terminated | output.truncated)
        if done.size:
            keys = rng.episode_key(np.arange(episodes[0], episodes[0] + done.size), 0)
            episodes[0] += done.size
            model.restart(state, done, keys, valid, observation)

    return choose, step


def _timed_steps(
    choose: Callable[[], Any], step: Callable[[Any], None], n: int, seconds: float, rounds: int = 3
) -> tuple[float, float]:
    """Best-round env-steps per wall second and per CPU second of ``step`` alone."""
    step(choose())
    best_wall = best_cpu = 0.0
    for _ in range(rounds):
        calls, wall, cpu = 0, 0.0, 0.0
        while cpu < seconds / rounds:
            action = choose()
            start, start_cpu = time.perf_counter(), time.process_time()
            step(action)
            wall += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            calls += 1
        best_wall = max(best_wall, calls * n / max(wall, 1e-9))
        best_cpu = max(best_cpu, calls * n / max(cpu, 1e-9))
    return best_wall, best_cpu


def ab_worker() -> None:
    """Answer timing requests from stdin, one JSON object a line, with the checkout
    on ``PYTHONPATH``: {"face": "sb3" | "core", "scenario", "n", "seconds"}."""
    import sys

    import numba

    steppers: dict[tuple[str, str, int], Any] = {}
    build = {"sb3": _sb3_stepper, "core": _core_stepper}
    hello = {
        "lepton_env": str(Path(lepton_env.__file__).parent),
        "threads": numba.get_num_threads(),
    }
    print(AB_PREFIX + json.dumps(hello), flush=True)
    for line in sys.stdin:
        case = json.loads(line)
        key = (case["face"], case["scenario"], case["n"])
        if key not in steppers:
            steppers[key] = build[case["face"]](case["scenario"], case["n"])
        choose, step = steppers[key]
        wall, cpu = _timed_steps(choose, step, case["n"], case["seconds"])
        print(AB_PREFIX + json.dumps({"wall": wall, "cpu": cpu}), flush=True)


class _Worker:
    """A worker process timing one checkout at one NUMBA_NUM_THREADS setting."""

    def __init__(self, root: Path, threads: int | None) -> None:
        import subprocess
        import sys

        environment = dict(os.environ, PYTHONPATH=str(root))
        environment.pop("NUMBA_NUM_THREADS", None)
        if threads is not None:
            environment["NUMBA_NUM_THREADS"] = str(threads)
        script = Path(__file__).resolve()
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--ab-worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=root,
        )
        self.hello = self._reply()

    def _reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(AB_PREFIX):
                reply: dict[str, Any] = json.loads(line[len(AB_PREFIX) :])
                return reply
        raise RuntimeError(f"A/B worker exited with {self.process.wait()}")

    def time(self, case: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(case) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def compare_checkouts(
    other: Path, quick: bool, repetitions: int, seconds: float
) -> list[dict[str, Any]]:
    """Env-steps per CPU second of this checkout ("new") and ``other`` ("old"), alternated.

    Serial rows (NUMBA_NUM_THREADS=1) at n = 1, 64, 1024 (and 16384 on ``global``
    unless ``quick``); rows with numba's default threads at n >= 1024. Each
    repetition asks both workers in turn, the first one alternating between
    repetitions and cases. The ratio is new over old of the best repetition,
    with the median repetition's ratio beside it.
    """
    roots = {"new": Path(lepton_env.__file__).resolve().parents[1], "old": other.resolve()}
    cases = []
    for threads in (1, None):
        for scenario in ("toy", "global"):
            sizes = [1, 64, 1024] + ([] if quick or scenario == "toy" else [16384])
            for face in ("sb3", "core"):
                for n in sizes:
                    if threads is None and n < 1024:
                        continue
                    cases.append({"threads": threads, "scenario": scenario, "face": face, "n": n})
    rows = []
    for threads in (1, None):
        workers = {side: _Worker(root, threads) for side, root in roots.items()}
        for side, worker in workers.items():
            print(f"  {side}: {worker.hello}", flush=True)
        mine = [case for case in cases if case["threads"] == threads]
        rates: dict[int, dict[str, list[float]]] = {
            i: {"new": [], "old": [], "new_wall": [], "old_wall": []} for i in range(len(mine))
        }
        for repetition in range(repetitions):
            for i, case in enumerate(mine):
                order = ("new", "old") if (repetition + i) % 2 == 0 else ("old", "new")
                for side in order:
                    request = {key: case[key] for key in ("face", "scenario", "n")}
                    reply = workers[side].time({**request, "seconds": seconds})
                    rates[i][side].append(reply["cpu"])
                    rates[i][side + "_wall"].append(reply["wall"])
        for worker in workers.values():
            worker.close()
        for i, case in enumerate(mine):
            new, old = np.array(rates[i]["new"]), np.array(rates[i]["old"])
            row = {
                **case,
                "threads": threads or "default",
                "old_cpu_steps_per_s": float(old.max()),
                "new_cpu_steps_per_s": float(new.max()),
                "ratio": float(new.max() / old.max()),
                "median_ratio": float(np.median(new / old)),
                "repetitions": {key: list(values) for key, values in rates[i].items()},
            }
            rows.append(row)
            print(
                f"  {case['scenario']:7s} {case['face']:5s} n={case['n']:<6d} "
                f"threads={row['threads']!s:8s} old {row['old_cpu_steps_per_s']:12,.0f} "
                f"new {row['new_cpu_steps_per_s']:12,.0f}  new/old {row['ratio']:.3f} "
                f"(median {row['median_ratio']:.3f})",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run: n <= 1024, 0.3 s each")
    parser.add_argument("--seconds", type=float, default=None, help="timing per measurement")
    parser.add_argument("--output", type=Path, default=Path("bench_env.json"))
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch threads for PPO (more than one thrashes on a busy 2-core machine)",
    )
    parser.add_argument(
        "--fingerprint", action="store_true", help="print trajectory hashes and exit"
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        metavar="PATH",
        help="time this checkout against the checkout at PATH (see above) and exit",
    )
    parser.add_argument(
        "--repetitions", type=int, default=4, help="alternated repetitions of --compare-with"
    )
    parser.add_argument("--ab-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ab_worker:
        ab_worker()
        return {}
    if args.compare_with is not None:
        seconds = args.seconds if args.seconds is not None else 1.0
        print(
            f"env-steps per CPU second, this checkout (new) against {args.compare_with} (old), "
            f"{args.repetitions} alternated repetitions of {seconds} s, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        comparison = compare_checkouts(args.compare_with, args.quick, args.repetitions, seconds)
        compared: dict[str, Any] = {
            "command": "python -m lepton_env.experiments.bench.env --compare-with "
            f"{args.compare_with} --repetitions {args.repetitions} --seconds {seconds}"
            + (" --quick" if args.quick else ""),
            "comparison": comparison,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(compared, indent=2))
        print(f"wrote {args.output}")
        return compared
    if args.fingerprint:
        hashes = fingerprints()
        for name, digest in hashes.items():
            print(f"{name:28s} {digest}")
        return {"fingerprints": hashes}
    torch.set_num_threads(args.torch_threads)
    sizes = [1, 64, 1024] if args.quick else [1, 64, 1024, 16384]
    loop_sizes = [1, 64] if args.quick else [1, 64, 1024]
    seconds = args.seconds if args.seconds is not None else (0.3 if args.quick else 2.0)
    memory_n = 1024 if args.quick else 16384
    ppo_n, ppo_batch = 256, 2048
    ppo_rollouts = {"ours": 2 if args.quick else 12, "DummyVecEnv": 1 if args.quick else 4}
    ppo_rollouts_large = {"ours": 4 if args.quick else 40, "DummyVecEnv": 2 if args.quick else 10}

    print(
        f"lepton-env {lepton_env.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("throughput: env-steps per wall-clock second, per CPU second of this process")
    rows = throughput_table(["toy", "global"], sizes, loop_sizes, seconds)

    print(f"peak memory per env at n={memory_n}")
    memory = {}
    for scenario in ("toy", "global"):
        for kind, face in (("gym", "Gymnasium VectorEnv"), ("sb3", "SB3 VecEnv")):
            result = memory_per_env(scenario, memory_n, kind)
            memory[f"{scenario}/{face}"] = result
            print(
                f"  {scenario:7s} {face:20s} peak {result['peak_bytes_per_env']:8,.0f} B/env, "
                f"state {result['state_bytes_per_env']:6,.0f} B/env",
                flush=True,
            )

    ppo_runs: dict[str, dict[str, Any]] = {}
    configurations = (
        ("default", None, "SB3 default minibatch 64", ppo_rollouts),
        ("minibatch_2048", ppo_batch, "minibatch 2048 (one per epoch)", ppo_rollouts_large),
    )
    for name, minibatch, label, rollouts_by_face in configurations:
        print(
            f"SB3 PPO on global: n={ppo_n}, n_steps={ppo_batch // ppo_n} "
            f"(rollout batch {ppo_batch}), {label}, other hyperparameters SB3 defaults"
        )
        runs: dict[str, Any] = {}
        for face, rollouts in rollouts_by_face.items():
            result = ppo_throughput("global", ppo_n, ppo_batch, rollouts, face, minibatch)
            runs[face] = result
            print(
                f"  {face:12s} {result['steps_per_s']:10,.0f} env-steps/s wall-clock "
                f"({result['cpu_steps_per_s']:,.0f} per CPU second), rollout collection "
                f"{100 * result['collect_share']:4.1f}% of {result['wall_s']:.1f} s "
                f"(the VecEnv's step_wait {100 * result['env_step_share']:4.1f}%)",
                flush=True,
            )
        runs["speedup"] = runs["ours"]["steps_per_s"] / runs["DummyVecEnv"]["steps_per_s"]
        print(f"  PPO wall-clock speed-up over DummyVecEnv: {runs['speedup']:.2f}x")
        ppo_runs[name] = runs
    ppo = {face: ppo_runs["default"][face] for face in ppo_rollouts}
    ratio = ppo_runs["default"]["speedup"]

    report = {
        "command": "python -m lepton_env.experiments.bench.env"
        + (" --quick" if args.quick else ""),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg()[0],
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "seconds_per_measurement": seconds,
        "torch_threads": args.torch_threads,
        "throughput": rows,
        "memory": memory,
        "ppo": ppo,
        "ppo_speedup": ratio,
        "ppo_minibatch_2048": ppo_runs["minibatch_2048"],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.output}")
    return report


if __name__ == "__main__":
    main()
