"""Observation encoding: a documented feature table, scaled for learning.

Every feature is bounded (the bounds are the Box bounds) and of order one, so
agents learn without VecNormalize. ``REGION_FEATURES`` and ``FIRM_FEATURES``
are the single source of the table: the sizes, the Box bounds and the spec
table in the env docstring all come from them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lepton_env import kernel
from lepton_env.core import Model
from lepton_env.features import (
    FIRM_FEATURES,
    REGION_FEATURES,
    Feature,
    bounds,
    feature_table,
    observation_width,
)
from lepton_env.state import State

__all__ = [
    "FIRM_FEATURES",
    "REGION_FEATURES",
    "Feature",
    "bounds",
    "encode",
    "encode_flat",
    "feature_table",
    "flatten",
]


def encode(model: Model, state: State) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``(regions (B, R, F_region), firm (B, F_firm))``, clipped to the bounds: the Dict
    observation of the single-agent faces (one firm; with rivals use :func:`encode_flat`).

    Both are views into one :func:`encode_flat` buffer.
    """
    if model.params.num_firms > 1:
        raise ValueError(
            f"encode splits one firm's observation; this world has {model.params.num_firms} "
            "firms: use encode_flat (a row per firm, with the rivals' public state)"
        )
    flat = encode_flat(model, state)
    batch, regions = state.entry_mode.shape
    width = regions * len(REGION_FEATURES)
    return flat[:, :width].reshape(batch, regions, -1), flat[:, width:]


def encode_flat(model: Model, state: State) -> NDArray[np.float32]:
    """The flat observation of every firm row (B * F, D): regions row-major then the firm,
    and with rivals their public state and the firm's identity
    (:func:`~lepton_env.features.observation_width`; F = 1: (B, R * F_region + F_firm))."""
    rows, regions = state.entry_mode.shape
    width = observation_width(regions, model.params.num_firms)
    flat = np.empty((rows, width), np.float32)
    kernel.encode(model._compiled, state.arrays, flat)
    return flat


def flatten(region_obs: NDArray[np.float32], firm_obs: NDArray[np.float32]) -> NDArray[np.float32]:
    """The flat observation: regions row-major, then the firm, (B, R * F_region + F_firm)."""
    return np.concatenate([region_obs.reshape(region_obs.shape[0], -1), firm_obs], axis=1)
