"""The cross-entropy search as PSRO's oracle (``multiagent.oracle.kind=search``, small games).

:class:`~lepton_env.agents.players.search.CrossEntropySearchAgent` searches open-loop
plans (the ``plans`` family on the Single face: one action per quarter) for one firm
against the other firms' meta-mixture. Its loop, draws, elite refit and budget are the
search's own; only the scoring differs: a generation's candidates are scored exactly
(coins enumerated, the others' members weighted by the meta-strategy, episodes
``0..exact_seeds-1``) in one game tree (:func:`lepton_env.games.tree.expand`), not by
single-firm rollouts. The response is the plan the search plays, its value exact. Unlike
the exact oracle, the search is a heuristic: it may miss the best plan, so its gains are
lower bounds, and the run's NashConv is still scored by exact best responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.agents.players.search import CrossEntropySearchAgent
from lepton_env.games.best_response import BestResponse, values
from lepton_env.games.strategies import Mixture, PlanStrategy
from lepton_env.games.tree import SmallGame, expand


class _Scored:
    """What the search's compile step and rollouts are given: no env, the tree scores."""

    class _Space:
        shape = (1,)
        dtype = np.int64

    action_space = _Space()

    def reset(self, seed: Any = None) -> None:
        return None

    def step(self, actions: Any) -> None:
        return None

    def close(self) -> None:
        return None


class MixtureSearch(CrossEntropySearchAgent):
    """The cross-entropy search of firm ``firm``'s plan against the other firms' mixtures
    in ``profile``, every candidate scored exactly on ``game`` over ``seeds``."""

    def __init__(
        self,
        game: SmallGame,
        profile: Sequence[Mixture],
        firm: int,
        seeds: Sequence[int],
        **settings: Any,
    ) -> None:
        self.game, self.profile, self.firm, self.seeds = game, list(profile), firm, list(seeds)
        settings = {**settings, "family": "plans", "train_seeds": 1, "validation_episodes": 0}
        super().__init__(params=game.params, action_mode="discrete", **settings)

    def _make_vector_env(self, count: int) -> Any:
        return _Scored()

    def _rollout(
        self, venv: Any, genes: NDArray[np.int64], seeds: list[int]
    ) -> tuple[NDArray[np.float64], int]:
        """Each candidate's exact value against the mixtures, (B,); the steps of the tree."""
        unique, inverse = np.unique(genes, axis=0, return_inverse=True)
        candidates = tuple(PlanStrategy(tuple(int(a) for a in row)) for row in unique)
        count = len(candidates)
        profile: list[Any] = [*self.profile]
        profile[self.firm] = Mixture(candidates, np.full(count, 1.0 / count))
        tree = expand(self.game, profile, self.seeds)
        reach, returns = tree.leaf_returns()
        scores = np.bincount(
            tree.members[:, self.firm], weights=reach * returns[:, self.firm], minlength=count
        )
        return np.asarray(scores * count, dtype=np.float64)[inverse.reshape(-1)], tree.nodes


class SearchOracle:
    """PSRO's oracle with :func:`~lepton_env.games.best_response.best_response`'s signature:
    the search's plan against the others' mixtures (settings from ``oracle.search``)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = dict(settings)
        self.budgets: list[dict[str, Any]] = []

    def __call__(
        self, game: SmallGame, profile: list[Mixture], firm: int, seeds: Any, kind: str
    ) -> BestResponse:
        size = len(profile[firm].members)
        search = MixtureSearch(game, profile, firm, seeds, **self.settings)
        plan = PlanStrategy(
            tuple(int(a) for a in search.played_genes), name=f"search_firm{firm}_{size}"
        )
        self.budgets.append(dict(search.budget))
        deviation: list[Any] = [*profile]
        deviation[firm] = plan
        value = float(values(game, deviation, seeds)[firm])
        return BestResponse(firm, "search", value, plan, 0, 0)
