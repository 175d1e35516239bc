"""Ratings of a cross-play table: openskill beside Nash averaging.

* :func:`openskill_ratings`: Plackett-Luce ratings (Weng & Lin 2011, the ``openskill``
  library) from every episode of every cell as a match between the focal contender and
  its opponent, ranked by the focal return against the opponent's return in the mirrored
  cell on the same episode (``margin`` per episode; a tie is a draw). The ordinal
  ``mu - 3 sigma`` orders them. Needs the ``games`` extra (``pip install openskill``).
* :func:`nash_averaging` (Balduzzi et al. 2018, "Re-evaluating evaluation", NeurIPS): the
  maximum-entropy Nash equilibrium ``p`` of the symmetric zero-sum meta-game whose payoff
  is the antisymmetric margin matrix ``A`` (``A = -A^T``), and each contender's rating
  ``(A p)_i``, its expected margin against the equilibrium mixture (0 for every member
  of the support, negative outside it). Invariant to copies of a contender, unlike a mean
  over opponents. The equilibria of such a game are ``{p in simplex : A p <= 0}``
  (its value is 0); the one of maximum entropy is unique (strict concavity) and is found
  by SLSQP from a linear-programming point of that polytope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: The hint shown when openskill is absent.
OPENSKILL_HINT = "ratings need openskill: pip install -e '.[games]' (or pip install openskill)"


@dataclass(frozen=True)
class NashAveraging:
    """The maximum-entropy Nash of an antisymmetric meta-game and the ratings it gives."""

    equilibrium: NDArray[np.float64]  # (C,) the maxent Nash mixture
    ratings: NDArray[np.float64]  # (C,) A p: each contender's margin against it


def antisymmetric(margins: ArrayLike, tolerance: float = 1e-9) -> NDArray[np.float64]:
    """``margins`` as a square float matrix, checked antisymmetric to ``tolerance``."""
    matrix = np.asarray(margins, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.size == 0:
        raise ValueError(f"margins has shape {matrix.shape}: expected a square (C, C) matrix")
    gap = float(np.abs(matrix + matrix.T).max())
    if gap > tolerance * max(1.0, float(np.abs(matrix).max())):
        raise ValueError(
            f"margins is not antisymmetric: max |A + A^T| = {gap:.3g} (tolerance {tolerance})"
        )
    return matrix


def nash_averaging(margins: ArrayLike, tolerance: float = 1e-9) -> NashAveraging:
    """Nash averaging of the antisymmetric ``margins`` (C, C): ``margins[i, j]`` is what
    ``i`` gains over ``j``."""
    from scipy.optimize import linprog, minimize

    matrix = antisymmetric(margins)
    count = matrix.shape[0]
    scale = max(float(np.abs(matrix).max()), 1e-300)
    normalized = matrix / scale
    # a point of the equilibrium polytope {p >= 0, sum p = 1, A p <= 0}
    found = linprog(
        np.zeros(count),
        A_ub=normalized,
        b_ub=np.zeros(count),
        A_eq=np.ones((1, count)),
        b_eq=[1.0],
        bounds=[(0.0, 1.0)] * count,
        method="highs",
    )
    if not found.success:
        raise RuntimeError(f"no equilibrium of the meta-game found: {found.message}")
    start = np.clip(found.x, 0.0, 1.0)
    # maximum entropy over the polytope, started slightly inside the simplex
    start = 0.999 * start + 0.001 * np.full(count, 1.0 / count)

    def negative_entropy(p: NDArray[np.float64]) -> float:
        q = np.clip(p, 1e-15, 1.0)
        return float(np.sum(q * np.log(q)))

    def gradient(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.log(np.clip(p, 1e-15, 1.0)) + 1.0)

    result = minimize(
        negative_entropy,
        start,
        jac=gradient,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * count,
        constraints=[
            {"type": "eq", "fun": lambda p: np.sum(p) - 1.0, "jac": lambda p: np.ones(count)},
            {"type": "ineq", "fun": lambda p: -normalized @ p, "jac": lambda p: -normalized},
        ],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    candidate = np.clip(result.x, 0.0, None)
    candidate /= candidate.sum()
    if not result.success or (normalized @ candidate).max() > 1e-6:
        candidate = np.clip(found.x, 0.0, None) / np.clip(found.x, 0.0, None).sum()
    # an entry the optimizer left at rounding level is outside the support
    candidate[candidate < tolerance] = 0.0
    candidate /= candidate.sum()
    return NashAveraging(candidate, matrix @ candidate)


def openskill_ratings(
    names: Sequence[str], episode_margins: ArrayLike, seed: int = 0
) -> dict[str, tuple[float, float, float]]:
    """``{name: (mu, sigma, ordinal)}`` from ``episode_margins[i, j, e]`` (C, C, E), the
    margin of ``i`` over ``j`` on episode ``e`` (antisymmetric in ``i, j``): one match per
    pair ``i < j`` and episode, in an order shuffled by ``seed`` (Plackett-Luce updates
    depend on the order)."""
    try:
        from openskill.models import PlackettLuce
    except ImportError:
        raise ImportError(OPENSKILL_HINT) from None
    margins = np.asarray(episode_margins, dtype=np.float64)
    count = len(names)
    if margins.ndim != 3 or margins.shape[:2] != (count, count):
        raise ValueError(
            f"episode_margins has shape {margins.shape}: expected ({count}, {count}, episodes)"
        )
    model = PlackettLuce()
    ratings = [model.rating(name=name) for name in names]
    matches = [
        (i, j, e)
        for i in range(count)
        for j in range(i + 1, count)
        for e in range(margins.shape[2])
    ]
    order = np.random.default_rng(seed).permutation(len(matches))
    for index in order:
        i, j, e = matches[int(index)]
        margin = margins[i, j, e]
        ranks = [0.0, 0.0] if margin == 0 else ([0.0, 1.0] if margin > 0 else [1.0, 0.0])
        [[ratings[i]], [ratings[j]]] = model.rate([[ratings[i]], [ratings[j]]], ranks=ranks)
    return {
        name: (float(r.mu), float(r.sigma), float(r.ordinal()))
        for name, r in zip(names, ratings, strict=True)
    }
