"""The Hydra config tree, installed as ``lepton_env.configs`` (package data)."""
