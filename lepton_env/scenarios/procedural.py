"""``procedural``: random worlds with a difficulty and a noise ladder.

A world (regions, competitors, partners, regulation) is drawn from
distributions by ``world_seed``; ``difficulty`` in [0, 1] raises stringency,
competitor strength, shock rates, geopolitical risk and FDI screening;
``noise`` in [0, 1] sets how much each episode's market sizes, distances and
competitor qualities vary around the world's values. ``split="test"`` shifts
every episode seed by 2**40, so train and test episodes never share a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from lepton_env.params import Params, ParamsError
from lepton_env.scenarios.base import build, default_economics

TEST_SEED_OFFSET = 2**40


@dataclass(frozen=True)
class ProceduralScenario:
    """Random regions, competitors and regulation."""

    num_regions: int = 6
    difficulty: float = 0.5
    noise: float = 0.2
    world_seed: int = 0
    split: Literal["train", "test"] = "train"

    def __post_init__(self) -> None:
        checks = {
            "num_regions": (2, 32, self.num_regions),
            "difficulty": (0.0, 1.0, self.difficulty),
            "noise": (0.0, 1.0, self.noise),
            "world_seed": (0, 2**32 - 1, self.world_seed),
        }
        for name, (low, high, value) in checks.items():
            integer = isinstance(low, int)
            kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
            if isinstance(value, bool) or not isinstance(value, kinds):
                expected = "an integer" if integer else "a number"
                raise ParamsError(f"procedural {name}: expected {expected}, got {value!r}")
            if not low <= value <= high:
                raise ParamsError(f"procedural {name} = {value!r} is out of range: [{low}, {high}]")
        if self.split not in ("train", "test"):
            raise ParamsError(f"procedural split = {self.split!r}: allowed 'train' or 'test'")

    def __call__(self, **overrides: Any) -> Params:
        draw = np.random.default_rng(self.world_seed)
        regions, hard = self.num_regions, self.difficulty

        def home_first(values: np.ndarray, home_value: float) -> np.ndarray:
            values[0] = home_value
            return values

        slots = 3
        fields = default_economics()
        fields.update(
            region_names=tuple(["home"] + [f"region_{i}" for i in range(1, regions)]),
            seed_offset=TEST_SEED_OFFSET if self.split == "test" else 0,
            trait_noise=0.5 * self.noise,
            competitor_noise=0.1 * self.noise,
            partner_quality_spread=0.1 + 0.2 * self.noise,
            market_potential=np.exp(draw.normal(np.log(200.0), 0.8, regions)),
            market_growth=draw.uniform(0.05, 0.3, regions),
            bass_innovation=draw.uniform(0.005, 0.02, regions),
            bass_imitation=draw.uniform(0.05, 0.15, regions),
            initial_adoption=draw.uniform(0.05, 0.3, regions),
            price_sensitivity=draw.uniform(0.8, 2.5, regions),
            psychic_distance=home_first(draw.uniform(0.1, 0.95, regions), 0.0),
            initial_stringency=draw.uniform(0.1, 0.4 + 0.5 * hard, regions),
            stringency_drift=draw.uniform(0.0, 0.01 * hard, regions),
            regulatory_shock_rate=draw.uniform(0.0, 0.02 + 0.1 * hard, regions),
            regulatory_shock_size=draw.uniform(0.05, 0.15, regions),
            data_localization=(draw.uniform(size=regions) < 0.2 + 0.4 * hard).astype(float),
            geopolitical_risk=home_first(draw.uniform(0.0, 0.03 * hard, regions), 0.0),
            fdi_screening=draw.uniform(0.0, hard, regions),
            competitor_active=(draw.uniform(size=(regions, slots)) < 0.9).astype(float),
            competitor_quality=draw.uniform(0.55, 0.7 + 0.25 * hard, (regions, slots)),
            competitor_brand=draw.uniform(1.0, 3.0 + 4.0 * hard, (regions, slots)),
            competitor_price=draw.uniform(0.6, 1.3, (regions, slots)),
            competitor_persona=draw.integers(0, 4, (regions, slots)).astype(float),
            partner_quality_mean=draw.uniform(0.3, 0.9, (regions, 3)),
        )
        return build(fields, overrides)
