"""lepton-eval: evaluate saved models and baselines on held-out seeds (``eval.deterministic``).

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

from lepton_env.experiments.compare import CONFIGS, KEYS, run
from lepton_env.experiments.provenance import guarded
from lepton_env.experiments.suggest import with_suggestions


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="evaluate")
def evaluate_job(cfg: DictConfig) -> None:
    """One ``lepton-eval`` run."""
    run(cfg, comparative=False, command="lepton-eval")


#: The ``lepton-eval`` entry point: Hydra's, with "did you mean" after a refused command line.
main = with_suggestions(
    guarded(evaluate_job, CONFIGS, "evaluate", "lepton-eval"), "lepton-eval", CONFIGS, KEYS
)


if __name__ == "__main__":
    main()
