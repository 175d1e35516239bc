"""lepton-play: one episode quarter by quarter, and its animation."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from lepton_env.agents.comparison.episodes import evaluate_policy_episodes
from lepton_env.agents.players.heuristics import UppsalaAgent
from lepton_env.experiments.play import baseline_names, main, play_episode, write_animation

TOY = {"scenario": "toy"}
ENV_ID = "LeptonExpansion-v0"


def test_baselines_by_their_compare_names() -> None:
    names = baseline_names()
    assert set(names) == {
        "random",
        "home_only",
        "greedy_largest_market",
        "uppsala",
        "pilot_then_scale",
        "born_global",
    }
    assert names["uppsala"] is UppsalaAgent


def test_an_episode_prints_each_quarter_and_keeps_its_frames() -> None:
    agent = UppsalaAgent(gym.make(ENV_ID, **TOY))
    printed: list[str] = []
    episode = play_episode(agent, ENV_ID, TOY, seed=4, frames=True, on_quarter=printed.append)
    assert printed == episode.quarters
    # toy: five quarters; the reset state and one frame per quarter.
    assert len(episode.quarters) == 5
    assert len(episode.frames) == 6
    assert all(frame.dtype == np.uint8 and frame.ndim == 3 for frame in episode.frames)
    # Uppsala's first move: a pilot in the nearest region.
    assert "moves: near none -> pilot" in episode.quarters[0]
    assert "Quarter 1/5" in episode.quarters[0]
    assert "Quarter 5/5" in episode.quarters[-1]
    # The same return as the evaluation pipeline's for that seed.
    played = evaluate_policy_episodes(UppsalaAgent(gym.make(ENV_ID, **TOY)), ENV_ID, TOY, [4])
    assert episode.total_reward == pytest.approx(float(played["return"][0]), rel=1e-12)


def test_animation_suffix_and_arguments_are_checked(tmp_path: Path, capsys) -> None:
    frames = [np.zeros((4, 4, 3), dtype=np.uint8)]
    with pytest.raises(ValueError, match=r"suffix must be \.gif or \.mp4"):
        write_animation(frames, tmp_path / "episode.avi", fps=4)
    assert main(["baseline:nosuch"]) == 2
    assert "baseline 'nosuch': allowed ['born_global'" in capsys.readouterr().err
    assert main(["baseline:uppsala", "--fps", "0"]) == 2
    assert main([str(tmp_path / "missing_run")]) == 2


def test_a_baseline_gif(tmp_path: Path, capsys) -> None:
    iio = pytest.importorskip("imageio.v3", reason="needs imageio: pip install -e '.[dev]'")
    gif = tmp_path / "uppsala.gif"
    assert main(["baseline:uppsala", "--seed", "1", "--gif", str(gif)]) == 0
    out = capsys.readouterr().out
    assert out.count("Quarter ") == 5
    assert f"animation: {gif} (6 frames)" in out
    assert iio.imread(gif).shape[0] == 6


def test_a_baseline_mp4(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg", reason="MP4 needs: pip install imageio-ffmpeg")
    iio = pytest.importorskip("imageio.v3", reason="needs imageio: pip install -e '.[dev]'")
    mp4 = tmp_path / "uppsala.mp4"
    assert main(["baseline:uppsala", "--mp4", str(mp4), "--quiet"]) == 0
    assert len(list(iio.imiter(mp4, extension=".mp4"))) == 6


@pytest.mark.slow
def test_a_trained_policys_gif(tmp_path: Path, capsys) -> None:
    iio = pytest.importorskip("imageio.v3", reason="needs imageio: pip install -e '.[dev]'")
    from hydra import compose, initialize_config_dir

    from lepton_env.experiments.train import CONFIGS, train

    tiny = [
        "scenario=toy",
        "agent=ppo",
        "training=smoke",
        "total_timesteps=64",
        "eval.episodes=1",
        "env.num_envs=4",
        "agent.model.n_steps=16",
        "agent.model.batch_size=32",
        "agent.model.policy_kwargs.net_arch=[8]",
        "logger.expansion_figure=false",
    ]
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        train(compose("train", overrides=tiny), tmp_path / "run")
    capsys.readouterr()
    gif = tmp_path / "ppo.gif"
    assert main([str(tmp_path / "run"), "--seed", "3", "--gif", str(gif), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Quarter " not in out
    assert "LeptonExpansion-v0 {'scenario': 'toy', 'observation_mode': 'flat'} seed 3" in out
    frames = iio.imread(gif)
    assert frames.shape[0] == 6 and frames.shape[-1] == 3
