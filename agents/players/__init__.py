"""The contenders: the agent protocol, heuristic baselines, the search baseline, the oracles.

* :mod:`~lepton_env.agents.players.protocol`: what any agent provides (SB3's surface).
* :mod:`~lepton_env.agents.players.heuristics`: baselines from international-business
  practice and theory (random, home-only, Uppsala, born-global, ...).
* :mod:`~lepton_env.agents.players.search`: the cross-entropy method on the batched core.
* :mod:`~lepton_env.agents.players.oracle`: the exact optimum of a deterministic
  scenario, and the Bayes-optimal policy of ``toy_pilot``.
"""
