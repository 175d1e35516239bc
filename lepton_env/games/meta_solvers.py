"""PSRO's meta-solvers: a mixture per firm from the populations' payoff tables.

``tables`` is ``(F, |P_0|, ..., |P_F-1|)``: ``tables[f][i_0, ..., i_F-1]`` is firm
``f``'s expected return when each firm ``g`` plays member ``i_g`` of its population.

* ``nashpy`` (two firms): a Nash equilibrium of the bimatrix game, a pure one first
  (:func:`lepton_env.games.double_oracle.solve_bimatrix`).
* ``replicator`` (any number of firms): OpenSpiel's projected replicator dynamics
  (Lanctot et al. 2017, the meta-solver of the PSRO paper): every firm's mixture follows
  ``dx/dt = x * (u(x) - x . u(x))`` projected onto the simplex with each probability at
  least ``gamma``; returned is the average of the last ``average`` steps. An approximate
  Nash equilibrium (replicator dynamics can cycle: then the average is what is played).
* ``alpharank`` (any number of firms): OpenSpiel's alpha-rank (Omidshafiei et al. 2019)
  in its infinite-alpha form (the response graph's sink components, each joint profile
  perturbed with probability ``eps``): a stationary distribution over *joint* profiles,
  of which each firm plays its marginal. It is not a Nash solver: it ranks profiles by
  evolutionary survival, which on games without pure equilibria differs from Nash.
* ``auto``: nashpy for two firms, replicator for three or more.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: The meta-solvers by name (configs: ``multiagent.meta_solver``).
META_SOLVERS = ("auto", "nashpy", "replicator", "alpharank")

#: Projected replicator dynamics: steps, step size, the least probability, steps averaged.
REPLICATOR_STEPS = 20_000
REPLICATOR_DT = 5e-3
REPLICATOR_GAMMA = 1e-6
REPLICATOR_AVERAGE = 2_000
#: Infinite-alpha alpha-rank's perturbation of each profile.
ALPHARANK_EPS = 0.01


def replicator(tables: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Each firm's mixture by OpenSpiel's projected replicator dynamics (uniform start)."""
    from open_spiel.python.algorithms import projected_replicator_dynamics

    strategies = projected_replicator_dynamics.projected_replicator_dynamics(
        [np.asarray(t, dtype=np.float64) for t in tables],
        prd_iterations=REPLICATOR_STEPS,
        prd_dt=REPLICATOR_DT,
        prd_gamma=REPLICATOR_GAMMA,
        average_over_last_n_strategies=REPLICATOR_AVERAGE,
    )
    return [_normalized(s) for s in strategies]


def alpharank_joint(tables: NDArray[np.float64]) -> NDArray[np.float64]:
    """Alpha-rank's stationary distribution over joint profiles, shaped ``tables[0]``."""
    from open_spiel.python.egt import alpharank

    sizes = tables.shape[1:]
    if int(np.prod(sizes)) == 1:
        return np.ones(sizes)
    _, _, pi, _, _ = alpharank.compute(
        [np.asarray(t, dtype=np.float64) for t in tables],
        use_inf_alpha=True,
        inf_alpha_eps=ALPHARANK_EPS,
    )
    # OpenSpiel's profile ids run with the last population fastest: C order
    return np.asarray(pi, dtype=np.float64).reshape(sizes)


def alpharank_marginals(tables: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Each firm's marginal of alpha-rank's joint distribution."""
    joint = alpharank_joint(tables)
    firms = joint.ndim
    return [
        _normalized(joint.sum(axis=tuple(g for g in range(firms) if g != f))) for f in range(firms)
    ]


def meta_strategies(tables: NDArray[np.float64], solver: str) -> list[NDArray[np.float64]]:
    """Each firm's meta-strategy for payoff ``tables`` (F, |P_0|, ..., |P_F-1|)."""
    tables = np.asarray(tables, dtype=np.float64)
    firms = tables.shape[0]
    if tables.ndim != firms + 1:
        raise ValueError(
            f"payoff tables of shape {tables.shape}: expected (F, |P_0|, ..., |P_F-1|)"
        )
    if solver not in META_SOLVERS:
        raise ValueError(f"meta_solver = {solver!r}: allowed {list(META_SOLVERS)}")
    if solver == "auto":
        solver = "nashpy" if firms == 2 else "replicator"
    if solver == "nashpy":
        if firms != 2:
            raise ValueError(
                f"meta_solver = 'nashpy' solves two-firm games; this one has {firms} firms "
                "(allowed: replicator, alpharank)"
            )
        from lepton_env.games.double_oracle import solve_bimatrix

        return list(solve_bimatrix(tables[0], tables[1]))
    if solver == "replicator":
        return replicator(tables)
    return alpharank_marginals(tables)


def expected_values(
    tables: NDArray[np.float64], meta: list[NDArray[np.float64]]
) -> NDArray[np.float64]:
    """(F,) each firm's expected return when every firm plays its meta-strategy."""
    values = np.asarray(tables, dtype=np.float64)
    for weights in reversed(meta):  # contract the last population axis first
        values = values @ weights
    return np.asarray(values, dtype=np.float64)


def _normalized(weights: NDArray[np.float64]) -> NDArray[np.float64]:
    weights = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    return weights / weights.sum()
