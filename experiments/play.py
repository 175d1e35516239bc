"""lepton-play: watch one episode of a trained policy (or a baseline), quarter by quarter.

    lepton-play runs/toy__ppo__seed0__toy_ppo                  # a lepton-train run directory
    lepton-play runs/toy__ppo__seed0__toy_ppo --seed 7 --gif episode.gif
    lepton-play model.zip --class-path sb3_contrib.MaskablePPO --env-id LeptonExpansion-v0 \\
        --scenario global --mp4 episode.mp4
    lepton-play baseline:uppsala --scenario global --gif uppsala.gif
    python -m lepton_env.experiments.play ...   # the same without the entry point

Each quarter prints the env's ``ansi`` render (cash, quality, and per region:
mode, share, brand, localization, compliance) after a line with the reward
and the moves made (entry-mode changes). ``--gif``/``--mp4`` write the
episode's ``rgb_array`` frames (the reset state, then one per quarter) with
imageio; MP4 needs ``pip install imageio-ffmpeg``. A run directory plays its
``best_model.zip`` (else ``final_model.zip``) on the face and scenario it
trained on; ``--scenario`` then only overrides the scenario.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

BASELINE_PREFIX = "baseline:"


@dataclass
class Episode:
    """What one played episode leaves: the text of each quarter and the frames."""

    quarters: list[str] = field(default_factory=list)
    frames: list[NDArray[np.uint8]] = field(default_factory=list)
    total_reward: float = 0.0


def baseline_names() -> dict[str, Any]:
    """Snake-case names (``uppsala``, ``greedy_largest_market``) -> baseline class."""
    from lepton_env.agents.players.heuristics import BASELINES

    return {
        re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Agent")).lower(): cls
        for name, cls in BASELINES.items()
    }


def load_policy(args: argparse.Namespace) -> tuple[Any, str, dict[str, Any]]:
    """``(agent, env_id, env kwargs)`` for a run directory, model file or ``baseline:<name>``."""
    import gymnasium as gym

    import lepton_env

    if args.source.startswith(BASELINE_PREFIX):
        name = args.source.removeprefix(BASELINE_PREFIX)
        baselines = baseline_names()
        if name not in baselines:
            raise ValueError(f"baseline {name!r}: allowed {sorted(baselines)}")
        modes = {mode: env_id for env_id, mode in lepton_env.ENV_IDS.items()}
        env_id = args.env_id or modes[args.face]
        env_kwargs: dict[str, Any] = {"scenario": args.scenario or "toy"}
        return baselines[name](gym.make(env_id, **env_kwargs)), env_id, env_kwargs
    from lepton_env.agents.comparison.evaluation import load_model

    overrides = {"scenario": args.scenario} if args.scenario else {}
    agent, env_id, env_kwargs, _ = load_model(
        args.source, class_path=args.class_path, env_id=args.env_id, **overrides
    )
    return agent, env_id, env_kwargs


def play_episode(
    agent: Any,
    env_id: str,
    env_kwargs: dict[str, Any],
    seed: int,
    frames: bool = False,
    deterministic: bool = True,
    on_quarter: Callable[[str], None] | None = None,
) -> Episode:
    """Play one episode from ``seed``; the text of each quarter and, with ``frames``, images.

    ``on_quarter`` receives each quarter's text as soon as it is played.
    """
    import gymnasium as gym

    from lepton_env import render
    from lepton_env.agents.comparison.episodes import accepts_action_masks, policy_step
    from lepton_env.types import EntryMode

    env = gym.make(env_id, render_mode="rgb_array" if frames else "ansi", **env_kwargs)
    core: Any = env.unwrapped
    names = core.params.region_names
    masked = accepts_action_masks(agent)
    episode = Episode()
    observation, _ = env.reset(seed=seed)
    if frames:
        episode.frames.append(np.asarray(env.render(), dtype=np.uint8))
    recurrent_state = None
    episode_start = np.ones((1,), dtype=bool)
    modes = core.state.entry_mode[0].copy()
    done = False
    while not done:
        action, recurrent_state = policy_step(
            agent, core, observation, recurrent_state, episode_start, deterministic, masked
        )
        episode_start = np.zeros((1,), dtype=bool)
        observation, reward, terminated, truncated, info = env.step(action)
        new_modes = np.asarray(info["entry_mode"])
        moves = [
            f"{names[r]} {EntryMode(int(modes[r])).name.lower()} -> "
            f"{EntryMode(int(new_modes[r])).name.lower()}"
            for r in np.flatnonzero(new_modes != modes)
        ]
        modes = new_modes
        episode.total_reward += float(reward)
        done = bool(terminated or truncated)
        end = " (bankrupt)" if terminated else ""
        line = (
            f"reward {float(reward):+.4f}   revenue ${float(info['revenue']):,.1f}M   "
            f"profit ${float(info['profit']):,.1f}M   moves: {'; '.join(moves) or 'none'}{end}"
        )
        episode.quarters.append(line + "\n" + render.ansi(core.state, core.params))
        if on_quarter is not None:
            on_quarter(episode.quarters[-1])
        if frames:
            episode.frames.append(np.asarray(env.render(), dtype=np.uint8))
    env.close()
    return episode


def write_animation(frames: Sequence[NDArray[np.uint8]], path: Path, fps: float) -> Path:
    """Write ``frames`` as a GIF (looping) or MP4 (needs imageio-ffmpeg), chosen by suffix."""
    try:
        import imageio.v3 as iio
    except ImportError:
        raise ValueError(
            f"writing {path} needs imageio: pip install imageio (or the train extra)"
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        iio.imwrite(path, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
    elif path.suffix.lower() == ".mp4":
        try:
            iio.imwrite(path, np.stack(frames), extension=".mp4", fps=fps)
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            raise ValueError(
                f"writing {path} needs ffmpeg: pip install imageio-ffmpeg ({error})"
            ) from None
    else:
        raise ValueError(f"animation {path}: the suffix must be .gif or .mp4")
    return path


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="lepton-play",
        description="Play one episode of a saved policy or a baseline, quarter by quarter.",
    )
    command.add_argument(
        "source",
        help="a lepton-train run directory, a model .zip (with --class-path and --env-id), "
        "or baseline:<name> (uppsala, born_global, ...)",
    )
    command.add_argument("--seed", type=int, default=0, help="the episode's seed (default 0)")
    command.add_argument("--gif", type=Path, help="write the episode's frames as this GIF")
    command.add_argument("--mp4", type=Path, help="write them as this MP4 (imageio-ffmpeg)")
    command.add_argument("--fps", type=float, default=4.0, help="quarters a second (default 4)")
    command.add_argument("--scenario", help="scenario (default: the run's; toy for baselines)")
    command.add_argument(
        "--face",
        default="multi_discrete",
        choices=("multi_discrete", "discrete", "continuous"),
        help="the face a baseline plays (default multi_discrete)",
    )
    command.add_argument(
        "--class-path", help="the class of a model file, e.g. stable_baselines3.PPO"
    )
    command.add_argument("--env-id", help="the env id of a model file, e.g. LeptonExpansion-v0")
    command.add_argument("--stochastic", action="store_true", help="sample actions")
    command.add_argument("--quiet", action="store_true", help="print only the episode's return")
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """The ``lepton-play`` entry point."""
    args = parser().parse_args(argv)
    if args.fps <= 0:
        print(f"lepton-play: --fps = {args.fps}: must be > 0", file=sys.stderr)
        return 2
    try:
        agent, env_id, env_kwargs = load_policy(args)
        episode = play_episode(
            agent,
            env_id,
            env_kwargs,
            args.seed,
            frames=bool(args.gif or args.mp4),
            deterministic=not args.stochastic,
            on_quarter=None if args.quiet else print,
        )
        paths = [path for path in (args.gif, args.mp4) if path is not None]
        written = [write_animation(episode.frames, path, args.fps) for path in paths]
    except (ValueError, FileNotFoundError) as error:
        print(f"lepton-play: {error}", file=sys.stderr)
        return 2
    print(f"{env_id} {env_kwargs} seed {args.seed}: return {episode.total_reward:.4f}")
    for path in written:
        print(f"animation: {path} ({len(episode.frames)} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
