"""rl-zoo3 ``--conf-file lepton_env.zoo.dqn``: DQN on ``LeptonExpansion-Single-v0`` (``toy_pilot``).

The preset ``toy_pilot_dqn`` (configs/experiment/toy_pilot_dqn.yaml): 64 envs, gamma 1
with the horizon as the episode's end, four gradient steps of 256 per env step.
"""

from lepton_env.zoo import zoo_hyperparams

PRESET = "toy_pilot_dqn"
hyperparams = zoo_hyperparams(PRESET, "LeptonExpansion-Single-v0")
