"""``duel_toy``: ``toy`` with a rival firm at home in ``far``; five quarters.

Lepton AI is at home in ``home``, the rival in ``far``; each is the other's foreign
entrant. The rival's distances mirror Lepton AI's (``far`` is 0.7 from ``home``, ``near``
lies between: 0.5 from ``far``). Every random rate is zero, as in ``toy``; the one
chance left is the conflict coin (docs/model.md, section 5b): when both firms bid for
``near``'s target, or partner there, in the same quarter, a coin drawn from the
episode key settles it, so a joint policy has up to two outcomes a quarter, and which
one an episode gets depends on its seed. :mod:`lepton_env.games` enumerates the coins
as chance nodes for exact best responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_env.params import Params
from lepton_env.scenarios.toy import ToyScenario


@dataclass(frozen=True)
class DuelToyScenario:
    """Two firms, three regions, no randomness but the conflict coins."""

    horizon: int = 5

    def __call__(self, **overrides: Any) -> Params:
        rival = {
            "rival_names": ("Rival AI",),
            "rival_home": np.array([2]),
            "rival_psychic_distance": np.array([[0.7, 0.5, 0.0]]),
            "rival_geopolitical_risk": np.zeros((1, 3)),
            "rival_fdi_screening": np.zeros((1, 3)),
        }
        return ToyScenario(horizon=self.horizon)(**{**rival, **overrides})
