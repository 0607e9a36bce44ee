"""Exchange presets (SPEC §2): one row per exchange product, each with its source and date.

The built-in table ships as ``xlcalc/data/exchanges.csv``. Users add or override rows with
a CSV of their own (same columns; ``id`` required), passed as ``path=`` or named in the
``XLCALC_PRESETS`` environment variable; a user row replaces a built-in row of the same id.

The loan-venue presets of :mod:`xlcalc.loans` (``xlcalc/data/loan_presets.csv``) are read
here too, so that neither table needs numpy (the command line and the template read them).
"""

from __future__ import annotations

import csv
import io
import math
import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ._files import decode_text, detect_delimiter
from .constants import DEFAULT_LOSS_CUT_LEVEL, DEFAULT_MARGIN_CALL_LEVEL
from .errors import InputError

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is asked for
    import pandas as pd

__all__ = [
    "COLUMNS",
    "LOAN_PRESET_COLUMNS",
    "account_currency",
    "exchange_presets",
    "get_loan_preset",
    "get_preset",
    "loan_presets",
    "money_rounding",
    "preset_levels",
    "preset_rows",
    "resolve_levels",
]

# fmt: off
COLUMNS = [
    "id", "name", "product", "max_leverage", "margin_model", "margin_call_level",
    "loss_cut_level", "basis", "mmr", "daily_fee_rate", "collateral_haircut",
    "negative_balance", "source_url", "as_of", "notes",
    # venue conventions (SPEC §8); blank = the default (mark, sum, none, 1)
    "mm_basis", "hedge", "margin_rounding", "money_unit", "convention_sources",
    # the account (margin) currency: how money is shown (¥ and no decimals for JPY)
    "currency",
]
_NUMERIC = ["max_leverage", "margin_call_level", "loss_cut_level", "mmr", "daily_fee_rate",
            "collateral_haircut", "money_unit"]
# fmt: on
ENV_VAR = "XLCALC_PRESETS"


def _number(text: str) -> float:
    """A number cell of a presets file: NaN when blank, "50%" as Excel shows a level is 0.5;
    ValueError otherwise."""
    text = text.strip()
    if text == "":
        return math.nan
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def _csv_rows(data: bytes, what: str):
    """(line, {header: cell}) of each row of a presets CSV, whatever encoding and separator
    Excel saved it with; ``what`` names the file in the errors."""
    text = decode_text(data, what)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text.split("\n", 1)[0]))
    header = [h.strip() for h in next(reader, [])]
    if "id" not in header:
        raise InputError(f"{what} has no 'id' column")
    for line, cells in enumerate(reader, start=2):
        yield line, dict(zip(header, (c.strip() for c in cells)))


def _read(data: bytes, source) -> list[dict]:
    """Rows of a presets file as dicts: numbers as floats (NaN when blank), the rest as text."""
    rows = []
    for line, raw in _csv_rows(data, f"presets file {source}"):
        if not any(raw.values()):
            continue
        # columns of their own (a user's "currency", say) are kept as text after the known ones
        row = {col: raw.get(col) or "" for col in raw if col and col not in COLUMNS}
        for col in COLUMNS:
            value = raw.get(col) or ""
            try:
                row[col] = _number(value) if col in _NUMERIC else value
            except ValueError:
                raise InputError(
                    f"presets file {source}: {col} must be a number, got {value!r} in row {line}"
                ) from None
        rows.append(row)
    return rows


def preset_rows(path=None) -> dict[str, dict]:
    """The presets as ``{id: row}`` in file order, read with the csv module (fast, no pandas).

    Built-in rows first; the user's file (``path`` or ``$XLCALC_PRESETS``) adds rows or
    replaces a built-in row of the same id.

    >>> rows = preset_rows()
    >>> rows["bitflyer_cfd"]["loss_cut_level"], rows["bitflyer_cfd"]["basis"]
    (0.5, 'entry')
    """
    data = resources.files("xlcalc").joinpath("data/exchanges.csv").read_bytes()
    table = {row["id"]: row for row in _read(data, "exchanges.csv")}
    user = path if path is not None else os.environ.get(ENV_VAR) or None
    if user is not None:
        if not Path(user).is_file():
            raise InputError(f"presets file not found: {user}")
        extra = {row["id"]: row for row in _read(Path(user).read_bytes(), user)}
        table = {k: v for k, v in table.items() if k not in extra} | extra
    return table


def exchange_presets(path=None) -> pd.DataFrame:
    """The exchange presets as a DataFrame indexed by ``id``.

    Parameters
    ----------
    path : str or Path, optional
        A CSV of the user's own rows, added to (or replacing by id) the built-in ones.
        Defaults to the file named by ``$XLCALC_PRESETS``, if set.

    Examples
    --------
    >>> import xlcalc as xc
    >>> p = xc.exchange_presets()
    >>> float(p.loc["gmo_coin_fx", "loss_cut_level"])
    0.75
    >>> p.loc["bitflyer_cfd", "basis"]
    'entry'

    """
    import pandas as pd  # only the DataFrame view needs pandas; the CLI reads preset_rows

    table = pd.DataFrame(list(preset_rows(path).values()), columns=COLUMNS)
    return table.set_index("id", drop=False).rename_axis(None)


def get_preset(exchange_id: str, path=None) -> dict:
    """One preset row as a dict; :class:`InputError` naming the known ids if unknown.

    >>> import xlcalc as xc
    >>> xc.get_preset("bitflyer_cfd")["loss_cut_level"]
    0.5
    """
    table = preset_rows(path)
    if exchange_id not in table:
        raise InputError(f"exchange must be one of {', '.join(table)}; got {exchange_id!r}")
    return dict(table[exchange_id])


def preset_levels(preset: dict, leverage: float | None = None) -> dict:
    """Margin-call level, loss-cut level and basis of a preset as maintenance-ratio fractions.

    Japanese-style rows give their levels directly. For maintenance-margin-rate rows
    (``margin_model == "mmr"``) liquidation comes when equity falls to ``P·Q·mmr``, which
    on mark basis is a maintenance ratio of ``mmr × leverage``. NaN means "no such level".

    >>> import xlcalc as xc
    >>> preset_levels = xc.presets.preset_levels
    >>> preset_levels(xc.get_preset("binance_usdm"), leverage=10)["loss_cut_level"]
    0.04
    """
    if preset.get("margin_model") == "mmr":
        if leverage is None:
            raise InputError(f"leverage is needed for the {preset['id']} preset (loss-cut = mmr x leverage)")
        return {
            "margin_call_level": math.nan,
            "loss_cut_level": preset["mmr"] * float(leverage),
            "basis": "mark",
        }
    return {
        "margin_call_level": preset["margin_call_level"],
        "loss_cut_level": preset["loss_cut_level"],
        "basis": preset["basis"] or "entry",
    }


def resolve_levels(
    preset: dict | None = None, margin_call=None, loss_cut=None, leverage=None, basis=None
) -> dict:
    """The levels a calculation uses: the user's, else the preset's, else the defaults.

    The one home of "preset → levels" for the CLI, the report and the template.

    Parameters
    ----------
    preset : dict, optional
        A row from :func:`get_preset`; None for no preset (defaults 100 % / 50 %, entry).
    margin_call, loss_cut : float, optional
        The user's levels as fractions; None when not given, NaN for "none".
    leverage : float, optional
        Needed for maintenance-margin-rate presets (loss-cut = mmr × leverage).
    basis : str, optional
        The user's basis; else the preset's, else ``"entry"``.

    Returns
    -------
    dict
        ``margin_call_level``, ``loss_cut_level`` (NaN: the venue has no such level),
        ``basis``, and ``restore_level``: the level that the deposit to add or the quantity
        to close restores — the margin-call level, else the loss-cut level, else NaN
        (nothing to restore: those figures are not applicable).

    Examples
    --------
    GMO Coin 暗号資産FX has no margin call: the deposit to restore aims at its 75 % loss-cut.

    >>> levels = resolve_levels(get_preset("gmo_coin_fx"))
    >>> levels["margin_call_level"], levels["loss_cut_level"], levels["restore_level"]
    (nan, 0.75, 0.75)
    >>> resolve_levels(None)["restore_level"], resolve_levels(None, loss_cut=0.3)["loss_cut_level"]
    (1.0, 0.3)
    """
    found = preset_levels(preset, leverage) if preset else {}
    no_preset = preset is None
    mc = (
        margin_call
        if margin_call is not None
        else found.get("margin_call_level", DEFAULT_MARGIN_CALL_LEVEL if no_preset else math.nan)
    )
    lc = (
        loss_cut
        if loss_cut is not None
        else found.get("loss_cut_level", DEFAULT_LOSS_CUT_LEVEL if no_preset else math.nan)
    )
    mc, lc = float(mc), float(lc)
    return {
        "margin_call_level": mc,
        "loss_cut_level": lc,
        "basis": basis or found.get("basis") or "entry",
        "restore_level": mc if not math.isnan(mc) else lc,
    }


def account_currency(preset: dict | None):
    """The preset's account currency (a ``currency`` column, which a user's presets file may
    add), or None when not given.

    >>> account_currency({"currency": "jpy"}), account_currency({"id": "x"}), account_currency(None)
    ('JPY', None, None)
    """
    code = (preset or {}).get("currency") or ""
    return code.strip().upper() or None


def money_rounding(preset: dict | None) -> dict:
    """The venue's rounding of the required margin (SPEC §8) as the ``margin_rounding`` and
    ``money_unit`` keywords of :func:`xlcalc.required_margin`; no preset, or blank: none.

    >>> money_rounding({"margin_rounding": "floor", "money_unit": float("nan")}), money_rounding(None)
    ({'margin_rounding': 'floor', 'money_unit': 1.0}, {'margin_rounding': 'none', 'money_unit': 1.0})
    """
    p = preset or {}
    unit = p.get("money_unit")
    unit = 1.0 if unit is None or unit != unit else float(unit)  # blank (NaN): the currency's unit
    return {"margin_rounding": p.get("margin_rounding") or "none", "money_unit": unit}


# -- loan-venue presets (xlcalc.loans re-exports them) ---------------------------------------
LOAN_PRESET_COLUMNS = [
    "id",
    "name",
    "product",
    "collateral",
    "loan_currency",
    "initial_ltv",
    "margin_call_ltv",
    "liquidation_ltv",
    "annual_interest_rate",
    "liquidation_fee",
    "source_url",
    "as_of",
    "notes",
]
# fractions: LTVs of the collateral value, the interest per year, the fee of the proceeds
_LOAN_NUMERIC = [
    "initial_ltv",
    "margin_call_ltv",
    "liquidation_ltv",
    "annual_interest_rate",
    "liquidation_fee",
]
LOAN_PRESETS_ENV_VAR = "XLCALC_LOAN_PRESETS"


def _read_loan_presets(data: bytes, source) -> list[dict]:
    rows = []
    for line, raw in _csv_rows(data, f"loan presets file {source}"):
        row = {col: raw.get(col) or "" for col in LOAN_PRESET_COLUMNS}
        row.update({k: v for k, v in raw.items() if k and k not in row})
        if not row["id"]:
            continue
        for col in _LOAN_NUMERIC:
            try:
                row[col] = _number(row[col])
            except ValueError:
                raise InputError(
                    f"loan presets file {source}: {col} must be a number, got {row[col]!r} on line {line}"
                ) from None
        rows.append(row)
    return rows


def loan_presets(path=None) -> list[dict]:
    """The loan-venue presets: one dict per row of ``xlcalc/data/loan_presets.csv``.

    LTVs and fees are fractions (0.65 = 65 %; a user file may also write ``65%``), the
    interest is per year, NaN where the venue's help pages give no figure (blank rather
    than guessed). Every row names its ``source_url`` and the date it was read (``as_of``).

    Parameters
    ----------
    path : str or Path, optional
        A CSV of the user's own rows (same columns; ``id`` required; UTF-8, UTF-8 with a
        BOM or cp932 as Japanese Excel saves it), added to the built-in rows or replacing a
        row with the same ``id``. Defaults to ``$XLCALC_LOAN_PRESETS``, if set.

    Examples
    --------
    >>> import xlcalc as xc
    >>> nexo = xc.get_loan_preset("nexo_credit_line")
    >>> round(xc.ltv_price(5_000, 0.1, nexo["liquidation_ltv"]), 2)  # partial sales start
    60024.01
    """
    with resources.files("xlcalc").joinpath("data/loan_presets.csv").open("rb") as fh:
        rows = _read_loan_presets(fh.read(), "xlcalc/data/loan_presets.csv")
    user = path if path is not None else os.environ.get(LOAN_PRESETS_ENV_VAR) or None
    if user is not None:
        if not Path(user).is_file():
            raise InputError(f"loan presets file not found: {user}")
        extra = _read_loan_presets(Path(user).read_bytes(), user)
        ids = {row["id"] for row in extra}
        rows = [row for row in rows if row["id"] not in ids] + extra
    return rows


def get_loan_preset(preset_id: str, path=None) -> dict:
    """One loan preset by ``id``; :class:`InputError` naming the known ids if unknown.

    >>> import xlcalc as xc
    >>> xc.get_loan_preset("binance_loans_btc_2020")["liquidation_ltv"]
    0.9
    """
    rows = loan_presets(path)
    for row in rows:
        if row["id"] == preset_id:
            return row
    raise InputError(
        f"loan preset must be one of {', '.join(r['id'] for r in rows)}; got {preset_id!r}",
        argument="loan_preset",
        value=preset_id,
    )
