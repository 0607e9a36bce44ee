"""Write stage of the report: the sheets Summary, Positions, Stress and Errors.

openpyxl (write-only mode) builds the workbook: styles, headers, conditional formatting,
autofilter, frozen panes, print setup, the small sheets and the chart. The long sheets
(Positions, Errors; a loans report's Loans) get their rows from :mod:`.stream`; past Excel's
``MAX_ROWS`` each continues on "Positions 2", "Errors 2", ... (:func:`long_sheets`).
"""

from __future__ import annotations

import functools
import io
import math

import numpy as np
import pandas as pd

from ..labels import label
from . import stream
from .display import FORMATS, fit_columns, percent_format, print_setup, shown_width, text_width
from .stream import Column, SheetData, controls_escaped

__all__ = [
    "write_report",
    "positions_layout",
    "Styles",
    "MAX_ROWS",
    "long_sheets",
    "errors_sheets",
    "save_streamed",
]

MAX_ROWS = 1_048_576  # Excel's rows per sheet, header included

# Layout as data, one table per sheet: (key, label key, format) of each column. Positions:
# the inputs ("line": the row's line in the input), then the computed columns.
# fmt: off
INPUT_LAYOUT = [
    ("line", "report_line", "int"), ("account", "account", "text"), ("symbol", "symbol", "text"),
    ("side", "side", "side"), ("entry_price", "entry_price", "price"), ("quantity", "quantity", "qty"),
    ("leverage", "leverage", "lev"), ("price", "price", "price"), ("deposit", "deposit", "money"),
    ("fees", "fees", "money"), ("tick_size", "tick_size", "price"), ("quote_rate", "quote_rate", "fx"),
]
COMPUTED_LAYOUT = [
    ("notional", "notional", "money"), ("required_margin", "required_margin", "money"),
    ("pnl", "pnl", "money"), ("equity", "equity", "money"), ("ratio", "ratio", "pct"),
    ("status", "status", "status"), ("margin_call_price", "margin_call_price", "trigger"),
    ("margin_call_distance", "margin_call_distance", "trigger"),
    ("margin_call_distance_pct", "margin_call_distance_pct", "pct"),
    ("loss_cut_price", "loss_cut_price", "trigger"), ("loss_cut_distance", "loss_cut_distance", "trigger"),
    ("loss_cut_distance_pct", "loss_cut_distance_pct", "pct"),
    ("bankruptcy_price", "bankruptcy_price", "trigger"),
    ("liquidation_price", "liquidation_price", "trigger"), ("safe_price", "safe_price", "trigger"),
    ("additional_deposit", "additional_deposit", "money"), ("close_quantity", "close_quantity", "qty_fine"),
]
ACCOUNT_LAYOUT = [
    ("name", "account", "text"), ("positions", "report_positions", "int"), ("deposit", "deposit", "money"),
    ("equity", "equity", "money"), ("required_margin", "required_margin", "money"), ("ratio", "ratio", "pct"),
    ("status", "status", "status"), ("move_to_margin_call", "move_to_margin_call", "move"),
    ("move_to_loss_cut", "move_to_loss_cut", "move"), ("move_to_safe", "move_to_safe", "move"),
    ("n_caution", "report_n_caution", "int"), ("n_margin_call", "report_n_margin_call", "int"),
    ("n_loss_cut", "report_n_loss_cut", "int"),
]
CLOSEST_LAYOUT = [
    ("line", "report_line", "int"), ("account", "account", "text"), ("symbol", "symbol", "text"),
    ("side", "side", "side"), ("price", "price", "price"), ("loss_cut_price", "loss_cut_price", "trigger"),
    ("loss_cut_distance_pct", "loss_cut_distance_pct", "pct"), ("ratio", "ratio", "pct"),
    ("status", "status", "status"),
]
# fmt: on
# light yellow (below the safe level), amber, red
STATUS_FILLS = {"caution": "FFF2CC", "margin_call": "FFD966", "loss_cut": "FF7C80"}
HEADER_FILL = "DDEBF7"
# the Stress chart's level lines: green, orange, dark red
LEVEL_LINES = {"safe_level": "70AD47", "margin_call_level": "FFC000", "loss_cut_level": "C00000"}


class Styles:
    """Cell styles built once (openpyxl looks a style up on every styled cell), and the rows of
    a small sheet kept, with their widths, until :meth:`write`."""

    def __init__(self, ws, formats=FORMATS, fills=STATUS_FILLS):
        from openpyxl.styles import Alignment, Font, PatternFill

        self.ws, self.formats, self.widths, self.rows = ws, formats, [], []
        self.bold = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor=HEADER_FILL)
        self.wrap = Alignment(wrap_text=True, vertical="center")
        self.fills = {k: PatternFill("solid", fgColor=v) for k, v in fills.items()}

    def append(self, cells, measure=True):
        self.rows.append(cells)
        for j, c in enumerate(cells if measure else ()):
            self.widths += [0] * (j + 1 - len(self.widths))
            if c.value is not None:
                w = shown_width(c.value, c.number_format)
                self.widths[j] = max(self.widths[j], min(w, 12) if c.fill is self.header_fill else w)

    def write(self, headers=(), *, one_page=False):
        """The widths and the print setup (before any row: write-only), then the rows."""
        fit_columns(self.ws, self.widths, headers)
        print_setup(self.ws, len(self.widths), one_page=one_page)
        for cells in self.rows:
            self.ws.append(cells)

    def cell(self, value, fmt=None, *, bold=False, header=False, status=None):
        """A write-only cell; strings are forced to text so they never become formulas."""
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float):
            value = value + 0.0 if math.isfinite(value) else None  # no -0
        if isinstance(value, str):
            value = controls_escaped(value)
        c = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"
        if fmt in ("pct", "move") and isinstance(value, float):  # the CLI's decimals for this value
            c.number_format = percent_format(value, signed=fmt == "move")
        elif fmt and fmt in self.formats:
            c.number_format = self.formats[fmt]
        if header:
            c.font, c.fill, c.alignment = self.bold, self.header_fill, self.wrap
        elif bold:
            c.font = self.bold
        if status in self.fills:
            c.fill = self.fills[status]
        return c

    def header(self, headers, widths, freeze):
        """A long sheet's settings and header row."""
        self.ws.freeze_panes = freeze
        fit_columns(self.ws, widths, headers)
        print_setup(self.ws, len(headers))
        self.ws.append([self.cell(h, header=True) for h in headers])

    def info(self, title, rows, lang, measure=lambda key: True):
        """A title, then (label key, value, format) rows: the Summary's settings and counts."""
        self.append([self.cell(label(title, lang), bold=True)], measure=False)
        for key, value, fmt in rows:
            self.append([self.cell(label(key, lang), bold=True), self.cell(value, fmt)], measure=measure(key))


def level_text(value, lang):
    return label("none", lang) if math.isnan(float(value)) else f"{float(value) * 100:g} %"


def preset_text(p):
    return f"{p['name']} {p['product']} ({p['id']}; {p['source_url']}, {p['as_of']})" if p else "-"


def sheet_title(key: str, lang: str, part: int = 1) -> str:
    return label(key, lang) if part == 1 else f"{label(key, lang)} {part}"


def _letters(n):
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i + 1) for i in range(n)]


def write_report(report, dest, lang: str, progress=None):
    """Write stage: the workbook of ``report`` (pipeline.Report) to ``dest``."""
    from openpyxl import Workbook

    formats = report.display.formats(report.currency)
    wb = Workbook(write_only=True)
    summary = Styles(wb.create_sheet(sheet_title("report_sheet_summary", lang)), formats)
    sheets = _positions_sheets(wb, report, lang, formats)
    stress = Styles(wb.create_sheet(sheet_title("report_sheet_stress", lang)), formats)
    rows = report.rows
    sheets += errors_sheets(wb, rows.errors, rows.header.raw_columns, rows.rows_in, lang)
    _summary_sheet(summary, report, lang)
    _stress_sheet(stress, report.figures, lang)
    save_streamed(wb, dest, sheets, progress)


def save_streamed(wb, dest, sheets, progress=None):
    """``wb`` (openpyxl, write-only) to ``dest``, with the rows of its streamed ``sheets``."""
    buf = io.BytesIO()
    wb.save(buf)
    for data in sheets:
        data.arcname = data.ws.path.lstrip("/")
    stream.splice_workbook(buf.getvalue(), dest, sheets, progress=progress)


def long_sheets(wb, key, lang, columns, formats, freeze, lengths, chunk, *, rules=None):
    """A streamed sheet, continued on "<title> 2", "<title> 3", ... past ``MAX_ROWS`` (Excel
    would drop the rows beyond): each part with the header row, widths, frozen panes, print
    setup, autofilter and conditional formatting (``rules(ws, n_rows)``).

    ``columns``: (header, width, format key) of each column. Its rows are stored chunks:
    ``lengths`` the rows of each, ``chunk(i)`` the Columns of chunk ``i``, made while the part
    is written. Returns a SheetData for each part."""
    headers, widths, fmts = zip(*columns)
    n, per_part, out = sum(lengths), MAX_ROWS - 1, []
    for part, start in enumerate(range(0, max(n, 1), per_part), 1):
        stop = min(start + per_part, n)
        styles = Styles(wb.create_sheet(sheet_title(key, lang, part)), formats)
        styles.ws.auto_filter.ref = f"A1:{_letters(len(headers))[-1]}{stop - start + 1}"
        styles.header(headers, widths, freeze)
        if rules is not None:
            rules(styles.ws, stop - start)
        ids = [styles.cell(None, fmt).style_id for fmt in fmts]
        chunks = functools.partial(_rows_between, lengths, chunk, start, stop)
        out.append(SheetData(style_ids=ids, chunks=chunks, ws=styles.ws))
    return out


def _rows_between(lengths, chunk, start, stop):
    """The Columns of rows ``start:stop`` of the stored chunks: a chunk across a part's edge
    is cut; the chunks outside it are not loaded."""
    first = 0
    for i, n in enumerate(lengths):
        lo, hi = max(start - first, 0), min(stop - first, n)
        first += n
        if lo >= hi:
            continue
        columns = chunk(i)
        yield columns if (lo, hi) == (0, n) else [_cut(col, lo, hi) for col in columns]


def _cut(col, lo, hi):
    if col.words is not None:
        return Column(codes=col.codes[lo:hi], words=col.words, styles=col.styles)
    return Column(values=col.values[lo:hi])


def positions_layout(report):
    """(key, label key or None, format) of each Positions column, in layout order."""
    fields, cross = report.rows.header.fields, report.rows.cross
    out = [
        c
        for c in INPUT_LAYOUT
        if not (c[0] in ("account", "symbol", "tick_size", "quote_rate") and c[0] not in fields)
        and not (c[0] == "deposit" and cross)
    ]
    out += [c for c in COMPUTED_LAYOUT if c[0] in report.figures.computed_keys]
    return out + [(("extra", header), None, "text") for header in report.rows.extra_headers]


def positions_chunk(report, keys, lang, i):
    """Columns (``keys`` of :func:`positions_layout`) of the stored positions chunk ``i``."""
    rows, pos, cols = report.columns(i)
    status_codes, status_keys = pd.factorize(np.asarray(cols["status"]))
    out = []
    for key in keys:
        if key == "line":
            col = Column(values=rows["line"])
        elif key == "side":
            col = Column(
                codes=(pos.side < 0).astype(np.int64), words=[label("long", lang), label("short", lang)]
            )
        elif key in ("account", "symbol") or isinstance(key, tuple):
            cat = rows["texts"][key] if isinstance(key, str) else rows["extra"][key[1]]
            col = Column(codes=np.asarray(cat.codes), words=list(cat.categories))
        elif key == "status":
            col = Column(codes=status_codes, words=[label(str(k), lang) for k in status_keys])
        else:
            values = cols[key] if key in cols else rows["numbers"][key]
            col = Column(values=np.asarray(values, dtype=float))
        out.append(col)
    return out


def _positions_sheets(wb, report, lang, formats):
    layout = positions_layout(report)
    keys = [key for key, _, _ in layout]
    headers = [label(lk, lang) if lk else str(key[1]) for key, lk, _ in layout]
    words = {
        "side": [label("long", lang), label("short", lang)],
        "status": [label(k, lang) for k in ("ok", "caution", "margin_call", "loss_cut", "unknown")],
    }
    widths = [
        max(map(text_width, words[key])) if key in words else report.display.width(key, fmt, formats)
        for key, _, fmt in layout
    ]
    widths[0] = max(widths[0], len(str(report.rows.rows_in + 1)))  # line numbers
    status_letter = _letters(len(layout))[keys.index("status")]

    def rules(ws, n_rows):
        _status_rules(ws, status_letter, len(layout), n_rows + 1, lang)

    chunk = functools.partial(positions_chunk, report, keys, lang)
    columns = zip(headers, widths, [fmt for _, _, fmt in layout])
    lengths = report.rows.positions.lengths
    return long_sheets(
        wb, "report_sheet_positions", lang, columns, formats, "B2", lengths, chunk, rules=rules
    )


def _status_rules(ws, status_col, n_columns, last_row, lang):
    """Each status's row fill, by a rule on the status column (rows are streamed unstyled)."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill

    ref = f"A2:{_letters(n_columns)[-1]}{max(last_row, 2)}"
    for key, colour in STATUS_FILLS.items():
        fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
        word = label(key, lang).replace('"', '""')
        ws.conditional_formatting.add(
            ref, FormulaRule(formula=[f'${status_col}2="{word}"'], fill=fill, stopIfTrue=True)
        )


def errors_sheets(wb, errors, raw_columns, rows_in, lang):
    """The Errors sheet of either report: line, reason and the row's raw fields, from
    ``errors`` (a store.Store of rejected rows); a CSV row longer than the header brings its
    extra fields as unnamed columns at the right."""
    width = max(len(raw_columns), errors.width)
    headers = [label("report_line", lang), label("report_reason", lang), *raw_columns]
    headers += [f"({j + 1})" for j in range(len(raw_columns), width)]
    widths = [len(str(rows_in + 1)), 60] + [text_width(h) + 4 for h in headers[2:]]
    columns = zip(headers, widths, ["int"] + ["text"] * (width + 1))
    chunk = functools.partial(_errors_chunk, errors, width)
    return long_sheets(wb, "report_sheet_errors", lang, columns, FORMATS, "C2", errors.lengths, chunk)


def _errors_chunk(errors, width, i):
    """Columns of the rejected rows of chunk ``i`` kept in ``errors``: line, reason and the
    first ``width`` raw fields."""
    e = errors.load(i)
    cols = [Column(values=e["line"]), Column(values=e["reasons"])]
    return cols + [Column(values=[str(r[j]) if j < len(r) else "" for r in e["raw"]]) for j in range(width)]


def _table(styles, layout, records, lang):
    """A header row and one row per record (dict) of ``layout``: statuses filled, sides as words."""
    styles.append([styles.cell(label(k, lang), header=True) for _, k, _ in layout])
    for record in records:
        row = []
        for key, _, fmt in layout:
            value = record.get(key)  # None: no such input column
            if fmt == "status":
                row.append(styles.cell(label(value, lang), status=value))
                continue
            if fmt == "side":
                value = label("long" if value > 0 else "short", lang)
            row.append(styles.cell(value, fmt))
        styles.append(row)


LONG_SETTINGS = ("exchange", "loss_cut_level", "report_notes")  # not measured for column B's width


def _summary_sheet(styles, report, lang):
    rows, levels, fig = report.rows, report.levels, report.figures
    loss_cut = level_text(levels.loss_cut, lang)
    if levels.loss_cut_mmr is not None:
        loss_cut = label("report_loss_cut_mmr", lang).format(mmr=f"{levels.mmr * 100:g} %")
    info = [
        ("report_input_file", report.source_name, None),
        ("exchange", preset_text(report.preset), None),
        ("basis", label("mark" if levels.mark else "entry", lang), None),
        ("report_margin_mode", label("report_cross" if rows.cross else "report_isolated", lang), None),
        ("margin_call_level", level_text(levels.margin_call, lang), None),
        ("loss_cut_level", loss_cut, None),
        ("safe_level", level_text(levels.safe, lang), None),
        # hedged legs share one account only in cross margin
        *((("report_hedge", label(f"report_hedge_{levels.hedge}", lang), None),) if rows.cross else ()),
        *((("report_tick_size", rows.tick_size, "price"),) if rows.tick_size is not None else ()),
        *((("report_quote_rate", rows.quote_rate, "fx"),) if rows.quote_rate != 1.0 else ()),
        ("report_rows_in", rows.rows_in, "int"),
        ("report_positions", rows.n_positions, "int"),
        ("report_rows_rejected", rows.n_errors, "int"),
        # priced at entry: P&L 0, a status that may flatter the position; said when it happens
        *((("report_at_entry", rows.n_at_entry, "int"),) if rows.n_at_entry else ()),
        *(
            (("report_not_in_prices", rows.n_not_in_prices, "int"),)
            if rows.n_not_in_prices is not None
            else ()
        ),
        *(("report_notes", note, None) for note in report.notes(lang)),
    ]
    # long texts (the preset, an mmr loss-cut rule, the notes) run over the empty cells at their right
    styles.info("report_title", info, lang, measure=lambda key: key not in LONG_SETTINGS)
    styles.append([])
    everyone = label("report_all_positions", lang)
    accounts = [{**a, "name": everyone if a["name"] is None else a["name"]} for a in fig.accounts]
    _table(styles, ACCOUNT_LAYOUT, accounts, lang)
    styles.append([])
    styles.append([styles.cell(label("report_closest", lang), bold=True)], measure=False)
    _table(styles, CLOSEST_LAYOUT, fig.closest, lang)
    styles.write(one_page=len(fig.accounts) < 40)


def _stress_sheet(styles, fig, lang):
    """The ratio of each account over the adaptive ladder of market moves (each account's
    margin-call, loss-cut and zero-equity moves are rows of their own, marked in a column
    and on the chart), and its chart below the table: both on one printed page."""
    from openpyxl.chart import Reference, ScatterChart, Series
    from openpyxl.chart.shapes import GraphicalProperties

    ws, cell = styles.ws, styles.cell
    names = [a["name"] or label("report_all_positions", lang) for a in fig.accounts[:16000]]
    levels = []  # a level line when every account has the same level
    for key, colour in LEVEL_LINES.items():
        values = {round(a[key], 12) for a in fig.accounts if np.isfinite(a[key])}
        if len(values) == 1:
            levels.append((label(key, lang), values.pop(), colour))
    words = {k: label(k, lang) for k in ("margin_call", "loss_cut")}
    words["bankruptcy"] = label("report_bankruptcy", lang)
    reached = label("report_level_reached", lang)
    headers = [label("report_market_move", lang), *map(str, names), *(h for h, _, _ in levels)]
    headers += [reached, reached + " (%)"]
    styles.append([cell(h, header=True) for h in headers])
    for i, move in enumerate(fig.moves):
        marks = fig.marks[i] if i < len(fig.marks) else []
        row = [cell(float(move), "move")]
        row += [cell(float(fig.stress[i, j]), "pct") for j in range(len(names))]
        row += [cell(float(v), "pct") for _, v, _ in levels]
        text = ", ".join(words[k] if len(names) == 1 else f"{words[k]} ({names[j]})" for j, k in marks)
        row += [cell(text or None), cell(float(fig.stress[i, marks[0][0]]) if marks else None, "pct")]
        styles.append(row)
    styles.write(headers, one_page=len(names) < 20)
    if not names or not len(fig.moves):
        return
    chart = ScatterChart()
    chart.style = 13
    chart.title = label("report_sheet_stress", lang)
    chart.y_axis.title = label("ratio", lang)
    chart.x_axis.title = label("report_market_move", lang)
    chart.y_axis.number_format = "0%"
    chart.x_axis.number_format = "+0%;-0%;0%"
    chart.x_axis.delete = chart.y_axis.delete = False
    step = 10.0 ** math.floor(math.log10(max(float(np.ptp(fig.moves)), 1e-9) / 2))  # round axis ends
    chart.x_axis.scaling.min = math.floor(float(fig.moves.min()) / step) * step
    chart.x_axis.scaling.max = math.ceil(float(fig.moves.max()) / step) * step
    chart.x_axis.crosses = chart.y_axis.crosses = "min"  # axes at the left and the bottom
    chart.height, chart.width = 9, 16
    last = len(fig.moves) + 1
    x = Reference(ws, min_col=1, min_row=2, max_row=last)
    shown = min(len(names), 10)
    level_cols = list(range(2 + len(names), 2 + len(names) + len(levels)))
    for j in list(range(2, 2 + shown)) + level_cols:
        series = Series(Reference(ws, min_col=j, min_row=1, max_row=last), x, title_from_data=True)
        series.marker.symbol = "none"
        series.smooth = False
        chart.series.append(series)
    for k, (_, _, colour) in enumerate(levels):
        line = chart.series[shown + k].graphicalProperties.line
        line.dashStyle, line.solidFill = "dash", colour
    # the level-reached rows as markers on the ratio lines
    marked = Series(Reference(ws, min_col=len(headers), min_row=1, max_row=last), x, title_from_data=True)
    marked.marker.symbol = "diamond"
    marked.marker.size = 9
    marked.marker.graphicalProperties = GraphicalProperties(solidFill="000000")
    marked.graphicalProperties.line.noFill = True
    chart.series.append(marked)
    ws.add_chart(chart, f"A{last + 2}")
