"""The trust boundary: crafted model zips and run directories run no code without the flag."""

from __future__ import annotations

import base64
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

import lepton_env  # noqa: F401  (registers the env ids)
from lepton_env.agents.comparison.evaluation import load_model
from lepton_env.agents.training.loading import (
    UntrustedFileError,
    load_algorithm,
    load_replay_buffer,
    load_vec_normalize,
    pickled_entries,
    read_zip_data,
    save_replay_buffer,
    save_vec_normalize,
)
from lepton_env.agents.training.targets import TargetNotAllowedError

ENV_ID = "LeptonExpansion-v0"


class _Touch:
    """Unpickling this creates ``marker``: the payload of a crafted file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _payload(marker: Path) -> str:
    return base64.b64encode(pickle.dumps(_Touch(marker))).decode()


def _rewrite(source: Path, target: Path, edit: Any) -> None:
    """Copy an SB3 zip, passing its ``data`` JSON through ``edit``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            content = old.read(name)
            if name == "data":
                data = json.loads(content)
                edit(data)
                content = json.dumps(data).encode()
            new.writestr(name, content)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PPO model after one rollout (so its runtime entries are pickled too)."""
    folder = tmp_path_factory.mktemp("model")
    env = gym.make(ENV_ID, scenario="toy")
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=32,
        batch_size=32,
        n_epochs=1,
        seed=0,
        policy_kwargs={"net_arch": [8]},
    )
    model.learn(32)
    model.save(folder / "model.zip")
    return folder / "model.zip"


def _spaces() -> dict[str, Any]:
    env = gym.make(ENV_ID, scenario="toy")
    return {"observation_space": env.observation_space, "action_space": env.action_space}


def test_a_model_loads_without_unpickling_and_predicts_the_same(trained: Path) -> None:
    data = read_zip_data(trained)
    assert {"policy_class", "lr_schedule", "clip_range", "_last_obs"} <= set(pickled_entries(data))
    safe = load_algorithm(PPO, trained, spaces=_spaces())
    reference = PPO.load(trained, device="cpu")
    for name, tensor in reference.policy.state_dict().items():
        assert torch.equal(tensor, safe.policy.state_dict()[name]), name
    assert safe.clip_range(1.0) == pytest.approx(0.2)
    observation = np.zeros((1, *_spaces()["observation_space"].shape), dtype=np.float32)
    np.testing.assert_array_equal(
        safe.predict(observation, deterministic=True)[0],
        reference.predict(observation, deterministic=True)[0],
    )


def test_a_crafted_pickled_entry_runs_only_with_trust(trained: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = tmp_path / "crafted.zip"

    def edit(data: dict[str, Any]) -> None:
        data["policy_class"][":serialized:"] = _payload(marker)  # rebuilt, never unpickled
        data["surprise"] = {":type:": "<class 'x'>", ":serialized:": _payload(marker)}

    _rewrite(trained, crafted, edit)
    with pytest.raises(UntrustedFileError, match=r"\['surprise'\].*trust=True"):
        load_algorithm(PPO, crafted, spaces=_spaces())
    assert not marker.exists()
    # The flag is the only gate: with it, the pickle runs (here: creates the marker).
    with pytest.raises(Exception):  # noqa: B017  (the payload is no valid policy class)
        load_algorithm(PPO, crafted, spaces=_spaces(), trust=True)
    assert marker.exists()


def test_a_crafted_policy_entry_alone_is_ignored(trained: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = tmp_path / "crafted.zip"
    _rewrite(
        trained,
        crafted,
        lambda data: data["lr_schedule"].update({":serialized:": _payload(marker)}),
    )
    model = load_algorithm(PPO, crafted, spaces=_spaces())
    assert model.learning_rate == pytest.approx(3e-4)
    assert not marker.exists()


def _run_dir(tmp_path: Path, trained: Path, model: dict[str, Any]) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = {
        "scenario": {"name": "toy", "kwargs": {}},
        "env": {
            "action_mode": "multi_discrete",
            "observation_mode": "flat",
            "normalize": {"enabled": True, "norm_obs": True},
        },
        "agent": {"model": model},
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    (run_dir / "best_model.zip").write_bytes(trained.read_bytes())
    return run_dir


def test_a_crafted_run_directory_runs_no_code(trained: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    run_dir = _run_dir(
        tmp_path, trained, {"_target_": "stable_baselines3.PPO", "policy": "MlpPolicy"}
    )
    (run_dir / "best_vecnormalize.pkl").write_bytes(pickle.dumps(_Touch(marker)))
    with pytest.raises(UntrustedFileError, match=r"best_vecnormalize\.pkl.*trust=True"):
        load_model(run_dir)
    assert not marker.exists()


@pytest.mark.parametrize(
    "model",
    [
        {"_target_": "shutil.copyfile", "policy": "MlpPolicy"},
        {"_target_": "stable_baselines3.PPO.load", "policy": "MlpPolicy"},
        {
            "_target_": "stable_baselines3.PPO",
            "policy": "MlpPolicy",
            "policy_kwargs": {"activation_fn": {"_target_": "os.system", "_args_": ["true"]}},
        },
    ],
)
def test_a_run_directory_naming_an_unlisted_target_is_refused(
    trained: Path, tmp_path: Path, model: dict[str, Any]
) -> None:
    run_dir = _run_dir(tmp_path, trained, model)
    with pytest.raises(TargetNotAllowedError, match="not an allowed target"):
        load_model(run_dir)


def test_vec_normalize_round_trips_through_npz(tmp_path: Path) -> None:
    venv = DummyVecEnv([lambda: gym.make(ENV_ID, scenario="toy")])
    normalizer = VecNormalize(venv, norm_obs=True, norm_reward=True, clip_obs=7.0, gamma=0.9)
    normalizer.obs_rms.mean = np.arange(normalizer.obs_rms.mean.size, dtype=np.float64)
    normalizer.obs_rms.var = np.full(normalizer.obs_rms.var.size, 4.0)
    normalizer.obs_rms.count = 12.0
    normalizer.ret_rms.var = np.array(9.0)
    save_vec_normalize(normalizer, tmp_path / "vecnormalize.pkl")
    (tmp_path / "vecnormalize.pkl").unlink()  # the copy alone suffices
    loaded = load_vec_normalize(tmp_path / "vecnormalize.pkl", venv)
    np.testing.assert_array_equal(loaded.obs_rms.mean, normalizer.obs_rms.mean)
    assert loaded.obs_rms.count == 12.0
    assert loaded.clip_obs == 7.0 and loaded.gamma == 0.9
    observation = np.full((1, normalizer.obs_rms.mean.size), 2.0)
    # (x - mean) / sqrt(var + eps), clipped to +-7: for feature 0, (2 - 0) / 2 = 1
    assert loaded.normalize_obs(observation)[0, 0] == pytest.approx(1.0, abs=1e-6)


def test_a_pickled_replay_buffer_needs_trust(tmp_path: Path) -> None:
    env = gym.make("LeptonExpansion-Continuous-v0", scenario="toy")
    agent = SAC(
        "MlpPolicy", env, buffer_size=16, learning_starts=4, seed=0, policy_kwargs={"net_arch": [8]}
    )
    agent.learn(6)
    save_replay_buffer(agent.replay_buffer, tmp_path / "buffer.npz")
    copy = SAC("MlpPolicy", env, buffer_size=16, policy_kwargs={"net_arch": [8]})
    load_replay_buffer(copy, tmp_path / "buffer.npz")
    assert copy.replay_buffer.pos == 6
    np.testing.assert_array_equal(copy.replay_buffer.actions, agent.replay_buffer.actions)
    marker = tmp_path / "pwned"
    (tmp_path / "replay_buffer.pkl").write_bytes(pickle.dumps(_Touch(marker)))
    with pytest.raises(UntrustedFileError, match="trust=True"):
        load_replay_buffer(copy, tmp_path / "replay_buffer.pkl")
    assert not marker.exists()


def test_lepton_compare_passes_trust_and_allowed_targets(trained: Path, tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir

    from lepton_env.agents.comparison.evaluation import build_contenders

    run_dir = _run_dir(
        tmp_path, trained, {"_target_": "stable_baselines3.PPO", "policy": "MlpPolicy"}
    )
    venv = DummyVecEnv([lambda: gym.make(ENV_ID, scenario="toy")])
    VecNormalize(venv, norm_obs=True).save(str(run_dir / "best_vecnormalize.pkl"))  # no .npz
    configs = Path(__file__).resolve().parents[3] / "configs"
    common = [f"+models.ppo={run_dir}", "use_baselines=[]", "oracle=false"]
    with initialize_config_dir(str(configs), version_base="1.3"):
        with pytest.raises(UntrustedFileError, match=r"best_vecnormalize\.pkl"):
            build_contenders(compose("compare", overrides=common))
        [contender] = build_contenders(compose("compare", overrides=[*common, "trust=true"]))
        assert contender.kind == "learned" and len(contender.runs) == 1
        custom = ["oracle=false", "+baselines.mine._target_=my_pkg.Agent", "use_baselines=[mine]"]
        with pytest.raises(TargetNotAllowedError, match=r"baselines\.mine\._target_"):
            build_contenders(compose("compare", overrides=custom))


@pytest.mark.parametrize(
    ("target", "face", "action_mode", "keywords"),
    [
        ("stable_baselines3.A2C", ENV_ID, "multi_discrete", {"n_steps": 4}),
        (
            "sb3_contrib.QRDQN",
            "LeptonExpansion-Single-v0",
            "discrete",
            {"buffer_size": 64, "learning_starts": 8, "batch_size": 16},
        ),
        (
            "sb3_contrib.TQC",
            "LeptonExpansion-Continuous-v0",
            "continuous",
            {"buffer_size": 64, "learning_starts": 8},
        ),
    ],
)
def test_pickled_keywords_are_rebuilt_from_the_run_config(
    tmp_path: Path, target: str, face: str, action_mode: str, keywords: dict[str, Any]
) -> None:
    """A2C's RMSprop and QR-DQN's Adam epsilon sit in pickled policy_kwargs, TQC's
    target_entropy is a pickled float32: the run's config and the class rebuild them."""
    from hydra.utils import get_class

    cls = get_class(target)
    env = gym.make(face, scenario="toy")
    model = cls("MlpPolicy", env, policy_kwargs={"net_arch": [8]}, seed=0, **keywords)
    model.learn(16)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = {
        "scenario": {"name": "toy", "kwargs": {}},
        "env": {"action_mode": action_mode, "observation_mode": "flat"},
        "agent": {
            "model": {
                "_target_": target,
                "policy": "MlpPolicy",
                "policy_kwargs": {"net_arch": [8]},
                **keywords,
            }
        },
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    model.save(run_dir / "best_model.zip")
    if "policy_kwargs" in pickled_entries(read_zip_data(run_dir / "best_model.zip")):
        # without the run's config the network's keywords are unknown: refused
        with pytest.raises(UntrustedFileError, match=r"\['policy_kwargs'\]"):
            load_algorithm(cls, run_dir / "best_model.zip", env=env)
    loaded, *_ = load_model(run_dir)
    for name, tensor in model.policy.state_dict().items():
        assert torch.equal(tensor, loaded.policy.state_dict()[name]), name
    assert getattr(loaded, "target_entropy", None) == getattr(model, "target_entropy", None)
    if hasattr(model.policy, "optimizer"):
        assert type(loaded.policy.optimizer) is type(model.policy.optimizer)
        assert loaded.policy.optimizer.defaults["eps"] == model.policy.optimizer.defaults["eps"]
