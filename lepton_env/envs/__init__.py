"""The Gymnasium faces of the core."""

from lepton_env.envs.actions import ActionError
from lepton_env.envs.expansion import LeptonExpansionEnv

__all__ = ["ActionError", "LeptonExpansionEnv"]
