"""lepton-env: a Gymnasium simulation of an AI company's international expansion.

Importing the package registers ``LeptonExpansion-v0`` (MultiDiscrete),
``LeptonExpansion-Single-v0`` (Discrete) and ``LeptonExpansion-Continuous-v0`` (Box).
"""

from __future__ import annotations

# First: compiled functions are stamped with all the compiled sources (see the module).
import lepton_env.compile_cache  # noqa: F401  # isort: skip

from gymnasium.envs.registration import register, registry

from lepton_env.core import Action, Model, StepOutput
from lepton_env.envs import ActionError, LeptonExpansionEnv
from lepton_env.params import Params, ParamsError
from lepton_env.scenarios import SCENARIOS, make_params
from lepton_env.state import State
from lepton_env.types import EntryMode, Move
from lepton_env.vector import make_vec_env

__version__ = "0.1.0"

ENV_IDS = {
    "LeptonExpansion-v0": "multi_discrete",
    "LeptonExpansion-Single-v0": "discrete",
    "LeptonExpansion-Continuous-v0": "continuous",
}

for _env_id, _action_mode in ENV_IDS.items():
    if _env_id not in registry:
        register(
            id=_env_id,
            entry_point="lepton_env.envs.expansion:LeptonExpansionEnv",
            vector_entry_point="lepton_env.envs.vector:LeptonExpansionVectorEnv",
            kwargs={"action_mode": _action_mode},
        )

__all__ = [
    "ENV_IDS",
    "SCENARIOS",
    "Action",
    "ActionError",
    "EntryMode",
    "LeptonExpansionEnv",
    "Model",
    "Move",
    "Params",
    "ParamsError",
    "State",
    "StepOutput",
    "make_params",
    "make_vec_env",
]
