"""Comparative statics of international-business theory on ``global``.

Each test changes one trait of every foreign region, plays the same fixed
policies on the same seeds, and asserts the direction theory predicts with a
margin of several standard errors. Values are present values at the cost of
capital (:class:`theory_kit.Episodes`); the firm is rich where financing would
otherwise end episodes early.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from theory_kit import Episodes, clearly_less, hold, play, scheduled

from lepton_env import make_params
from lepton_env.types import Move

PARAMS = make_params("global")
FOREIGN = [r for r in range(PARAMS.num_regions) if r != PARAMS.home_region]
LAST = PARAMS.horizon - 1


def foreign_at(name: str, value: float) -> NDArray[np.float64]:
    """Field ``name`` with every foreign region set to ``value``, home unchanged."""
    values = np.array(getattr(PARAMS, name), dtype=np.float64)
    values[FOREIGN] = value
    return values


def entering(move: Move, upkeep: tuple[Move, ...] = ()) -> Any:
    return scheduled({0: {r: move for r in FOREIGN}}, upkeep=upkeep)


def value_of(policy: Episodes, base: Episodes) -> NDArray[np.float64]:
    return policy.present_values - base.present_values


def test_stringency_brings_enforcement_and_lowers_the_value_of_entry_without_compliance() -> None:
    """Regulation as a liability of foreignness (Zaheer 1995; GDPR-style enforcement)."""
    runs = {}
    for level in (0.2, 0.8):
        setting = {"initial_stringency": foreign_at("initial_stringency", level)}
        runs[level] = play([hold(), entering(Move.ENTER_PARTNERSHIP)], **setting)
    (lax_base, lax), (strict_base, strict) = runs[0.2], runs[0.8]
    assert clearly_less(lax.total("enforcement_events"), strict.total("enforcement_events"))
    assert clearly_less(lax.total("fines"), strict.total("fines"))
    assert clearly_less(value_of(strict, strict_base), value_of(lax, lax_base))


def test_psychic_distance_lowers_share_and_localization_closes_the_gap() -> None:
    """Uppsala (Johanson & Vahlne 1977): distance is a cost that local adaptation removes."""
    shares = {}
    for distance in (0.2, 0.8):
        setting = {"psychic_distance": foreign_at("psychic_distance", distance)}
        plain, localized = play(
            [entering(Move.ENTER_GREENFIELD), entering(Move.ENTER_GREENFIELD, (Move.LOCALIZE,))],
            initial_cash=1e5,
            # ceteris paribus: the fit's spread and experiential learning, which also scale
            # with distance (lepton_env.mechanisms.fit), held fixed
            fit_prior_sd_distance=0.0,
            experience_distance_rate=0.0,
            **setting,
        )
        shares[distance] = (
            plain.market_share[:, LAST, FOREIGN].mean(axis=1),
            localized.market_share[:, LAST, FOREIGN].mean(axis=1),
        )
    (near_plain, near_localized), (far_plain, far_localized) = shares[0.2], shares[0.8]
    assert clearly_less(far_plain, near_plain)
    assert clearly_less(far_plain, far_localized)
    assert clearly_less(near_localized - far_localized, near_plain - far_plain)


def test_psychic_distance_lowers_share_at_the_defaults() -> None:
    """The same at the defaults, where the fit's spread and experiential learning grow with
    distance too: the fit has no mean effect on the attraction (lepton_env.mechanisms.fit),
    so its wider spread cannot make distance an advantage (with the spread's mean effect
    ``exp(sigma^2 / 2)`` left in, far regions took more share). Localization does not close
    this gap: the fit's spread, which it leaves, costs more share the higher the share."""
    runs = {}
    for distance in (0.2, 0.8):
        setting = {"psychic_distance": foreign_at("psychic_distance", distance)}
        (runs[distance],) = play(
            [entering(Move.ENTER_GREENFIELD)],
            initial_cash=1e5,
            seeds=range(20_000, 20_256),
            **setting,
        )
    near, far = runs[0.2], runs[0.8]
    assert clearly_less(far.present_values, near.present_values)
    # the share gap is small (0.0019 +- 0.0005 on these seeds): three standard errors
    share = {d: run.market_share[:, LAST, FOREIGN].mean(axis=1) for d, run in runs.items()}
    assert clearly_less(share[0.8], share[0.2], errors=3.0)


def test_partner_quality_makes_partnerships_worth_more_and_fail_less() -> None:
    """Partner selection (Geringer 1991): a better partner adds value and stays."""
    runs = {}
    for quality in (0.3, 0.8):
        setting = {"partner_quality_mean": np.full_like(PARAMS.partner_quality_mean, quality)}
        runs[quality] = play([hold(), entering(Move.ENTER_PARTNERSHIP)], **setting)
    (weak_base, weak), (strong_base, strong) = runs[0.3], runs[0.8]
    assert clearly_less(strong.total("partner_failures"), weak.total("partner_failures"))
    assert clearly_less(value_of(weak, weak_base), value_of(strong, strong_base))
