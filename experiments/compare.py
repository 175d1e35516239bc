"""lepton-compare: saved models, baselines and the oracle, compared with honest scores.

    lepton-compare scenario=toy                              # the baselines against the oracle
    lepton-compare scenario=toy hydra.run.dir=outputs/toy    # where the reports go
    lepton-compare scenario=global action_mode=multi_discrete '+models.ppo=runs/global__ppo__seed*'

Per agent: mean and IQM with 95% stratified-bootstrap intervals, probability of
improvement between agents, where an oracle exists (``toy``) the normalized
score (0 = the best heuristic, 1 = the oracle), the random-zero score and the
optimality gap, elsewhere the gap to the best baseline; cumulative profit and
terminal value apart, business KPIs, plots and a strategy report. Progress
shows on stderr. The
config is ``configs/compare.yaml``; the logic is
:func:`lepton_env.agents.comparison.evaluation.run_evaluation`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from lepton_env.experiments.suggest import with_suggestions

#: The config tree, found from this file (so the entry point works from any directory).
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
#: compare.yaml's keys (also evaluate.yaml's), for "did you mean" on a misspelled one.
KEYS = tuple(yaml.safe_load((CONFIGS / "compare.yaml").read_text()))


def run(cfg: DictConfig, comparative: bool, command: str) -> None:
    """Run the pipeline into Hydra's run directory, printing the summary table."""
    # The evaluation stack (torch, SB3) loads after Hydra has accepted the command line.
    from lepton_env.agents.comparison.evaluation import run_evaluation

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_evaluation(cfg, output_dir, comparative=comparative)
    except (ValueError, FileNotFoundError) as error:
        print(f"{command}: {error}", file=sys.stderr)
        sys.exit(2)
    print((output_dir / "summary.md").read_text())
    print(f"reports in {output_dir}")


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="compare")
def compare_job(cfg: DictConfig) -> None:
    """One ``lepton-compare`` run."""
    run(cfg, comparative=True, command="lepton-compare")


#: The ``lepton-compare`` entry point: Hydra's, with "did you mean" after a refused command line.
main = with_suggestions(compare_job, "lepton-compare", CONFIGS, KEYS)


if __name__ == "__main__":
    main()
