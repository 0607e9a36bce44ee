"""The report of a loans file (SPEC §10): every figure equals xlcalc.loans, every row is kept."""

from __future__ import annotations

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

import xlcalc as xc
from xlcalc import loans
from xlcalc._inputs import InputError
from xlcalc.labels import label
from xlcalc.report import build_report
from xlcalc.report.loans import is_loans_file


def _sheet(path, key, lang="en"):
    ws = {w.title: w for w in openpyxl.load_workbook(path).worksheets}[label(key, lang)]
    rows = list(ws.iter_rows(values_only=True))
    return rows


def _loans(path, lang="en"):
    rows = _sheet(path, "report_sheet_loans", lang)
    return pd.DataFrame(rows[1:], columns=rows[0])


def _col(df, key, lang="en"):
    return df[label(key, lang)].astype(float).to_numpy()


LOANS = pd.DataFrame(
    {
        "id": ["L1", "L2", "L3"],
        "symbol": ["BTC", "BTC", "ETH"],
        "loan": [10_000, 10_000, 5_000],
        "collateral_quantity": [1.0, 1.0, 4.0],
        "price": [20_000, 12_500, 2_000],
        "interest": [0, 0, 120],
        "margin_call_ltv": [0.8, 0.8, 0.75],
        "liquidation_ltv": [0.9, 0.9, 0.85],
        "target_ltv": [0.65, 0.65, 0.55],
        "liquidation_fee": [0.02, 0.02, 0.0],
        "gap_price": [9_000, 9_000, 1_000],
    }
)


def test_loans_sheet_equals_the_loan_functions(tmp_path):
    out = tmp_path / "loans.xlsx"
    result = build_report(LOANS, out, lang="en")
    assert (result.rows_in, result.positions, result.errors) == (3, 3, 0)
    got = _loans(out)
    d = {k: LOANS[k].to_numpy(dtype=float) for k in LOANS.columns if k not in ("id", "symbol")}
    args = (d["loan"], d["collateral_quantity"])
    want = {
        "loan_ltv_now": loans.loan_ltv(*args, d["price"], interest=d["interest"]),
        "loan_margin_call_price": loans.ltv_price(*args, d["margin_call_ltv"], interest=d["interest"]),
        "loan_liquidation_price": loans.ltv_price(*args, d["liquidation_ltv"], interest=d["interest"]),
        "loan_collateral_to_add": loans.collateral_to_add(
            *args, d["price"], d["target_ltv"], interest=d["interest"]
        ),
        "loan_repay_to_target": loans.repay_to_target(
            *args, d["price"], d["target_ltv"], interest=d["interest"]
        ),
        "loan_shortfall": loans.loan_shortfall(
            *args, d["gap_price"], interest=d["interest"], liquidation_fee=d["liquidation_fee"]
        ),
    }
    for key, values in want.items():
        np.testing.assert_allclose(_col(got, key), values, rtol=1e-12, err_msg=key)
    np.testing.assert_allclose(
        _col(got, "loan_margin_call_distance_pct"),
        want["loan_margin_call_price"] / d["price"] - 1,
        rtol=1e-12,
    )
    # SPEC §10's worked example: LTV 50 % at 20,000; 80 % at 12,500; 0.230769 BTC back to 65 %;
    # liquidated at 9,000 with a 2 % fee leaves 1,180 owed
    assert _col(got, "loan_ltv_now")[0] == pytest.approx(0.5)
    assert _col(got, "loan_margin_call_price")[0] == pytest.approx(12_500)
    assert _col(got, "loan_collateral_to_add")[1] == pytest.approx(0.230769, abs=1e-6)
    assert _col(got, "loan_shortfall")[0] == pytest.approx(1_180)
    assert got[label("loan_status", "en")].tolist() == [
        label("ok", "en"),
        label("margin_call", "en"),
        label("ok", "en"),
    ]
    assert got[label("account", "en")].tolist() == ["L1", "L2", "L3"]


def test_japanese_headers_and_loan_preset(tmp_path):
    ja = pd.DataFrame(
        {
            "借入額": ["10,000", "10,000"],
            "担保数量": ["１", "1"],
            "担保価格": ["11,000", "20000"],
            "利息": ["", "0"],
        }
    )
    path = tmp_path / "loans.csv"
    ja.to_csv(path, index=False, encoding="cp932")
    assert is_loans_file(path)
    out = tmp_path / "loans.xlsx"
    # "10,000" and "11,000" alone do not tell the decimal separator: the user says it
    build_report(path, out, lang="ja", loan_preset="binance_loans_btc_2020", decimal=".")
    got = _loans(out, "ja")
    preset = xc.get_loan_preset("binance_loans_btc_2020")
    np.testing.assert_allclose(
        _col(got, "loan_liquidation_price", "ja"),
        loans.ltv_price(10_000, 1, preset["liquidation_ltv"]),
        rtol=1e-12,
    )
    np.testing.assert_allclose(_col(got, "loan_target_ltv", "ja"), preset["initial_ltv"])
    want = [label("loan_status_liquidation", "ja"), label("ok", "ja")]
    assert got[label("loan_status", "ja")].tolist() == want
    info = {r[0]: r[1] for r in _sheet(out, "report_sheet_summary", "ja")[1:]}
    assert "binance_loans_btc_2020" in info[label("report_loan_preset", "ja")]
    assert info[label("report_n_loan_liquidation", "ja")] == 1


def test_option_levels_and_no_level_is_blank_not_an_error(tmp_path):
    df = LOANS[["loan", "collateral_quantity", "price"]]
    out = tmp_path / "l.xlsx"
    build_report(df, out, lang="en", kind="loans", margin_call_ltv=0.7)
    got = _loans(out)
    np.testing.assert_allclose(
        _col(got, "loan_margin_call_price"),
        loans.ltv_price(df["loan"], df["collateral_quantity"], 0.7),
        rtol=1e-12,
    )
    assert np.isnan(_col(got, "loan_liquidation_price")).all()  # no level: no price, no crash
    info = {r[0]: r[1] for r in _sheet(out, "report_sheet_summary")[1:]}
    assert info[label("loan_liquidation_ltv", "en")] == label("none", "en")


def test_bad_rows_go_to_errors_with_reasons_and_nothing_is_lost(tmp_path):
    df = LOANS.astype(str).copy()
    df.loc[0, "loan"] = "-5"
    df.loc[1, "price"] = ""
    df.loc[2, "collateral_quantity"] = "=1+1"
    df = pd.concat([df, LOANS.astype(str).iloc[[0]]], ignore_index=True)
    path = tmp_path / "loans.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "l.xlsx"
    result = build_report(path, out, lang="en")
    assert result.rows_in == result.positions + result.errors == 4
    assert (result.positions, result.errors) == (1, 3)
    errors = _sheet(out, "report_sheet_errors")
    lines = [r[0] for r in errors[1:]]
    assert lines == [2, 3, 4]
    reasons = [r[1] for r in errors[1:]]
    assert "loan" in reasons[0] and "price" in reasons[1] and "collateral_quantity" in reasons[2]
    assert errors[3][2 + list(df.columns).index("collateral_quantity")] == "=1+1"  # text, not a formula
    assert _loans(out)[label("report_line", "en")].tolist() == [5]


def test_existing_output_kept_and_unknown_kind(tmp_path):
    out = tmp_path / "l.xlsx"
    out.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        build_report(LOANS, out, lang="en")
    assert out.read_bytes() == b"keep"
    with pytest.raises(xc.InputError, match="kind"):
        build_report(LOANS, tmp_path / "k.xlsx", kind="bonds")
    with pytest.raises(xc.InputError, match="loan preset"):
        build_report(LOANS, tmp_path / "p.xlsx", loan_preset="nope")
    assert not (tmp_path / "p.xlsx").exists()


def test_positions_file_is_not_a_loans_file(tmp_path):
    df = pd.DataFrame(
        {"side": ["long"], "entry_price": [1.0], "quantity": [1.0], "leverage": [2.0], "deposit": [1.0]}
    )
    assert not is_loans_file(df)
    assert math.isfinite(build_report(df, tmp_path / "p.xlsx").positions)


def test_row_longer_than_header_is_an_error_in_the_reports_language(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text(
        "借入額,担保数量,担保価格\n10000,1,20000\n5000,1,3000,,9\n5000,x,3000\n", encoding="utf-8"
    )
    out = tmp_path / "l.xlsx"
    result = build_report(path, out, lang="ja")
    assert (result.rows_in, result.positions, result.errors) == (3, 1, 2)
    errors = _sheet(out, "report_sheet_errors", "ja")
    headers = (label("report_line", "ja"), label("report_reason", "ja"), "借入額", "担保数量", "担保価格")
    assert errors[0] == (*headers, "(4)", "(5)")  # the fields beyond the header are kept, as for positions
    assert errors[1][1] == label("report_row_too_long", "ja").format(fields=5, header=3)
    assert errors[1][2:] == ("5000", "1", "3000", None, "9")
    assert "担保数量" in errors[2][1] and "'x'" in errors[2][1]


# -- decimal commas: the positions reader's rule (the option, else detected per file) ----------

EUROPEAN = "id;loan;collateral_quantity;price;margin_call_ltv;liquidation_ltv\n"


def _errors(path, lang="en"):
    return {r[0]: r[1] for r in _sheet(path, "report_sheet_errors", lang)[1:]}


def test_european_loans_file_reads_decimal_commas(tmp_path):
    # 1,500 BTC is 1.5 BTC: read as 1,500 BTC the LTV would look tiny and the loan safe
    path = tmp_path / "loans.csv"
    path.write_text(
        EUROPEAN + "L1;10.000,50;1,500;8.000;80%;90%\nL2;9000;1,500;7000;80%;90%\n", encoding="utf-8"
    )
    out = tmp_path / "l.xlsx"
    result = build_report(path, out, lang="en")
    got = _loans(out)
    assert got[label("loan_status", "en")].tolist()[-1] == label("margin_call", "en")  # not "OK"
    assert (result.positions, result.errors) == (2, 0)
    np.testing.assert_allclose(_col(got, "loan_amount"), [10_000.5, 9_000])
    np.testing.assert_allclose(_col(got, "loan_collateral_quantity"), [1.5, 1.5])
    np.testing.assert_allclose(
        _col(got, "loan_ltv_now"), loans.loan_ltv([10_000.5, 9_000], 1.5, [8_000, 7_000]), rtol=1e-12
    )
    assert got[label("loan_status", "en")].tolist() == [label("margin_call", "en")] * 2
    assert result.accounts[0]["n_margin_call"] == 2


def test_decimal_option_and_ambiguous_values_rejected_with_a_reason(tmp_path):
    # no value tells the mark: "1,500" is 1.5 or 1500, "7.000" 7 or 7000
    path = tmp_path / "loans.csv"
    path.write_text(EUROPEAN + "L1;9000;1,500;7.000;;\nL2;9000;2;7000;;\n", encoding="utf-8")
    out = tmp_path / "guess.xlsx"
    result = build_report(path, out, lang="en")
    assert (result.rows_in, result.positions, result.errors) == (2, 1, 1)
    reason = _errors(out)[2]
    assert "'1,500'" in reason and "'7.000'" in reason and "--decimal" in reason
    assert _loans(out)[label("report_line", "en")].tolist() == [3]

    forced = tmp_path / "comma.xlsx"
    result = build_report(path, forced, lang="en", decimal=",", margin_call_ltv=0.8)
    assert (result.positions, result.errors) == (2, 0)
    np.testing.assert_allclose(_col(_loans(forced), "loan_ltv_now"), [9_000 / 10_500, 9_000 / 14_000])
    assert _loans(forced)[label("loan_status", "en")].tolist() == [
        label("margin_call", "en"),
        label("ok", "en"),
    ]
    point = tmp_path / "point.xlsx"
    build_report(path, point, lang="en", decimal=".")
    np.testing.assert_allclose(_col(_loans(point), "loan_collateral_quantity"), [1_500, 2])


def test_cli_report_passes_decimal_to_the_loans_report(tmp_path):
    from click.testing import CliRunner

    from xlcalc.cli import main

    path = tmp_path / "loans.csv"
    path.write_text(EUROPEAN + "L1;9000;1,500;7.000;0,8;0,9\n", encoding="utf-8")
    out = tmp_path / "l.xlsx"
    r = CliRunner().invoke(main, ["report", str(path), "-o", str(out), "--decimal", ",", "--lang", "en"])
    assert r.exit_code == 0, r.output
    np.testing.assert_allclose(_col(_loans(out), "loan_ltv_now"), [9_000 / 10_500])


def test_xlsx_loans_numbers_are_numbers(tmp_path):
    path = tmp_path / "loans.xlsx"
    pd.DataFrame(
        {"loan": [10_000.5, 9_000], "collateral_quantity": [1.5, 1_500], "price": [8_000, 7_000]}
    ).to_excel(path, index=False)
    out = tmp_path / "l.xlsx"
    assert build_report(path, out, lang="en").positions == 2
    got = _loans(out)
    np.testing.assert_allclose(_col(got, "loan_collateral_quantity"), [1.5, 1_500])
    np.testing.assert_allclose(_col(got, "loan_ltv_now"), [10_000.5 / 12_000, 9_000 / 10_500_000])


def test_xlsx_number_cells_with_decimal_commas_in_text_cells(tmp_path):
    # number cells are numbers under --decimal , (and say nothing to its detection); the
    # text cells "1,5" follow it
    path = tmp_path / "loans.xlsx"
    wb = openpyxl.Workbook()
    for row in (
        ["loan", "collateral_quantity", "price", "margin_call_ltv"],
        [10_000.5, 1.5, 8_000, 0.8],
        [9_000, "1,5", 7_000.25, "0,8"],
        [1_234.567, 0.125, "12.000", 0.75],
    ):
        wb.active.append(row)
    wb.save(path)
    for decimal in (",", None):
        out = tmp_path / f"{decimal}.xlsx"
        result = build_report(path, out, lang="en", decimal=decimal)
        assert (result.positions, result.errors) == (3, 0), _errors(out)
        got = _loans(out)
        np.testing.assert_array_equal(_col(got, "loan_amount"), [10_000.5, 9_000, 1_234.567])
        np.testing.assert_array_equal(_col(got, "loan_collateral_quantity"), [1.5, 1.5, 0.125])
        np.testing.assert_array_equal(_col(got, "loan_collateral_price"), [8_000, 7_000.25, 12_000])
        np.testing.assert_array_equal(_col(got, "loan_margin_call_ltv"), [0.8, 0.8, 0.75])


def test_dataframe_rows_as_positions_lines_and_long_cells_rejected(tmp_path):
    df = LOANS[["id", "loan", "collateral_quantity", "price"]].astype(object).copy()
    df.loc[1] = [None, None, None, None]  # a blank row is skipped but keeps its line
    df.loc[2, "id"] = "x" * 40_000  # longer than an Excel cell
    out = tmp_path / "l.xlsx"
    result = build_report(df, out, lang="en")
    assert (result.rows_in, result.positions, result.errors) == (2, 1, 1)
    assert _loans(out)[label("report_line", "en")].tolist() == [2]
    errors = _sheet(out, "report_sheet_errors")
    assert errors[1][0] == 4 and "40,000" in errors[1][1]
    assert len(errors[1][2]) <= 32_767


def test_same_loans_in_openpyxl_pandas_and_libreoffice(tmp_path):
    from tests.libreoffice import convert, require_soffice

    exe = require_soffice()
    df = pd.concat([LOANS, LOANS.assign(id=["=HYPERLINK(1)", "", "L\x016"], loan=[-1, 5_000, 1])])
    df = df.astype(str).reset_index(drop=True)
    out = tmp_path / "l.xlsx"
    assert build_report(df, out, lang="en").errors == 1
    (lo,) = convert([out], tmp_path / "lo", "xlsx", exe=exe)
    for key, kind in (("report_sheet_loans", None), ("report_sheet_errors", str)):  # raw text as text
        rows = _sheet(out, key)
        via_openpyxl = pd.DataFrame(rows[1:], columns=rows[0], dtype=kind)
        via_pandas, via_libreoffice = (
            pd.read_excel(p, sheet_name=label(key, "en"), dtype=kind) for p in (out, lo)
        )
        assert list(via_pandas.columns) == list(rows[0]) == list(via_libreoffice.columns)
        for col in rows[0]:
            a, b, c = (
                [None if v is None or v != v else v for v in frame[col]]
                for frame in (via_openpyxl, via_pandas, via_libreoffice)
            )
            assert a == b, col
            if any(isinstance(v, float) for v in a):  # LibreOffice saves doubles to 15 digits
                np.testing.assert_allclose(np.array(c, float), np.array(a, float), rtol=1e-14, err_msg=col)
            else:
                assert a == c, col
    ids = [r[1] for r in _sheet(out, "report_sheet_loans")[1:]]
    assert ids == ["L1", "L2", "L3", None, "L_x0001_6"]  # a blank id is an empty cell; Excel's escape
    assert _sheet(out, "report_sheet_errors")[1][:3] == (5, _errors(out)[5], "=HYPERLINK(1)")  # text
    # each status cell is filled as its status, in the report and in LibreOffice's copy
    status = label("loan_status", "en")
    for path in (out, lo):
        ws = openpyxl.load_workbook(path)[label("report_sheet_loans", "en")]
        col = [c.value for c in ws[1]].index(status)
        fills = {row[col].value: row[col].fill.fgColor.rgb[-6:] for row in ws.iter_rows(min_row=2)}
        assert fills[label("margin_call", "en")] == "FFD966"
        assert fills[label("ok", "en")] == "000000" or fills[label("ok", "en")] is None


def test_cli_report_counts_loans_as_loans(tmp_path):
    from click.testing import CliRunner

    from xlcalc.cli import main

    path = tmp_path / "loans.csv"
    path.write_text(EUROPEAN + "L1;9000;1,500;7.000;0,8;0,9\nL2;x;1;7.000;0,8;0,9\n", encoding="utf-8")
    out = tmp_path / "l.xlsx"
    r = CliRunner().invoke(main, ["report", str(path), "-o", str(out), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "1 loans, 1 rejected rows (of 2)" in r.output


def test_two_headers_meaning_one_loan_field_are_refused_naming_both(tmp_path):
    # the positions reader's rule: never pick one of two columns (which one holds the loan?)
    path = tmp_path / "loans.csv"
    path.write_text("loan,借入額,担保数量,担保価格\n10000,90000,1,20000\n", encoding="utf-8")
    with pytest.raises(InputError, match="'loan' and '借入額' both mean loan"):
        build_report(path, tmp_path / "l.xlsx")
    frame = pd.DataFrame([[10000, 1, 20000, 1]], columns=["loan", "collateral_quantity", "price", "price"])
    with pytest.raises(InputError, match="two columns named 'price'"):
        build_report(frame, tmp_path / "l.xlsx")
    assert not (tmp_path / "l.xlsx").exists()


def test_bare_ltv_level_above_ten_is_refused_never_read_as_thousands_of_percent(tmp_path):
    # "80" in a margin-call LTV column was 8,000 %: a loan at 83 % LTV showed OK, its margin-call
    # price 125 instead of 12,500; the CLI refuses --margin-call-ltv 80 with the same hint
    path = tmp_path / "loans.csv"
    path.write_text(
        "loan,collateral_quantity,price,margin_call_ltv,liquidation_ltv\n"
        "10000,1,12000,80,90\n10000,1,12000,80%,90%\n10000,1,12000,0.8,0.9\n",
        encoding="utf-8",
    )
    out = tmp_path / "l.xlsx"
    result = build_report(path, out, lang="en")
    assert (result.rows_in, result.positions, result.errors) == (3, 2, 1)
    errors = _sheet(out, "report_sheet_errors", "en")
    assert errors[1][0] == 2 and "margin_call_ltv: 80 would be 8,000 %; did you mean 80 %?" in errors[1][1]
    assert result.accounts[0]["n_margin_call"] == 2  # 80% and 0.8 are read alike
    summary = {r[0]: r[1] for r in _sheet(out, "report_sheet_summary", "en")}
    # the levels come from the file's columns: the Summary says so, not "none"
    assert summary[label("loan_margin_call_ltv", "en")] == label("report_level_per_row", "en").format(
        header="margin_call_ltv", default=label("none", "en")
    )
