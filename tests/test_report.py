"""The headless report (SPEC §6): input reading, computed values, nothing lost, safe files."""

from __future__ import annotations

import math
import os
import re
import zipfile
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlcalc as xc
from tests.report_tables import read_table
from xlcalc.cli import main
from xlcalc.labels import label
from xlcalc.report import build_report, stream, writer
from xlcalc.report.reader import canonical_header, clean_numbers

FORMULA_TEXTS = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)"]


def sheets(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: ws for ws in wb.worksheets}


def table_of(ws):
    rows = list(ws.iter_rows(values_only=True))
    return rows[0], rows[1:]


def positions_frame(path, lang="en"):
    ws = sheets(path)[label("report_sheet_positions", lang)]
    header, rows = table_of(ws)
    return pd.DataFrame(rows, columns=header)


def errors_rows(path, lang="en"):
    return table_of(sheets(path)[label("report_sheet_errors", lang)])[1]


def sheet_xml(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/")}


# -- reading ------------------------------------------------------------------------------


def test_headers_in_english_and_japanese_any_case_spacing_width():
    assert canonical_header(" Entry_Price ") == "entry_price"
    assert canonical_header("ENTRY PRICE") == "entry_price"
    assert canonical_header("建値") == "entry_price"
    assert canonical_header("ＬＥＶＥＲＡＧＥ") == "leverage"
    assert canonical_header("口座") == "account"
    assert canonical_header("note") is None


def test_clean_numbers():
    raw = pd.Series(
        [
            "1,234,567",
            "１２３",
            "¥5,000",
            "5,000円",
            "$12.5",
            "50%",
            "▲1,000",
            "(20)",
            "",
            "abc",
            "１，０００．５",
        ]
    )
    got = clean_numbers(raw)
    want = [1234567, 123, 5000, 5000, 12.5, 0.5, -1000, -20, np.nan, np.nan, 1000.5]
    np.testing.assert_array_equal(got, np.array(want, dtype=float))


MESSY = (
    "銘柄,売買,建値,数量,レバレッジ,現在値,証拠金,メモ\n"
    'BTC/JPY,買い,"1,234,567",０．１,2,"1,200,000",￥100000,a\n'
    "\n"
    'ETH/JPY,売り,"\\300,000",１,2,,"200,000円",b\n'  # 0x5C: the yen sign of Shift_JIS
    "XRP/JPY,Buy,100,50%,2,90,30,c\n"
    "BAD/JPY,上,100,1,2,90,30,d\n"
    "NEG/JPY,売,100,-1,2,90,30,e\n"
    ",,,,,,,\n"
    "ZZZ/JPY,sell,abc,1,2,90,30,f\n"
)


@pytest.fixture
def messy_cp932(tmp_path):
    path = tmp_path / "positions_sjis.csv"
    path.write_bytes(MESSY.encode("cp932"))
    return path


def test_messy_cp932_csv(messy_cp932, tmp_path):
    out = tmp_path / "r.xlsx"
    result = build_report(messy_cp932, out, lang="en")
    assert (result.rows_in, result.positions, result.errors) == (6, 3, 3)
    pos = positions_frame(out)
    assert pos["Line"].tolist() == [2, 4, 5]
    assert pos["Symbol"].tolist() == ["BTC/JPY", "ETH/JPY", "XRP/JPY"]
    assert pos["Side"].tolist() == ["Long", "Short", "Long"]
    assert pos["Entry price"].tolist() == [1234567.0, 300000.0, 100.0]
    assert pos["Quantity"].tolist() == [0.1, 1.0, 0.5]  # "50%" strings are read (SPEC §6)
    assert pos["Price"].tolist() == [1200000.0, 300000.0, 90.0]  # empty price: the entry price
    assert pos["Deposit"].tolist() == [100000.0, 200000.0, 30.0]
    assert pos["メモ"].tolist() == ["a", "b", "c"]  # unknown columns kept
    errors = errors_rows(out)
    assert [e[0] for e in errors] == [6, 7, 9]
    assert "side must be" in errors[0][1] and "'上'" in errors[0][1]
    assert errors[1][1] == "quantity must be a positive number, got -1.0"
    assert errors[2][1] == "entry_price must be a number, got 'abc'"
    assert list(errors[0][2:]) == ["BAD/JPY", "上", "100", "1", "2", "90", "30", "d"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_encodings(tmp_path, encoding):
    path = tmp_path / "p.csv"
    path.write_bytes(MESSY.encode(encoding))
    table = read_table(path)
    assert table.header.fields["entry_price"] == "建値"
    assert table.line.tolist() == [2, 4, 5, 6, 7, 9]


def test_quoted_line_break_keeps_line_numbers(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        'symbol,side,entry_price,quantity,leverage,deposit\n"two\nlines",long,100,1,2,50\n'
        "X,long,100,-1,2,50\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    build_report(path, out, lang="en")
    assert positions_frame(out)["Symbol"].tolist() == ["two\nlines"]
    assert errors_rows(out)[0][0] == 4


def test_row_longer_than_header_is_an_error_row_not_a_failure(tmp_path):
    # an unquoted "1,000,000" splits into three fields: the row is reported, not the file
    path = tmp_path / "p.csv"
    path.write_text(
        "symbol,side,entry_price,quantity,leverage,deposit\n"
        "A,long,100,1,2,50\n"
        "B,long,100,1,2,1,000,000\n"
        '"C\nD",short,100,1,2,50,\n',
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    build_report(path, out, lang="en")
    assert positions_frame(out)["Symbol"].tolist() == ["A", "C\nD"]
    ((line, reason, *raw),) = errors_rows(out)
    assert line == 3 and reason == "row has 8 fields, the header has 6"
    assert raw == ["B", "long", "100", "1", "2", "1", "000", "000"]


def test_xlsx_input(tmp_path):
    src = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Symbol", "SIDE", "Entry Price", "Qty", "Leverage", "Price", "Deposit", "Fees"])
    ws.append(["BTC", "long", 50_000, 0.2, 2, 25_000, 5_000, None])
    ws.append([None] * 8)
    ws.append(["ETH", "short", "3,000", "１", 2, 3_100.5, 1_000, "10"])
    ws.append(["BAD", "long", 100, 1, 0, 100, 10, 0])
    wb.save(src)
    out = tmp_path / "r.xlsx"
    # the text "3,000" alone does not tell the decimal separator (3 or 3000): the user says it
    result = build_report(src, out, lang="en", decimal=".")
    assert (result.rows_in, result.positions, result.errors) == (3, 2, 1)
    pos = positions_frame(out)
    assert pos["Line"].tolist() == [2, 4]
    assert pos["Entry price"].tolist() == [50_000.0, 3_000.0]
    assert pos["Price"].tolist() == [25_000.0, 3_100.5]
    assert pos["Maintenance ratio"].tolist()[0] == 0.0
    err = errors_rows(out)[0]
    assert err[0] == 5 and err[1] == "leverage must be a positive number, got 0.0"


def test_prices_file_updates_marks_by_symbol(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text(
        "symbol,side,entry_price,quantity,leverage,price,deposit\n"
        "BTC,long,100,1,2,100,50\nETH,long,100,1,2,100,50\n",
        encoding="utf-8",
    )
    prices = tmp_path / "prices.csv"
    prices.write_text('銘柄,現在値\nBTC,"1,50"\n'.replace('"1,50"', "80"), encoding="utf-8")
    out = tmp_path / "r.xlsx"
    build_report(src, out, prices=prices, lang="en")
    assert positions_frame(out)["Price"].tolist() == [80.0, 100.0]


# -- computed values equal the core -----------------------------------------------------


def _random_positions(n, seed, deposit=True):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "symbol": rng.choice(["BTC", "ETH"], n),
            "side": rng.choice(["long", "short", "買い", "売り"], n),
            "entry_price": rng.uniform(100, 10_000, n).round(2),
            "quantity": rng.uniform(0.1, 10, n).round(3),
            "leverage": rng.choice([1, 2, 5, 25], n).astype(float),
            "price": rng.uniform(100, 10_000, n).round(2),
            "fees": rng.uniform(0, 50, n).round(2),
        }
    )
    if deposit:
        df["deposit"] = rng.uniform(0, 20_000, n).round(0)
    return df


@pytest.mark.parametrize("basis", ["entry", "mark"])
def test_isolated_values_equal_core(tmp_path, basis):
    df = _random_positions(40, 1)
    out = tmp_path / "r.xlsx"
    build_report(df, out, basis=basis, lang="en", margin_call=1.2, loss_cut=0.6)
    got = positions_frame(out)
    args = dict(
        deposit=df["deposit"],
        side=df["side"],
        entry_price=df["entry_price"],
        quantity=df["quantity"],
        leverage=df["leverage"],
        basis=basis,
        fees=df["fees"],
    )
    p = df["price"]
    margin_price = p if basis == "mark" else df["entry_price"]
    want = {
        "Required margin": xc.required_margin(margin_price, df["quantity"], df["leverage"]),
        "Unrealized P&L": xc.unrealized_pnl(df["side"], df["entry_price"], p, df["quantity"]),
        "Equity": xc.equity(df["deposit"], df["side"], df["entry_price"], p, df["quantity"], fees=df["fees"]),
        "Maintenance ratio": xc.maintenance_ratio(price=p, **args),
        "Margin-call price": xc.margin_call_price(level=1.2, **args),
        "Loss-cut price": xc.loss_cut_price(level=0.6, **args),
        "Bankruptcy price": xc.bankruptcy_price(
            df["deposit"], df["side"], df["entry_price"], df["quantity"], fees=df["fees"]
        ),
        "Deposit to restore": xc.additional_deposit(price=p, target=1.2, **args),
        "Quantity to close": xc.close_quantity(price=p, target=1.2, **args),
    }
    for name, values in want.items():
        np.testing.assert_array_equal(
            got[name].astype(float).to_numpy(), np.asarray(values, dtype=float) + 0.0, err_msg=name
        )
    # the report's default safe level (300 %) gives "caution" between it and the margin call
    status = xc.status(want["Maintenance ratio"], 1.2, 0.6, safe_level=xc.core.DEFAULT_SAFE_LEVEL)
    assert got["Status"].tolist() == [label(s, "en") for s in status]
    lc = np.asarray(want["Loss-cut price"], dtype=float)
    np.testing.assert_allclose(got["Distance to loss-cut %"].astype(float), lc / p - 1)


def test_cross_margin_accounts_equal_account_functions(tmp_path):
    df = _random_positions(30, 2, deposit=False)
    df["account"] = np.where(np.arange(30) % 3 == 0, "A", "B")
    out = tmp_path / "r.xlsx"
    result = build_report(df, out, deposit=200_000, lang="en")
    got = positions_frame(out)
    for acct in result.accounts:
        rows = df[df["account"] == acct["name"]]
        args = (
            200_000,
            rows["side"].to_numpy(),
            rows["entry_price"].to_numpy(),
            rows["price"].to_numpy(),
            rows["quantity"].to_numpy(),
            rows["leverage"].to_numpy(),
        )
        fees = rows["fees"].sum()
        st = xc.account_state(*args, fees=fees)
        # one summation (a group-by over chunks): agrees with account_state to 1e-12 relative
        assert acct["equity"] == pytest.approx(st.equity, rel=1e-12)
        assert acct["ratio"] == pytest.approx(st.ratio, rel=1e-12)
        move = xc.market_move_to_level(*args, 0.5, fees=fees)
        assert acct["move_to_loss_cut"] == pytest.approx(move, rel=1e-12, nan_ok=True)
        mine = got[got["Account"] == acct["name"]]
        np.testing.assert_allclose(mine["Equity"].astype(float), st.equity, rtol=1e-12)
        # every sheet shows the account's one ratio: Positions equal the Summary exactly
        assert set(mine["Maintenance ratio"].astype(float)) == {acct["ratio"]}
        # A row's loss-cut price puts the whole account at the loss-cut level.
        for i, (_k, _row) in enumerate(rows.iterrows()):
            lc = mine["Loss-cut price"].iloc[i]
            if lc is None or math.isnan(lc):
                continue
            prices = rows["price"].to_numpy().copy()
            prices[i] = lc
            ratio = xc.account_state(200_000, args[1], args[2], prices, args[4], args[5], fees=fees).ratio
            assert ratio == pytest.approx(0.5, rel=1e-9)
    # the Summary agrees with the result
    ws = sheets(out)[label("report_sheet_summary", "en")]
    values = [r for r in ws.iter_rows(values_only=True) if r[0] in ("A", "B")]
    # (openpyxl writes the Summary's floats with 16 significant digits)
    assert {r[0]: r[3] for r in values} == pytest.approx(
        {a["name"]: a["equity"] for a in result.accounts}, rel=1e-15
    )


def test_mmr_preset_adds_liquidation_price(tmp_path):
    df = pd.DataFrame(
        {
            "symbol": ["BTCUSDT", "XYZUSDT"],
            "side": ["long", "short"],
            "entry_price": [60_000, 10.0],
            "quantity": [10, 100],
            "leverage": [20, 10],
            "deposit": [30_000, 200],
        }
    )
    out = tmp_path / "r.xlsx"
    build_report(df, out, exchange="binance_usdm", lang="en")
    got = positions_frame(out)
    mmr = xc.get_preset("binance_usdm")["mmr"]
    want = xc.liquidation_price(df["deposit"], df["side"], df["entry_price"], df["quantity"], mmr)
    want.iloc[0] = xc.liquidation_price(  # BTCUSDT: the shipped tier table; XYZUSDT: the flat rate
        30_000, "long", 60_000, 10, mmr, tiers=xc.perpetual.exchange_tiers("binance_usdm", "BTCUSDT")
    )
    np.testing.assert_allclose(got["Liquidation price"].astype(float), want, rtol=1e-12)
    # the preset's loss-cut is the liquidation (as xlcalc calc); at a flat rate it is the price
    # where the ratio reaches mmr x leverage on the mark
    np.testing.assert_array_equal(got["Loss-cut price"].astype(float), got["Liquidation price"].astype(float))
    flat = xc.loss_cut_price(200, "short", 10.0, 100, 10, level=mmr * 10, basis="mark")
    assert float(got["Loss-cut price"].iloc[1]) == pytest.approx(flat, rel=1e-12)


@pytest.mark.parametrize(
    "side, price, loss_cut, restore, close",
    [("long", 57_280, 57_313.1, 164.00, 0.52429668), ("short", 62_700, 62_633.7, 335.00, 0.91280654)],
)
def test_tiered_preset_figures_equal_xlcalc_calc(tmp_path, side, price, loss_cut, restore, close):
    # 5 BTCUSDT at 20x: a 286k notional is in Binance's third tier (1 %, 1,300 USDT), not the
    # first's flat 0.4 %. The report said "Caution" with a loss-cut of 57,228.9 on a position
    # Binance had liquidated; the figures are xlcalc calc --exchange binance_usdm --symbol BTCUSDT's.
    df = pd.DataFrame(
        {"symbol": ["BTCUSDT"], "side": [side], "entry_price": [60_000], "quantity": [5], "leverage": [20],
         "deposit": [15_000], "price": [price]}
    )  # fmt: skip
    out = tmp_path / "r.xlsx"
    build_report(df, out, exchange="binance_usdm", lang="en")
    row = positions_frame(out).iloc[0]
    cli = CliRunner().invoke(
        main, ["calc", "--exchange", "binance_usdm", "--symbol", "BTCUSDT", "--side", side,
               "--entry", "60000", "--qty", "5", "--leverage", "20", "--deposit", "15000",
               "--price", str(price), "--lang", "en"],
    )  # fmt: skip
    assert (
        f"Loss-cut price      {loss_cut:,.1f}" in cli.output and "Status              Loss-cut" in cli.output
    )
    assert row["Status"] == label("loss_cut", "en")
    assert round(float(row["Loss-cut price"]), 1) == loss_cut
    assert float(row["Deposit to restore"]) == pytest.approx(restore, abs=0.005)
    assert float(row["Quantity to close"]) == pytest.approx(close, abs=5e-9)


# -- nothing lost, text stays text -----------------------------------------------------------


def test_formula_looking_text_stays_text(tmp_path):
    n = len(FORMULA_TEXTS)
    df = pd.DataFrame(
        {
            "symbol": FORMULA_TEXTS * 2,
            "side": ["long"] * n + ["up"] * n,
            "entry_price": 100,
            "quantity": 1,
            "leverage": 2,
            "account": FORMULA_TEXTS * 2,
            "note": FORMULA_TEXTS * 2,
        }
    )
    out = tmp_path / "r.xlsx"
    build_report(df, out, deposit=1_000, lang="en")
    pos = positions_frame(out)
    assert pos["Symbol"].tolist() == FORMULA_TEXTS and pos["note"].tolist() == FORMULA_TEXTS
    assert [e[2] for e in errors_rows(out)] == FORMULA_TEXTS
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value in FORMULA_TEXTS:
                    assert c.data_type == "s", (ws.title, c.coordinate)
    summary = [r[0] for r in sheets(out)["Summary"].iter_rows(values_only=True)]
    assert set(FORMULA_TEXTS) <= set(summary)  # account names on the Summary
    for name, xml in sheet_xml(out).items():
        assert "<f>" not in xml and "<f " not in xml, name


def test_control_characters_are_escaped_not_lost(tmp_path):
    df = pd.DataFrame(
        {
            "symbol": ["a\x07b"],
            "side": ["long"],
            "entry_price": [1],
            "quantity": [1],
            "leverage": [1],
            "deposit": [1],
        }
    )
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en")
    assert positions_frame(out)["Symbol"].tolist() == ["a_x0007_b"]


COLUMNS = ["side", "entry_price", "quantity", "leverage", "deposit", "symbol"]
row_values = st.fixed_dictionaries(
    {
        "side": st.sampled_from(["long", "short", "買い", "x", ""]),
        "entry_price": st.sampled_from(["100", "1,000", "-5", "", "abc", "５０"]),
        "quantity": st.sampled_from(["1", "0", "0.5", "50%", ""]),
        "leverage": st.sampled_from(["2", "25", "0", "x"]),
        "deposit": st.sampled_from(["1000", "0", "-1", "", "¥500"]),
        "symbol": st.sampled_from(["BTC", "=1+1", "", "銘柄"]),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_values, min_size=0, max_size=12))
def test_rows_in_equal_positions_plus_errors(tmp_path_factory, rows):
    d = tmp_path_factory.mktemp("prop")
    src = d / "in.csv"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(src, index=False)
    out = d / "r.xlsx"
    result = build_report(src, out, lang="en")
    non_blank = sum(any(v != "" for v in r.values()) for r in rows)
    positions = len(list(sheets(out)["Positions"].iter_rows())) - 1
    errors = len(errors_rows(out))
    assert result.rows_in == non_blank == positions + errors
    assert (result.positions, result.errors) == (positions, errors)


def test_more_rows_than_a_sheet_continue_on_positions_2(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "MAX_ROWS", 6)  # 5 data rows per sheet
    df = _random_positions(12, 3)
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en")
    s = sheets(out)
    assert [t for t in s if t.startswith("Positions")] == ["Positions", "Positions 2", "Positions 3"]
    lines = []
    for t in ("Positions", "Positions 2", "Positions 3"):
        header, rows = table_of(s[t])
        assert header[0] == "Line"
        lines += [r[0] for r in rows]
    assert lines == list(range(2, 14))


def test_positions_sheet_formatting(tmp_path):
    out = tmp_path / "r.xlsx"
    build_report(_random_positions(5, 4), out, lang="ja")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["サマリー", "建玉", "ストレス", "エラー"]
    ws = wb["建玉"]
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref.startswith("A1:") and ws.auto_filter.ref.endswith("6")
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert any('"追証"' in r.formula[0] for r in rules) and any('"ロスカット"' in r.formula[0] for r in rules)
    header = [c.value for c in ws[1]]
    ratio = ws.cell(row=2, column=header.index("証拠金維持率") + 1)
    assert ratio.number_format == "0.00%"
    with zipfile.ZipFile(out) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())
        for name in z.namelist():  # every part is well-formed XML
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(z.read(name))


def test_dataframe_with_numeric_sides(tmp_path):
    df = pd.DataFrame(
        {
            "side": [1, -1, 2],
            "entry_price": [100.0, 100.0, 100.0],
            "quantity": [1, 1, 1],
            "leverage": [2, 2, 2],
            "deposit": [50, 50, 50],
        }
    )
    out = tmp_path / "r.xlsx"
    result = build_report(df, out, lang="en")
    assert (result.positions, result.errors) == (2, 1)
    assert positions_frame(out)["Side"].tolist() == ["Long", "Short"]
    assert errors_rows(out)[0][:2] == (4, "side must be long/short, buy/sell, 買い/売り or +1/-1, got '2'")


# -- safe files ---------------------------------------------------------------------------


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"keep me")
    df = _random_positions(3, 5)
    with pytest.raises(FileExistsError):
        build_report(df, out)
    assert out.read_bytes() == b"keep me"
    build_report(df, out, force=True)
    assert zipfile.is_zipfile(out)


def test_failure_midway_leaves_no_file(tmp_path, monkeypatch):
    real = stream.stream_rows

    def failing(data, first_row=2, progress=None):
        for _i, chunk in enumerate(real(data, first_row, progress)):
            yield chunk
            raise RuntimeError("disk full")

    monkeypatch.setattr(stream, "stream_rows", failing)
    monkeypatch.setattr(stream, "BATCH_ROWS", 2)
    with pytest.raises(RuntimeError):
        build_report(_random_positions(10, 6), tmp_path / "r.xlsx")
    assert os.listdir(tmp_path) == []
    old = tmp_path / "old.xlsx"
    old.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        build_report(_random_positions(10, 6), old, force=True)
    assert old.read_bytes() == b"old" and os.listdir(tmp_path) == ["old.xlsx"]


# -- command line ------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_cli_report_and_force(messy_cp932, tmp_path):
    out = tmp_path / "r.xlsx"
    r = run("report", messy_cp932, "-o", out, "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "3 positions, 3 rejected rows (of 6)" in r.output
    before = out.read_bytes()
    r = run("report", messy_cp932, "-o", out)
    assert r.exit_code == 2 and "--force" in r.output and "Traceback" not in r.output
    assert out.read_bytes() == before
    r = run("report", messy_cp932, "-o", out, "--force", "--lang", "ja", "-q")
    assert r.exit_code == 0 and r.output == ""
    assert "サマリー" in openpyxl.load_workbook(out).sheetnames


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "input file not found"),
    ],
)
def test_cli_missing_input_is_one_line(tmp_path, extra, message):
    r = run("report", tmp_path / "nope.csv", "-o", tmp_path / "r.xlsx", *extra)
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "r.xlsx").exists()


def test_cli_errors_are_one_line(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("symbol,side,entry_price,quantity,leverage\nBTC,long,100,1,2\n", encoding="utf-8")
    cases = [
        ([], "a deposit is needed"),
        (["--deposit", "100", "--exchange", "nowhere"], "exchange must be one of"),
        (["--deposit", "-1"], "deposit must be a number >= 0"),
        (["--deposit", "100", "--prices", tmp_path / "none.csv"], "prices file not found"),
    ]
    for extra, message in cases:
        r = run("report", src, "-o", tmp_path / "r.xlsx", "--lang", "en", *extra)  # errors follow --lang
        assert r.exit_code == 2, (extra, r.output)
        assert r.output.count("\n") == 1 and message in r.output, r.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage\x81\x00")
    r = run("report", bad, "-o", tmp_path / "r.xlsx", "--deposit", "1")
    assert r.exit_code == 2 and r.output.count("\n") == 1
    nohead = tmp_path / "nohead.csv"
    nohead.write_text("a,b\n1,2\n", encoding="utf-8")
    r = run("report", nohead, "-o", tmp_path / "r.xlsx", "--deposit", "1", "--lang", "en")
    assert r.exit_code == 2 and "no side, entry_price, quantity, leverage column" in r.output
    assert os.listdir(tmp_path) == ["p.csv", "bad.csv", "nohead.csv"] or sorted(
        os.listdir(tmp_path)
    ) == sorted(["p.csv", "bad.csv", "nohead.csv"])


def test_cli_no_progress_bar_when_not_a_terminal(messy_cp932, tmp_path):
    r = run("report", messy_cp932, "-o", tmp_path / "r.xlsx")
    assert r.exit_code == 0
    assert not re.search(r"\[#+", r.output)


# -- memory does not grow with the rows --------------------------------------------------------

PEAK_CHILD = """
import sys
from xlcalc.report import build_report
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = build_report(src, out, deposit=1e12, lang="en")
assert r.rows_in == n == r.positions + r.errors and r.errors > 0
# VmHWM: this process's peak RSS (ru_maxrss would include the parent's RSS at fork)
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def _positions_rows(n, rng):
    entry = rng.uniform(100, 10_000_000, n).round(2)
    return {
        "口座": rng.choice(["main", "sub", "hedge"], n),
        "銘柄": rng.choice(["BTC/JPY", "ETH/JPY"], n),
        "売買": rng.choice(["買い", "売り", "?"], n, p=[0.5, 0.49, 0.01]),
        "建値": entry,
        "数量": rng.uniform(0.001, 10, n).round(4),
        "レバレッジ": rng.choice([2, 5, 10, 25], n),
        "現在値": (entry * rng.uniform(0.8, 1.2, n)).round(2),
        "メモ": rng.choice(["a", "b"], n),
    }


def _loans_rows(n, rng):
    quantity = rng.uniform(0.01, 5, n).round(4)
    price = rng.uniform(8e6, 1.6e7, n).round(0)
    return {
        "ローン番号": [f"L{i:07d}" for i in range(n)],  # one word per row: never shared
        "担保通貨": rng.choice(["BTC", "ETH"], n),
        "借入額": (quantity * price * rng.uniform(0.3, 0.95, n)).round(0),
        "担保数量": np.where(rng.random(n) < 0.01, -quantity, quantity),
        "担保価格": price,
        "追証LTV": 0.8,
        "清算LTV": 0.9,
        "窓開け価格": (price * 0.7).round(0),
    }


@pytest.mark.parametrize("rows", [_positions_rows, _loans_rows], ids=["positions", "loans"])
def test_peak_memory_does_not_grow_with_rows(tmp_path, rows):
    # Each size in a fresh process; peak RSS in MB. Holding the rows (as the report once
    # did, 0.3-0.5 kB per row) adds 55-90 MB for the 180,000 extra rows.
    import subprocess
    import sys

    if not os.path.exists("/proc/self/status"):
        pytest.skip("VmHWM is Linux's")
    peaks = {}
    for n in (20_000, 200_000):
        src = tmp_path / f"{n}.csv"
        pd.DataFrame(rows(n, np.random.default_rng(0))).to_csv(src, index=False)
        proc = subprocess.run(
            [sys.executable, "-c", PEAK_CHILD, str(src), str(tmp_path / f"{n}.xlsx"), str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[n] = int(proc.stdout.split()[-1]) / 1024
    assert peaks[200_000] - peaks[20_000] < 30, peaks


def test_reasons_speak_the_reports_language(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "symbol,side,entry_price,quantity,leverage,deposit\nA,横,100,1,2,50\nB,long,100,1,2,1,000\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    build_report(path, out, lang="ja")
    reasons = [row[1] for row in errors_rows(out, "ja")]
    assert reasons == [
        "売買は買い/売り（long/short, buy/sell, +1/-1）でなければなりません（値: '横'）",
        "この行は 7 項目、見出しは 6 項目です",
    ]


def test_positions_beyond_the_shipped_tier_table_are_said_everywhere(tmp_path):
    # the shipped BTCUSDT table stops at 20M USDT: a 24M short priced with its last tier (5 %)
    # gets a liquidation farther than the exchange's; the report and the CLI say so
    df = pd.DataFrame(
        {"symbol": ["BTCUSDT", "BTCUSDT"], "side": ["short", "long"], "entry_price": [60_000, 60_000],
         "quantity": [400, 1], "leverage": [20, 20], "deposit": [4_800_000, 3_000]}
    )  # fmt: skip
    out = tmp_path / "r.xlsx"
    result = build_report(df, out, exchange="binance_usdm", lang="en")
    note = label("report_note_beyond_tiers", "en").format(n=1, exchange="binance_usdm")
    assert result.notes == [note]
    summary = [r for r in sheets(out)[label("report_sheet_summary", "en")].iter_rows(values_only=True)]
    assert (label("report_notes", "en"), note) in [tuple(r[:2]) for r in summary]
    assert not build_report(df.iloc[1:], tmp_path / "small.xlsx", exchange="binance_usdm").notes
    args = [
        "--side",
        "short",
        "--entry",
        "60000",
        "--qty",
        "400",
        "--lang",
        "en",
        "--exchange",
        "binance_usdm",
    ]
    for command in (["liq", "--wallet", "4800000"], ["calc", "--leverage", "20", "--deposit", "4800000"]):
        assert note in CliRunner().invoke(main, command + args).output, command
    small = ["liq", "--wallet", "3000", *args[:4], "--qty", "1", "--lang", "en", "--exchange", "binance_usdm"]
    assert note not in CliRunner().invoke(main, small).output


def test_a_symbol_without_a_shipped_tier_table_is_said(tmp_path):
    # ETHUSDT has no shipped Binance table: the flat first-tier 0.4 % is used, which flatters a
    # 286,500 USDT position; the Summary and the CLI say so (nothing was said before)
    df = pd.DataFrame(
        {"symbol": ["ETHUSDT", "BTCUSDT"], "side": ["long", "long"], "entry_price": [3_000, 60_000],
         "quantity": [100, 1], "leverage": [20, 20], "price": [2_865, 60_000], "deposit": [15_000, 3_000]}
    )  # fmt: skip
    result = build_report(df, tmp_path / "r.xlsx", exchange="binance_usdm", lang="en")
    note = label("report_note_flat_rate", "en").format(n=1, exchange="binance_usdm", mmr="0.4 %")
    assert result.notes == [note]
    assert not build_report(df.iloc[1:], tmp_path / "btc.xlsx", exchange="binance_usdm").notes
