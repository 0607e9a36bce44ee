"""Crypto-backed loans (SPEC §10): the second road to debt the seeds name.

You pledge ``Q`` coins of collateral and borrow ``B`` (USDT, JPY...); interest ``I``
accrues on top. The lender watches the loan-to-value ratio::

    LTV(P) = (B + I) / (Q P)

and sends a margin call when it rises to its margin-call LTV, then sells the collateral at
its liquidation LTV. On a gap the sale may not cover the debt: the rest is still owed.
All LTVs and rates are fractions (0.65 = 65 %). Loan-venue presets (initial, margin-call and
liquidation LTV, interest) ship in ``xlcalc/data/loan_presets.csv``, each row with its source
and date; read them with :func:`loan_presets` and :func:`get_loan_preset`.
"""

from __future__ import annotations

import numpy as np

from ._inputs import Inputs, positive_or_nan

# the preset table is read with the exchange presets, without numpy (the template reads it too)
from .presets import LOAN_PRESET_COLUMNS, LOAN_PRESETS_ENV_VAR, get_loan_preset, loan_presets  # noqa: F401

__all__ = [
    "loan_ltv",
    "ltv_price",
    "collateral_to_add",
    "repay_to_target",
    "loan_shortfall",
    "loan_interest",
    "loan_presets",
    "get_loan_preset",
    "LOAN_PRESET_COLUMNS",
]


def _debt_and_coins(a, loan, interest, collateral_quantity):
    """What is owed (loan plus unpaid interest) and the coins held, checked."""
    debt = a.number("loan", loan, rule="nonnegative") + a.number("interest", interest, rule="nonnegative")
    return debt, a.number("collateral_quantity", collateral_quantity)


def _back_to_target(a, loan, collateral_quantity, price, target, interest):
    """The checked inputs of the two ways back to a target LTV: debt, coins, price, target."""
    debt, q = _debt_and_coins(a, loan, interest, collateral_quantity)
    return debt, q, a.number("price", price), a.number("target", target)


def loan_ltv(loan, collateral_quantity, price, interest=0.0):
    """Loan-to-value ratio: what you owe over what your collateral is worth at ``price``.

    Parameters
    ----------
    loan : float or array_like
        Principal outstanding, in the loan currency, >= 0.
    collateral_quantity : float or array_like
        Coins pledged, > 0.
    price : float or array_like
        Collateral price in the loan currency, > 0.
    interest : float or array_like, optional
        Interest accrued and not yet paid, >= 0 (see :func:`loan_interest`).

    Returns
    -------
    float, ndarray or Series
        The LTV as a fraction (0.5 = 50 %).

    Notes
    -----
    .. math:: LTV = \\frac{B + I}{Q P}

    Examples
    --------
    10,000 USDT borrowed on 1 BTC: at 20,000 the LTV is 50 %, at 12,500 it is 80 % (SPEC §10);
    Binance's FAQ example, 100 USDT on 0.01938571 BTC at 7,400, is 69.71 %:

    >>> import xlcalc as xc
    >>> xc.loan_ltv(10_000, 1, [20_000, 12_500])
    array([0.5, 0.8])
    >>> round(xc.loan_ltv(100, 0.01938571, 7_400), 4)
    0.6971
    """
    a = Inputs()
    debt, q = _debt_and_coins(a, loan, interest, collateral_quantity)
    p = a.number("price", price)
    return a.out(debt / (q * p))


def ltv_price(loan, collateral_quantity, level, interest=0.0):
    """The collateral price at which the LTV reaches ``level`` (margin call, liquidation).

    Parameters
    ----------
    loan, collateral_quantity, interest
        As in :func:`loan_ltv`.
    level : float or array_like
        The LTV, as a fraction (0.8 = 80 %), > 0.

    Returns
    -------
    float, ndarray or Series
        The price; NaN when nothing is owed (no price brings the LTV up).

    Notes
    -----
    .. math:: P^* = \\frac{B + I}{Q \\cdot LTV^*}

    Examples
    --------
    10,000 USDT on 1 BTC reaches an 80 % LTV at 12,500 (SPEC §10), and Binance's 2020 BTC
    liquidation LTV of 90 % at 11,111.11:

    >>> import xlcalc as xc
    >>> xc.ltv_price(10_000, 1, 0.8)
    12500.0
    >>> round(xc.ltv_price(10_000, 1, 0.9), 2)
    11111.11
    """
    a = Inputs()
    debt, q = _debt_and_coins(a, loan, interest, collateral_quantity)
    r = a.number("level", level)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = debt / (q * r)
    price = np.array(price, dtype=float) if np.ndim(price) else np.float64(price)
    return a.out(positive_or_nan(price))


def collateral_to_add(loan, collateral_quantity, price, target, interest=0.0):
    """Coins to add so that the LTV at ``price`` comes back down to ``target``.

    Parameters
    ----------
    loan, collateral_quantity, price, interest
        As in :func:`loan_ltv`.
    target : float or array_like
        The LTV to get back to, as a fraction (0.65 = 65 %), > 0.

    Returns
    -------
    float, ndarray or Series
        Coins to add; 0 where the LTV is already at or below ``target``.

    Notes
    -----
    .. math:: \\Delta Q = \\max\\left(0,\\ \\frac{B + I}{LTV_t P} - Q\\right)

    Examples
    --------
    10,000 USDT on 1 BTC, which has fallen to 12,500 (LTV 80 %): 0.230769 BTC more brings
    the LTV back to 65 % (SPEC §10):

    >>> import xlcalc as xc
    >>> round(xc.collateral_to_add(10_000, 1, 12_500, 0.65), 6)
    0.230769
    >>> xc.collateral_to_add(10_000, 1, 20_000, 0.65)
    0.0
    """
    a = Inputs()
    debt, q, p, t = _back_to_target(a, loan, collateral_quantity, price, target, interest)
    return a.out(np.maximum(debt / (t * p) - q, 0.0))


def repay_to_target(loan, collateral_quantity, price, target, interest=0.0):
    """The repayment that brings the LTV at ``price`` back down to ``target``: the other way
    out of a margin call than :func:`collateral_to_add`.

    Parameters
    ----------
    loan, collateral_quantity, price, target, interest
        As in :func:`collateral_to_add`.

    Returns
    -------
    float, ndarray or Series
        The amount to repay, in the loan currency; 0 where the LTV is already at or below
        ``target``.

    Notes
    -----
    .. math:: \\Delta B = \\max\\left(0,\\ B + I - LTV_t\\, Q P\\right)

    Examples
    --------
    10,000 USDT on 1 BTC at 12,500: repaying 1,875 USDT brings the LTV back to 65 %:

    >>> import xlcalc as xc
    >>> xc.repay_to_target(10_000, 1, 12_500, 0.65)
    1875.0
    """
    a = Inputs()
    debt, q, p, t = _back_to_target(a, loan, collateral_quantity, price, target, interest)
    return a.out(np.maximum(debt - t * q * p, 0.0))


def loan_shortfall(loan, collateral_quantity, fill_price, interest=0.0, liquidation_fee=0.0):
    """The debt left after the lender sells all the collateral at ``fill_price`` (a gap).

    Parameters
    ----------
    loan, collateral_quantity, interest
        As in :func:`loan_ltv`.
    fill_price : float or array_like
        The price the collateral is actually sold at, > 0.
    liquidation_fee : float or array_like, optional
        The lender's fee as a fraction of the sale proceeds, 0 <= fee < 1.

    Returns
    -------
    float, ndarray or Series
        What is still owed, >= 0 (0 when the sale covers the debt; the surplus goes back).

    Notes
    -----
    .. math:: S = \\max\\left(0,\\ B + I - Q P_f (1 - fee)\\right)

    Examples
    --------
    10,000 USDT on 1 BTC, sold at 9,000 after a gap with a 2 % fee: 8,820 comes in and
    1,180 is still owed (SPEC §10):

    >>> import xlcalc as xc
    >>> round(xc.loan_shortfall(10_000, 1, 9_000, liquidation_fee=0.02), 6)
    1180.0
    """
    a = Inputs()
    debt, q = _debt_and_coins(a, loan, interest, collateral_quantity)
    pf = a.number("fill_price", fill_price)
    fee = a.number("liquidation_fee", liquidation_fee, rule="below_one")
    return a.out(np.maximum(debt - q * pf * (1.0 - fee), 0.0))


def loan_interest(loan, annual_rate, days):
    """Simple interest accrued on ``loan`` over ``days`` at ``annual_rate``.

    Lenders quote a yearly rate and accrue it by the hour or minute on the principal
    (Binance: hourly rate = annual rate / 365 / 24), so over whole hours this is the
    interest they add to the debt. Add the result to ``interest=``.

    Parameters
    ----------
    loan : float or array_like
        Principal, >= 0.
    annual_rate : float or array_like
        Interest per year as a fraction (0.08 = 8 %/year), >= 0.
    days : float or array_like
        Days borrowed, >= 0 (fractions of a day are fine).

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: I = B \\cdot r_{year} \\cdot days / 365

    Examples
    --------
    10,000 USDT at 8 %/year for 90 days adds 197.26 USDT, and the 80 % LTV comes at
    12,746.58 instead of 12,500:

    >>> import xlcalc as xc
    >>> interest = xc.loan_interest(10_000, 0.08, 90)
    >>> round(interest, 2)
    197.26
    >>> round(xc.ltv_price(10_000, 1, 0.8, interest=interest), 2)
    12746.58
    """
    a = Inputs()
    b = a.number("loan", loan, rule="nonnegative")
    r = a.number("annual_rate", annual_rate, rule="nonnegative")
    n = a.number("days", days, rule="nonnegative")
    return a.out(b * r * n / 365.0)
