"""Small games between firms: exact best responses, values and NashConv.

:class:`SmallGame` wraps a two-firm scenario whose only chance is the conflict
coins (``duel_toy``, ``duel_market``); :func:`best_response`, :func:`values`,
:func:`nash_conv` and :func:`payoff_tables` compute exact expectations on the
compiled core (:mod:`lepton_env.games.tree`). Strategies
(:mod:`lepton_env.games.strategies`) are plans, agents with ``predict`` (the
heuristics, saved models), tabular feedback policies and mixtures of them.
"""

from lepton_env.games.best_response import (
    BestResponse,
    NashConv,
    best_response,
    nash_conv,
    payoff_tables,
    values,
)
from lepton_env.games.strategies import (
    AgentStrategy,
    Mixture,
    PlanStrategy,
    Strategy,
    TabularStrategy,
)
from lepton_env.games.tree import SmallGame, expand

__all__ = [
    "AgentStrategy",
    "BestResponse",
    "Mixture",
    "NashConv",
    "PlanStrategy",
    "SmallGame",
    "Strategy",
    "TabularStrategy",
    "best_response",
    "expand",
    "nash_conv",
    "payoff_tables",
    "values",
]
