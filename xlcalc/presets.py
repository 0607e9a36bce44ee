"""Exchange presets (SPEC §2): one row per exchange product, each with its source and date.

The built-in table ships as ``xlcalc/data/exchanges.csv``. Users add or override rows with
a CSV of their own (same columns; ``id`` required), passed as ``path=`` or named in the
``XLCALC_PRESETS`` environment variable; a user row replaces a built-in row of the same id.
"""
from __future__ import annotations

import math
import os
from importlib import resources
from pathlib import Path

import pandas as pd

from ._inputs import InputError

__all__ = ["COLUMNS", "exchange_presets", "get_preset", "preset_levels"]

COLUMNS = [
    "id", "name", "product", "max_leverage", "margin_model", "margin_call_level",
    "loss_cut_level", "basis", "mmr", "daily_fee_rate", "collateral_haircut",
    "negative_balance", "source_url", "as_of", "notes",
    # venue conventions (SPEC §8); blank = the default (mark, sum, none, 1)
    "mm_basis", "hedge", "margin_rounding", "money_unit", "convention_sources",
]
_NUMERIC = ["max_leverage", "margin_call_level", "loss_cut_level", "mmr", "daily_fee_rate",
            "collateral_haircut", "money_unit"]
ENV_VAR = "XLCALC_PRESETS"


def _read(source) -> pd.DataFrame:
    df = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "id" not in df.columns:
        raise InputError(f"presets file {source} has no 'id' column")
    df = df.reindex(columns=COLUMNS, fill_value="")
    for col in _NUMERIC:
        values = pd.to_numeric(df[col].replace("", math.nan), errors="coerce")
        bad = values.isna() & (df[col] != "")
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"presets file {source}: {col} must be a number, got "
                             f"{df[col].iloc[row]!r} in row {row + 2}")
        df[col] = values
    return df


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
    with resources.files("xlcalc").joinpath("data/exchanges.csv").open("rb") as fh:
        table = _read(fh)
    user = path if path is not None else os.environ.get(ENV_VAR) or None
    if user is not None:
        if not Path(user).is_file():
            raise InputError(f"presets file not found: {user}")
        extra = _read(user)
        table = pd.concat([table[~table["id"].isin(extra["id"])], extra], ignore_index=True)
    return table.set_index("id", drop=False).rename_axis(None)


def get_preset(exchange_id: str, path=None) -> dict:
    """One preset row as a dict; :class:`InputError` naming the known ids if unknown.

    >>> import xlcalc as xc
    >>> xc.get_preset("bitflyer_cfd")["loss_cut_level"]
    0.5
    """
    table = exchange_presets(path)
    if exchange_id not in table.index:
        raise InputError(f"exchange must be one of {', '.join(table.index)}; got {exchange_id!r}")
    row = table.loc[exchange_id].to_dict()
    return {k: (float(v) if k in _NUMERIC else v) for k, v in row.items()}


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
        return {"margin_call_level": math.nan,
                "loss_cut_level": preset["mmr"] * float(leverage), "basis": "mark"}
    return {"margin_call_level": preset["margin_call_level"],
            "loss_cut_level": preset["loss_cut_level"], "basis": preset["basis"] or "entry"}
