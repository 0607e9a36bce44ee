"""How the report shows its numbers (issue #12): number formats from the account currency and
the instruments' precision, column widths from the widest content, print setup.

Prices keep :func:`xlcalc.display.price_decimals`' rule, as ``xlcalc calc`` shows them: the
decimals the user gave, else the tick's, else 6 significant digits of the price (USD/JPY
typed as 110: a loss-cut at 106.2 is 106.200, never 106); one format a column, so the row
that needs the most decides.

The account currency: the one given (``--currency``), else the quote currency every symbol
shares (``BTC/JPY`` → JPY, ``BTCUSDT`` → USDT), else none (plain ``#,##0.00``). A language
says nothing about the account's currency, so it is never used for it.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ..display import CURRENCIES as _SHOWN
from ..display import excel_number_format, pct_decimals, price_decimals

__all__ = [
    "quote_currency",
    "number_formats",
    "Measure",
    "instrument_decimals",
    "percent_format",
    "shown_width",
    "text_width",
    "fit_columns",
    "print_setup",
]

CURRENCIES = {**_SHOWN, "KRW": ("₩", "", 0)}  # code: (prefix, suffix, decimals); the won only here
QUOTES = ["USDT", "USDC", "JPY", "USD", "EUR", "GBP", "KRW", "BTC", "ETH"]  # symbol suffixes


def quote_currency(symbol) -> str | None:
    """The currency a symbol is priced in: "BTC/JPY" → JPY, "BTCUSDT" → USDT, "EUR_USD" → USD.

    >>> [quote_currency(s) for s in ("BTC/JPY", "btcusdt", "EUR_USD", "ETH-PERP", "XAUUSD.m")]
    ['JPY', 'USDT', 'USD', None, 'USD']
    """
    text = str(symbol).upper().split(".")[0]
    parts = re.split(r"[/_\-: ]", text)
    if len(parts) > 1:
        return parts[-1] if parts[-1] in CURRENCIES else None
    return next((q for q in QUOTES if text.endswith(q) and len(text) > len(q)), None)


def _signed(body: str) -> str:
    """A format with no ``-0``: the zero its own section (``0`` for ``#,##0``)."""
    return f"{body};-{body};{body.replace('#,##', '')}"


def number_formats(
    currency=None, price_decimals=2, quantity_decimals=4, fine_decimals=8, rate_decimals=4
) -> dict:
    """Excel number formats of the report's kinds of column; prices show ``price_decimals``,
    money the account currency's (another code: 2 and its code), quantities the user gave
    ``quantity_decimals``, computed quantities (to close, to add) ``fine_decimals`` and
    conversion rates ``rate_decimals``.

    >>> f = number_formats("JPY", price_decimals=3)
    >>> f["money"], f["price"]
    ('"¥"#,##0;-"¥"#,##0;"¥"0', '#,##0.000;-#,##0.000;0.000')
    """
    prefix, suffix, decimals = CURRENCIES.get(currency, ("", f" {currency}" if currency else "", 2))
    money = (
        (f'"{prefix}"' if prefix else "") + excel_number_format(decimals) + (f'"{suffix}"' if suffix else "")
    )
    price = _signed(excel_number_format(price_decimals))
    return {
        "int": "0",
        "money": _signed(money),
        "price": price,
        "trigger": price,
        "qty": _signed(excel_number_format(quantity_decimals)),
        "qty_fine": _signed(excel_number_format(fine_decimals)),
        "fx": _signed(excel_number_format(rate_decimals)),
        "lev": 'General"x"',  # 0.##"x" shows "2.x" in Excel
        "pct": "0.00%",
        "move": "+0.0%;-0.0%;0.0%",
        "text": "@",
        "status": "General",
        "side": "General",
    }


FORMATS = number_formats()


def percent_format(x: float, signed: bool) -> str:
    """The format of one computed percentage, with the decimals ``xlcalc calc`` shows it with
    (:func:`xlcalc.display.pct_decimals`): a move of -0.0042 % is not "-0.0%"; a value that
    rounds to zero has no sign.

    >>> percent_format(-0.000042, True), percent_format(-0.25, True), percent_format(1e-17, True)
    ('+0.0000%;-0.0000%;0.0000%', '+0.00%;-0.00%;0.00%', '0.00%;0.00%;0.00%')
    """
    body = "0." + "0" * pct_decimals(x) + "%"
    if abs(round(x * 100, pct_decimals(x))) == 0:
        return f"{body};{body};{body}"  # no "-0.00%"
    return f"+{body};-{body};{body}" if signed else body


PRICE_KEYS = ("entry_price", "price", "gap_price")  # prices the user gave (positions, loans)
QUANTITY_KEYS = ("quantity", "collateral_quantity")


def _decimals(x, most=8) -> int:
    """Decimals the numbers ``x`` were given with (at most ``most``)."""
    x = x[np.isfinite(x)]
    for d in range(most):
        if np.all(np.abs(np.round(x, d) - x) <= 1e-9 * np.abs(x)):
            return d
    return most


def instrument_decimals(reference, tick=None) -> int:
    """The most decimals a row's prices need by :func:`xlcalc.display.price_decimals` (its
    tick's, else 6 significant digits of its ``reference`` price), over the rows.

    >>> instrument_decimals(np.array([110.0, 10_000_000.0])), instrument_decimals(np.array([60_000.0]), 0.1)
    (3, 1)
    """
    ref = np.asarray(reference, dtype=float)
    ticks = np.broadcast_to(np.asarray(0.0 if tick is None else tick, dtype=float), ref.shape)
    ok = np.isfinite(ref) & (ref > 0)
    has_tick = ok & np.isfinite(ticks) & (ticks > 0)
    found = [price_decimals(1.0, (), t) for t in np.unique(ticks[has_tick]).tolist()]  # a tick decides
    bare = ref[ok & ~has_tick]
    if len(bare):  # the most significant digits: the smallest price (decimals fall as prices rise)
        found.append(price_decimals(10.0 ** np.floor(np.log10(bare.min()))))
    return max(found, default=0)


class Measure:
    """What the formats and the column widths depend on, gathered chunk by chunk: the largest
    magnitude of each number column, the decimals of the user's prices and quantities and of
    the instruments (:func:`instrument_decimals`), the widest text of each text column and
    the symbols' quote currencies."""

    def __init__(self):
        self.largest, self.text, self.quotes = {}, {}, set()
        self.decimals = {"price": 0, "quantity": None, "rate": 0}

    def add(self, kept: dict, cols: dict, tick=None, quote_rate=None):
        """One chunk: ``kept`` its rows (numbers, texts, extra), ``cols`` its computed columns,
        ``tick`` and ``quote_rate`` the rows' tick size and conversion rate (one, or one a
        row; None: none)."""
        numbers = kept["numbers"]
        for key, v in {**numbers, **cols}.items():
            v = np.asarray(v)
            if v.dtype.kind == "f" and len(v):
                big = np.nanmax(np.abs(np.where(np.isfinite(v), v, np.nan)), initial=0.0)
                self.largest[key] = max(self.largest.get(key, 0.0), float(np.nan_to_num(big)))
        d = self.decimals
        typed = [_decimals(numbers[k]) for k in PRICE_KEYS if k in numbers]
        reference = numbers.get("entry_price", numbers.get("price"))
        d["price"] = max(d["price"], *typed, instrument_decimals(reference, tick))
        if quote_rate is not None:
            d["rate"] = max(d["rate"], _decimals(np.atleast_1d(np.asarray(quote_rate, dtype=float))))
        for key in QUANTITY_KEYS:
            if key in numbers:
                d["quantity"] = max(d["quantity"] or 0, _decimals(numbers[key]))
        texts = {**kept["texts"], **{("extra", k): c for k, c in kept.get("extra", {}).items()}}
        for key, cat in texts.items():  # each distinct word once (a Categorical's categories)
            distinct = (
                cat.categories
                if isinstance(cat, pd.Categorical)
                else pd.unique(np.asarray(cat, dtype=object))
            )
            words = pd.Series(distinct, dtype=str)
            wide = (words.str.len() + words.str.count(r"[\u1100-\uffff]")).max() if len(words) else 0
            self.text[key] = max(self.text.get(key, 0), int(wide))
            if key == "symbol":
                self.quotes |= {quote_currency(s) for s in distinct}

    def formats(self, currency=None) -> dict:
        """Number formats; the currency given, else the one quote currency of every symbol."""
        if currency is None and len(self.quotes) == 1:
            currency = next(iter(self.quotes))
        typed = self.decimals["quantity"]
        typed = 4 if typed is None else typed
        # computed quantities: 8 significant digits of the largest quantity given, as the CLI
        largest = max((self.largest.get(k, 0.0) for k in QUANTITY_KEYS), default=0.0)
        fine = 7 - math.floor(math.log10(largest)) if largest > 0 else 8
        return number_formats(
            currency, self.decimals["price"], typed, min(max(fine, typed), 8), self.decimals["rate"]
        )

    def width(self, key, fmt, formats) -> int:
        """Characters the widest value of column ``key`` takes in format ``fmt``."""
        if key in self.text:
            return self.text[key]
        return shown_width(self.largest[key], formats[fmt]) if key in self.largest else 0


def shown_width(value, number_format: str) -> int:
    """Characters ``value`` takes in ``number_format`` (its sign counted).

    >>> shown_width(12_345_678.125, '#,##0.000'), shown_width(-0.25, '0.00%')
    (15, 7)
    """
    if isinstance(value, str) or number_format in ("General", "@"):
        return text_width(value)
    first = number_format.split(";")[0]
    literal = "".join(re.findall(r'"([^"]*)"', first))
    bare = re.sub(r'"[^"]*"', "", first)
    if "%" in bare:
        value, literal = value * 100, literal + "%"
    return len(f"{abs(value):,.{bare.partition('.')[2].count('0')}f}") + text_width(literal) + 1


def text_width(text) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def fit_columns(ws, widths, headers=(), most=60):
    """Column widths from their widest content; a header (it wraps) counts up to 12."""
    from openpyxl.utils import get_column_letter

    for j in range(len(widths)):
        letter = get_column_letter(j + 1)
        header = min(text_width(headers[j]), 12) if j < len(headers) else 0
        ws.column_dimensions[letter].width = min(max(widths[j], header, 6) + 2, most)


def print_setup(ws, n_columns, *, one_page=False):
    """Fit to one page wide (one page in all: ``one_page``), landscape when wide, the header
    row repeated on every page."""
    ws.page_setup.orientation = "landscape" if n_columns > 7 else "portrait"
    ws.page_setup.paperSize = "9"  # A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 1 if one_page else 0
    if not one_page:
        ws.print_title_rows = "1:1"
