"""Entry points (lepton-train, -tune, -eval, -compare) and their importable logic."""

from lepton_env.experiments.run_names import register_resolvers

# configs/train.yaml's run_name uses ${lepton_run_tag:}: composing it needs the resolver.
register_resolvers()
