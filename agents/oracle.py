"""The exact oracle of a deterministic scenario: every valid action sequence, enumerated.

For the Single face (``LeptonExpansion-Single-v0``, ``Discrete(10 R + L)``) of
a deterministic scenario such as ``toy``, the optimal return is
``max over a_0..a_{T-1} of sum_t r_t``. The enumeration grows the tree of
action sequences one quarter at a time in a single batched
:meth:`lepton_env.core.Model.step` per depth: every node of the frontier is
expanded only into the actions its mask allows. That loses nothing: on the
Single face a masked action is a no-op, exactly like the always-valid "pass"
(action 0), so the masked actions reach every outcome any sequence can reach.
Bankrupt nodes are leaves (the episode terminates there).

With the branching recorded, the same tree also gives the exact expected
return of the uniformly random valid-move policy, ``sum_leaf prod_t
1/|valid_t| * G_leaf``: the ``0`` of the normalized score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.core import Model
from lepton_env.envs.actions import DiscreteActions
from lepton_env.params import Params
from lepton_env.scenarios import make_params

#: Largest frontier the enumeration accepts before refusing (memory guard).
MAX_FRONTIER = 5_000_000


class NotDeterministicError(ValueError):
    """The scenario draws random numbers, so one enumerated path is no plan."""


@dataclass(frozen=True)
class OracleResult:
    """The optimum of one episode (and the random policy's exact expectation)."""

    optimal_return: float
    plan: tuple[int, ...]  # Single-face actions, one per quarter
    random_return: float  # expected return of the uniformly random valid-move policy
    leaves: int  # complete action sequences enumerated
    nodes: int  # model steps taken


def _is_deterministic(params: Params) -> list[str]:
    rates = {
        "trait_noise": params.trait_noise,
        "competitor_noise": params.competitor_noise,
        "partner_quality_spread": params.partner_quality_spread,
        "diligence_noise": params.diligence_noise,
        "partner_failure_rate": params.partner_failure_rate,
        "enforcement_base_hazard": params.enforcement_base_hazard,
        "enforcement_gap_hazard": params.enforcement_gap_hazard,
        "regulatory_shock_rate": params.regulatory_shock_rate,
        "geopolitical_risk": params.geopolitical_risk,
        "fdi_screening": params.fdi_screening,
    }
    return [name for name, value in rates.items() if np.any(np.asarray(value) != 0)]


def solve(
    scenario: str | Params = "toy",
    seed: int = 0,
    model: Model | None = None,
    check_deterministic: bool = True,
    **overrides: Any,
) -> OracleResult:
    """Enumerate every valid Single-face action sequence of the episode ``reset(seed=seed)``.

    ``overrides`` are Params fields (e.g. ``horizon=3``). Raises ``ValueError``
    if the scenario has randomness (the optimum of one sampled path would not
    be a plan) or if the tree would exceed ``MAX_FRONTIER`` nodes.
    """
    model = model or Model(make_params(scenario, **overrides))
    params = model.params
    random_parts = _is_deterministic(params)
    if check_deterministic and random_parts:
        raise NotDeterministicError(
            f"the oracle needs a deterministic scenario; these must be 0: {random_parts}"
        )
    codec = DiscreteActions(params)
    state = model.reset(rng.episode_key(np.array([seed]), params.seed_offset))
    # Per frontier node: the return so far, the probability of its path under the
    # uniform random policy, and its action history (a (N, depth) matrix).
    returns = np.zeros(1)
    probability = np.ones(1)
    history = np.zeros((1, 0), dtype=np.int64)
    leaf_returns: list[NDArray[np.float64]] = []
    leaf_probability: list[NDArray[np.float64]] = []
    leaf_history: list[NDArray[np.int64]] = []
    nodes = 0
    for _ in range(params.horizon):
        masks = codec.masks(model.valid_moves(state), state.rnd_intensity)
        parent, action = np.nonzero(masks)
        if parent.size > MAX_FRONTIER:
            raise ValueError(
                f"the enumeration frontier has {parent.size} nodes, above MAX_FRONTIER = "
                f"{MAX_FRONTIER}: use a smaller horizon or scenario"
            )
        output = model.step(state.take(parent), codec.decode(action.astype(np.int64)))
        nodes += parent.size
        returns = returns[parent] + output.reward
        probability = probability[parent] / masks.sum(axis=1)[parent]
        history = np.concatenate([history[parent], action[:, None]], axis=1)
        done = output.terminated | output.truncated
        if done.any():
            leaf_returns.append(returns[done])
            leaf_probability.append(probability[done])
            leaf_history.append(_pad(history[done], params.horizon))
        alive = np.flatnonzero(~done)
        if alive.size == 0:
            break
        state = output.state.take(alive)
        returns, probability, history = returns[alive], probability[alive], history[alive]
    all_returns = np.concatenate(leaf_returns)
    all_probability = np.concatenate(leaf_probability)
    best = int(np.argmax(all_returns))
    plan_row = np.concatenate(leaf_history)[best]
    return OracleResult(
        optimal_return=float(all_returns[best]),
        plan=tuple(int(a) for a in plan_row if a >= 0),
        random_return=float(np.sum(all_probability * all_returns)),
        leaves=int(all_returns.size),
        nodes=nodes,
    )


def _pad(history: NDArray[np.int64], horizon: int) -> NDArray[np.int64]:
    """Histories of episodes that ended early, padded with -1 to the horizon."""
    missing = horizon - history.shape[1]
    return np.pad(history, ((0, 0), (0, missing)), constant_values=-1)


class OracleAgent:
    """Plays the oracle's plan through the agent protocol (Single face, deterministic scenario).

    The plan is open-loop: the quarter is read from the observation's ``time``
    feature, so the agent replays the optimal action of that quarter.
    """

    def __init__(self, scenario: str | Params = "toy", seed: int = 0, **overrides: Any) -> None:
        from lepton_env.observation import FIRM_FEATURES, REGION_FEATURES

        self.params = make_params(scenario, **overrides)
        self.result = solve(self.params, seed=seed)
        self._time_column = self.params.num_regions * len(REGION_FEATURES) + [
            f.name for f in FIRM_FEATURES
        ].index("time")

    def predict(
        self,
        observation: NDArray[np.floating],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        **kwargs: Any,
    ) -> tuple[NDArray[np.int64], None]:
        """The plan's action for the quarter of each observation."""
        batch = np.atleast_2d(np.asarray(observation))
        quarter = np.rint(batch[:, self._time_column] * self.params.horizon).astype(int)
        plan = np.asarray(self.result.plan, dtype=np.int64)
        # after the plan ends (never on a deterministic replay) pass with action 0
        actions = np.where(quarter < plan.size, plan[np.minimum(quarter, plan.size - 1)], 0)
        return actions.astype(np.int64), None

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> OracleAgent:
        """Nothing to learn: the plan is exact."""
        return self
