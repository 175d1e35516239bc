"""PSRO's meta-solvers on hand-computed three-firm symmetric games."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("pyspiel")

from lepton_env.games.meta_solvers import (
    alpharank_joint,
    expected_values,
    meta_strategies,
)


def symmetric_game(payoff: dict[tuple[int, ...], float]) -> np.ndarray:
    """(3, 2, 2, 2) tables of a symmetric game: ``payoff[(own, *others sorted)]``."""
    tables = np.zeros((3, 2, 2, 2))
    for profile in itertools.product(range(2), repeat=3):
        for firm in range(3):
            others = tuple(sorted(profile[:firm] + profile[firm + 1 :]))
            tables[(firm, *profile)] = payoff[(profile[firm], *others)]
    return tables


def volunteers_dilemma(cost: float) -> np.ndarray:
    """Action 0 volunteers (pays ``cost``); everyone gets 1 if anyone volunteers, else 0."""
    return symmetric_game(
        {
            (own, *others): float(own == 0 or 0 in others) - cost * (own == 0)
            for own in range(2)
            for others in itertools.combinations_with_replacement(range(2), 2)
        }
    )


def test_replicator_finds_the_volunteers_dilemmas_symmetric_equilibrium() -> None:
    # indifference: 1 - c = 1 - (1 - p)^2, so p = 1 - sqrt(c) = 0.4 at c = 0.36
    tables = volunteers_dilemma(0.36)
    for solver in ("replicator", "auto"):
        meta = meta_strategies(tables, solver)
        for weights in meta:
            assert weights == pytest.approx([0.4, 0.6], abs=1e-3)
    # every firm's value there: 1 - c = 0.64 (volunteering and not are worth the same)
    values = expected_values(tables, meta_strategies(tables, "replicator"))
    assert values == pytest.approx([0.64] * 3, abs=1e-3)


def test_expected_values_contract_each_firms_axis() -> None:
    tables = np.random.default_rng(0).normal(size=(3, 2, 3, 4))
    meta = [np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3]), np.array([0.1, 0.2, 0.3, 0.4])]
    expected = np.einsum("fijk,i,j,k->f", tables, *meta)
    assert expected_values(tables, meta) == pytest.approx(expected)


def test_alpharank_puts_its_mass_on_the_dominant_profile() -> None:
    # a public-goods game: contributing (0) gives each firm 2/3, costs the contributor 1,
    # so not contributing (1) strictly dominates; (1, 1, 1) is the response graph's sink
    tables = symmetric_game(
        {
            (own, *others): 2.0 / 3.0 * ((own == 0) + sum(o == 0 for o in others)) + float(own == 1)
            for own in range(2)
            for others in itertools.combinations_with_replacement(range(2), 2)
        }
    )
    joint = alpharank_joint(tables)
    assert joint.shape == (2, 2, 2)
    assert joint.sum() == pytest.approx(1.0)
    assert joint[1, 1, 1] > 0.95
    for weights in meta_strategies(tables, "alpharank"):
        assert weights[1] > 0.95


def test_nashpy_refuses_three_firms_and_an_unknown_solver() -> None:
    tables = volunteers_dilemma(0.36)
    with pytest.raises(ValueError, match="meta_solver = 'nashpy' solves two-firm games"):
        meta_strategies(tables, "nashpy")
    with pytest.raises(ValueError, match=r"meta_solver = 'lp': allowed \['auto'"):
        meta_strategies(tables, "lp")
