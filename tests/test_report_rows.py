"""The report's rows as traders' files write them: one account however its cell is spelled,
prices matched by symbol whatever the separators, positions priced at entry said so, side and
leverage words of Japanese brokers and exchange exports (audit H4-H7, M8, M10, M11, L15)."""

from __future__ import annotations

import math

import openpyxl
import pytest
from click.testing import CliRunner

from tests.report_tables import read_table
from xlcalc._inputs import InputError, Inputs, parse_side_word
from xlcalc.cli import main
from xlcalc.labels import label
from xlcalc.report import build_report
from xlcalc.report.pipeline import resolve_levels


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def summary(path, lang="en"):
    rows = openpyxl.load_workbook(path, read_only=True)[label("report_sheet_summary", lang)].iter_rows(
        values_only=True
    )
    return {r[0]: r[1] for r in rows if r and len(r) > 1}


def sheet_rows(path, key, lang="en"):
    rows = list(openpyxl.load_workbook(path, read_only=True)[label(key, lang)].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


FOUR_LONGS = "BTC,long,100,10,10,90\nETH,long,100,10,10,90\nXRP,long,100,10,10,90\nSOL,long,100,10,10,90\n"


def accounts_file(path, accounts):
    header = "account,symbol,side,entry_price,quantity,leverage,price\n"
    lines = FOUR_LONGS.splitlines()
    return write(path, header + "".join(f"{a},{line}\n" for a, line in zip(accounts, lines)))


# -- H4: accounts ---------------------------------------------------------------------------------


def test_accounts_that_differ_by_spacing_or_width_share_one_deposit(tmp_path):
    # one account of four 10x longs 10 % down: 400 of deposit is lost; split in 4 accounts of
    # 400 each, every one looked fine (OK) on main
    same = build_report(accounts_file(tmp_path / "same.csv", ["1234"] * 4), tmp_path / "a.xlsx", deposit=400)
    src = accounts_file(tmp_path / "variants.csv", ["1234", '"1234 "', "１２３４", "\u30001234"])
    out = tmp_path / "b.xlsx"
    variants = build_report(src, out, deposit=400, lang="en")
    assert [a["status"] for a in same.accounts] == ["loss_cut"]
    assert [(a["name"], a["positions"], a["status"]) for a in variants.accounts] == [("1234", 4, "loss_cut")]
    assert {r["Account"] for r in sheet_rows(out, "report_sheet_positions")} == {"1234"}  # one spelling


def test_blank_account_in_cross_margin_is_rejected_not_given_a_deposit(tmp_path):
    src = accounts_file(tmp_path / "p.csv", ["1234", "1234", "", "1234"])
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, deposit=400, lang="en")
    assert (result.positions, result.errors) == (3, 1)
    assert [a["name"] for a in result.accounts] == ["1234"]
    (error,) = sheet_rows(out, "report_sheet_errors")
    assert error["Line"] == 4 and "no account" in error["Reason"] and "merged" in error["Reason"]
    assert "account" in error["Reason"]  # names the column to fill in


def test_merged_account_cell_of_an_xlsx_rejects_the_rows_below_it(tmp_path):
    # LibreOffice and Excel keep a merged cell's value in its first row only
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["口座", "銘柄", "売買", "建値", "数量", "レバレッジ", "現在値"])
    for symbol in ("BTC/JPY", "ETH/JPY", "XRP/JPY", "SOL/JPY"):
        ws.append(["1234" if symbol == "BTC/JPY" else None, symbol, "買", 100, 10, 10, 90])
    ws.merge_cells("A2:A5")
    wb.save(tmp_path / "merged.xlsx")
    out = tmp_path / "r.xlsx"
    result = build_report(tmp_path / "merged.xlsx", out, deposit=400, lang="ja")
    assert (result.positions, result.errors) == (1, 3)
    assert [a["name"] for a in result.accounts] == ["1234"]
    reasons = [r[label("report_reason", "ja")] for r in sheet_rows(out, "report_sheet_errors", "ja")]
    assert len(reasons) == 3 and all("口座がありません" in r and "口座 を入力" in r for r in reasons)


def test_blank_account_in_isolated_margin_is_kept(tmp_path):
    # each position has its own deposit: the blank account only groups the Summary
    src = write(
        tmp_path / "p.csv",
        "account,symbol,side,entry_price,quantity,leverage,price,deposit\n"
        "1234,BTC,long,100,10,10,90,200\n,ETH,long,100,10,10,90,200\n",
    )
    result = build_report(src, tmp_path / "r.xlsx", lang="en")
    assert (result.positions, result.errors) == (2, 0)


# -- H6, H5: the prices file ----------------------------------------------------------------------


BTC_LONG = "symbol,side,entry_price,quantity,leverage\nBTC/JPY,long,10000000,0.5,2\n"


@pytest.mark.parametrize("spelling", ["BTCJPY", "btc/jpy", "BTC_JPY", "ＢＴＣ／ＪＰＹ", "BTC-JPY"])
def test_prices_match_symbols_whatever_their_separators_case_or_width(tmp_path, spelling):
    src = write(tmp_path / "p.csv", BTC_LONG)
    prices = write(tmp_path / "prices.csv", f"symbol,price\n{spelling},8000000\n")
    out = tmp_path / "r.xlsx"
    result = build_report(src, out, deposit=3_000_000, prices=prices, lang="en")
    (row,) = sheet_rows(out, "report_sheet_positions")
    assert row["Price"] == 8_000_000
    assert result.accounts[0]["status"] == "margin_call"  # Caution at the entry price on main
    assert result.not_in_prices == 0 and result.at_entry == 0


def test_positions_without_a_price_in_the_prices_file_are_counted(tmp_path):
    src = write(tmp_path / "p.csv", BTC_LONG + "DAX,short,18000,10,20\nETH/JPY,long,400000,1,2\n")
    prices = write(tmp_path / "prices.csv", "symbol,price\nBTCJPY,8000000\n")
    out = tmp_path / "r.xlsx"
    code, text = run("report", src, "-o", out, "--deposit", "3000000", "--prices", prices, "--lang", "en")
    assert code == 0, text
    assert "2 of 3 positions got no price from the prices file" in text
    assert "2 of 3 positions valued at their entry price" in text
    got = summary(out)
    assert got[label("report_not_in_prices", "en")] == 2
    assert got[label("report_at_entry", "en")] == 2


def test_a_symbol_twice_in_the_prices_file_with_two_prices_is_refused(tmp_path):
    src = write(tmp_path / "p.csv", "symbol,side,entry_price,quantity,leverage\nDAX,short,18000,10,20\n")
    twice = write(tmp_path / "twice.csv", "symbol,price\nDAX,18500\nDAX,17000\n")
    with pytest.raises(InputError, match=r"'DAX' on line 2 \(18,500\) and 'DAX' on line 3 \(17,000\)"):
        build_report(src, tmp_path / "r.xlsx", deposit=12_000, prices=twice, lang="en")
    spelled = write(tmp_path / "spelled.csv", "symbol,price\nDAX,18500\nx,1\ndax,17000\n")
    with pytest.raises(InputError, match=r"'DAX' on line 2 .* 'dax' on line 4"):
        build_report(src, tmp_path / "r.xlsx", deposit=12_000, prices=spelled, lang="en")
    with pytest.raises(
        InputError, match=r"'DAX' \(18,500\) and 'dax' \(17,000\) are one symbol with two prices"
    ):
        build_report(
            src, tmp_path / "r.xlsx", deposit=12_000, prices={"DAX": 18500.0, "dax": 17000.0}, lang="en"
        )
    same = write(tmp_path / "same.csv", "symbol,price\nDAX,18500\nDAX,18500\n")
    result = build_report(src, tmp_path / "r.xlsx", deposit=12_000, prices=same, lang="en")
    assert result.accounts[0]["status"] == "margin_call"


def test_semicolon_prices_with_an_ambiguous_point_are_refused_until_decimal_says(tmp_path):
    # "18.500" in a German semicolon file is 18,500; main read it as 18.5 (a short "OK")
    src = write(tmp_path / "p.csv", "symbol,side,entry_price,quantity,leverage\nDAX,short,18000,10,20\n")
    prices = write(tmp_path / "prices.csv", "symbol;price\nDAX;18.500\n")
    out = tmp_path / "r.xlsx"
    code, text = run("report", src, "-o", out, "--deposit", "12000", "--prices", prices, "--lang", "en")
    assert code == 2 and "line 2" in text and "18.5" in text and "18500" in text and "--decimal" in text
    code, text = run(
        "report",
        src,
        "-o",
        out,
        "--deposit",
        "12000",
        "--prices",
        prices,
        "--decimal",
        ",",
        "--lang",
        "en",
        "--force",
    )
    assert code == 0, text
    assert sheet_rows(out, "report_sheet_positions")[0]["Price"] == 18_500


def test_tier_lookup_and_prices_share_the_symbol_rule():
    levels = resolve_levels(
        {"id": "binance_usdm", "margin_model": "mmr", "mmr": 0.004, "max_leverage": 125.0}
    )
    assert levels.tiers("ＢＴＣ／ＵＳＤＴ") is not None and levels.tiers("btc-usdt") is not None


# -- H7: no price ---------------------------------------------------------------------------------


def test_positions_valued_at_their_entry_price_are_said_on_summary_and_cli(tmp_path):
    # a Hyperliquid export has no mark price: every position is valued at its entry price
    src = write(
        tmp_path / "hyper.csv",
        "coin,szi,entryPx,positionValue,unrealizedPnl,liquidationPx,marginUsed,maxLeverage,leverage\n"
        "BTC,-0.01,60000.0,620.0,-20.0,65000,31,50,20\nETH,0.5,3000.0,1450.0,-50.0,2500,145,25,10\n",
    )
    out = tmp_path / "r.xlsx"
    code, text = run("report", src, "-o", out, "--deposit", "200", "--lang", "en")
    assert code == 0, text
    assert "2 of 2 positions valued at their entry price" in text
    assert summary(out)["Positions valued at their entry price (no price given)"] == 2
    code, text = run("report", src, "-o", out, "--deposit", "200", "--lang", "ja", "--force")
    assert "2 件は現在値がないため建値で評価" in text
    assert summary(out, "ja")[label("report_at_entry", "ja")] == 2


def test_an_empty_price_cell_is_counted_and_a_full_file_says_nothing(tmp_path):
    src = write(
        tmp_path / "p.csv",
        "symbol,side,entry_price,quantity,leverage,price\nA,long,100,1,2,90\nB,long,100,1,2,\n",
    )
    result = build_report(src, tmp_path / "r.xlsx", deposit=1000, lang="en")
    assert result.at_entry == 1 and result.not_in_prices is None
    full = write(
        tmp_path / "full.csv", "symbol,side,entry_price,quantity,leverage,price\nA,long,100,1,2,90\n"
    )
    result = build_report(full, tmp_path / "full.xlsx", deposit=1000, lang="en")
    assert result.at_entry == 0 and label("report_at_entry", "en") not in summary(tmp_path / "full.xlsx")


# -- M8, M10: sides -------------------------------------------------------------------------------


def test_okx_long_short_mode_side_decides_a_positive_pos(tmp_path):
    src = write(
        tmp_path / "okx.csv",
        "instId,posSide,pos,avgPx,markPx,lever,mgnMode,margin,upl\n"
        "BTC-USDT-SWAP,short,2,60000,62000,10,isolated,120,-40\n"
        "BTC-USDT-SWAP,long,3,60000,62000,10,isolated,180,60\n"
        "ETH-USDT-SWAP,net,-5,3000,3100,10,isolated,150,-5\n"
        "BTCUSDT,SHORT,-2,60000,62000,10,isolated,120,-40\n"  # Binance hedge mode: a signed short
        "BTCUSDT,LONG,-2,60000,62000,10,isolated,120,-40\n",  # still a conflict
    )
    table = read_table(src)
    assert table.side[~table.bad].tolist() == [-1.0, 1.0, -1.0, -1.0]
    assert table.numbers["quantity"][~table.bad].tolist() == [2.0, 3.0, 5.0, 2.0]
    assert table.bad.tolist() == [False, False, False, False, True]
    assert "disagree" in table.reasons[4]


JAPANESE_AND_WIDE = {
    "買建": 1.0,
    "売建": -1.0,
    "買い建て": 1.0,
    "売り建て": -1.0,
    "新規買": 1.0,
    "新規売": -1.0,
    "ＢＵＹ": 1.0,
    "ＳＥＬＬ": -1.0,
    "ｼｮｰﾄ": -1.0,
    "ﾛﾝｸﾞ": 1.0,
    "\u22121": -1.0,  # − the math minus
    "－1": -1.0,
}


@pytest.mark.parametrize(("word", "side"), JAPANESE_AND_WIDE.items())
def test_side_words_of_japanese_brokers_and_wide_forms(tmp_path, word, side):
    assert parse_side_word(word) == side and Inputs().side("side", word) == side
    src = write(
        tmp_path / "p.csv",
        f"symbol,side,entry_price,quantity,leverage,price,deposit\nX,{word},100,1,10,100,1000\n",
    )
    table = read_table(src)
    assert table.side.tolist() == [side] and not table.bad.any()


def test_side_words_on_the_command_line():
    code, text = run(
        "calc", "--side", "売建", "--entry", "100", "--qty", "1", "--leverage", "10", "--deposit", "10"
    )
    long_code, long_text = run(
        "calc", "--side", "short", "--entry", "100", "--qty", "1", "--leverage", "10", "--deposit", "10"
    )
    assert code == long_code == 0 and text == long_text


def test_unknown_side_words_keep_the_core_message():
    assert math.isnan(parse_side_word("ask")) and math.isnan(parse_side_word("2"))
    with pytest.raises(InputError, match="side must be"):
        Inputs().side("side", "Sell Short")


# -- M11: leverage --------------------------------------------------------------------------------


def test_leverage_written_as_traders_write_it(tmp_path):
    src = write(
        tmp_path / "p.csv",
        "symbol,side,entry_price,quantity,leverage,price,deposit\n"
        "A,long,100,1,2x,90,60\nB,long,100,1,25倍,90,60\nC,long,100,1,1:25,90,60\n"
        "D,long,100,1,２５ｘ,90,60\nE,long,100,1,x,90,60\nF,long,100,1,25:1,90,60\n",
    )
    table = read_table(src)
    assert table.numbers["leverage"][:4].tolist() == [2.0, 25.0, 25.0, 25.0]
    assert table.bad.tolist() == [False] * 4 + [True, True]
    assert "'x'" in table.reasons[4] and "'25:1'" in table.reasons[5]  # the cell as written


def test_leverage_decimal_comma_with_a_mark(tmp_path):
    src = write(
        tmp_path / "p.csv",
        "symbol;side;entry_price;quantity;leverage;price;deposit\nA;long;100;1;2,5x;90;60\n",
    )
    assert read_table(src, decimal=",").numbers["leverage"].tolist() == [2.5]


# -- L15: --deposit with a deposit column -------------------------------------------------------------


def test_deposit_option_unused_by_an_isolated_file_is_said(tmp_path):
    src = write(
        tmp_path / "p.csv", "symbol,side,entry_price,quantity,leverage,price,deposit\nA,long,100,1,2,90,60\n"
    )
    out = tmp_path / "r.xlsx"
    code, text = run("report", src, "-o", out, "--deposit", "500000", "--lang", "en")
    assert code == 0 and "--deposit 500,000 not used" in text and "deposit column" in text
    code, text = run("report", src, "-o", out, "--lang", "en", "--force")
    assert code == 0 and "not used" not in text
