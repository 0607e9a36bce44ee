"""The report of a loans file (SPEC §10): crypto-backed loans in, a Loans sheet out.

A loans file is told by its columns: a loan amount (loan, 借入額) and a collateral
quantity (collateral_quantity, 担保数量). Each row is one loan; every figure comes from
:mod:`xlcalc.loans` (LTV now, the margin-call and liquidation prices, the collateral to add
and the repayment that bring the LTV back to the target, the debt left after a
liquidation at a gap). Levels: the row's own column, else the option, else the loan preset
(:func:`xlcalc.loans.get_loan_preset`; the target defaults to its initial LTV), else none.
Rows stream through the positions reader's steps (:func:`.reader.text_chunks`: the file's
decimal separator, line numbers, reasons), every input row is on Loans or on Errors with its
line and reason, and the file is written atomically, as for positions. Pass 1 keeps the rows
in a temporary file (:class:`.store.Store`) and counts them for the Summary; the writer
streams Loans and Errors from it (:func:`.writer.long_sheets`): memory holds a chunk, and
each continues on "Loans 2", "Errors 2", ... past Excel's rows per sheet.

>>> import pandas as pd, tempfile, os
>>> df = pd.DataFrame({"loan": [10_000], "collateral_quantity": [1], "price": [12_500],
...                    "margin_call_ltv": [0.8], "target_ltv": [0.65]})
>>> with tempfile.TemporaryDirectory() as d:
...     result = build_loans_report(df, os.path.join(d, "loans.xlsx"), lang="en")
>>> result.rows_in, result.positions, result.errors, result.accounts[0]["n_margin_call"]
(1, 1, 0, 1)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import core, loans
from .._files import atomic_output
from .._inputs import InputError, Inputs
from ..human import MAX_BARE_LEVEL
from ..labels import label
from .display import Measure, text_width
from .read import OVERFLOW, PROBLEMS, open_source
from .reader import (
    Chunk,
    _key,
    broken_rows,
    header_keys,
    header_notes,
    is_header_row,
    make_header,
    named_fields,
    number_problems,
    read_numbers,
    reject,
    text_chunks,
)
from .store import Store
from .stream import SHARED_MOST, Column
from .writer import STATUS_FILLS, Styles, errors_sheets, level_text, long_sheets, preset_text, save_streamed

__all__ = ["LOAN_ALIASES", "is_loans_file", "build_loans_report", "loan_columns"]

# the headers naming each loan field, as the positions' ALIASES (compared as reader._key makes them)
LOAN_ALIASES = {
    "id": "id, loan id, account, ローン番号, ローンID, 口座, 契約番号",
    "symbol": "symbol, coin, asset, collateral asset, 銘柄, 担保通貨, 担保銘柄",
    "loan": "loan, loan amount, borrowed, principal, 借入額, 借入金額, 借入, 借入元本",
    "collateral_quantity": "collateral quantity, collateral qty, collateral amount, 担保数量, 担保の数量",
    "price": "price, collateral price, mark price, current price, 担保価格, 担保の価格, 現在値, 時価",
    "interest": "interest, accrued interest, 利息, 未払利息",
    "margin_call_ltv": "margin call ltv, 追証LTV, マージンコールLTV, 追加担保LTV",
    "liquidation_ltv": "liquidation ltv, 清算LTV, 強制決済LTV",
    "target_ltv": "target ltv, 目標LTV",
    "liquidation_fee": "liquidation fee, 清算手数料",
    "gap_price": "gap price, fill price, 窓開け約定価格, 窓開け価格",
}
_KEYS = header_keys(LOAN_ALIASES)
# field: (rule of the core, value of an empty cell; None: the cell is required), in reason order;
# an empty level or fee: the option's, else the loan preset's, else this one
RULES = {
    "loan": ("nonnegative", None),
    "collateral_quantity": ("positive", None),
    "price": ("positive", None),
    "interest": ("nonnegative", 0.0),
    "margin_call_ltv": ("positive", math.nan),
    "liquidation_ltv": ("positive", math.nan),
    "target_ltv": ("positive", math.nan),
    "liquidation_fee": ("below_one", 0.0),
    "gap_price": ("positive", math.nan),
}
LEVELS = ["margin_call_ltv", "liquidation_ltv", "target_ltv"]
STATUS_LIQUIDATION = "liquidation"
FILLS = {core.STATUS_MARGIN_CALL: STATUS_FILLS["margin_call"], STATUS_LIQUIDATION: STATUS_FILLS["loss_cut"]}

# (key, label key, format) of the Loans sheet
# fmt: off
LAYOUT = [
    ("line", "report_line", "int"), ("id", "account", "text"), ("symbol", "symbol", "text"),
    ("loan", "loan_amount", "money"), ("interest", "loan_interest", "money"),
    ("collateral_quantity", "loan_collateral_quantity", "qty"), ("price", "loan_collateral_price", "price"),
    ("debt", "loan_debt", "money"), ("collateral_value", "loan_collateral_value", "money"),
    ("ltv", "loan_ltv_now", "pct"), ("status", "loan_status", "status"),
    ("margin_call_ltv", "loan_margin_call_ltv", "pct"),
    ("margin_call_price", "loan_margin_call_price", "price"),
    ("margin_call_distance_pct", "loan_margin_call_distance_pct", "move"),
    ("liquidation_ltv", "loan_liquidation_ltv", "pct"),
    ("liquidation_price", "loan_liquidation_price", "price"),
    ("liquidation_distance_pct", "loan_liquidation_distance_pct", "move"),
    ("target_ltv", "loan_target_ltv", "pct"), ("collateral_to_add", "loan_collateral_to_add", "qty_fine"),
    ("repay_to_target", "loan_repay_to_target", "money"), ("gap_price", "loan_gap_price", "price"),
    ("liquidation_fee", "loan_liquidation_fee", "pct"), ("shortfall", "loan_shortfall", "money"),
]
# fmt: on


def is_loans_file(source, *, sheet=None) -> bool:
    """True when the header names a loan amount and a collateral quantity (EN or JA)."""
    try:
        if isinstance(source, pd.DataFrame):
            columns = source.columns
        else:
            columns = next(iter(open_source(Path(source), sheet=sheet, is_header=is_header_row).chunks))[
                0
            ].columns
    except (InputError, OSError, StopIteration):
        return False  # the positions reader gives the one clear message
    keys = {_KEYS.get(_key(c)) for c in columns}
    return "loan" in keys and "collateral_quantity" in keys


def _header(chunk, decimal, src):
    """The loan fields the first chunk's columns name, and the decimal separator of its numbers."""
    columns = [c for c in chunk.columns if c not in (OVERFLOW, PROBLEMS)]
    fields = named_fields(columns, _KEYS)
    missing = [f for f in ("loan", "collateral_quantity", "price") if f not in fields]
    if missing:
        raise InputError(
            f"loans file has no {', '.join(missing)} column; headers found: {', '.join(map(str, columns))}"
        )
    return make_header(chunk, fields, RULES, decimal, src)


def _on(mask, func, *args, **kwargs):
    """``func`` on the rows of ``mask`` (arrays cut to them), NaN elsewhere."""
    out = np.full(len(mask), np.nan)
    if mask.any():
        cut = [a[mask] if np.ndim(a) else a for a in args]
        out[mask] = func(*cut, **{k: (v[mask] if np.ndim(v) else v) for k, v in kwargs.items()})
    return out


def loan_columns(v: dict, tick_size=None) -> dict:
    """Every computed column of valid loan rows (``v``: field -> float array) from
    :mod:`xlcalc.loans`; a NaN level gives NaN figures for it (no such level).

    >>> v = {k: np.array([x]) for k, x in dict(loan=10_000.0, collateral_quantity=1.0, price=12_500.0,
    ...      interest=0.0, margin_call_ltv=0.8, liquidation_ltv=np.nan, target_ltv=0.65,
    ...      liquidation_fee=0.02, gap_price=9_000.0).items()}
    >>> c = loan_columns(v)
    >>> float(c["ltv"][0]), float(c["margin_call_price"][0]), round(float(c["collateral_to_add"][0]), 6)
    (0.8, 12500.0, 0.230769)
    >>> float(c["shortfall"][0]), str(c["status"][0])
    (1180.0, 'margin_call')
    """
    loan, q, p, i = v["loan"], v["collateral_quantity"], v["price"], v["interest"]
    c = {"debt": loan + i, "collateral_value": q * p, "ltv": loans.loan_ltv(loan, q, p, interest=i)}
    for key in ("margin_call", "liquidation"):
        level = v[f"{key}_ltv"]
        price = _on(np.isfinite(level), loans.ltv_price, loan, q, level, interest=i)
        if tick_size:  # the collateral is long: its warning price is rounded up
            price = np.where(np.isfinite(price), core.round_to_tick(price, 1, tick_size), price)
        c[f"{key}_price"] = price
        c[f"{key}_distance_pct"] = price / p - 1.0
    has_target = np.isfinite(v["target_ltv"])
    c["collateral_to_add"] = _on(has_target, loans.collateral_to_add, loan, q, p, v["target_ltv"], interest=i)
    c["repay_to_target"] = _on(has_target, loans.repay_to_target, loan, q, p, v["target_ltv"], interest=i)
    gap, fee = v["gap_price"], v["liquidation_fee"]
    c["shortfall"] = _on(
        np.isfinite(gap), loans.loan_shortfall, loan, q, gap, interest=i, liquidation_fee=fee
    )
    with np.errstate(invalid="ignore"):
        warned = np.where(c["ltv"] >= v["margin_call_ltv"], core.STATUS_MARGIN_CALL, core.STATUS_OK)
        status = np.where(c["ltv"] >= v["liquidation_ltv"], STATUS_LIQUIDATION, warned)
    c["status"] = np.where(np.isnan(c["ltv"]), core.STATUS_UNKNOWN, status)
    return c


def build_loans_report(
    source,
    output,
    *,
    lang="ja",
    force=False,
    decimal=None,
    sheet=None,
    currency=None,
    loan_preset=None,
    loan_presets=None,
    margin_call_ltv=None,
    liquidation_ltv=None,
    target_ltv=None,
    tick_size=None,
):
    """Write the loan report of ``source`` (a loans file) to ``output``: Summary, Loans and
    Errors sheets. Keywords as :func:`xlcalc.report.build_report`."""
    from openpyxl import Workbook

    from .pipeline import ReportResult

    output = Path(output)
    preset = loans.get_loan_preset(loan_preset, loan_presets) if loan_preset else {}
    given = dict(margin_call_ltv=margin_call_ltv, liquidation_ltv=liquidation_ltv, target_ltv=target_ltv)
    # the row's own level, else the option's, else the preset's (the target: its initial LTV)
    defaults = {k: preset.get("initial_ltv" if k == "target_ltv" else k, math.nan) for k in LEVELS}
    defaults.update({k: Inputs().number(k, v) for k, v in given.items() if v is not None})
    defaults = {k: float(v) for k, v in defaults.items()}
    if not math.isnan(fee := float(preset.get("liquidation_fee", math.nan))):
        defaults["liquidation_fee"] = fee
    tick = None if tick_size is None else float(Inputs().number("tick_size", tick_size))
    code = None if currency is None else str(currency).strip().upper()
    counts = dict(rows_in=0, loans=0, errors=0, debt=0.0, **{k: 0 for k in FILLS})
    measure = Measure()  # the prices' decimals and the widths, as for positions
    rules = {k: (rule, defaults.get(k, blank)) for k, (rule, blank) in RULES.items()}
    kept, rejected = Store(), Store()  # pass 1 keeps the rows, the writer streams them
    try:
        for header, text, lines in text_chunks(source, _header, decimal=decimal, sheet=sheet):
            _keep(_validate(header, text, lines, rules, lang), tick, kept, rejected, counts, measure)
        formats = {**measure.formats(code), "move": "+0.00%;-0.00%;0.00%"}
        wb = Workbook(write_only=True)
        summary = Styles(wb.create_sheet(label("report_sheet_summary", lang)), formats, FILLS)
        sheets = _loans_sheets(wb, kept, tick, formats, summary, measure, lang)
        sheets += errors_sheets(wb, rejected, header.raw_columns, counts["rows_in"], lang)
        summary.widths = [34, 40]
        source_name = "DataFrame" if isinstance(source, pd.DataFrame) else Path(source).name
        info = [
            ("report_input_file", source_name, None),
            ("report_loan_preset", preset_text(preset), None),
            *((f"loan_{k}", _level_setting(k, defaults[k], header, lang), None) for k in LEVELS),
            ("report_rows_in", counts["rows_in"], "int"),
            ("report_loans", counts["loans"], "int"),
            ("report_rows_rejected", counts["errors"], "int"),
            ("report_loan_total", counts["debt"], "money"),
            ("report_n_loan_margin_call", counts[core.STATUS_MARGIN_CALL], "int"),
            ("report_n_loan_liquidation", counts[STATUS_LIQUIDATION], "int"),
            *(("report_notes", note, None) for note in header_notes(header, lang)),
        ]
        summary.info("report_loans_title", info, lang, measure=lambda key: False)
        summary.write(one_page=True)
        with atomic_output(output, force) as tmp:
            save_streamed(wb, tmp, sheets)
    finally:
        kept.file.close()
        rejected.file.close()
    account = dict(
        loans=counts["loans"],
        debt=counts["debt"],
        n_margin_call=counts[core.STATUS_MARGIN_CALL],
        n_liquidation=counts[STATUS_LIQUIDATION],
    )
    notes = header_notes(header, lang)
    return ReportResult(
        output, counts["rows_in"], counts["loans"], counts["errors"], [account], kind="loans", notes=notes
    )


def _validate(header, text, lines, rules, lang) -> Chunk:
    """One chunk's rows as the reader validates positions: numbers by ``rules``, the rows
    that break one (or that the reader noted) with their reasons."""
    cells = {name: text[h] for name, h in header.fields.items()}
    out = Chunk(header=header, line=lines)
    values, empty = read_numbers(cells, rules, header.decimal)
    for name, (_, blank) in rules.items():  # a missing column: its empty cells' value
        values.setdefault(name, np.full(len(lines), blank))
    out.bad = broken_rows(values, rules, empty)
    # a bare level above 10 ("80") is refused with a hint, as the CLI's --margin-call-ltv 80: never 8,000 %
    bare = {
        k: (values[k] > MAX_BARE_LEVEL) & ~cells[k].str.contains("[%％]", regex=True).to_numpy()
        for k in LEVELS
        if k in cells
    }
    for mask in bare.values():
        out.bad |= mask
    out.numbers, out.texts = values, {k: cells[k].to_numpy() for k in ("id", "symbol") if k in cells}

    def problems_of(i, raw):
        found = [_bare_level(header.fields[k], raw[k], values[k][i], lang) for k, m in bare.items() if m[i]]
        return found + number_problems(raw, {k: v[i] for k, v in values.items()}, rules, header.decimal, lang)

    reject(out, text, problems_of, lang)
    return out


def _level_setting(key, default, header, lang) -> str:
    """A level as the Summary states it: the file's column when it has one (its empty cells
    take ``default``), else ``default`` (the option's, else the loan preset's, else none)."""
    if key not in header.fields:
        return level_text(default, lang)
    shown = level_text(default, lang)
    return label("report_level_per_row", lang).format(header=header.fields[key], default=shown)


def _bare_level(header, shown, value, lang) -> str:
    """Why a bare LTV level above 10 is refused: the CLI's sentence, naming the column."""
    hint = {"percent": f"{value:g} %", "read": f"{value * 100:,g} %", "fraction": f"{value / 100:g}"}
    return label("human_bare_level", lang).format(option=header, value=str(shown).strip(), **hint)


def _keep(chunk, tick, kept, rejected, counts, measure):
    """Pass 1: a validated chunk's valid rows kept (their inputs) and counted, the others kept
    with their reasons."""
    counts["rows_in"] += chunk.n_rows
    good = np.flatnonzero(~chunk.bad)
    numbers = {k: a[good] for k, a in chunk.numbers.items()}
    texts = {k: np.asarray(t[good], dtype=object) for k, t in chunk.texts.items()}
    kept.append(dict(line=chunk.line[good], numbers=numbers, texts=texts), len(good))
    cols = loan_columns(numbers, tick)
    measure.add(dict(numbers=numbers, texts=texts), cols, tick)
    for st in FILLS:
        counts[st] += int(np.count_nonzero(cols["status"] == st))
    counts["loans"] += len(good)
    counts["debt"] += float(np.nansum(cols["debt"]))
    counts["errors"] += len(rejected.add_rejected(chunk))


def _text_column(texts, n):
    """Text that repeats (symbols) as shared words, else (loan ids) each cell's own; "" or no
    such column: empty cells."""
    if texts is None:
        return Column(values=np.full(n, np.nan))
    codes, words = pd.factorize(np.where(texts == "", None, texts))
    if len(words) <= SHARED_MOST:
        return Column(codes=codes, words=[str(w) for w in words])
    return Column(values=[str(t) for t in texts])


def _loans_sheets(wb, kept, tick, formats, summary, measure, lang):
    """The Loans sheet (and its continuations): its header now; its rows, computed again chunk
    by chunk, as it is written."""
    # each status's word and cell style (its fill), registered (by any sheet) before the save
    words = {st: label(st, lang) for st in (core.STATUS_OK, core.STATUS_MARGIN_CALL, core.STATUS_UNKNOWN)}
    words[STATUS_LIQUIDATION] = label("loan_status_liquidation", lang)
    styles = {st: summary.cell(None, status=st).style_id for st in words}

    def chunk(i):
        rows, n = kept.load(i), kept.lengths[i]
        cols = {**rows["numbers"], **loan_columns(rows["numbers"], tick)}
        codes, keys = pd.factorize(cols.pop("status"))
        out = {key: Column(values=np.asarray(v, dtype=float)) for key, v in cols.items()}
        out["line"] = Column(values=rows["line"])
        out["id"], out["symbol"] = (_text_column(rows["texts"].get(k), n) for k in ("id", "symbol"))
        out["status"] = Column(codes=codes, words=[words[k] for k in keys], styles=[styles[k] for k in keys])
        return [out[key] for key, _, _ in LAYOUT]

    headers = [label(k, lang) for _, k, _ in LAYOUT]
    widths = [
        max(map(text_width, words.values())) if key == "status" else measure.width(key, fmt, formats)
        for key, _, fmt in LAYOUT
    ]
    widths[0] = max(widths[0], len(str(sum(kept.lengths) + 1)))  # line numbers
    columns = zip(headers, widths, [fmt for _, _, fmt in LAYOUT])
    return long_sheets(wb, "report_sheet_loans", lang, columns, formats, "B2", kept.lengths, chunk)
