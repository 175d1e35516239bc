"""rl-zoo3 ``--conf-file lepton_env.zoo.ppo``: PPO on ``LeptonExpansion-v0`` (``global``).

The preset ``global_ppo`` (configs/experiment/global_ppo.yaml): 512 envs, 16 steps
each per update, two epochs of two minibatches of 4,096, rewards normalized.
"""

from lepton_env.zoo import zoo_hyperparams

PRESET = "global_ppo"
hyperparams = zoo_hyperparams(PRESET, "LeptonExpansion-v0")
