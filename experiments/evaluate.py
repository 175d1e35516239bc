"""lepton-eval: evaluate saved models and baselines on held-out seeds, deterministically.

    lepton-eval scenario=global '+models.ppo=runs/global__ppo__seed0' use_baselines=[]
    lepton-eval scenario=toy eval.episodes=5

Writes ``episodes.csv`` (every episode's return and KPIs), ``summary.csv`` /
``summary.md`` (mean and IQM with 95% intervals, KPIs) and ``strategy/``
(entry timelines). The keys are ``lepton-compare``'s (``configs/compare.yaml``,
included by ``configs/evaluate.yaml``).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from lepton_env.experiments.compare import CONFIGS, run


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="evaluate")
def main(cfg: DictConfig) -> None:
    """The ``lepton-eval`` entry point."""
    run(cfg, comparative=False, command="lepton-eval")


if __name__ == "__main__":
    main()
