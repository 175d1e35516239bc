"""Hyperparameters for rl-zoo3 (``--conf-file``): this project's tuned presets in the zoo's format.

    python -m rl_zoo3.train --algo ppo --env LeptonExpansion-v0 --gym-packages lepton_env \\
        --env-kwargs scenario:"'global'" --conf-file lepton_env.zoo.ppo
    python -m rl_zoo3.train --algo dqn --env LeptonExpansion-Single-v0 --gym-packages lepton_env \\
        --env-kwargs scenario:"'toy_pilot'" --conf-file lepton_env.zoo.dqn

The zoo imports the module its ``--conf-file`` names and reads ``hyperparams``, a
mapping from env id to settings. Each module here builds that mapping from an
experiment preset of ``configs/experiment/`` (:data:`lepton_env.zoo.ppo.PRESET`,
:data:`lepton_env.zoo.dqn.PRESET`), so the two never drift: the model's keywords, the
number of envs, the budget and reward normalization (the horizon ends the episode on
every face, ``terminated``, so the zoo needs no wrapper for it). The scenario is the
zoo's ``--env-kwargs``: pass the one the preset was tuned on. What the zoo cannot
take: MaskablePPO (the zoo has no maskable algorithm) and the batched core (it steps
``n_envs`` copies of ``gymnasium.make`` in a ``DummyVecEnv``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The experiment presets (the installed package's configs, found from this file).
PRESETS = Path(__file__).resolve().parents[1] / "configs" / "experiment"


def zoo_hyperparams(preset: str, env_id: str) -> dict[str, dict[str, Any]]:
    """``{env_id: settings}`` from ``configs/experiment/<preset>.yaml`` for the zoo."""
    import yaml  # the zoo's own dependency (and Hydra's)

    config = yaml.safe_load((PRESETS / f"{preset}.yaml").read_text())
    model = {key: value for key, value in config["agent"]["model"].items() if key != "_target_"}
    env = config.get("env", {})
    settings: dict[str, Any] = {
        "n_envs": env.get("num_envs", 1),
        "n_timesteps": config["total_timesteps"],
        **model,
    }
    normalize = env.get("normalize", {})
    if normalize.get("enabled"):
        settings["normalize"] = {
            "norm_obs": normalize["norm_obs"],
            "norm_reward": normalize["norm_reward"],
        }
    return {env_id: settings}
