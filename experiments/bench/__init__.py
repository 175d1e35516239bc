"""Benchmarks, each run as ``python -m lepton_env.experiments.bench.<name>``.

* :mod:`~lepton_env.experiments.bench.env`: env-steps per second of the faces and the
  core, trajectory fingerprints, A/B against another checkout.
* :mod:`~lepton_env.experiments.bench.training`: training throughput of ``lepton-train``.
* :mod:`~lepton_env.experiments.bench.learning`: learning quality of the presets.
* :mod:`~lepton_env.experiments.bench.multi`: the multi-agent faces' throughput.

The figures and the commands that produced them are in ``docs/benchmarks.md``.
"""
