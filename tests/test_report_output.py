"""The report's output file: numbers exact, the same table in openpyxl, pandas and LibreOffice,
zip entries dated now, and the display (widths, formats, pages) of issue #12."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.libreoffice import convert, require_soffice
from xlcalc.cli import main
from xlcalc.display import Display
from xlcalc.labels import label
from xlcalc.report import build_report, stream


def awkward_positions(n=60, seed=7):
    """Prices and sizes whose floats need all 17 digits, tiny and huge, a short at its entry."""
    rng = np.random.default_rng(seed)
    entry = rng.uniform(0.0001, 20_000_000, n) * (1 + 1e-15 * rng.standard_normal(n))
    df = pd.DataFrame(
        {
            "symbol": rng.choice(["BTC/JPY", "SHIB/USDT", "=1+1"], n),
            "side": rng.choice(["long", "short"], n),
            "entry_price": entry,
            "quantity": rng.uniform(1e-8, 1e6, n),
            "leverage": rng.choice([1, 2, 25, 125], n),
            "price": entry * rng.uniform(0.5, 1.5, n),
            "deposit": rng.uniform(0, 1e7, n),
            "fees": rng.uniform(0, 1e3, n),
        }
    )
    df.loc[0, ["side", "price"]] = ["short", df.loc[0, "entry_price"]]  # P&L exactly 0
    return df


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "r.xlsx"
    bad = pd.DataFrame(
        {
            "symbol": ["=BAD"],
            "side": ["up"],
            "entry_price": [1.0],
            "quantity": [1.0],
            "leverage": [2],
            "price": [1.0],
            "deposit": [1.0],
            "fees": [0.0],
        }
    )
    build_report(pd.concat([awkward_positions(), bad], ignore_index=True), out, lang="en")
    return out


def positions(path, **kw):
    return pd.read_excel(path, sheet_name=label("report_sheet_positions", "en"), **kw)


def test_every_number_round_trips_exactly(report_file):
    df = awkward_positions()
    got = positions(report_file, engine="openpyxl")
    for key in ("entry_price", "quantity", "price", "deposit", "fees"):
        np.testing.assert_array_equal(got[label(key, "en")].to_numpy(float), df[key].to_numpy(float))
    assert not (np.signbit(got.select_dtypes(float).to_numpy()) & (got.select_dtypes(float) == 0)).any().any()


def test_repr_fallback_writes_the_same_numbers(monkeypatch):
    v = np.array([0.1, 1e-5, 1e22, 123456789.123456789, np.nan, 5.0, 2.5e-300])
    fast = stream._numbers(v)
    monkeypatch.setitem(sys.modules, "orjson", None)  # as if not installed
    slow = stream._numbers(v)
    assert [float(x) for x in fast.split(b",") if x != b"null"] == [
        float(x) for x in slow.split(b",") if x != b"null"
    ]
    assert slow.split(b",")[4] == b"null" and fast.split(b",")[4] == b"null"


def test_zlib_fallback_is_raw_deflate(monkeypatch):
    import zlib

    monkeypatch.setitem(sys.modules, "zlib_ng", None)
    c = stream._compressobj(4)
    data = b'<row><c s="1"><v>1.5</v></c></row>' * 100
    assert zlib.decompress(c.compress(data) + c.flush(), -15) == data


def test_no_cell_references_and_entries_dated_now(report_file):
    with zipfile.ZipFile(report_file) as z:
        sheet = z.read("xl/worksheets/sheet2.xml")
        infos = z.infolist()
    data = sheet.split(b"<sheetData>")[1]
    assert b'<c r="' not in data.split(b"</row>", 1)[1]  # below the header row
    now = time.localtime()
    for info in infos:
        assert info.date_time[:3] == (now.tm_year, now.tm_mon, now.tm_mday), info.filename


def test_same_table_in_openpyxl_pandas_and_libreoffice(report_file, tmp_path):
    exe = require_soffice()
    title = label("report_sheet_positions", "en")
    ws = openpyxl.load_workbook(report_file, read_only=True)[title]
    rows = list(ws.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    via_openpyxl = pd.DataFrame(body, columns=header)
    via_pandas = positions(report_file)
    (lo,) = convert([report_file], tmp_path / "lo", "xlsx", exe=exe)
    via_libreoffice = positions(lo)
    assert list(via_pandas.columns) == list(header) == list(via_libreoffice.columns)
    assert len(via_openpyxl) == len(via_pandas) == len(via_libreoffice) == 60
    errors = label("report_sheet_errors", "en")
    rejected = [
        pd.read_excel(path, sheet_name=errors).fillna("").astype(str).values.tolist()
        for path in (report_file, lo)
    ]
    assert rejected[0] == rejected[1] and rejected[0][0][:4] == ["62", rejected[0][0][1], "=BAD", "up"]
    for col in header:
        a, b, c = (
            [None if v is None or v != v else v for v in frame[col]]
            for frame in (via_openpyxl, via_pandas, via_libreoffice)
        )
        assert a == b, col
        if any(isinstance(v, float) for v in a):  # LibreOffice saves doubles to 15 digits
            np.testing.assert_allclose(
                np.array(c, dtype=float), np.array(a, dtype=float), rtol=1e-14, err_msg=col
            )
        else:
            assert a == c, col


# -- display (#12) ------------------------------------------------------------------------------

THREE = pd.DataFrame(
    {
        "symbol": ["BTC/JPY", "BTC/JPY", "ETH/JPY"],
        "side": ["long", "short", "long"],
        "entry_price": [15_234_567.5, 15_000_000, 512_345.25],
        "quantity": [0.1, 0.2, 1.5],
        "leverage": [2, 2, 2],
        "price": [14_000_000, 15_000_000, 530_000.5],
    }
)


def number_format(path, sheet, header):
    ws = openpyxl.load_workbook(path)[sheet]
    col = [c.value for c in ws[1]].index(header) + 1
    return ws.cell(row=2, column=col).number_format


def test_formats_follow_the_currency_and_the_prices_given(tmp_path):
    out = tmp_path / "jpy.xlsx"
    build_report(THREE, out, deposit=3_000_000, lang="en")
    sheet = label("report_sheet_positions", "en")
    assert number_format(out, sheet, "Equity").startswith('"¥"#,##0;')  # yen: ¥, no decimals
    assert number_format(out, sheet, "Entry price").startswith("#,##0.00;")  # 512,345.25: 2 decimals
    fx = THREE.assign(symbol="EUR/USD", entry_price=[1.08523, 1.0801, 1.1], price=[1.08012, 1.0801, 1.1])
    build_report(fx, tmp_path / "fx.xlsx", deposit=10_000, lang="en")
    assert number_format(tmp_path / "fx.xlsx", sheet, "Loss-cut price").startswith("#,##0.00000;")
    assert number_format(tmp_path / "fx.xlsx", sheet, "Equity").startswith('"$"#,##0.00;')
    build_report(fx, tmp_path / "usdt.xlsx", deposit=10_000, lang="en", currency="usdt")
    assert (
        number_format(tmp_path / "usdt.xlsx", sheet, "Equity")
        == '#,##0.00" USDT";-#,##0.00" USDT";0.00" USDT"'
    )
    mixed = THREE.assign(symbol=["BTC/JPY", "BTCUSDT", "ETH/JPY"])
    build_report(mixed, tmp_path / "mixed.xlsx", deposit=10_000, lang="en")  # no one currency
    assert number_format(tmp_path / "mixed.xlsx", sheet, "Equity").startswith("#,##0.00;")


def decimals_of(number_format):
    """Decimals the first section of ``number_format`` shows."""
    return number_format.split(";")[0].partition(".")[2].count("0")


def test_prices_show_the_instruments_precision_as_the_cli_does(tmp_path):
    # USD/JPY typed as 110: the loss-cut at 106.2 was shown as "106" and the margin call at
    # 108.4 as "108" (two yen of room for 1.6); xlcalc calc shows 106.200 (6 significant digits)
    fx = pd.DataFrame(
        {"symbol": ["USD/JPY"], "side": ["long"], "entry_price": [110], "quantity": [10_000],
         "leverage": [25], "deposit": [60_000]}
    )  # fmt: skip
    build_report(fx, tmp_path / "fx.xlsx", lang="en")
    sheet = label("report_sheet_positions", "en")
    for header in ("Entry price", "Margin-call price", "Loss-cut price", "Bankruptcy price"):
        assert decimals_of(number_format(tmp_path / "fx.xlsx", sheet, header)) == 3, header
    # a distance is a price difference in the quote currency, as the CLI and the template show
    # it: -1.600, not the account's money "-¥2" (EUR/USD's 0.0123 was "¥0")
    for header in ("Distance to margin call", "Distance to loss-cut"):
        assert number_format(tmp_path / "fx.xlsx", sheet, header).startswith("#,##0.000;"), header
    cli = CliRunner().invoke(
        main, ["calc", "--side", "long", "--entry", "110", "--qty", "10000", "--leverage", "25",
               "--deposit", "60000", "--lang", "en"],
    )  # fmt: skip
    assert re.search(r"Loss-cut price +106\.200 ", cli.output)
    # a tick decides where there is one: 0.5 yen steps on whole-yen BTC prices show 1 decimal
    btc = THREE.iloc[:2].assign(entry_price=[15_000_000, 15_000_000], price=[15_000_000, 15_000_000])
    build_report(btc, tmp_path / "tick.xlsx", deposit=3_000_000, tick_size=0.5, lang="en")
    assert decimals_of(number_format(tmp_path / "tick.xlsx", sheet, "Loss-cut price")) == 1


def test_computed_quantities_and_rates_are_never_rounded_away(tmp_path):
    # 1 BTC typed: "close 0.8" was shown as "1" (and 0.4 as "0": nothing to do); a quote rate
    # of 149.094 was shown as 149
    one = pd.DataFrame(
        {"symbol": ["BTC/JPY"], "side": ["long"], "entry_price": [10_000_000], "quantity": [1],
         "leverage": [2], "deposit": [3_000_000], "price": [8_000_000], "quote_rate": [149.094]}
    )  # fmt: skip
    build_report(one, tmp_path / "q.xlsx", lang="en")
    sheet = label("report_sheet_positions", "en")
    assert decimals_of(number_format(tmp_path / "q.xlsx", sheet, "Quantity")) == 0  # as typed
    assert decimals_of(number_format(tmp_path / "q.xlsx", sheet, "Quantity to close")) == 7  # 8 digits
    assert decimals_of(number_format(tmp_path / "q.xlsx", sheet, "Quote rate")) == 3


def test_no_format_leaves_excel_a_trailing_point(tmp_path):
    # Excel shows 2 in "0.##" as "2." (a leverage of "2.x"); LibreOffice hides the point
    build_report(THREE, tmp_path / "r.xlsx", deposit=3_000_000, lang="en")
    formats = {
        c.number_format for ws in openpyxl.load_workbook(tmp_path / "r.xlsx") for row in ws for c in row
    }
    assert not [f for f in formats if re.search(r"0\.#", f)], formats
    assert (
        number_format(tmp_path / "r.xlsx", label("report_sheet_positions", "en"), "Leverage") == 'General"x"'
    )


def test_loan_prices_and_collateral_to_add_keep_their_digits(tmp_path):
    # DOGE collateral at 0.1234 was shown as 0.12 and its margin-call price 0.125 as 0.13
    loans_df = pd.DataFrame(
        {"symbol": ["DOGE"], "loan": [1000], "collateral_quantity": [10_000], "price": [0.1234],
         "margin_call_ltv": [0.8], "target_ltv": [0.5]}
    )  # fmt: skip
    build_report(loans_df, tmp_path / "l.xlsx", lang="en")
    sheet = label("report_sheet_loans", "en")
    for header in ("Collateral price", "Margin-call price (LTV)"):
        assert decimals_of(number_format(tmp_path / "l.xlsx", sheet, header)) == 6, header
    assert (
        decimals_of(number_format(tmp_path / "l.xlsx", sheet, "Collateral to add to reach the target")) == 3
    )


def test_three_positions_print_on_one_page_per_sheet(tmp_path):
    """The 3-position report printed by LibreOffice: one page per sheet (was 16, the stress
    chart cut across two), and no cell too narrow for its number (no ###)."""
    exe = require_soffice()
    out = tmp_path / "three.xlsx"
    build_report(THREE, out, deposit=3_000_000, lang="ja")
    (pdf,) = convert([out], tmp_path / "pdf", "pdf", exe=exe)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))
    assert pages == len(openpyxl.load_workbook(out).sheetnames) == 4
    if shutil.which("pdftotext"):  # what the page shows: the short at its entry has P&L ¥0
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "###" not in text and "15,234,567.50" in text and "¥3,000,000" in text
        assert "-0.00" not in text and "-¥0" not in text


def test_column_widths_fit_the_widest_number(tmp_path):
    out = tmp_path / "w.xlsx"
    build_report(THREE, out, deposit=3_000_000, lang="en")
    ws = openpyxl.load_workbook(out)[label("report_sheet_positions", "en")]
    header = [c.value for c in ws[1]]
    for name in ("Entry price", "Price", "Margin-call price", "Loss-cut price"):
        letter = openpyxl.utils.get_column_letter(header.index(name) + 1)
        assert ws.column_dimensions[letter].width >= len("15,234,567.50") + 1, name


# -- past Excel's rows per sheet: every long sheet continues on "<name> 2", "<name> 3", ... --


def parts(path, key, lang="en"):
    """The sheets of ``key`` in workbook order (the sheet, then its numbered continuations)."""
    name = label(key, lang)
    wb = openpyxl.load_workbook(path)
    return [ws for ws in wb.worksheets if re.fullmatch(re.escape(name) + r"( \d+)?", ws.title)]


def setup_of(ws):
    """What each part of a long sheet repeats: header, widths, panes, filter, rules, print setup."""
    header = [c.value for c in ws[1]]
    widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
    rules = sorted(r.formula[0] for cf in ws.conditional_formatting for r in cf.rules)
    page = (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth, ws.print_title_rows)
    return header, widths, ws.freeze_panes, ws.auto_filter.ref is not None, rules, page


def split_rows(path, key, per_part, lang="en"):
    """Every data row of the parts of ``key``, after checking their titles, sizes and settings."""
    sheets = parts(path, key, lang)
    name = label(key, lang)
    assert [ws.title for ws in sheets] == [name] + [f"{name} {k}" for k in range(2, len(sheets) + 1)]
    tables = [list(ws.iter_rows(values_only=True)) for ws in sheets]
    assert all(len(t) - 1 == per_part for t in tables[:-1]) and 1 <= len(tables[-1]) - 1 <= per_part
    assert all(setup_of(ws) == setup_of(sheets[0]) for ws in sheets)
    for ws, t in zip(sheets, tables):
        if ws.auto_filter.ref is not None:  # each part's filter ends at its own last row
            assert ws.auto_filter.ref.endswith(f"{len(t)}")
    return [row for t in tables for row in t[1:]]


def summary_counts(path, lang="en"):
    rows = openpyxl.load_workbook(path)[label("report_sheet_summary", lang)].iter_rows(values_only=True)
    return {r[0]: r[1] for r in rows if r and len(r) > 1}


def test_many_rejected_positions_continue_on_errors_2(tmp_path, monkeypatch):
    from xlcalc.report import read, writer

    monkeypatch.setattr(writer, "MAX_ROWS", 6)  # 5 rows per sheet
    monkeypatch.setattr(read, "CHUNK_ROWS", 4)  # chunks that straddle the parts
    df = awkward_positions(17).astype(str)
    bad = [1, 2, 4, 5, 6, 7, 9, 11, 12, 13, 15, 16]
    df.loc[bad, "leverage"] = [f"x{i}" for i in bad]  # each row's own raw field
    src = tmp_path / "p.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, lang="en")
    assert (result.rows_in, result.positions, result.errors) == (17, 5, 12)
    errors = split_rows(out, "report_sheet_errors", 5)
    positions = split_rows(out, "report_sheet_positions", 5)
    assert len(parts(out, "report_sheet_errors")) == 3 and len(positions) == 5
    assert all(ws.auto_filter.ref for ws in parts(out, "report_sheet_errors"))  # each part's own filter
    assert [r[0] for r in errors] == [i + 2 for i in bad]  # every rejected row once, in order
    lev = 2 + list(df.columns).index("leverage")
    assert [r[lev] for r in errors] == [f"x{i}" for i in bad] and all("leverage" in r[1] for r in errors)
    assert result.rows_in == len(positions) + len(errors)
    counts = summary_counts(out)
    assert counts[label("report_rows_in", "en")] == 17
    assert counts[label("report_rows_rejected", "en")] == 12
    assert counts[label("report_positions", "en")] == 5


def _loans_file(tmp_path, n, bad=()):
    rng = np.random.default_rng(n)
    df = pd.DataFrame(
        {
            "id": [f"L{i}" for i in range(n)],
            "symbol": rng.choice(["BTC", "ETH"], n),
            "loan": rng.uniform(1_000, 10_000, n).round(0),
            "collateral_quantity": rng.uniform(0.5, 2, n).round(3),
            "price": rng.uniform(5_000, 20_000, n).round(0),
            "margin_call_ltv": 0.8,
            "liquidation_ltv": 0.9,
            "target_ltv": 0.65,
        }
    ).astype(str)
    df.loc[list(bad), "loan"] = "-5"
    src = tmp_path / "loans.csv"
    df.to_csv(src, index=False)
    return src, df


def test_more_loans_than_a_sheet_continue_on_loans_2(tmp_path, monkeypatch):
    from xlcalc.report import read, writer

    monkeypatch.setattr(writer, "MAX_ROWS", 4)  # 3 rows per sheet
    monkeypatch.setattr(read, "CHUNK_ROWS", 4)
    src, df = _loans_file(tmp_path, 10, bad=[3])
    out = tmp_path / "l.xlsx"
    result = build_report(src, out, lang="en")
    assert (result.rows_in, result.positions, result.errors) == (10, 9, 1)
    titles = openpyxl.load_workbook(out).sheetnames
    assert titles == ["Summary", "Loans", "Loans 2", "Loans 3", "Errors"]
    loans = split_rows(out, "report_sheet_loans", 3)
    good = [i for i in range(10) if i != 3]
    assert [r[0] for r in loans] == [i + 2 for i in good]  # every loan once, in order, its line
    assert [r[1] for r in loans] == [f"L{i}" for i in good]
    np.testing.assert_array_equal([r[3] for r in loans], df["loan"].astype(float)[good])
    status = label("loan_status", "en")
    for ws in parts(out, "report_sheet_loans"):  # each part's status cells filled as their status
        col = [c.value for c in ws[1]].index(status)
        for row in ws.iter_rows(min_row=2):
            colour = row[col].fill.fgColor.rgb[-6:] if row[col].fill.fill_type else None
            want = {label("margin_call", "en"): "FFD966", label("loan_status_liquidation", "en"): "FF7C80"}
            assert colour == want.get(row[col].value)
    assert result.rows_in == len(loans) + len(split_rows(out, "report_sheet_errors", 3))
    assert summary_counts(out)[label("report_loans", "en")] == 9


def test_many_rejected_loans_continue_on_errors_2_and_open_everywhere(tmp_path, monkeypatch):
    from xlcalc.report import read, writer

    exe = require_soffice()
    monkeypatch.setattr(writer, "MAX_ROWS", 4)
    monkeypatch.setattr(read, "CHUNK_ROWS", 4)
    bad = [0, 2, 3, 4, 6, 7, 8]
    src, _ = _loans_file(tmp_path, 9, bad=bad)
    out = tmp_path / "l.xlsx"
    result = build_report(src, out, lang="ja")
    assert (result.rows_in, result.positions, result.errors) == (9, 2, 7)
    errors = split_rows(out, "report_sheet_errors", 3, "ja")
    assert len(parts(out, "report_sheet_errors", "ja")) == 3
    assert [r[0] for r in errors] == [i + 2 for i in bad] and all(r[1] for r in errors)
    assert [r[2 + 2] for r in errors] == ["-5"] * 7  # the raw loan field
    loans = split_rows(out, "report_sheet_loans", 3, "ja")
    assert result.rows_in == len(loans) + len(errors)
    counts = summary_counts(out, "ja")
    assert counts[label("report_rows_rejected", "ja")] == 7 and counts[label("report_loans", "ja")] == 2
    # pandas and LibreOffice read every part as written
    (lo,) = convert([out], tmp_path / "lo", "xlsx", exe=exe)
    wb = openpyxl.load_workbook(out)
    for path in (out, lo):
        frames = pd.read_excel(path, sheet_name=None, dtype=str)
        assert list(frames) == wb.sheetnames
        for ws in wb.worksheets[1:]:
            rows = list(ws.iter_rows(values_only=True))
            got = frames[ws.title]
            assert list(got.columns) == list(rows[0]) and len(got) == len(rows) - 1
            assert [int(v) for v in got.iloc[:, 0]] == [r[0] for r in rows[1:]]


def test_summary_percentages_keep_two_significant_digits_as_the_cli(tmp_path):
    # a position 0.04 % from its margin call: the Summary's move read "-0.0%" (and -1.97 % read
    # "-2.0%", farther than it is); xlcalc calc shows -0.040 % and -1.97 %
    df = pd.DataFrame(
        {"symbol": ["USD/JPY"], "side": ["long"], "entry_price": [110.0], "quantity": [10_000],
         "leverage": [25], "deposit": [44_000 + 44], "price": [110.0]}
    )  # fmt: skip
    out = tmp_path / "r.xlsx"
    result = build_report(df, out, lang="en", safe_level="none")
    move = result.accounts[0]["move_to_margin_call"]
    ws = openpyxl.load_workbook(out)[label("report_sheet_summary", "en")]
    header = next(r for r in ws.iter_rows() if r[0].value == label("account", "en"))
    col = [c.value for c in header].index(label("move_to_margin_call", "en"))
    cell = ws.cell(row=header[0].row + 1, column=col + 1)
    assert cell.value == pytest.approx(move) and -0.001 < move < 0
    shown = Display(0).pct(move, sign=True)  # what xlcalc calc prints
    decimals = len(shown.split(".")[1].rstrip(" %"))
    assert cell.number_format == f"+0.{'0' * decimals}%;-0.{'0' * decimals}%;0.{'0' * decimals}%"
    assert decimals >= 3


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(1e-7, 1e9, allow_nan=False), st.sampled_from([0.0, 1e-5, 0.01, 0.5, 1.0, 1000.0])
        ),
        min_size=1,
        max_size=30,
    )
)
def test_instrument_decimals_is_the_cli_rule_for_the_row_that_needs_most(rows):
    from xlcalc.display import price_decimals
    from xlcalc.report.display import instrument_decimals

    ref, tick = (np.array(v) for v in zip(*rows))
    want = max(price_decimals(r, (), t or None) for r, t in rows)
    assert instrument_decimals(ref, tick) == want
