"""``toy_pilot``: ``toy`` with a hidden two-point product-market fit in each foreign region.

The fit of region ``r`` is ``mu +- sigma_r`` with probability 1/2 each, ``sigma_r = 4 D_r``
(``near``: D = 0.25, fit -1 or +1; ``far``: D = 0.5, fit -2 or +2), and each quarter
served sends a signal ``fit +- tau_mode^(-1/2)`` (two-point as well): a pilot (tau = 1) in
``near`` reveals the fit with probability 1/2 a quarter (signals -2 or +2; 0 is
uninformative), every other served mode, and a pilot in ``far``, reveals it at once.
Partnership entry costs $25M, acquisitions are priced out ($1e6M: the choice is pilot,
partnership or greenfield) and, as in ``toy``, the terminal valuation is the positions'
discounted cash flow over one year, so a partnership in a low-fit market loses money and
a pilot's signal is worth its delay.
The values are exact in binary floating point, so the signals the kernel draws are
exactly the outcomes the oracle enumerates. Every other random rate is
zero, as in ``toy``, and cash is ample, so which moves are valid never depends on the
fit: the exact Bayes-optimal expected return is an expectimax over the four fit worlds
and the signals (``lepton_env.agents.players.oracle.solve_bayes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_env.params import Params
from lepton_env.scenarios.toy import ToyScenario


@dataclass(frozen=True)
class ToyPilotScenario:
    """Three regions, two of them with a hidden fit of two values; short horizon."""

    horizon: int = 5

    def __call__(self, **overrides: Any) -> Params:
        fields: dict[str, Any] = dict(
            psychic_distance=np.array([0.0, 0.25, 0.5]),
            fit_prior_mean=0.0,
            fit_prior_sd=0.0,
            fit_prior_sd_distance=4.0,
            fit_two_point=1,
            fit_signal_precision=np.array([0.0, 1.0, 4.0, 16.0, 16.0]),
            experience_distance_rate=0.0,
            experience_precision_rate=0.0,
            # every move affordable in every world: the masks never depend on the fit
            initial_cash=5000.0,
            credit_line=100.0,
            entry_cost_fixed=np.array([0.0, 2.0, 25.0, 1e6, 30.0]),
        )
        fields.update(overrides)
        return ToyScenario(horizon=self.horizon)(**fields)
