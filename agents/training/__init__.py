"""What a training run needs, for any agent.

* :mod:`~lepton_env.agents.training.factory`: vector envs, the agent, the device.
* :mod:`~lepton_env.agents.training.callbacks`: KPI logging, evaluation, checkpoints.
* :mod:`~lepton_env.agents.training.loading`: the trust boundary, loading models,
  normalization statistics and replay buffers without running code from the file.
* :mod:`~lepton_env.agents.training.resume_state`: what a resumed run needs beyond the model.
* :mod:`~lepton_env.agents.training.policies`: the masked MultiDiscrete policy.
* :mod:`~lepton_env.agents.training.shared_policy`: a policy shared across regions, for
  worlds of any size.
* :mod:`~lepton_env.agents.training.targets`: the allow-list of config ``_target_`` paths.
"""
