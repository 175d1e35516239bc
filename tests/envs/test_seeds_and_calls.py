"""Fuzz: every seed and malformed call on the three faces is accepted or refused by name.

The faces: the single env (``gymnasium.make``), the Gymnasium vector env
(``make_vec(..., vectorization_mode="vector_entry_point")``) and the SB3 VecEnv
(``lepton_env.make_vec_env``). A valid seed is an integer in [0, 2**64) (for n
sub-envs seeded ``seed..seed+n-1``, up to 2**64 - n); anything else raises a
TypeError or ValueError whose message names ``seed``. A malformed action
raises an ActionError (a ValueError) naming ``action``; it never reaches the core.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lepton_env
from lepton_env.envs.actions import ActionError
from lepton_env.rng import check_seed

ENV_ID = "LeptonExpansion-v0"
NUM_ENVS = 2

#: Seeds of every kind: in range, at and past the edges, negative, and wrong types.
SEEDS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 2**64 - 2, 2**64 - 1, 2**64, -1, np.uint64(7), np.int64(-3)]),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.lists(st.integers(min_value=-2, max_value=2**64 + 1), max_size=3),
    st.lists(st.one_of(st.none(), st.text(max_size=2)), min_size=1, max_size=2),
)
#: Actions of every kind: valid, out of range, wrong shape, wrong dtype, None, text.
ACTIONS = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.floats(allow_nan=True),
    st.lists(st.integers(min_value=-3, max_value=12), max_size=6),
    st.lists(
        st.lists(st.integers(min_value=-1, max_value=12), min_size=4, max_size=4),
        min_size=0,
        max_size=3,
    ),
    st.lists(st.floats(allow_nan=True, width=32), min_size=4, max_size=4),
)


def _valid_single(seed: Any) -> bool:
    return (
        isinstance(seed, int | np.integer) and not isinstance(seed, bool) and 0 <= int(seed) < 2**64
    )


def _valid_batch(seed: Any) -> bool:
    if isinstance(seed, list):
        # the vector face takes one seed (or None: unseeded) per sub-env
        return len(seed) == NUM_ENVS and all(
            value is None or _valid_single(value) for value in seed
        )
    return _valid_single(seed) and int(seed) <= 2**64 - NUM_ENVS


@pytest.fixture(scope="module")
def faces() -> dict[str, Any]:
    return {
        "single": gym.make(ENV_ID, scenario="toy"),
        "vector": gym.make_vec(
            ENV_ID, num_envs=NUM_ENVS, vectorization_mode="vector_entry_point", scenario="toy"
        ),
        "sb3": lepton_env.make_vec_env(ENV_ID, num_envs=NUM_ENVS, scenario="toy"),
    }


def _reset(face: str, env: Any, seed: Any) -> None:
    if face == "sb3":
        env.seed(seed)
        env.reset()
    else:
        env.reset(seed=seed)


@given(seed=SEEDS)
def test_seeds_are_accepted_or_refused_by_name(faces: dict[str, Any], seed: Any) -> None:
    for face, env in faces.items():
        valid = _valid_single(seed) if face == "single" else _valid_batch(seed)
        if face == "sb3" and isinstance(seed, list):
            valid = False  # SB3's VecEnv.seed takes one integer
        if valid:
            _reset(face, env, seed)
            continue
        with pytest.raises((TypeError, ValueError), match="seed"):
            _reset(face, env, seed)


def _valid_action(face: str, action: Any) -> bool:
    array = np.asarray(action) if action is not None else None
    if array is None or array.dtype.kind not in "iu":
        return False
    shape = (4,) if face == "single" else (NUM_ENVS, 4)
    return array.shape == shape and bool(np.all((array >= 0) & (array <= np.array([9, 9, 9, 1]))))


@given(action=ACTIONS)
def test_malformed_actions_are_refused_by_name(faces: dict[str, Any], action: Any) -> None:
    for face, env in faces.items():
        _reset(face, env, 3)
        if _valid_action(face, action):
            env.step(np.asarray(action))
            continue
        with pytest.raises(ActionError, match="action"):
            env.step(action)


def test_the_reported_cases() -> None:
    single = gym.make(ENV_ID, scenario="toy")
    with pytest.raises(
        ValueError, match=r"seed = 18446744073709551616: allowed range \[0, 2\*\*64 - 1\]"
    ):
        single.reset(seed=2**64)
    single.reset(seed=2**64 - 1)
    vector = gym.make_vec(
        ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", scenario="toy"
    )
    with pytest.raises(TypeError, match="seed = '12'"):
        vector.reset(seed="12")
    sb3 = lepton_env.make_vec_env(ENV_ID, num_envs=2, scenario="toy")
    sb3.reset()
    with pytest.raises(
        ActionError, match=r"actions = None: expected one action per env, shape \(2, \*\(4,\)\)"
    ):
        sb3.step(None)
    with pytest.raises(ActionError, match=r"actions has shape \(4,\), expected \(2, \*\(4,\)\)"):
        sb3.step(np.zeros(4, dtype=np.int64))


def test_check_seed() -> None:
    assert check_seed(np.uint64(2**64 - 1)) == 2**64 - 1
    assert check_seed(5, count=3) == 5
    with pytest.raises(ValueError, match=r"\[0, 2\*\*64 - 3\]"):
        check_seed(2**64 - 2, count=3)
    with pytest.raises(TypeError, match="got bool"):
        check_seed(True)
