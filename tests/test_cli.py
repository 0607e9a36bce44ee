"""`xlcalc calc` and `xlcalc exchanges`: figures, presets, and one-line errors."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from xlcalc import cli
from xlcalc.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None):
    # a fixed English locale unless a test sets one: the default language follows it
    result = CliRunner(env={"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8", **(env or {})}).invoke(
        main, list(args)
    )
    return result.exit_code, result.output


def flat(text):
    """The output with runs of spaces collapsed: columns depend on the longest label."""
    return " ".join(text.split())


def test_calc_seed_example():
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "50000",
        "--qty",
        "0.2",
        "--leverage",
        "2",
        "--deposit",
        "5000",
        "--price",
        "25000",
    )
    assert code == 0, out
    assert "Maintenance ratio 0.00 %" in flat(out)
    assert "Loss-cut price 37,500.0 " in flat(out)  # 6 significant digits of the 50,000 entry
    assert "Status Loss-cut" in flat(out)


def test_calc_japanese_with_preset_and_gap():
    code, out = run(
        "calc",
        "--side",
        "売り",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--deposit",
        "1000000",
        "--exchange",
        "gmo_coin_fx",
        "--lang",
        "ja",
        "--price",
        "12000000",
        "--gap-price",
        "21000000",
    )
    assert code == 0, out
    assert "ロスカットライン: 75.00 %" in out and "追証ライン: なし" in out
    assert "証拠金維持率 160.00 %" in flat(out)
    assert "ロスカット価格 16,250,000 " in flat(out)
    assert "不足金 ¥100,000" in flat(out)
    assert "追証価格 なし" in flat(out)  # GMO Coin has no margin call


def test_calc_unreachable_level_says_so():
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "100",
        "--qty",
        "100",
        "--leverage",
        "1",
        "--deposit",
        "10000",
        "--basis",
        "mark",
    )
    assert code == 0
    assert "Loss-cut price - (never reached)" in flat(out)


def test_calc_stop_and_risk():
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--leverage",
        "2",
        "--deposit",
        "1000000",
        "--stop",
        "9500000",
        "--risk",
        "0.02",
    )
    assert code == 0
    assert "Loss at stop 50,000.00" in flat(out)
    assert "Position size for risk 0.04" in flat(out)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--side", "up"], "xlcalc: error: --side: side must be"),
        (["--deposit", "-5"], "xlcalc: error: --deposit: deposit must be a number >= 0, got -5.0"),
        (["--qty", "-1"], "xlcalc: error: --qty must be greater than 0, got '-1'"),
        (["--leverage", "0"], "xlcalc: error: --leverage must be greater than 0, got '0'"),
        (
            ["--margin-call", "100"],
            "xlcalc: error: --margin-call: 100 would be 10,000 %; did you mean 100 %?",
        ),
        (["--entry", "1,5"], "xlcalc: error: --entry: '1,5' has a comma that is not a thousands separator"),
        (["--deposit", "lots"], "xlcalc: error: --deposit: 'lots' is not a number"),
        (["--side"], "xlcalc: error: missing option --side"),
        (["--bogus", "1"], "xlcalc: error: no such option: --bogus"),
        (["--exchange", "nope"], "xlcalc: error: exchange must be one of bitflyer_cfd"),
    ],
)
def test_calc_errors_are_one_line(args, message):
    base = {"--side": "long", "--entry": "100", "--qty": "1", "--leverage": "2", "--deposit": "50"}
    for i in range(0, len(args), 2):
        if i + 1 < len(args):
            base[args[i]] = args[i + 1]
        else:
            del base[args[i]]
    code, out = run("calc", *[x for kv in base.items() for x in kv])
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), out
    assert "Traceback" not in out


def test_exchanges_lists_sources():
    code, out = run("exchanges")
    assert code == 0
    for preset in (
        "bitflyer_cfd",
        "gmo_coin_fx",
        "gmo_coin_exchange_leverage",
        "bitbank_margin",
        "jp_fx_25x",
        "binance_usdm",
        "bybit_usdt",
    ):
        assert preset in out
    assert out.count("source: https://") == out.count("as of 2026")


def test_module_entry_point_and_help():
    proc = subprocess.run(
        [sys.executable, "-m", "xlcalc", "calc", "--help"], check=False, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--leverage" in proc.stdout
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "xlcalc",
            "calc",
            "--side",
            "x",
            "--entry",
            "1",
            "--qty",
            "1",
            "--deposit",
            "1",
            "--leverage",
            "1",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_errors_speak_the_commands_language():
    code, out = run(
        "calc",
        "--side",
        "横",
        "--entry",
        "100",
        "--qty",
        "1",
        "--leverage",
        "2",
        "--deposit",
        "50",
        "--lang",
        "ja",
    )
    assert code == 2
    assert (
        out.strip() == "xlcalc: error: --side: 売買は買い/売り（long/short, buy/sell, +1/-1）"
        "でなければなりません（値: '横'）"
    )


def test_fx_prices_keep_their_decimals():
    # issue 12: EUR/USD at 25x printed its loss-cut as 1.01
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "1.08523",
        "--qty",
        "100000",
        "--leverage",
        "25",
        "--deposit",
        "10000",
        "--price",
        "1.08012",
        "--exchange",
        "jp_fx_25x",
    )
    assert code == 0, out
    # equity 10,000 - 511 = 9,489 at 1.08012; 50 % of margin 4,340.92 at entry: 1.08523 - 7,318.54/100,000
    assert "Loss-cut price 1.00693 " in flat(out)
    assert "Margin-call price 1.02864 " in flat(out)
    assert " 1.01 " not in flat(out)


def test_human_input_is_read_as_traders_write_it():
    plain = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "95000",
        "--qty",
        "1",
        "--leverage",
        "20",
        "--deposit",
        "5000",
        "--margin-call",
        "1.0",
        "--loss-cut",
        "0.5",
    )
    human = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "９５,０００",
        "--qty",
        "1",
        "--leverage",
        "20x",
        "--deposit",
        "$5,000",
        "--margin-call",
        "100%",
        "--loss-cut",
        "50 %",
    )
    japanese = run(
        "calc",
        "--side",
        "買い",
        "--entry",
        "¥95,000",
        "--qty",
        "１",
        "--leverage",
        "20倍",
        "--deposit",
        "5000",
        "--margin-call",
        "100％",
        "--loss-cut",
        "０．５",
    )
    assert plain[0] == human[0] == japanese[0] == 0
    assert plain[1] == human[1] == japanese[1]


def test_bare_level_hint_in_the_users_language():
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "100",
        "--qty",
        "1",
        "--leverage",
        "2",
        "--deposit",
        "50",
        "--loss-cut",
        "50",
        "--lang",
        "ja",
    )
    assert code == 2
    assert out.strip() == (
        "xlcalc: error: --loss-cut: 50 は 5,000 % と読まれます。"
        "50 % のつもりなら 50% または 0.5 と入力してください"
    )


def test_language_follows_lang_then_locale_then_english():
    args = ["calc", "--side", "long", "--entry", "100", "--qty", "1", "--leverage", "2", "--deposit", "50"]
    assert "証拠金維持率" in run(*args, env={"LANG": "ja_JP.UTF-8"})[1]
    assert "証拠金維持率" in run(*args, env={"LC_ALL": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"})[1]
    assert "Maintenance ratio" in run(*args, "--lang", "en", env={"LANG": "ja_JP.UTF-8"})[1]
    assert "Maintenance ratio" in run(*args, env={"LANG": "C"})[1]
    # errors too, even when --lang comes after the bad option
    code, out = run(
        "calc", "--side", "long", "--entry", "abc", "--qty", "1", "--deposit", "1", "--lang", "ja"
    )
    assert code == 2 and "数値ではありません" in out


def test_preset_without_levels_works():
    # issue 10: exited 2 with "target must be a positive number, got nan"
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "1000000",
        "--qty",
        "1",
        "--leverage",
        "2",
        "--deposit",
        "500000",
        "--exchange",
        "gmo_coin_exchange_leverage",
    )
    assert code == 0, out
    assert "Bankruptcy price 500,000 " in flat(out) and " nan" not in flat(out).lower()
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "1000000",
        "--qty",
        "1",
        "--leverage",
        "2",
        "--deposit",
        "500000",
        "--exchange",
        "gmo_coin_exchange_leverage",
        "--loss-cut",
        "none",
        "--margin-call",
        "none",
    )
    assert (
        code == 0 and "Deposit to restore not applicable" in flat(out) and "Loss-cut price none" in flat(out)
    )


def test_restore_aims_at_loss_cut_without_margin_call():
    # GMO Coin 暗号資産FX, no margin call, loss-cut 75 %: at 6,000,000 equity 600,000, margin 500,000
    # is above 75 %; at 4,000,000 equity 400,000 needs 375,000 - 400,000 < 0 -> 0; at 3,500,000: 25,000
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--deposit",
        "1000000",
        "--exchange",
        "gmo_coin_fx",
        "--price",
        "3500000",
        "--currency",
        "JPY",
    )
    assert code == 0, out
    assert "Deposit to restore ¥25,000" in flat(out)


def test_money_in_the_account_currency():
    code, out = run(
        "calc",
        "--side",
        "short",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--leverage",
        "2",
        "--deposit",
        "1000000",
        "--currency",
        "jpy",
    )
    assert code == 0
    assert "Unrealized P&L ¥0 " in flat(out) and "-¥0" not in out and "-0" not in out
    assert "Required margin ¥500,000" in flat(out)


def test_ladder_rows_hold_every_trigger():
    # SPEC §1 derived example: margin call 5,000,000, loss-cut 2,500,000; bankruptcy 0 -> never (NaN)
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--leverage",
        "2",
        "--deposit",
        "1000000",
        "--ladder",
        "--safe-level",
        "150%",
    )
    assert code == 0, out
    table = out.split("Scenario ladder", 1)[1]
    rows = {" ".join(line.split()[:1]): line for line in table.strip().splitlines()[1:]}
    # at a trigger the ratio equals the level; a level is breached strictly below it
    assert "← Margin-call price" in rows["5,000,000"] and "100.00 %" in rows["5,000,000"]
    below = list(rows)[list(rows).index("5,000,000") + 1]
    assert "Margin call" in rows[below]
    assert "← Loss-cut price" in rows["2,500,000"]
    assert "← Safe-level price" in rows["7,500,000"]
    assert "← Current price" in rows["10,000,000"]
    prices = [float(p.replace(",", "")) for p in rows]
    assert prices == sorted(prices, reverse=True)


def test_fee_drift_after_days():
    # core.holding_cost's example: 30 days at 0.04 %/day moves the loss-cut from 2,500,000 to 2,620,000
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--leverage",
        "2",
        "--deposit",
        "1000000",
        "--days",
        "30",
        "--daily-fee",
        "0.04%",
    )
    assert code == 0, out
    assert "Loss-cut price after 30 days 2,620,000 " in flat(out)
    assert "Holding cost 12,000.00" in flat(out) and "Daily fee 0.04 %" in flat(out)
    # the preset's rate when none is given; a clear error when there is none
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--deposit",
        "1000000",
        "--exchange",
        "gmo_coin_fx",
        "--days",
        "30",
    )
    assert code == 0 and "Daily fee 0.04 %" in flat(out)
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "100",
        "--qty",
        "1",
        "--leverage",
        "2",
        "--deposit",
        "50",
        "--days",
        "3",
    )
    assert code == 2 and "--days needs a daily fee" in out


def test_liq_rates_keep_their_digits():
    code, out = run(
        "liq",
        "--side",
        "long",
        "--entry",
        "80",
        "--qty",
        "250",
        "--wallet",
        "10000",
        "--mmr",
        "0.4%",
        "--taker-fee",
        "0.075%",
    )
    assert code == 0, out
    assert "Taker fee to close: 0.075 %" in out and "Maintenance margin rate used 0.40 %" in flat(out)


def test_exchanges_csv_round_trips():
    code, out = run("exchanges", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"bitflyer_cfd", "binance_usdm"} <= {r["id"] for r in rows}
    assert next(r for r in rows if r["id"] == "gmo_coin_fx")["loss_cut_level"] == "0.75"


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-16"])
def test_presets_files_from_excel_read(tmp_path, encoding):
    user = tmp_path / "mine.csv"
    user.write_text(
        "id,name,product,max_leverage,margin_call_level,loss_cut_level,basis,source_url,as_of\n"
        "my_broker,マイ証券,FX,25,1.2,0.8,mark,https://example.com,2026-11-20\n",
        encoding=encoding,
    )
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "100",
        "--qty",
        "1",
        "--deposit",
        "50",
        "--exchange",
        "my_broker",
        "--presets",
        str(user),
    )
    assert code == 0, out
    assert "Loss-cut level: 80.00 %" in out and "マイ証券" in out


def test_import_cli_leaves_pandas_openpyxl_xlwings_out():
    code = (
        "import sys, xlcalc.cli; heavy = [m for m in ('pandas', 'openpyxl', 'xlwings') if m in sys.modules];"
        "print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "command",
    [
        "calc --side long --entry 100 --qty 1 --leverage 2 --deposit 50 --ladder --days 3 --daily-fee 0.1%",
        "loan --loan 10 --collateral 1 --price 30 --margin-call-ltv 80%",
        "exchanges",
    ],
)
def test_light_commands_stay_light(command):
    # the commands that answer in the terminal run without pandas, openpyxl or xlwings
    code = (
        "import sys; from xlcalc.cli import main\n"
        f"try:\n    main({command.split()!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('pandas', 'openpyxl', 'xlwings') if m in sys.modules], file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_closed_pipe_ends_quietly():
    # `xlcalc exchanges | head`: the reader is gone before xlcalc writes
    proc = subprocess.Popen(
        [sys.executable, "-m", "xlcalc", "exchanges"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err == b""


def test_liq_as_complete_as_a_futures_calculator():
    # long 1 BTC at 60,000, 20x: isolated margin 3,000 (the wallet when --wallet is not given);
    # ROE 100 % at 63,000; 50 % ROE at 60,000 x (1 + 0.5 / 20) = 61,500; P&L 1,000 at 61,000;
    # 1,000 USDT at 20x opens 1,000 / (60,000 / 20) = 0.33333 BTC
    code, out = run(
        "liq",
        "--side",
        "long",
        "--entry",
        "60,000",
        "--qty",
        "1",
        "--leverage",
        "20x",
        "--mmr",
        "0.4%",
        "--exit-price",
        "63000",
        "--target-roe",
        "50%",
        "--target-pnl",
        "1,000",
        "--balance",
        "1000",
    )
    assert code == 0, out
    text = flat(out)
    assert "Wallet balance: 3,000.00 USDT" in text and "Initial margin 3,000.00 USDT" in text
    assert "ROE (P&L ÷ initial margin) 100.00 %" in text
    assert "Price for the ROE wanted 61,500.0 " in text and "Price for the P&L wanted 61,000.0 " in text
    assert "Largest quantity the balance opens 0.33333333" in text
    # margin balance 3,000, maintenance 240: xlcalc 1,250 %, Binance 8.00 %, both named
    assert "Maintenance ratio, xlcalc (balance ÷ maintenance) 1,250.00 %" in text
    assert "Margin ratio, Binance (maintenance ÷ balance) 8.00 %" in text
    # the same liquidation price as with the wallet given
    lp = next(line for line in out.splitlines() if line.startswith("Liquidation price"))
    code, out2 = run(
        "liq", "--side", "long", "--entry", "60000", "--qty", "1", "--wallet", "3000", "--mmr", "0.004"
    )
    assert lp in out2


def test_liq_needs_a_wallet_or_a_leverage():
    code, out = run(
        "liq", "--side", "long", "--entry", "60000", "--qty", "1", "--mmr", "0.004", "--lang", "ja"
    )
    assert code == 2 and "--wallet を指定してください" in out


def test_plan_answers_the_seed_question():
    # SPEC §10: 1,000,000 JPY, long at 10,000,000, 2x venue, e = 1: quantity 0.1, ratio 200 %,
    # margin call 5,000,000 (-50 %), loss-cut 2,500,000 (-75 %); max_quantity at 300 %: 0.0667
    code, out = run(
        "plan", "--deposit", "¥1,000,000", "--entry", "10,000,000", "--leverage", "2倍", "--currency", "JPY"
    )
    assert code == 0, out
    assert "Largest position at or above 300.00 % at entry: 0.066666667 (notional ¥666,667" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("1x "))
    assert flat(row).startswith("1x 0.1 ¥1,000,000 200.00 %")
    assert "5,000,000 (-50.00 %)" in row and "2,500,000 (-75.00 %)" in row
    code, out = run(
        "plan",
        "--deposit",
        "1000000",
        "--entry",
        "10000000",
        "--leverage",
        "2",
        "--effective",
        "0.5, 1x,2倍",
        "--safe-level",
        "700%",
        "--lang",
        "ja",
    )
    assert code == 0, out
    assert "建値で 700.00 % 以上を保てる最大の建玉: 0.028571429" in out
    assert [line.split()[0] for line in out.splitlines()[4:7]] == ["0.5x", "1x", "2x"]


def test_plan_with_a_preset_without_margin_call():
    code, out = run("plan", "--deposit", "1000000", "--entry", "10000000", "--exchange", "gmo_coin_fx")
    assert code == 0, out
    assert "Margin-call level: none" in out and "Loss-cut level: 75.00 %" in out
    # e = 1: loss-cut at 75 % of 500,000 = 375,000 equity -> 10,000,000 - 625,000 / 0.1 = 3,750,000
    row = next(line for line in out.splitlines() if line.strip().startswith("1x "))
    assert "none" in row and "3,750,000 (-62.50 %)" in row


def test_loan_reproduces_the_spec_example():
    # SPEC §10: loan 10,000 USDT on 1 BTC: at 20,000 LTV 50 %; LTV 80 % at 12,500; at 12,500 back to
    # 65 % needs 0.230769 BTC more; liquidated at 9,000 with a 2 % fee leaves 1,180 owed
    code, out = run(
        "loan",
        "--loan",
        "10,000",
        "--collateral",
        "1",
        "--price",
        "20,000",
        "--margin-call-ltv",
        "80%",
        "--gap-price",
        "9000",
        "--liquidation-fee",
        "2%",
        "--currency",
        "USDT",
    )
    assert code == 0, out
    text = flat(out)
    assert "LTV (loan / collateral value) 50.00 %" in text
    assert "Margin-call price (LTV) 12,500.0 " in text and "Shortfall at gap 1,180.00 USDT" in text
    assert "Liquidation price (LTV) none" in text
    code, out = run("loan", "--loan", "10000", "--collateral", "1", "--price", "12500", "--target-ltv", "65%")
    assert code == 0 and "Collateral to add for 65.00 % 0.23076923" in flat(out)


def test_loan_venue_interest_and_errors():
    code, out = run(
        "loan",
        "--loan",
        "10000",
        "--collateral",
        "1",
        "--price",
        "20000",
        "--venue",
        "binance_loans_btc_2020",
        "--annual-rate",
        "8%",
        "--days",
        "90",
    )
    assert code == 0, out
    # 10,000 at 8 %/year for 90 days: 197.26; the 80 % LTV then comes at 12,746.58
    assert "Interest over 90 days 197.26" in flat(out) and "Margin-call price (LTV) 12,746.6 " in flat(out)
    assert "Target LTV: 65.00 %" in out  # the venue's initial LTV
    code, out = run("loan", "--loan", "10000", "--collateral", "1", "--price", "20000", "--days", "9")
    assert code == 2 and "--days needs an interest rate" in out
    code, out = run(
        "loan", "--loan", "10000", "--collateral", "1", "--price", "20000", "--margin-call-ltv", "80"
    )
    assert code == 2 and "did you mean 80 %?" in out


def test_calc_and_liq_use_the_same_tiers():
    # issue 10: `calc --exchange binance_usdm` and `liq` must agree (tiers.for_preset for both)
    code, calc_out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "60000",
        "--qty",
        "10",
        "--leverage",
        "20",
        "--deposit",
        "30000",
        "--exchange",
        "binance_usdm",
    )
    assert code == 0, calc_out
    code, liq_out = run(
        "liq",
        "--side",
        "long",
        "--entry",
        "60000",
        "--qty",
        "10",
        "--wallet",
        "30000",
        "--exchange",
        "binance_usdm",
    )
    assert code == 0, liq_out

    def price_of(out, name):
        line = next(x for x in out.splitlines() if x.startswith(name))
        return flat(line)[len(name) + 1 :].split()[0]

    assert price_of(calc_out, "Loss-cut price") == price_of(liq_out, "Liquidation price") == "57,444.4"


def test_liq_venue_conventions():
    # Bybit classic, entry-valued maintenance margin (jesse, freqtrade): 40.32 published, 40.16 on mark
    code, out = run(
        "liq",
        "--side",
        "long",
        "--entry",
        "80",
        "--qty",
        "250",
        "--wallet",
        "10000",
        "--mmr",
        "0.004",
        "--mm-basis",
        "entry",
    )
    assert code == 0 and "Liquidation price 40.3200 " in flat(out)
    # SPEC §8, Bybit inverse: 0.5 BTC, long 10,000 contracts of 1 USD at 8,000, MMR 0.5 %, taker 0.075 %:
    # BP 5,718.57 -> 5,719.0 and LP 5,739.08 -> 5,739.5 after the 0.5 tick (up for a long)
    code, out = run(
        "liq",
        "--side",
        "long",
        "--entry",
        "8000",
        "--wallet",
        "0.5",
        "--inverse",
        "--contracts",
        "10000",
        "--contract-value",
        "1",
        "--mmr",
        "0.5%",
        "--taker-fee",
        "0.075%",
        "--mm-basis",
        "entry",
        "--tick",
        "0.5",
    )
    assert code == 0, out
    assert "Liquidation price 5,739.5 " in flat(out) and "Bankruptcy price 5,719.0 " in flat(out)
    code, out = run(
        "liq",
        "--side",
        "long",
        "--entry",
        "8000.00",
        "--wallet",
        "0.5",
        "--inverse",
        "--contracts",
        "10000",
        "--contract-value",
        "1",
        "--mmr",
        "0.5%",
        "--taker-fee",
        "0.075%",
        "--mm-basis",
        "entry",
    )
    assert "Bankruptcy price 5,718.57 " in flat(out)  # typed with 2 decimals, shown with 2


def test_liq_quote_rate_scales_money_only():
    # a USDT contract in a JPY account at 150: the wallet of ¥450,000 is 3,000 USDT
    base = ["liq", "--side", "long", "--entry", "60000", "--qty", "1", "--mmr", "0.004"]
    code, usdt = run(*base, "--wallet", "3000")
    code2, jpy = run(*base, "--wallet", "450,000", "--quote-rate", "150", "--currency", "JPY")
    assert code == code2 == 0, jpy
    lp = next(x for x in usdt.splitlines() if x.startswith("Liquidation price"))
    assert lp in jpy and "Maintenance margin ¥36,000" in flat(jpy)  # 240 USDT x 150


def test_calc_in_another_account_currency():
    # SPEC §8: EUR/USD short 15,000 at 1.2 in a JPY account with USD/JPY 80, 20x: required margin
    # 72,000 JPY; with 100,000 JPY equity the 100 % line is 1.2 + 0.023333
    code, out = run(
        "calc",
        "--side",
        "short",
        "--entry",
        "1.2",
        "--qty",
        "15000",
        "--leverage",
        "20",
        "--deposit",
        "100000",
        "--quote-rate",
        "80",
        "--currency",
        "JPY",
    )
    assert code == 0, out
    assert "Required margin ¥72,000" in flat(out) and "Margin-call price 1.22333 " in flat(out)


def test_calc_tick_and_caution():
    # SPEC §8: loss-cut 37,500 with a 1,000 tick -> 38,000 for a long
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "50000",
        "--qty",
        "0.2",
        "--leverage",
        "2",
        "--deposit",
        "5000",
        "--tick",
        "1000",
    )
    assert code == 0 and "Loss-cut price 38,000 " in flat(out)
    # SPEC §10: ratio 200 % is between the margin call (100 %) and the safe level (300 %): caution
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--leverage",
        "2",
        "--deposit",
        "1000000",
        "--lang",
        "ja",
    )
    assert "状態 注意" in flat(out) and "安全水準の価格 15,000,000 " in flat(out)
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--leverage",
        "2",
        "--deposit",
        "1000000",
        "--safe-level",
        "none",
    )
    assert "Status OK" in flat(out) and "Safe-level price" not in out


def test_days_to_loss_cut():
    # SPEC §10: 1,000,000 deposit, long 0.1 at 10,000,000, 2x, 50 %, 0.04 %/day -> 1,875 days
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "10000000",
        "--qty",
        "0.1",
        "--leverage",
        "2",
        "--deposit",
        "1000000",
        "--days",
        "1",
        "--daily-fee",
        "0.04%",
    )
    assert code == 0 and "Days of fees to the loss-cut (at this price) 1,875.0" in flat(out)


def test_required_margin_rounded_as_the_venue_does():
    # dmm_fx truncates the required margin to the yen: 150.123 x 10,001 / 25 = 60,055.20 -> 60,055
    args = [
        "calc",
        "--side",
        "long",
        "--entry",
        "150.123",
        "--qty",
        "10001",
        "--leverage",
        "25",
        "--deposit",
        "100000",
        "--currency",
        "USD",
    ]
    assert "Required margin $60,055.20" in flat(run(*args)[1])
    assert "Required margin $60,055.00" in flat(run(*args, "--exchange", "dmm_fx")[1])


def test_usage_errors_are_one_line_in_the_language():
    code, out = run(
        "calc",
        "--side",
        "long",
        "--entry",
        "1",
        "--qty",
        "1",
        "--deposit",
        "1",
        "--leverage",
        "2",
        "--basis",
        "foo",
        env={"LANG": "ja_JP.UTF-8"},
    )
    assert code == 2 and out.strip() == (
        "xlcalc: error: --basis は entry, mark のどれかを指定してください (値: 'foo') (xlcalc calc --help)"
    )
    code, out = run("calc", "--lang", "fr")
    assert code == 2 and out.strip().startswith("xlcalc: error: --lang must be one of ja, en, got 'fr'")


def test_report_levels_and_summary_in_the_language(tmp_path):
    # issue 12: `--margin-call 100` turned every position into a loss-cut; the summary line was English
    positions = tmp_path / "p.csv"
    positions.write_text(
        "symbol,side,entry_price,quantity,leverage,price,deposit\nBTC,long,10000000,0.1,2,9000000,1000000\n",
        encoding="utf-8",
    )
    out_file = tmp_path / "r.xlsx"
    code, out = run("report", str(positions), "-o", str(out_file), "--margin-call", "100")
    assert code == 2 and "did you mean 100 %?" in out and not out_file.exists()
    code, out = run(
        "report",
        str(positions),
        "-o",
        str(out_file),
        "--margin-call",
        "100%",
        "--loss-cut",
        "50 %",
        env={"LANG": "ja_JP.UTF-8"},
    )
    assert code == 0, out
    assert out.strip() == f"{out_file}: 建玉 1 件、除外 0 行 (入力 1 行)"


def test_exchanges_in_japanese_with_conventions():
    code, out = run("exchanges", "--lang", "ja")
    assert code == 0
    assert "出典: https://" in out and "確認)" in out and "source:" not in out
    line = next(x for x in out.splitlines() if x.startswith("gmo_coin_fx "))
    assert "追証ライン" not in line and "ロスカットライン 75.00 %" in line  # no margin call at GMO Coin


def test_presets_file_may_name_the_account_currency(tmp_path):
    user = tmp_path / "mine.csv"
    user.write_text(
        "id,name,product,max_leverage,margin_call_level,loss_cut_level,currency,source_url,as_of\n"
        "my_btcjpy,My exchange,BTC/JPY,2,100%,50%,JPY,https://example.com,2026-11-20\n",
        encoding="utf-8",
    )
    args = "--side long --entry 10000000 --qty 0.1 --deposit 1000000 --exchange my_btcjpy".split()
    code, out = run("calc", *args, "--presets", str(user))
    assert code == 0, out
    assert "Required margin ¥500,000" in flat(out) and "Margin-call level: 100.00 %" in out


def _options_of_every_command():
    for command in cli.main.commands.values():
        for param in command.params:
            if isinstance(param, click.Option):
                yield command.name, param


def test_every_option_for_a_core_argument_has_its_help_from_the_one_table():
    # issue 9: an argument's help is written once, in xlcalc.arguments; the option adds only
    # what the command line alone says (examples, its own default)
    from xlcalc import arguments

    fed = set(cli._OPTION_OF.values())
    checked = 0
    for command, option in _options_of_every_command():
        if option.opts[0] in fed or option.name in arguments.names():
            assert isinstance(option, cli._CoreOption), (command, option.opts[0])
        if isinstance(option, cli._CoreOption):
            text = arguments.help_text(option.argument, "en", function=option.function)
            assert option.help.startswith(text), (command, option.opts[0], option.help)
            checked += 1
    assert checked > 60, checked


def test_report_options_reach_the_report(tmp_path):
    # every report option of the CLI is passed through to build_report (read back from the file)
    import openpyxl

    src = tmp_path / "pos.csv"
    src.write_text(
        "symbol;side;entry_price;quantity;leverage;price;deposit\n"
        "BTC/JPY;long;10.000.000;0,1;2;9.000.000;1.000.350\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    code, text = run(
        "report",
        str(src),
        "-o",
        str(out),
        "--decimal",
        ",",
        "--tick",
        "1000",
        "--hedge",
        "max",
        "--margin-call",
        "none",
        "--loss-cut",
        "50%",
        "--safe-level",
        "300%",
        "--currency",
        "JPY",
        "--lang",
        "en",
        "-q",
    )
    assert code == 0, text
    ws = openpyxl.load_workbook(out).worksheets[1]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, (c.value for c in ws[2])))
    assert row["Quantity"] == 0.1 and row["Entry price"] == 10_000_000  # decimal comma read
    assert row["Margin-call price"] is None  # --margin-call none
    # loss-cut 50 %, entry basis: 10,000,000 - (1,000,350 - 250,000) / 0.1 = 2,496,500,
    # a long's rounded up to the 1,000 tick
    assert row["Loss-cut price"] == 2_497_000
    assert ws.cell(2, header.index("Equity") + 1).number_format.startswith('"¥"')
    loans = tmp_path / "loans.csv"
    loans.write_text("loan,collateral_quantity,price\n10000,1,20000\n", encoding="utf-8")
    code, text = run(
        "report",
        str(loans),
        "-o",
        str(tmp_path / "l.xlsx"),
        "--kind",
        "loans",
        "--margin-call-ltv",
        "80%",
        "--liquidation-ltv",
        "90%",
        "--lang",
        "en",
        "-q",
    )
    assert code == 0, text
    assert "Loans" in openpyxl.load_workbook(tmp_path / "l.xlsx").sheetnames


def test_empty_safe_level_is_no_safe_zone_as_its_help_says():
    # --help: "Empty: no safe zone"; '' was refused as "not a number". Only the safe level: an
    # empty margin-call level (an unset shell variable) is still an error, never "no margin call"
    position = "calc --side long --entry 100 --qty 1 --leverage 2 --deposit 60".split()
    code, out = run(*position, "--safe-level", "", "--lang", "en")
    assert code == 0 and "Safe level: none" in out and "Safe-level price" not in out
    code, out = run(*position, "--margin-call", "", "--lang", "en")
    assert code == 2 and "--margin-call" in out
