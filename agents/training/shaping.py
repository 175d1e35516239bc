"""Potential-based shaping of the training reward by the expected enforcement loss.

A compliance gap costs the firm through rare enforcement events, and most of what a gap
left at the horizon costs is paid inside the terminal value (its expected fines after the
horizon), so a learner meets the price of a COMPLY move forgone only much later, if at
all. The wrapper pays that expected loss as it arises (Ng, Harada & Russell 1999,
"Policy invariance under reward transformations", ICML):

    r'_t = r_t + Phi(s_{t+1}) - Phi(s_t),   Phi = 0 at the episode's end,
    Phi(s_t) = -w delta^t sum_r l_r(s_t) ((T - t) + delta^(T - t) A_W),

``l_r = expected_fine_r / (T - t)`` the observation's expected loss of one quarter in
region ``r`` (docs/model.md, section 10), ``delta`` the quarterly discount factor of the
rewards' present values, ``A_W = sum_{k=1..W} delta^k`` the annuity of the terminal
value's window ``W = valuation_quarters``: the loss of the quarters left, and the loss
the terminal value would charge after the horizon if ``S_r``, ``C_r`` and the revenue held.
The shaping telescopes to ``-Phi(s_0)`` over an episode, so every policy's return moves by
the same constant and the optimal policies are unchanged; the rewards are present values,
so the shaping needs no discount of its own. ``w`` (``env.shaping.enforcement``) scales it.

Training only: the evaluation env gets ``weight = 0`` (an identity wrapper, so that SB3's
normalization sync finds the same wrapper chain), and evaluators score the env's own reward.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from lepton_env.features import FIRM_FEATURES, REGION_FEATURES
from lepton_env.mechanisms.valuation import annuity, quarterly_discount

_FINE = [feature.name for feature in REGION_FEATURES].index("expected_fine")
_TIME = [feature.name for feature in FIRM_FEATURES].index("time")


class EnforcementShaping(VecEnvWrapper):
    """Adds ``Phi(s') - Phi(s)`` (module docstring) to each reward of a flat-observation
    one-firm VecEnv; ``weight = 0`` passes everything through."""

    def __init__(self, venv: VecEnv, weight: float) -> None:
        super().__init__(venv)
        params = venv.get_attr("params", indices=[0])[0]
        self.weight = float(weight)
        self.regions = len(params.region_names)
        self.horizon = int(params.horizon)
        self.delta = float(quarterly_discount(params.discount_rate))
        self.tail = annuity(self.delta, int(params.valuation_quarters))
        width = self.regions * len(REGION_FEATURES) + len(FIRM_FEATURES)
        shape = venv.observation_space.shape
        if shape != (width,):
            raise ValueError(
                f"env.shaping.enforcement = {weight}: needs the flat one-firm observation of "
                f"width {width} (env.observation_mode=flat), got shape {shape}"
            )
        #: ``Phi`` of each env's current state.
        self.potential_now: NDArray[np.float64] = np.zeros(venv.num_envs)

    def potential(self, observation: Any) -> NDArray[np.float64]:
        """``Phi(s)`` per env (module docstring) from the raw flat observation."""
        obs = np.asarray(observation)
        width = self.regions * len(REGION_FEATURES)
        table = obs[:, :width].reshape(len(obs), self.regions, len(REGION_FEATURES))
        to_horizon = table[:, :, _FINE].astype(np.float64).sum(axis=1)
        quarter = np.rint(obs[:, width + _TIME].astype(np.float64) * self.horizon)
        left = np.maximum(self.horizon - quarter, 1.0)
        after_horizon = to_horizon / left * self.delta**left * self.tail
        return -self.weight * self.delta**quarter * (to_horizon + after_horizon)

    def reset(self) -> Any:
        obs = self.venv.reset()
        self.potential_now = self.potential(obs)
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        if self.weight == 0.0:
            return obs, rewards, dones, infos
        # At an episode's end ``obs`` is the next episode's first: Phi(end) = 0.
        following = self.potential(obs)
        shaped = rewards + np.where(dones, 0.0, following) - self.potential_now
        self.potential_now = following
        return obs, shaped.astype(rewards.dtype), dones, infos
