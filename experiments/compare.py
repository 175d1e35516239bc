"""lepton-compare: saved models, heuristic baselines and the oracle, compared with rliable.

    lepton-compare scenario=toy                              # the baselines against the oracle
    lepton-compare scenario=toy hydra.run.dir=outputs/toy    # where the reports go
    lepton-compare scenario=global action_mode=multi_discrete '+models.ppo=runs/global__ppo__seed*'

Per agent: mean and IQM with 95% stratified-bootstrap intervals, probability of
improvement between agents, the normalized score and optimality gap where the
oracle exists (``toy``), business KPIs, plots and a strategy report. The
config is ``configs/compare.yaml``; the logic is
:func:`lepton_env.agents.evaluation.run_evaluation`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from lepton_env.agents.evaluation import run_evaluation

#: The config tree, found from this file (so the entry point works from any directory).
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def run(cfg: DictConfig, comparative: bool, command: str) -> None:
    """Run the pipeline into Hydra's run directory, printing the summary table."""
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_evaluation(cfg, output_dir, comparative=comparative)
    except (ValueError, FileNotFoundError) as error:
        print(f"{command}: {error}", file=sys.stderr)
        sys.exit(2)
    print((output_dir / "summary.md").read_text())
    print(f"reports in {output_dir}")


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="compare")
def main(cfg: DictConfig) -> None:
    """The ``lepton-compare`` entry point."""
    run(cfg, comparative=True, command="lepton-compare")


if __name__ == "__main__":
    main()
