"""Inputs from the real world (SPEC §9, issues #11 and #12): every file gives the right figures
or one clear sentence naming the line or cell; never a blank read as a price, never a lost
position, never a traceback. Every file is built inside its test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.report_tables import read_table
from xlcalc import _files
from xlcalc._files import atomic_output, check_output, detect_encoding, read_text_table
from xlcalc._inputs import InputError
from xlcalc.cli import main
from xlcalc.report import build_report
from xlcalc.report import read as readmod
from xlcalc.report.reader import clean_numbers, detect_decimal, iter_chunks, read_prices

HEAD = ["symbol", "side", "entry_price", "quantity", "leverage", "price", "deposit"]


def xlsx(path, rows, *, sheets=None):
    """An openpyxl workbook: ``rows`` on the active sheet, or ``sheets`` {title: (rows, state)}."""
    wb = openpyxl.Workbook()
    if sheets is None:
        for r in rows:
            wb.active.append(r)
    else:
        wb.remove(wb.active)
        for title, (content, state) in sheets.items():
            ws = wb.create_sheet(title)
            ws.sheet_state = state
            for r in content:
                ws.append(r)
    wb.save(path)
    return path


def patch_zip(path, part, edit):
    """Rewrite one part of a zip (xlsx) with ``edit(text) -> text``."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename == part:
                data = edit(data.decode("utf-8")).encode("utf-8")
            z.writestr(info.filename, data)


def errors_of(table):
    return {int(table.line[i]): table.reasons[i] for i in sorted(table.reasons)}


def good_lines(table):
    return table.line[~table.bad].tolist()


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


# -- formulas without a saved value ---------------------------------------------------------------


def test_openpyxl_formula_without_cached_value_is_rejected_naming_the_cell(tmp_path):
    # The file: the price is a formula a script wrote; read blank it became the entry
    # price and the long showed "OK". It must be a rejected row naming F2, never a price.
    src = xlsx(
        tmp_path / "in.xlsx",
        [
            HEAD + ["note"],
            ["BTC", "long", 100, 1, 2, "=C2*0.3", 10, "=A2"],
            ["ETH", "long", 100, 1, 2, 90, 40, "=B3"],
        ],
    )
    table = read_table(src)
    assert good_lines(table) == [3]
    reason = errors_of(table)[2]
    assert "F2" in reason and "price" in reason and "=C2*0.3" in reason and "formula" in reason
    # a formula in a column the report does not read stays its text, the row is kept
    assert list(table.extra["note"]) == ["=A2", "=B3"]


def test_formula_reason_in_the_reports_language(tmp_path):
    src = xlsx(tmp_path / "in.xlsx", [HEAD, ["BTC", "long", 100, 1, 2, "=C2*0.3", 10]])
    out = tmp_path / "r.xlsx"
    build_report(src, out, lang="ja")
    ((line, reason, *raw),) = list(
        openpyxl.load_workbook(out)["エラー"].iter_rows(min_row=2, values_only=True)
    )
    assert line == 2 and reason.startswith("セル F2（price）は計算結果が保存されていない数式です（=C2*0.3）")
    assert raw[5] == "=C2*0.3"


def test_pandas_written_formulas_and_a_formula_whose_result_was_saved(tmp_path):
    df = pd.DataFrame(
        {
            "symbol": ["A", "B"],
            "side": ["short", "long"],
            "entry_price": [100, 100],
            "quantity": ["=1/2", 1],
            "leverage": [2, 2],
            "deposit": [50, 50],
        }
    )
    src = tmp_path / "pandas.xlsx"
    df.to_excel(src, index=False)
    table = read_table(src)
    assert good_lines(table) == [3] and "D2" in errors_of(table)[2]
    # As Excel or LibreOffice save it: the result cached, no recalculation flag -> the value.
    cached = "<f>1/2</f><v>0.5</v>"
    patch_zip(
        src,
        "xl/worksheets/sheet1.xml",
        lambda x: x.replace("<f>1/2</f><v></v>", cached).replace("<f>1/2</f><v />", cached),
    )
    patch_zip(src, "xl/workbook.xml", lambda x: x.replace('fullCalcOnLoad="1"', ""))
    table = read_table(src)
    assert good_lines(table) == [2, 3] and table.numbers["quantity"].tolist() == [0.5, 1.0]


def test_a_date_in_a_price_cell_is_not_a_price(tmp_path):
    import datetime

    src = xlsx(
        tmp_path / "d.xlsx",
        [HEAD, ["A", "long", 100, 1, 2, datetime.date(2026, 11, 20), 50], ["B", "long", 100, 1, 2, 95, 50]],
    )
    table = read_table(src)
    assert good_lines(table) == [3] and "'2026-11-20'" in errors_of(table)[2]


def test_furigana_of_japanese_text_is_not_part_of_the_value(tmp_path):
    # Japanese Excel saves the reading (rPh) of typed kanji next to the text, in sharedStrings
    src = xlsx(
        tmp_path / "j.xlsx",
        [["銘柄", "売買", "建値", "数量", "レバレッジ", "証拠金"], ["金先物", "買い", 100, 1, 2, 50]],
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    shared = (
        f'<sst xmlns="{main}" count="1" uniqueCount="1"><si><t>金先物</t>'
        '<rPh sb="0" eb="3"><t>キンサキモノ</t></rPh><phoneticPr fontId="1"/></si></sst>'
    )
    patch_zip(
        src,
        "xl/worksheets/sheet1.xml",
        lambda x: x.replace(
            '<c r="A2" t="inlineStr"><is><t>金先物</t></is></c>', '<c r="A2" t="s"><v>0</v></c>'
        ),
    )
    patch_zip(
        src,
        "[Content_Types].xml",
        lambda x: x.replace(
            "</Types>",
            (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
            ),
        ),
    )
    with zipfile.ZipFile(src, "a") as z:
        z.writestr("xl/sharedStrings.xml", shared)
    with zipfile.ZipFile(src) as z:
        assert b"<v>0</v>" in z.read("xl/worksheets/sheet1.xml")
    assert list(read_table(src).texts["symbol"]) == ["金先物"]


# -- decimal commas -------------------------------------------------------------------------------


def test_decimal_comma_detected_per_file(tmp_path):
    src = tmp_path / "eu.csv"
    src.write_text(
        "symbol;side;entry_price;quantity;leverage;deposit\n"
        "BTC;long;1.000,50;0,1;2;50\nETH;short;2.500;1;2;1.250,5\n",
        encoding="utf-8",
    )
    table = read_table(src)
    assert table.header.decimal == ","
    assert table.numbers["entry_price"].tolist() == [1000.5, 2500.0]
    assert table.numbers["quantity"].tolist() == [0.1, 1.0]  # "0,1" is never 1
    assert table.numbers["deposit"].tolist() == [50.0, 1250.5]


def test_quoted_decimal_commas_in_a_comma_file(tmp_path):
    src = tmp_path / "q.csv"
    src.write_text(
        'symbol,side,entry_price,quantity,leverage,deposit\nA,long,"1.000,50","0,1",2,50\n', encoding="utf-8"
    )
    assert read_table(src).numbers["quantity"].tolist() == [0.1]


def test_ambiguous_decimal_is_rejected_not_guessed(tmp_path):
    # semicolons and no value that decides: "1.000" may be 1 or 1,000 -> rejected with a hint
    src = tmp_path / "amb.csv"
    src.write_text(
        "symbol;side;entry_price;quantity;leverage;deposit\nA;long;1.000;1;2;50\nB;long;100;1;2;50\n",
        encoding="utf-8",
    )
    table = read_table(src)
    assert table.header.decimal is None and good_lines(table) == [3]
    assert "--decimal" in errors_of(table)[2] and "'1.000'" in errors_of(table)[2]
    assert read_table(src, decimal=",").numbers["entry_price"].tolist() == [1000.0, 100.0]
    assert read_table(src, decimal=".").numbers["entry_price"].tolist() == [1.0, 100.0]


def test_file_with_both_separators_rejects_only_the_ambiguous_values(tmp_path):
    src = tmp_path / "mixed.csv"
    src.write_text(
        'symbol,side,entry_price,quantity,leverage,deposit\nA,long,100.5,"0,1",2,50\n'
        'B,long,"95,000",1,2,50\n',
        encoding="utf-8",
    )
    table = read_table(src)
    assert table.header.decimal is None and good_lines(table) == [2]
    assert table.numbers["quantity"][0] == 0.1  # reads one way only
    assert "'95,000'" in errors_of(table)[3] and "--decimal" in errors_of(table)[3]
    table = read_table(src, decimal=".")  # the user says: decimal point
    assert good_lines(table) == [3] and table.numbers["entry_price"][1] == 95_000.0
    assert "'0,1'" in errors_of(table)[2] and "--decimal" in errors_of(table)[2]


def test_clean_numbers_decimal_conventions():
    raw = pd.Series(["0,1", "1.000,50", "1,000", "1.5", "１，０００．５", "50%", "95,000"])
    np.testing.assert_array_equal(clean_numbers(raw), [np.nan, np.nan, 1000, 1.5, 1000.5, 0.5, 95000])
    np.testing.assert_array_equal(clean_numbers(raw, ","), [0.1, 1000.5, 1.0, np.nan, np.nan, 0.5, 95.0])
    np.testing.assert_array_equal(clean_numbers(raw, None), [0.1, 1000.5, np.nan, 1.5, 1000.5, 0.5, np.nan])
    assert detect_decimal([pd.Series(["1", "2"])], default=None) is None


def test_xlsx_number_cells_are_numbers_whatever_the_decimal_mark(tmp_path):
    # the decimal mark concerns text: a number cell (1.5, 1.234) is that number under "," too,
    # while the text cells "1,5" and "2.500" follow the option
    src = xlsx(
        tmp_path / "eu.xlsx",
        [HEAD, ["A", "long", 1.5, 1.234, 2, "1,5", 1_000], ["B", "short", "2.500", 0.1, 2, 2.25, "50,5"]],
    )
    for decimal in (",", None):  # given, or detected from the text cells alone
        table = read_table(src, decimal=decimal)
        assert table.header.decimal == "," and not table.reasons
        assert table.numbers["entry_price"].tolist() == [1.5, 2500.0]
        assert table.numbers["quantity"].tolist() == [1.234, 0.1]  # 1.234, not 1,234
        assert table.numbers["price"].tolist() == [1.5, 2.25]
        assert table.numbers["deposit"].tolist() == [1000.0, 50.5]
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, lang="en", decimal=",")
    assert (result.positions, result.errors) == (2, 0)
    # the text of a number cell is shown as it was when its row is rejected
    bad = xlsx(tmp_path / "bad.xlsx", [HEAD, ["A", "long", 1.5, -0.25, 2, "1,5", 1_000]])
    (row,) = read_table(bad, decimal=",").raw_bad.values()
    assert row[2:4] == ["1.5", "-0.25"]


def test_dataframe_float_columns_are_numbers_whatever_the_decimal_mark():
    df = pd.DataFrame({"side": ["long"], "entry_price": [1.5], "quantity": [1.234], "leverage": [2.0]})
    df["price"] = ["1,25"]
    table = read_table(df.assign(deposit=[100.5]), decimal=",")
    assert not table.reasons
    assert [table.numbers[k][0] for k in ("entry_price", "quantity", "price", "deposit")] == [
        1.5,
        1.234,
        1.25,
        100.5,
    ]


def test_decimal_keyword_is_checked():
    with pytest.raises(InputError, match="decimal must be"):
        list(iter_chunks(pd.DataFrame({"side": ["long"]}), decimal=";"))


# -- stray quotes, long fields, Excel's cell limit -------------------------------------------------


def _rows(n, start=0):
    return [f"S{i},short,100,1,2,100,60\n" for i in range(start, start + n)]


def test_stray_quote_rejects_its_line_and_keeps_every_other_position(tmp_path):
    # The issue: a stray quote on line 3 swallowed the 497 lines after it into one rejected row.
    lines = (
        ["symbol,side,entry_price,quantity,leverage,price,deposit\n"]
        + _rows(1)
        + ['BAD,short,"100,1,2,100,60\n']
        + _rows(497, 1)
        + ['Q,short,"1,000",1,2,1000,600\n']
    )
    src = tmp_path / "stray.csv"
    src.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, lang="en", decimal=".")  # "1,000" alone: 1 or 1000, the user says
    assert (result.rows_in, result.positions, result.errors) == (500, 499, 1)
    wb = openpyxl.load_workbook(out, read_only=True)
    ((line, reason, *raw),) = list(wb["Errors"].iter_rows(min_row=2, values_only=True))
    assert line == 3 and "line 3" in reason and "quote" in reason and "498 lines" in reason
    assert raw[:3] == ["BAD", "short", '"100']
    lines_out = [r[0] for r in wb["Positions"].iter_rows(min_row=2, values_only=True)]
    assert lines_out == [2] + list(range(4, 502))
    assert max(len(str(c)) for r in wb["Errors"].iter_rows(values_only=True) for c in r if c) < 32_767


def test_lines_stay_exact_across_chunks(tmp_path):
    # A quoted line break across the first chunk's last line, a row too long and a stray quote
    # that swallows every later line, in a file of several chunks: each row at its own line.
    rows = [f"S{i},short,100,1,2,100,60" for i in range(60_000)]
    rows[24_999] = 'X,short,100,1,2,100,60,"a\nb"'  # lines 25,001-25,002
    rows[30_000] = "Z,short,100,1,2,100,60,extra"  # line 30,003
    rows[49_998] = 'Y,short,"100,1,2,100,60'  # line 50,001
    src = tmp_path / "big.csv"
    src.write_text(",".join(HEAD) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    table = read_table(src)
    assert table.n_rows == 60_000 and sorted(errors_of(table)) == [25_001, 30_003, 50_001]
    assert "quote" in errors_of(table)[50_001] and "10001 lines" in errors_of(table)[50_001]
    good = good_lines(table)
    assert good[24_998:25_000] == [25_000, 25_003] and good[-1] == 60_002
    assert list(table.texts["symbol"][[0, -1]]) == ["S0", "S59999"]


def test_multiline_field_over_the_csv_module_limit(tmp_path):
    note = "x" * 70_000 + "\n" + "y" * 70_000  # 140 KB: the csv module's limit is 128 KiB
    src = tmp_path / "long.csv"
    src.write_text(
        "symbol,side,entry_price,quantity,leverage,deposit,note\n"
        f'A,long,100,1,2,50,"{note}"\nB,long,100,1,2,50,ok\n',
        encoding="utf-8",
    )
    limit = __import__("csv").field_size_limit()
    table = read_table(src)
    assert __import__("csv").field_size_limit() == limit  # restored
    assert good_lines(table) == [4]
    assert "140,001 characters" in errors_of(table)[2] and "32,767" in errors_of(table)[2]
    assert len(table.raw_bad[0][-1]) == 32_767 and table.raw_bad[0][-1].endswith("characters]")


def test_cli_says_one_line_for_a_long_field_and_writes_a_repair_free_file(tmp_path):
    src = tmp_path / "long.csv"
    src.write_text(
        f'symbol,side,entry_price,quantity,leverage,deposit,note\nA,long,100,1,2,50,"{"z" * 40_000}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    r = run("report", src, "-o", out, "--lang", "en")
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert all(
        len(str(c)) <= 32_767
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c is not None
    )


# -- sheets, headers, encodings, file kinds ----------------------------------------------------------


def test_hidden_stale_sheet_is_not_read(tmp_path):
    stale = [HEAD, ["OLD", "long", 100, 1, 2, 100, 50]]
    live = [HEAD, ["NEW", "short", 100, 1, 2, 100, 50]]
    src = xlsx(tmp_path / "b.xlsx", None, sheets={"Stale": (stale, "hidden"), "Live": (live, "visible")})
    table = read_table(src)
    assert table.header.sheet == "Live" and list(table.texts["symbol"]) == ["NEW"]
    assert list(read_table(src, sheet="Stale").texts["symbol"]) == ["OLD"]  # asked for by name
    assert list(read_table(src, sheet=0).texts["symbol"]) == ["OLD"]  # or by position
    with pytest.raises(InputError, match="'Live', 'Stale'|'Stale', 'Live'"):
        read_table(src, sheet="Nope")


def test_trailing_formatted_columns_are_not_headers(tmp_path):
    src = tmp_path / "fmt.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)
    ws.append(["A", "long", 100, 1, 2, 100, 50])
    for row in (1, 2, 3):
        for col in (9, 10):  # two columns right of the data, formatted, empty
            ws.cell(row=row, column=col).fill = openpyxl.styles.PatternFill("solid", fgColor="FFFF00")
    wb.save(src)
    table = read_table(src)
    assert table.header.raw_columns == HEAD and good_lines(table) == [2]


def test_data_right_of_the_header_is_a_rejected_row_not_a_refused_file(tmp_path):
    src = xlsx(
        tmp_path / "x.xlsx",
        [HEAD, ["A", "long", 100, 1, 2, 100, 50, None, "stray"], ["B", "long", 100, 1, 2, 100, 50]],
    )
    table = read_table(src)
    assert good_lines(table) == [3] and "9 fields" in errors_of(table)[2]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_duplicated_side_header_is_one_clear_error(tmp_path, kind):
    head = ["symbol", "side", "entry_price", "quantity", "leverage", "deposit", "side"]
    row = ["A", "long", 100, 1, 2, 50, "short"]
    if kind == "csv":
        src = tmp_path / "d.csv"
        src.write_text(",".join(head) + "\n" + ",".join(map(str, row)) + "\n", encoding="utf-8")
        where = "field 2 and field 7"
    else:
        src = xlsx(tmp_path / "d.xlsx", [head, row])
        where = "column B and column G"
    with pytest.raises(InputError, match=f"two columns named 'side' \\({where}\\)"):
        read_table(src)
    src2 = tmp_path / "d2.csv"
    src2.write_text(
        "symbol,side,売買,entry_price,quantity,leverage,deposit\nA,long,売,100,1,2,50\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="'side' and '売買' both mean side"):
        read_table(src2)


def test_utf16_tab_separated_export(tmp_path):
    # Excel's "Unicode text": UTF-16 with a BOM, tab separated
    text = "銘柄\t売買\t建値\t数量\tレバレッジ\t証拠金\nBTC/JPY\t売り\t1,234,567\t0.1\t2\t100000\n"
    src = tmp_path / "u16.txt"
    src.write_bytes(text.encode("utf-16"))
    table = read_table(src)
    assert table.header.delimiter == "\t" and table.numbers["entry_price"].tolist() == [1234567.0]
    assert table.side.tolist() == [-1.0] and table.line.tolist() == [2]
    tsv = tmp_path / "p.tsv"
    tsv.write_text(text, encoding="utf-8")
    assert read_table(tsv).numbers["quantity"].tolist() == [0.1]


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "save it as .xlsx"),
        ("sheet.ods", None, "save it as .xlsx"),
    ],
)
def test_xls_and_ods_get_a_helpful_message(tmp_path, name, content, words):
    src = tmp_path / name
    if content is None:
        with zipfile.ZipFile(src, "w") as z:
            z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            z.writestr("content.xml", "<office:document-content/>")
    else:
        src.write_bytes(content)
    r = run("report", src, "-o", tmp_path / "r.xlsx", "--deposit", "1", "--lang", "en")
    assert r.exit_code == 2 and words in r.output and r.output.count("\n") == 1
    assert "Traceback" not in r.output


# -- hostile and damaged xlsx ----------------------------------------------------------------------


def _one_line(r):
    return r.exit_code == 2 and r.output.count("\n") == 1 and "Traceback" not in r.output


def test_corrupt_sheet_xml_is_one_line(tmp_path):
    src = xlsx(tmp_path / "c.xlsx", [HEAD, ["A", "long", 100, 1, 2, 100, 50]])
    patch_zip(src, "xl/worksheets/sheet1.xml", lambda x: x.replace("</sheetData>", "<row><c></sheetData>"))
    r = run("report", src, "-o", tmp_path / "r.xlsx", "--lang", "en")
    assert _one_line(r) and "damaged" in r.output and "line" in r.output
    assert not (tmp_path / "r.xlsx").exists()


def test_xml_entities_are_refused(tmp_path):
    src = xlsx(tmp_path / "e.xlsx", [HEAD, ["A", "long", 100, 1, 2, 100, 50]])
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    patch_zip(
        src,
        "xl/worksheets/sheet1.xml",
        lambda x: bomb + (x.split("?>", 1)[1] if x.startswith("<?xml") else x),
    )
    r = run("report", src, "-o", tmp_path / "r.xlsx", "--lang", "en")
    assert _one_line(r) and "refused as unsafe" in r.output


def test_more_columns_than_excel_is_one_line(tmp_path):
    src = tmp_path / "wide.csv"
    src.write_text(
        ",".join(HEAD + [f"c{i}" for i in range(17_000)]) + "\nA,long,100,1,2,100,50\n", encoding="utf-8"
    )
    r = run("report", src, "-o", tmp_path / "r.xlsx", "--lang", "en")
    assert _one_line(r) and "17,007 columns" in r.output
    wide = xlsx(tmp_path / "wide.xlsx", [HEAD, ["A", "long", 100, 1, 2, 100, 50]])
    patch_zip(
        wide,
        "xl/worksheets/sheet1.xml",
        lambda x: x.replace("</row>", '<c r="XFE1" t="inlineStr"><is><t>x</t></is></c></row>', 1),
    )
    r = run("report", wide, "-o", tmp_path / "r.xlsx", "--lang", "en")
    assert _one_line(r) and "16,384 columns" in r.output


def _huge_cell_xlsx(path, chars):
    src = xlsx(path, [HEAD, ["A", "long", 100, 1, 2, 100, 50], ["B", "long", 100, 1, 2, 100, 50]])
    patch_zip(
        src,
        "xl/worksheets/sheet1.xml",
        lambda x: x.replace(
            "<v>50</v></c></row>",
            f'<v>50</v></c><c r="H2" t="inlineStr"><is><t>{"A" * chars}</t></is></c></row>',
            1,
        ),
    )
    return src


def test_cell_longer_than_excel_allows_is_a_rejected_row(tmp_path):
    src = _huge_cell_xlsx(tmp_path / "long.xlsx", 100_000)
    table = read_table(src)
    assert good_lines(table) == [3]
    assert "H2" in errors_of(table)[2] and "100,000 characters" in errors_of(table)[2]


def test_small_xlsx_expanding_to_a_huge_cell_is_refused_before_parsing(tmp_path, monkeypatch):
    # The file expands to 1.5 GB; the same ratio at 8 MB, with the bound lowered to 1 MB.
    monkeypatch.setattr(readmod, "RATIO_FROM", 1 << 20)
    src = _huge_cell_xlsx(tmp_path / "bomb.xlsx", 8_000_000)
    assert src.stat().st_size < 100_000
    r = run("report", src, "-o", tmp_path / "r.xlsx", "--lang", "en")
    assert _one_line(r) and "would expand to 8 MB" in r.output and "refused" in r.output


# -- exchange exports (#12) --------------------------------------------------------------------------


def test_binance_position_risk_export(tmp_path):
    # GET /fapi/v2/positionRisk as a CSV: the sign of positionAmt is the side (one-way mode:
    # positionSide BOTH); isolatedWallet is the isolated position's deposit.
    src = tmp_path / "binance.csv"
    src.write_text(
        "symbol,positionAmt,entryPrice,markPrice,unRealizedProfit,liquidationPrice,leverage,marginType,"
        "isolatedWallet,positionSide\n"
        'BTCUSDT,-0.500,"95,000",96000,-500,99000,20,isolated,2400,BOTH\n'
        "ETHUSDT,２,3000,2900,-200,2800,10,isolated,600,BOTH\n"
        "SOLUSDT,10,150,140,-100,0,5,cross,0,BOTH\n"
        "XRPUSDT,-100,0.5,0.6,-10,0.7,10,isolated,5,LONG\n",
        encoding="utf-8",
    )
    table = read_table(src)
    assert table.header.signed_quantity and table.header.fields["deposit"] == "isolatedWallet"
    assert good_lines(table) == [2, 3]
    assert table.side[:2].tolist() == [-1.0, 1.0]
    assert table.numbers["quantity"][:2].tolist() == [0.5, 2.0]
    assert table.numbers["entry_price"][:2].tolist() == [95_000.0, 3000.0]
    assert table.numbers["price"][:2].tolist() == [96_000.0, 2900.0]
    errors = errors_of(table)
    assert "cross-margin" in errors[4]
    assert "positionAmt -100" in errors[5] and "'LONG'" in errors[5]


def test_signed_quantity_without_side_in_the_report(tmp_path):
    src = tmp_path / "okx.csv"
    src.write_text("instId,pos,avgPx,markPx,lever,margin\nBTC-USDT-SWAP,-2,100,110,10,25\n", encoding="utf-8")
    out = tmp_path / "r.xlsx"
    build_report(src, out, lang="en")
    wb = openpyxl.load_workbook(out, read_only=True)
    header, row = list(wb["Positions"].iter_rows(max_row=2, values_only=True))
    got = dict(zip(header, row))
    assert got["Side"] == "Short" and got["Quantity"] == 2 and got["Deposit"] == 25


def test_plain_quantity_without_side_is_still_refused(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("symbol,quantity,entry_price,leverage\nA,-1,100,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="no side"):
        read_table(src)


# -- numbers the core cannot use ------------------------------------------------------------------


def test_subnormal_price_rejects_its_row_not_the_report(tmp_path):
    df = pd.DataFrame(
        {
            "symbol": ["A", "B"],
            "side": ["long", "short"],
            "entry_price": [100, 100],
            "quantity": [1, 1],
            "leverage": [2, 2],
            "price": [5e-324, 100],
            "deposit": [50, 50],
        }
    )
    result = build_report(df, tmp_path / "r.xlsx", lang="en")
    assert (result.positions, result.errors) == (1, 1)
    assert "too small" in errors_of(read_table(df))[2]


def test_dataframe_text_longer_than_a_cell_is_a_rejected_row(tmp_path):
    df = pd.DataFrame(
        {
            "symbol": ["A" * 40_000, "B"],
            "side": ["long", "long"],
            "entry_price": [100, 100],
            "quantity": [1, 1],
            "leverage": [2, 2],
            "deposit": [50, 50],
        }
    )
    table = read_table(df)
    assert good_lines(table) == [3] and "40,000 characters" in errors_of(table)[2]


# -- output safety ------------------------------------------------------------------------------------


def test_check_output_refuses_the_input_and_other_extensions(tmp_path):
    src = tmp_path / "book.xlsx"
    src.write_bytes(b"positions")
    (tmp_path / "sub").mkdir()
    for same in (src, tmp_path / "sub" / ".." / "book.xlsx"):
        with pytest.raises(InputError, match="is the input file"):
            check_output(src, same)
    link = tmp_path / "link.xlsx"
    os.link(src, link)
    with pytest.raises(InputError, match="is the input file"):
        check_output(src, link)
    with pytest.raises(InputError, match="must end in .xlsx.*'report.xlsx'"):
        check_output(src, tmp_path / "report.csv")
    assert check_output(src, tmp_path / "Report.XLSX").name == "Report.XLSX"
    assert check_output(pd.DataFrame(), tmp_path / "r.xlsx").name == "r.xlsx"
    assert src.read_bytes() == b"positions"


SIGTERM_CHILD = """
import sys, time
from xlcalc._files import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    tmp.write_bytes(b"x" * 1000)
    print("writing", flush=True)
    time.sleep(30)
"""


def test_sigterm_removes_the_temporary_file(tmp_path):
    target = tmp_path / "r.xlsx"
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_CHILD, str(target)], stdout=subprocess.PIPE, cwd=os.getcwd(), text=True
    )
    assert proc.stdout.readline().strip() == "writing"
    assert len(os.listdir(tmp_path)) == 1  # the hidden temporary file
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    assert os.listdir(tmp_path) == []


def test_sigterm_handler_is_restored(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with atomic_output(tmp_path / "a.txt") as tmp:
        assert signal.getsignal(signal.SIGTERM) is _files._raise_on_sigterm
        tmp.write_text("a")
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "b.txt"):
            raise RuntimeError("disk full")
    assert signal.getsignal(signal.SIGTERM) is before and sorted(os.listdir(tmp_path)) == ["a.txt"]


# -- text tables: presets saved by Japanese Excel, prices files ---------------------------------------


@pytest.mark.parametrize(
    "encoding, sep", [("cp932", ","), ("utf-8-sig", ","), ("utf-16", "\t"), ("utf-8", ";")]
)
def test_read_text_table_encodings(tmp_path, encoding, sep):
    p = tmp_path / "presets.csv"
    content = (
        sep.join(["id", "name", "追証ライン"]) + "\n" + sep.join(["mine", "自分の取引所", "100%"]) + "\n"
    )
    p.write_bytes(content.encode(encoding))
    assert detect_encoding(p).replace("-sig", "") in (encoding.replace("-sig", ""), "utf-16")
    assert read_text_table(p).to_dict("records") == [
        {"id": "mine", "name": "自分の取引所", "追証ライン": "100%"}
    ]


def test_prices_file_in_cp932_with_decimal_commas(tmp_path):
    p = tmp_path / "prices.csv"
    p.write_bytes("銘柄;現在値\nBTC/JPY;10.000.000\nUSD/JPY;150,123\n".encode("cp932"))
    assert read_prices(p) == {"BTC/JPY": 10_000_000.0, "USD/JPY": 150.123}


# -- property: every row arrives once, at its own line -------------------------------------------------

GOOD = ["A,long,100,1,2,100,50", 'B,short,"1,000",0.5,5,990,200', "C,買い,１００,1,2,,50"]
BAD_CSV = [
    "D,up,100,1,2,100,50",
    "E,long,abc,1,2,100,50",
    "F,long,100,-1,2,100,50",
    "G,long,100,1,2,100,50,extra",
    'H,short,"100,1,2,100,50',
]  # the last: a stray quote
row_kind = st.sampled_from([("good", g) for g in GOOD] + [("bad", b) for b in BAD_CSV] + [("blank", "")])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_kind, min_size=0, max_size=25))
def test_property_csv_rows_are_positions_or_rejected_at_their_line(tmp_path_factory, rows):
    src = tmp_path_factory.mktemp("p") / "in.csv"
    src.write_text(",".join(HEAD) + "\n" + "".join(text + "\n" for _, text in rows), encoding="utf-8")
    table = read_table(src)
    want_good = [i + 2 for i, (kind, _) in enumerate(rows) if kind == "good"]
    want_bad = [i + 2 for i, (kind, _) in enumerate(rows) if kind == "bad"]
    assert good_lines(table) == want_good
    assert sorted(errors_of(table)) == want_bad
    assert table.n_rows == len(want_good) + len(want_bad)


XLSX_GOOD = [["A", "long", 100, 1, 2, 100, 50], ["B", "short", "1,000", "0.5", 5, None, 200]]
XLSX_BAD = [
    ["C", "long", 100, 1, 2, "=C9*2", 50],
    ["D", "up", 100, 1, 2, 100, 50],
    ["E", "long", "1.2.3", 1, 2, 100, 50],
    ["F", "long", 100, 1, 2, 100, 50, None, "x"],
]
xlsx_kind = st.sampled_from(
    [("good", g) for g in XLSX_GOOD] + [("bad", b) for b in XLSX_BAD] + [("blank", [None] * 7)]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(xlsx_kind, min_size=0, max_size=15))
def test_property_xlsx_rows_are_positions_or_rejected_at_their_row(tmp_path_factory, rows):
    src = xlsx(tmp_path_factory.mktemp("x") / "in.xlsx", [HEAD] + [r for _, r in rows])
    table = read_table(src)
    assert good_lines(table) == [i + 2 for i, (k, _) in enumerate(rows) if k == "good"]
    assert sorted(errors_of(table)) == [i + 2 for i, (k, _) in enumerate(rows) if k == "bad"]


def test_dataframe_object_column_with_none_is_an_empty_cell():
    # detecting the decimal mark read None as a float and failed
    df = pd.DataFrame(
        {"side": ["long", "long"], "entry_price": ["1.5", None], "quantity": ["2", "1"], "leverage": [2, 2]},
        dtype=object,
    )
    table = read_table(df)
    assert table.numbers["entry_price"][0] == 1.5 and table.bad.tolist() == [False, True]
    assert table.reasons[1] == "entry_price must be a number, got ''"
