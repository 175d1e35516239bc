"""Product-market fit, learned by being there: hidden fit, beliefs, experiential knowledge.

Each region ``r`` has a hidden product-market fit ``phi_r`` (utility units) that adds
to the firm's attraction there (:func:`lepton_env.mechanisms.share.attraction`):
    ``U_firm,r = b_q quality_eff + b_b ln(1 + brand) + b_l localization - b_p ln(price) + phi_r``
It is drawn once per episode from the prior ``phi_r = mu_r + sigma_r z``, whose
standard deviation grows with psychic distance ``D_r`` (a stated assumption: the
farther the market, the less the firm knows about it; Johanson & Vahlne 1977):
    ``sigma_r = sigma_0 + sigma_D D_r``
``z`` is a standard normal, or a two-point draw ``+-1`` with probability 1/2 each
(``fit_two_point``: the discrete ``toy_pilot``, whose exact Bayes-optimal value is
computed by expectimax in :mod:`lepton_env.agents.players.oracle`). Both have mean 0
and variance 1, so the prior mean and variance are ``mu_r`` and ``sigma_r^2`` either way.

The firm holds a belief ``(m_r, v_r)``, starting at the prior ``(mu_r, sigma_r^2)``.
Each quarter it serves region ``r`` in mode ``e`` it observes a signal
``y = phi_r + tau_e^(-1/2) e`` (``e`` standard normal or two-point, as ``z``) whose
precision ``tau_e`` grows with the depth of the mode (a pilot learns least), and
updates with the normal-normal conjugate update (DeGroot 1970, *Optimal Statistical
Decisions*, ch. 9.5), written with the gain ``k`` so that ``v = 0`` (fit known)
and ``tau = 0`` (no signal) are no-ops:
    ``k = v tau / (1 + v tau)``, ``m' = m + k (y - m)``, ``v' = v (1 - k)``
With normal draws this is the exact posterior; with two-point draws it is the best
linear (Bayes-linear) estimate, and the oracle conditions on the signals themselves.

Experiential knowledge (Johanson & Vahlne 1977, 2009): presence in region ``j`` also
teaches about regions like it. The similarity of two regions is read from their
distance traits, ``sim_rj = 1 - |D_r - D_j|`` (a stated assumption: markets at a like
distance from home are alike). Each quarter the firm serves ``j``, every other foreign
region ``r`` moves closer and is better known:
    ``D_r' = D_r (1 - kappa_D sim_rj)``
    ``v_r' = v_r / (1 + v_r kappa_v sim_rj tau_e)``
(the second a stated assumption: general internationalization knowledge narrows the
belief without moving its mean; with ``kappa_v = 0`` beliefs stay exact posteriors).
Over several served regions the factors multiply and the spillover precisions add; a
region's own signal is taken first.
The real-options view of entry (Kogut 1991; Dixit & Pindyck 1994, *Investment under
Uncertainty*) is why this matters: a cheap pilot buys the signal that decides whether a
costly commitment is worth making, an option a firm that commits at once forgoes.
"""

from __future__ import annotations

from numba import vectorize


@vectorize(cache=True)
def prior_sd(base_sd: float, distance_sd: float, distance: float) -> float:
    """``sigma_r = sigma_0 + sigma_D D_r``: the prior's standard deviation."""
    return base_sd + distance_sd * distance


@vectorize(cache=True)
def standard_draw(uniform: float, normal: float, two_point: bool) -> float:
    """A mean-0, variance-1 draw: ``normal``, or ``+1`` if ``uniform >= 1/2`` else ``-1``."""
    if two_point:
        return 1.0 if uniform >= 0.5 else -1.0
    return normal


@vectorize(cache=True)
def update_mean(mean: float, variance: float, signal: float, precision: float) -> float:
    """``m' = m + k (y - m)`` with ``k = v tau / (1 + v tau)`` (normal-normal update)."""
    gain = variance * precision / (1.0 + variance * precision)
    return mean + gain * (signal - mean)


@vectorize(cache=True)
def update_variance(variance: float, precision: float) -> float:
    """``v' = v / (1 + v tau)``: the posterior variance after a signal of precision ``tau``."""
    return variance / (1.0 + variance * precision)


@vectorize(cache=True)
def similarity(distance_a: float, distance_b: float) -> float:
    """``sim = 1 - |D_a - D_b|`` of two regions' distance traits, in [0, 1]."""
    return 1.0 - abs(distance_a - distance_b)


@vectorize(cache=True)
def closer(distance: float, rate: float, similarity_to_present: float) -> float:
    """``D' = D (1 - kappa_D sim)``: psychic distance after a quarter of presence nearby."""
    return distance * (1.0 - rate * similarity_to_present)
