"""One valuation: the discounted cash flow of a share of a region's expected demand.

A share ``s`` of region ``r`` held from quarter ``t`` is worth the discounted gross
margin of that share of the region's expected demand over a valuation window of
``H`` quarters (a competitive-advantage period: Mauboussin & Johnson 1997,
"Competitive Advantage Period", *Financial Analysts Journal* 53(6); the discounted
cash flow itself as in Koller, Goedhart & Wessels, *Valuation*, McKinsey & Co.):

    ``V_r(t, s) = s * margin * size_r * W_r(t)``,
    ``W_r(t) = sum_{k=1..H} delta^k * M_r(0) (1 + g_r)^((t+k-1)/4) * a_r(t+k)``

``W_r`` is the discounted expected demand per unit share (and unit of the episode's
market size ``size_r``): the demand the kernel settles in quarter ``t+k-1`` is the
potential at its start times the adoption after its diffusion, ``a_r(t+k)``, the
``k``-th Bass (1969) step ahead of the current adoption, shocks ignored (a
deterministic forecast). Cash flows arrive at the end of each quarter, so the first
is discounted once. ``delta = (1 + rate)^(-1/4)`` is the quarterly discount factor of
an annual cost of capital.

Two uses, one logic, so that no trade makes value from nothing:

* the **acquisition price** of a local competitor holding share ``s_T`` is the deal
  cost plus its value with a control premium ``pi`` (Betton, Eckbo & Thorburn 2008,
  "Corporate takeovers", *Handbook of Empirical Corporate Finance* 2, ch. 15: average
  offer premia of 30-45 %): ``price = F_3 + c_3 M_r + (1 + pi) V_r(t, s_T)`` with the
  gross margin ``1 - v`` (``v`` the variable cost rate);
* the **firm's value** (the terminal valuation and the potential of the valuation
  reward) sums its own positions, each at its own margin (``1 - v`` less a partner's
  revenue share) less the discounted operating cost of the mode it holds,
  ``O_m(t) = f_m A + o_m size_r P_r(t)`` with the annuity ``A = sum_k delta^k`` and the
  discounted potential ``P_r(t) = sum_{k=1..H} delta^k M_r(0) (1 + g_r)^((t+k-1)/4)``.

Buying a target in the last quarter therefore pays at least the value its share adds
to the terminal valuation (the premium and the deduction of the acquired unit's
operating cost both stand in the buyer's way), so it can raise the return by little
more than the target's own profit in that quarter.
"""

from __future__ import annotations

from numba import njit, vectorize

from lepton_env.mechanisms import diffusion


@vectorize(cache=True)
def quarterly_discount(annual_rate: float) -> float:
    """``delta = (1 + rate)^(-1/4)``: one quarter's discount factor."""
    return (1.0 + annual_rate) ** -0.25


@njit(cache=True)
def annuity(delta: float, quarters: int) -> float:
    """``A = sum_{k=1..H} delta^k``: the present value of 1 a quarter for ``H`` quarters."""
    total, factor = 0.0, 1.0
    for _ in range(quarters):
        factor *= delta
        total += factor
    return total


@njit(cache=True)
def discounted_demand(
    base_potential: float,
    annual_growth: float,
    quarter: float,
    adoption: float,
    innovation: float,
    imitation: float,
    delta: float,
    quarters: int,
) -> float:
    """``W_r(t)``: discounted expected demand per unit share and unit market size, $M.

    ``adoption`` is the region's adoption at the start of ``quarter``; the forecast
    steps it by Bass diffusion, one quarter per term.
    """
    total, factor, adopted = 0.0, 1.0, adoption
    for k in range(1, quarters + 1):
        factor *= delta
        adopted = diffusion.bass_adoption(adopted, innovation, imitation)
        growth = diffusion.growth_factor(annual_growth, quarter + k - 1.0)
        total += factor * base_potential * growth * adopted
    return total


@njit(cache=True)
def discounted_potential(
    base_potential: float, annual_growth: float, quarter: float, delta: float, quarters: int
) -> float:
    """``P_r(t)``: the discounted market potential per unit market size, $M."""
    total, factor = 0.0, 1.0
    for k in range(1, quarters + 1):
        factor *= delta
        total += factor * base_potential * diffusion.growth_factor(annual_growth, quarter + k - 1.0)
    return total


@vectorize(cache=True)
def share_value(share: float, margin: float, market_size: float, demand_value: float) -> float:
    """``V_r(t, s) = s * margin * size_r * W_r(t)`` in $M."""
    return share * margin * market_size * demand_value


@vectorize(cache=True)
def position_value(
    share: float,
    margin: float,
    market_size: float,
    demand_value: float,
    potential_value: float,
    operating_fixed: float,
    operating_market: float,
    annuity_value: float,
) -> float:
    """A held position: ``V_r(t, s) - (f_m A + o_m size_r P_r(t))`` in $M (may be negative:
    a unit that loses money lowers the firm's value)."""
    operating = operating_fixed * annuity_value + operating_market * market_size * potential_value
    return share_value(share, margin, market_size, demand_value) - operating


@vectorize(cache=True)
def acquisition_price(deal_cost: float, control_premium: float, target_value: float) -> float:
    """``F_3 + c_3 M_r + (1 + pi) V_r(t, s_T)`` in $M, with ``deal_cost = F_3 + c_3 M_r``."""
    return deal_cost + (1.0 + control_premium) * target_value
