"""How agents are compared: contenders on held-out seeds, statistics, reports.

* :mod:`~lepton_env.agents.comparison.contenders`: the agents of a comparison.
* :mod:`~lepton_env.agents.comparison.episodes`: episode play on held-out seeds.
* :mod:`~lepton_env.agents.comparison.stats`: IQM and stratified-bootstrap intervals.
* :mod:`~lepton_env.agents.comparison.scores`: score tables and honest normalized scores.
* :mod:`~lepton_env.agents.comparison.reports`: the Markdown reports.
* :mod:`~lepton_env.agents.comparison.plots`: the figures.
* :mod:`~lepton_env.agents.comparison.tensorboard_reference`: baselines as TensorBoard lines.
* :mod:`~lepton_env.agents.comparison.baseline_table`: the end-of-training console table.
* :mod:`~lepton_env.agents.comparison.evaluation`: the pipeline behind ``lepton-eval``
  and ``lepton-compare``.
"""
