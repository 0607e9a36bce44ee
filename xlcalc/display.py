"""Numbers as the venue shows them: prices at the instrument's precision, money in the
account currency, percentages with enough digits for the rates shown.

One :class:`Display` per command run; every surface that prints or formats a figure (CLI,
report, template number formats) can take its rules from here:

- a price keeps the decimals of the prices the user gave (``1.08523`` → 5) or of the tick
  size, never fewer; without a tick, at least 6 significant digits of the reference price
  (USD/JPY 110 → 3 decimals, so a loss-cut at 104.4 is not shown as 104);
- money: ``¥`` and no decimals for JPY, 2 decimals for USD/USDT/EUR, 8 for BTC;
- a rate typed by the user (``0.075 %``) is shown with all its digits;
- never ``-0.00``: a figure that rounds to zero has no sign.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

__all__ = ["CURRENCIES", "Display", "excel_number_format", "pct_decimals", "price_decimals", "tick_decimals"]

# code: (prefix, suffix, decimals)
CURRENCIES = {
    "JPY": ("¥", "", 0),
    "USD": ("$", "", 2),
    "USDT": ("", " USDT", 2),
    "USDC": ("", " USDC", 2),
    "EUR": ("€", "", 2),
    "GBP": ("£", "", 2),
    "BTC": ("", " BTC", 8),
    "ETH": ("", " ETH", 8),
}
SIGNIFICANT = 6
MAX_DECIMALS = 12


def tick_decimals(tick) -> int:
    """Decimals of a tick size: 0.5 → 1, 0.00001 → 5, 1000 → 0.

    >>> tick_decimals(0.5), tick_decimals(1e-05), tick_decimals(1000), tick_decimals(None)
    (1, 5, 0, 0)
    """
    if tick is None or not math.isfinite(tick) or tick <= 0:
        return 0
    try:
        exponent = Decimal(repr(float(tick))).normalize().as_tuple().exponent
    except InvalidOperation:  # pragma: no cover - repr of a finite float is always valid
        return 0
    return min(MAX_DECIMALS, max(0, -int(exponent)))


def price_decimals(reference=None, typed=(), tick=None) -> int:
    """Decimals for the prices of one instrument.

    ``typed`` are the decimals of the prices the user typed (see
    :func:`xlcalc.human.typed_decimals`); ``reference`` a typical price (the entry). With a
    tick the tick decides (prices are its multiples), without one at least 6 significant
    digits of ``reference``; never fewer than typed.

    >>> price_decimals(1.08523, typed=[5, 5])   # EUR/USD
    5
    >>> price_decimals(110, typed=[0])          # USD/JPY typed as 110: 3 decimals (104.400)
    3
    >>> price_decimals(10_000_000, typed=[0])   # BTC/JPY
    0
    >>> price_decimals(0.00001234, typed=[8])   # a cheap coin
    10
    >>> price_decimals(60_000, typed=[0], tick=0.1)
    1
    """
    floor = max((int(d) for d in typed), default=0)
    if tick is not None:
        return min(MAX_DECIMALS, max(floor, tick_decimals(tick)))
    if reference is not None and math.isfinite(reference) and reference > 0:
        floor = max(floor, SIGNIFICANT - 1 - math.floor(math.log10(reference)))
    return min(MAX_DECIMALS, max(0, floor))


def pct_decimals(x) -> int:
    """Decimals of a computed fraction shown as a percentage: 2, more for a small value so that
    two significant digits show (a move of 0.0042 % is not 0.00 %).

    >>> pct_decimals(0.5), pct_decimals(-0.000042), pct_decimals(1e-17)
    (2, 4, 2)
    """
    value = abs(x) * 100
    if 1e-6 <= value < 1:  # below that it is rounding noise (a ratio of 1e-15 at zero)
        return min(6, max(2, 1 - math.floor(math.log10(value))))
    return 2


def _fixed(x: float, decimals: int, sign: bool = False) -> str:
    text = f"{x:+,.{decimals}f}" if sign else f"{x:,.{decimals}f}"
    if not text.strip("+-0.,"):  # rounds to zero: no "-0.00"
        text = text.lstrip("+-")
    return text


def excel_number_format(decimals: int, currency=None) -> str:
    """The matching Excel number format, for the template and the report.

    >>> excel_number_format(5), excel_number_format(0, "JPY"), excel_number_format(2, "USDT")
    ('#,##0.00000', '"¥"#,##0', '#,##0.00" USDT"')
    """
    body = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    if currency is None:
        return body
    prefix, suffix, _ = CURRENCIES.get(currency.upper(), ("", f" {currency.upper()}", decimals))
    return (f'"{prefix}"' if prefix else "") + body + (f'"{suffix}"' if suffix else "")


class Display:
    """How one command shows its figures.

    >>> d = Display(price_decimals=5, currency="USD")
    >>> d.price(1.0127), d.money(-0.001), d.money(4341.0), d.rate(0.00075), d.pct(2.2727)
    ('1.01270', '$0.00', '$4,341.00', '0.075 %', '227.27 %')
    >>> d.rate(0.5), d.rate(0.0)
    ('50.00 %', '0.00 %')
    >>> Display(0, "JPY").money(-1234.5)
    '-¥1,234'
    >>> Display(3).price(float("nan")), Display(3).pct(0.000042, sign=True), Display(3).pct(-1e-17)
    ('-', '+0.0042 %', '0.00 %')
    """

    def __init__(self, price_decimals: int = 2, currency: str | None = None):
        self.price_decimals = int(price_decimals)
        self.currency = currency.upper() if currency else None
        if self.currency is None:
            self._prefix, self._suffix, self.money_decimals = "", "", 2
        else:
            self._prefix, self._suffix, self.money_decimals = CURRENCIES.get(
                self.currency, ("", f" {self.currency}", 2)
            )

    def price(self, x, sign=False) -> str:
        """A price (or a price difference) at the instrument's precision."""
        if x is None or not math.isfinite(x):
            return "-"
        return _fixed(x, self.price_decimals, sign)

    def money(self, x) -> str:
        """An amount in the account currency."""
        if x is None or not math.isfinite(x):
            return "-"
        body = _fixed(abs(x), self.money_decimals)
        negative = x < 0 and body.strip("0.,")
        return ("-" if negative else "") + self._prefix + body + self._suffix

    def qty(self, x) -> str:
        """A quantity: up to 8 significant digits."""
        if x is None or not math.isfinite(x):
            return "-"
        text = f"{x:,.8g}"
        return text.lstrip("-") if not text.strip("-0.,") else text

    def pct(self, x, sign=False) -> str:
        """A computed fraction as a percentage: 2 decimals, more for small values so that
        two significant digits show (a move of 0.0042 % is not 0.00 %)."""
        if x is None or not math.isfinite(x):
            return "-"
        return _fixed(x * 100, pct_decimals(x), sign) + " %"

    def rate(self, x) -> str:
        """A rate or level with its digits (up to 4 decimals of a percent), at least 2: 0.075 %, not
        0.07 %."""
        if x is None or not math.isfinite(x):
            return "-"
        value = round(x * 100, 4)  # 0.0001 %: finer than any venue quotes a rate
        digits = f"{value:.4f}".rstrip("0").split(".")[1]
        return _fixed(value, max(2, len(digits))) + " %"
