"""What a run says before its progress bar: the simulation compiling, the budget it will run.

The quarter is compiled by numba at first use (``cache=True``: about a minute of
CPU once per install, then about a second to load from the cache beside the
sources). :func:`compile_simulation` takes that cost up front on a throwaway env of
the run's face, with :func:`compiling_notice` saying so while it lasts, so that the
training bar starts when training does. :func:`whole_rollouts` is the number of env
steps an SB3 algorithm will run for a requested ``total_timesteps``: it learns in
whole rollouts, so 2,048 requested of MaskablePPO with 16 steps x 512 envs run 8,192.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import numpy as np

#: What the notice says; "once": numba caches the machine code beside the sources.
COMPILING = "compiling the simulation (about a minute, once; later runs load it from a cache)"
#: A warm cache answers within this many seconds: no notice unless compiling takes longer.
QUIET_FOR_S = 1.0
_SPINNER = "|/-\\"


@contextmanager
def compiling_notice(
    stream: TextIO | None = None, quiet_for: float = QUIET_FOR_S, interval: float = 0.25
) -> Iterator[None]:
    """Announce compiling on ``stream`` (stderr) if the block takes over ``quiet_for`` s.

    On a terminal a spinner with the seconds elapsed turns until the block ends; in a
    log, the notice is one line. Either way the end is announced with its duration.
    """
    out = sys.stderr if stream is None else stream
    done = threading.Event()
    shown = threading.Event()
    start = time.perf_counter()
    animate = bool(getattr(out, "isatty", lambda: False)())

    def speak() -> None:
        if done.wait(quiet_for):
            return
        shown.set()
        if not animate:
            print(f"{COMPILING} ...", file=out, flush=True)
            return
        turn = 0
        while not done.is_set():
            elapsed = time.perf_counter() - start
            out.write(f"\r{_SPINNER[turn % len(_SPINNER)]} {COMPILING}: {elapsed:.0f} s")
            out.flush()
            turn += 1
            done.wait(interval)

    speaker = threading.Thread(target=speak, name="compiling-notice", daemon=True)
    speaker.start()
    try:
        yield
    finally:
        done.set()
        speaker.join()
        if shown.is_set():
            if animate:
                out.write("\r\033[K")  # clear the spinner's line
            elapsed = time.perf_counter() - start
            print(f"compiled the simulation in {elapsed:.0f} s", file=out, flush=True)


def compile_simulation(
    env_id: str,
    env_kwargs: dict[str, Any],
    *,
    num_envs: int,
    batched: bool,
    stream: TextIO | None = None,
) -> None:
    """Compile (or load from the cache) what the run's env steps, with the notice.

    A throwaway env of the same face, scenario and batch size (batches of 1024 or
    more run parallel loops, compiled apart) is reset and stepped once with the
    neutral action (hold everywhere, no R&D): numba compiles whole functions, so one
    quarter compiles every phase. The run's own envs are untouched, their seeds too.
    """
    import gymnasium as gym

    import lepton_env

    with compiling_notice(stream):
        if batched:
            venv: Any = lepton_env.make_vec_env(env_id, num_envs=num_envs, **env_kwargs)
            venv.reset()
            action = np.zeros((num_envs, *venv.action_space.shape), venv.action_space.dtype)
            venv.step(action)
            venv.close()
        else:
            env = gym.make(env_id, **env_kwargs)
            env.reset(seed=0)
            space = env.action_space
            env.step(np.zeros(space.shape, space.dtype) if space.shape else 0)
            env.close()


def whole_rollouts(agent: Any, start: int, total: int) -> tuple[int, str] | None:
    """The env steps ``agent.learn`` runs from ``start`` to ``total``, and why, if rounded.

    SB3's on-policy algorithms collect ``n_steps`` x ``n_envs`` steps per rollout and
    stop after the rollout that reaches ``total``; the off-policy ones collect
    ``train_freq`` steps x ``n_envs`` between updates. None where no rounding is
    known (a count of episodes, an agent of another library) or none happens.
    """
    n_envs = getattr(agent, "n_envs", None)
    n_steps = getattr(agent, "n_steps", None)
    train_freq = getattr(agent, "train_freq", None)
    if not isinstance(n_envs, int) or n_envs < 1:
        return None
    if isinstance(n_steps, int):
        chunk, unit = n_steps * n_envs, f"rollouts of {n_steps} steps x {n_envs} envs"
    elif train_freq is not None and getattr(train_freq.unit, "value", None) == "step":
        steps = int(train_freq.frequency)
        chunk, unit = steps * n_envs, f"collections of {steps} steps x {n_envs} envs"
    else:
        return None
    planned = start + math.ceil(max(total - start, 0) / chunk) * chunk
    if planned == total:
        return None
    return planned, f"{type(agent).__name__} trains in whole {unit} ({chunk:,} env steps each)"
