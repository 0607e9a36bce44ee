"""SPEC §9 conformity of the report reader: a value is never silently misread.

Each test writes a file like the audit's (German LibreOffice CSVs, Excel's "sep=;" line, a
title above the header, loosened numbers) and checks what the report makes of it.
"""

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from tests.report_tables import read_table
from xlcalc.cli import main
from xlcalc.errors import InputError
from xlcalc.labels import label
from xlcalc.report import build_report
from xlcalc.report.read import CHUNK_ROWS

POSITIONS = "symbol,side,entry_price,quantity,leverage,price\n"


def _sheet(path, key, lang="en"):
    wb = openpyxl.load_workbook(path, read_only=True)
    return [list(r) for r in wb[label(key, lang)].iter_rows(values_only=True)]


def _errors(path, lang="en"):
    return {r[0]: r[1] for r in _sheet(path, "report_sheet_errors", lang)[1:]}


def _summary(path, lang="en"):
    return [(r[0], (r + [None])[1]) for r in _sheet(path, "report_sheet_summary", lang) if r and r[0]]


# -- H1/H2: without evidence the decimal separator is unknown, whatever the separator -------------


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_german_libreoffice_csv_is_rejected_not_read_as_18(tmp_path, sep):
    # LibreOffice (de_DE) writes 18000 as "18.000" and 17500 as "17.500": read with a decimal
    # point it was 18 and 17.5, a 73,668 % "OK" account in a 9 % loss-cut.
    src = tmp_path / "dax.csv"
    rows = [POSITIONS.strip().split(","), ["DAX", "long", "18.000", "10", "20", "17.500"]]
    rows.append(["DAX", "long", "18.250", "5", "20", "17.500"])
    src.write_text("".join(sep.join(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, lang="en", deposit=10_000)
    assert (result.positions, result.errors) == (0, 2)
    reason = _errors(out)[2]
    assert "'18.000' reads two ways: 18 if the decimal separator is a point, 18000 if it is a comma" in reason
    assert "--decimal , (decimal comma)" in reason
    result = build_report(src, out, lang="en", deposit=10_000, decimal=",", force=True)
    assert result.positions == 2
    table = read_table(src, decimal=",")
    assert table.numbers["entry_price"].tolist() == [18_000.0, 18_250.0]


@pytest.mark.parametrize("sep", [",", "\t"])
def test_german_loans_csv_collateral_1_500_is_not_1500(tmp_path, sep):
    src = tmp_path / "loans.csv"
    fields = [
        ["loan", "collateral_quantity", "price", "margin_call_ltv"],
        ["25.500", '"1,500"', "20.000", "80 %"],
    ]
    src.write_text("".join(sep.join(r) + "\n" for r in fields), encoding="utf-8")
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, lang="en")
    assert (result.kind, result.positions, result.errors) == ("loans", 0, 1)
    reason = _errors(out)[2]
    assert "Collateral quantity '1,500' too (1500 or 1.5)" in reason and "--decimal" in reason
    build_report(src, out, lang="en", decimal=",", force=True)
    loans = _sheet(out, "report_sheet_loans")
    row = dict(zip(loans[0], loans[1]))
    assert row[label("loan_collateral_quantity", "en")] == 1.5
    assert row[label("loan_ltv_now", "en")] == pytest.approx(25_500 / 30_000)


def test_xlsx_text_cells_and_dataframe_text_without_evidence_are_unknown(tmp_path):
    src = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["symbol", "side", "entry_price", "quantity", "leverage"])
    wb.active.append(["DAX", "long", "18.000", 1, 20])  # a text cell: 18 or 18000?
    wb.active.append(["DAX", "long", 18_000.5, "2", 20])  # number cells are exact
    wb.save(src)
    table = read_table(src)
    assert table.header.decimal is None
    assert table.bad.tolist() == [True, False] and table.numbers["entry_price"][1] == 18_000.5
    df = pd.DataFrame({"side": ["long"], "entry_price": ["1,500"], "quantity": [1.0], "leverage": [2.0]})
    assert read_table(df).bad.tolist() == [True]
    assert read_table(df.assign(entry_price=[1500.25])).bad.tolist() == [False]  # floats: exact


def test_values_that_read_one_way_are_read_without_evidence(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text(POSITIONS + 'A,long,100,"0,5",2,101.5\nB,long,"1.234.567",1,2,\n', encoding="utf-8")
    table = read_table(src)
    assert table.header.decimal is None and not table.bad.any()
    assert table.numbers["quantity"].tolist() == [0.5, 1.0]
    assert table.numbers["entry_price"].tolist() == [100.0, 1_234_567.0]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_fx_file_without_evidence_says_both_readings_and_that_decimal_point_settles_it(tmp_path, lang):
    src = tmp_path / "fx.csv"  # written by a script: English headers, 3-decimal prices only
    src.write_text(
        "symbol,side,entry_price,quantity,leverage,price\nUSD/JPY,long,149.094,10000,25,148.512\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    r = CliRunner().invoke(main, ["report", str(src), "-o", str(out), "--deposit", "100000", "--lang", lang])
    assert r.exit_code == 0, r.output
    reason, note = _errors(out, lang)[2], dict(_summary(out, lang))[label("report_notes", lang)]
    if lang == "en":
        assert reason.startswith(
            "Entry price '149.094' reads two ways: 149.094 if the decimal separator is a point, "
            "149094 if it is a comma, and this file does not tell which: give --decimal . (decimal point)"
        )
        assert "Price '148.512' too (148.512 or 148512)" in reason
        assert "give --decimal . if the file uses a decimal point" in note
    else:
        assert (
            "建値 '149.094' は 2 通りに読めます（小数点がピリオドなら 149.094、カンマなら 149094）" in reason
        )
        assert "--decimal .（小数点がピリオド）" in reason
        assert "小数点がピリオドなら --decimal ." in note
    assert note in r.output  # the command line says it too (stderr)
    r = CliRunner().invoke(
        main,
        [
            "report",
            str(src),
            "-o",
            str(out),
            "--deposit",
            "100000",
            "--force",
            "--decimal",
            ".",
            "--lang",
            "ja",
        ],
    )
    assert r.exit_code == 0 and label("report_notes", "ja") not in r.output
    pos = _sheet(out, "report_sheet_positions", "ja")
    assert dict(zip(pos[0], pos[1]))[label("entry_price", "ja")] == 149.094


def test_evidence_only_in_a_later_chunk_is_safe(tmp_path):
    # The first chunk (25,000 rows) tells nothing: the whole file is read as unknown, so that
    # the later "0,5" is read (one reading) and "1.500" rejected, never read as 1.5 or 1500.
    src = tmp_path / "long.csv"
    rows = ["A,long,100,1,2,100\n"] * CHUNK_ROWS + ['B,long,100,"0,5",2,100\n', "C,long,1.500,1,2,100\n"]
    src.write_text(POSITIONS + "".join(rows), encoding="utf-8")
    table = read_table(src)  # every chunk's rows in one table
    assert table.header.decimal is None
    assert table.numbers["quantity"][-2] == 0.5
    assert table.bad[-1] and not table.bad[:-1].any()
    assert "'1.500' reads two ways" in table.reasons[len(table.line) - 1]


# -- M9: Excel's "sep=;" line -------------------------------------------------------------------------


def test_excel_sep_line_names_the_separator_and_is_not_the_header(tmp_path):
    src = tmp_path / "sep.csv"
    src.write_text(
        "sep=;\nsymbol;side;entry_price;quantity;leverage;price\nBTC;long;100;1;10;90\n", encoding="utf-8"
    )
    table = read_table(src)
    assert table.header.delimiter == ";" and table.header.fields["entry_price"] == "entry_price"
    assert table.line.tolist() == [3] and not table.bad.any()  # line numbers: the file's
    assert table.header.skipped == []


# -- M12: title rows above the header -----------------------------------------------------------------


def test_title_rows_above_the_header_are_skipped_and_said(tmp_path):
    src = tmp_path / "title.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["建玉一覧 2024/05/01"])
    ws.append(["口座: 12345", None, "単位: 円"])
    ws.append([])
    ws.append(["銘柄", "売買", "建値", "数量", "レバレッジ", "現在値", "証拠金"])
    ws.append(["BTC/JPY", "買", 10_000_000, 0.1, 2, 9_000_000, 600_000])
    wb.save(src)
    out = tmp_path / "r.xlsx"
    r = CliRunner().invoke(main, ["report", str(src), "-o", str(out), "--lang", "en", "-q"])
    assert r.exit_code == 0, r.output
    note = "skipped 2 row(s) above the header, not read as rows (line 1-2: "
    note += "建玉一覧 2024/05/01 | 口座: 12345 単位: 円)"
    assert f"Note: {note}" in r.output
    summary = dict(_summary(out))
    assert summary["Note"] == note and summary["Rows in"] == 1 and summary["Rows rejected"] == 0
    pos = _sheet(out, "report_sheet_positions")
    assert dict(zip(pos[0], pos[1]))["Line"] == 5


def test_title_rows_above_a_csv_and_a_loans_header(tmp_path):
    src = tmp_path / "loans.csv"
    src.write_text(
        "Loans export,,\n\ngenerated 2024-05-01,,\nloan,collateral_quantity,price\n10000,1,12500.5\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, lang="ja")
    assert (result.kind, result.rows_in, result.positions) == ("loans", 1, 1)
    assert result.notes == [
        "見出しの上の 2 行は行として読まずに飛ばしました（1-3 行目: Loans export | generated 2024-05-01）"
    ]
    loans = _sheet(out, "report_sheet_loans", "ja")
    assert loans[1][0] == 5  # the file's line


def test_no_header_within_20_rows_keeps_the_clear_error(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("title\n" * 21 + POSITIONS + "A,long,100,1,2,100\n", encoding="utf-8")
    with pytest.raises(Exception, match="headers found: title"):
        build_report(src, tmp_path / "r.xlsx", lang="en")


# -- L13/L14: numbers not loosened too much -----------------------------------------------------------


@pytest.mark.parametrize(
    "quantity, reason",
    [
        ("5²", "Quantity '5²' has characters that are not the digits 0-9 (²): type it with 0-9"),
        ("٥", "Quantity '٥' has characters that are not the digits 0-9 (٥)"),
        ("๕", "Quantity '๕' has characters that are not the digits 0-9 (๕)"),
        ("1 2", "Quantity '1 2': a space or an apostrophe inside a number may only group thousands by three"),
        ("1_000", "Quantity '1_000' is not a number (digits 0-9, one decimal separator"),
        ("0.5 USD", "Quantity '0.5 USD' carries a currency or a unit: give the number alone"),
        ("0.1 BTC", "Quantity '0.1 BTC' carries a currency or a unit"),
    ],
)
def test_loosened_numbers_are_rejected_with_what_is_wrong(tmp_path, quantity, reason):
    src = tmp_path / "p.csv"
    src.write_text(POSITIONS + f'X,long,100.5,"{quantity}",10,100\n', encoding="utf-8")
    table = read_table(src)
    assert table.bad.tolist() == [True]
    assert table.reasons[0].startswith(reason) and "got nan" not in table.reasons[0]


@pytest.mark.parametrize(
    "text, value",
    [
        ("1\u00a0234.5", 1234.5),  # NBSP thousands
        ("1\u2009234.5", 1234.5),  # thin space
        ("1\u202f234.5", 1234.5),  # narrow NBSP
        ("1 234 567.5", 1234567.5),
        ("1'234.50", 1234.5),  # Swiss
        ("１２３", 123.0),  # full-width
        ("(5)", -5.0),
        ("▲5", -5.0),
        ("+0.1", 0.1),
        ("1E-05", 1e-05),
        (".5", 0.5),
        ("5.", 5.0),
        ("5円", 5.0),
        ("¥5,000.5", 5000.5),
        ("\\5,000.5", 5000.5),  # cp932's yen sign
        ("- 5", -5.0),
    ],
)
def test_what_the_audit_found_right_stays_right(tmp_path, text, value):
    src = tmp_path / "p.csv"
    src.write_text(POSITIONS + f'X,long,"{text}",1,10,100.5\n', encoding="utf-8")
    table = read_table(src)
    assert table.numbers["entry_price"].tolist() == [value]


def test_percent_on_a_rate_and_currency_on_money_are_fine(tmp_path):
    src = tmp_path / "loans.csv"
    src.write_text(
        'loan,collateral_quantity,price,margin_call_ltv\n"¥5,000.5",0.5,"12,500.5円",80 %\n', encoding="utf-8"
    )
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, lang="en")
    assert (result.positions, result.errors) == (1, 0)
    loans = _sheet(out, "report_sheet_loans")
    row = dict(zip(loans[0], loans[1]))
    assert row[label("loan_margin_call_ltv", "en")] == 0.8 and row[label("loan_amount", "en")] == 5000.5


@pytest.mark.parametrize(
    "head, row",
    [
        ("通貨ペア,売買,建値,数量,レバレッジ,現在値", "USD/JPY,買,149.094,10000,25,148.512"),  # headers
        ("symbol,side,entry_price,quantity,leverage,price", "USD/JPY,買い,149.094,10000,25,148.512"),  # side
        (
            "symbol,side,entry_price,quantity,leverage,price,deposit",
            "USD/JPY,long,149.094,10000,25,148.512,100000円",
        ),  # yen
    ],
)
def test_a_file_written_in_japanese_reads_a_decimal_point(tmp_path, head, row):
    # Japan writes a decimal point: a Japanese broker's USD/JPY at 149.094 is never 149,094, so
    # Japanese headers, side words or yen in the numbers settle the convention without --decimal
    src = tmp_path / "fx.csv"
    src.write_text(f"{head}\n{row}\n", encoding="utf-8")
    result = build_report(src, tmp_path / "r.xlsx", deposit=100_000, lang="ja")
    assert (result.positions, result.errors, result.notes) == (1, 0, [])
    pos = _sheet(tmp_path / "r.xlsx", "report_sheet_positions", "ja")
    assert 149.094 in pos[1] and 148.512 in pos[1]
    # a European file stays undecided: "18.000" is rejected, never read as 18, whatever its
    # memo or symbol says (a German CFD file may hold 日経225, or a note in Japanese)
    for text in (
        "symbol,side,entry_price,quantity,leverage\nDAX,long,18.000,10,20\n",
        "symbol;side;entry_price;quantity;leverage;memo\nDAX;long;18.000;10;20;メモ\n",
        "symbol,side,entry_price,quantity,leverage\n日経225,long,38.000,10,20\n",
    ):
        eu = tmp_path / "eu.csv"
        eu.write_text(text, encoding="utf-8")
        assert build_report(eu, tmp_path / "eu.xlsx", deposit=10_000, lang="en", force=True).errors == 1, text


def test_prices_file_follows_the_positions_rule_for_japanese_headers(tmp_path):
    from xlcalc.report.reader import read_prices

    ja, en = tmp_path / "ja.csv", tmp_path / "en.csv"
    ja.write_text("銘柄,現在値\nUSD/JPY,149.094\n", encoding="utf-8")
    en.write_text("symbol,price\nUSD/JPY,149.094\n", encoding="utf-8")
    assert read_prices(ja) == {"USD/JPY": 149.094}
    with pytest.raises(InputError, match="reads two ways"):
        read_prices(en)
    assert read_prices(en, decimal=".") == {"USD/JPY": 149.094}
