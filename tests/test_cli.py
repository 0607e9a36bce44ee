"""`xlcalc calc` and `xlcalc exchanges`: figures, presets, and one-line errors."""
import subprocess
import sys

import pytest
from click.testing import CliRunner

from xlcalc.cli import main


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def flat(text):
    """The output with runs of spaces collapsed: columns depend on the longest label."""
    return " ".join(text.split())


def test_calc_seed_example():
    code, out = run("calc", "--side", "long", "--entry", "50000", "--qty", "0.2", "--leverage", "2",
                    "--deposit", "5000", "--price", "25000")
    assert code == 0, out
    assert "Maintenance ratio 0.00 %" in flat(out)
    assert "Loss-cut price 37,500.00" in flat(out)
    assert "Status Loss-cut" in flat(out)


def test_calc_japanese_with_preset_and_gap():
    code, out = run("calc", "--side", "売り", "--entry", "10000000", "--qty", "0.1", "--deposit", "1000000",
                    "--exchange", "gmo_coin_fx", "--lang", "ja", "--price", "12000000", "--gap-price", "21000000")
    assert code == 0, out
    assert "ロスカットライン: 75.00 %" in out and "追証ライン: なし" in out
    assert "証拠金維持率 160.00 %" in flat(out)
    assert "ロスカット価格 16,250,000.00" in flat(out)
    assert "不足金 100,000.00" in flat(out)
    assert "追証価格 なし" in flat(out)  # GMO Coin has no margin call


def test_calc_unreachable_level_says_so():
    code, out = run("calc", "--side", "long", "--entry", "100", "--qty", "100", "--leverage", "1",
                    "--deposit", "10000", "--basis", "mark")
    assert code == 0
    assert "Loss-cut price - (never reached)" in flat(out)


def test_calc_stop_and_risk():
    code, out = run("calc", "--side", "long", "--entry", "10000000", "--qty", "0.1", "--leverage", "2",
                    "--deposit", "1000000", "--stop", "9500000", "--risk", "0.02")
    assert code == 0
    assert "Loss at stop 50,000.00" in flat(out)
    assert "Position size for risk 0.04" in flat(out)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--side", "up"], "xlcalc: error: side must be"),
        (["--qty", "-1"], "xlcalc: error: quantity must be a positive number, got -1.0"),
        (["--leverage", "0"], "xlcalc: error: leverage must be a positive number, got 0.0"),
        (["--exchange", "nope"], "xlcalc: error: exchange must be one of bitflyer_cfd"),
    ],
)
def test_calc_errors_are_one_line(args, message):
    base = {"--side": "long", "--entry": "100", "--qty": "1", "--leverage": "2", "--deposit": "50"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    code, out = run("calc", *[x for kv in base.items() for x in kv])
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), out
    assert "Traceback" not in out


def test_exchanges_lists_sources():
    code, out = run("exchanges")
    assert code == 0
    for preset in ("bitflyer_cfd", "gmo_coin_fx", "gmo_coin_exchange_leverage", "bitbank_margin",
                   "jp_fx_25x", "binance_usdm", "bybit_usdt"):
        assert preset in out
    assert out.count("source: https://") == out.count("as of 2026")


def test_module_entry_point_and_help():
    proc = subprocess.run([sys.executable, "-m", "xlcalc", "calc", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--leverage" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "xlcalc", "calc", "--side", "x", "--entry", "1", "--qty", "1",
                           "--deposit", "1", "--leverage", "1"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_errors_speak_the_commands_language():
    code, out = run("calc", "--side", "横", "--entry", "100", "--qty", "1", "--leverage", "2", "--deposit", "50",
                    "--lang", "ja")
    assert code == 2
    assert out.strip() == "xlcalc: error: 売買は買い/売り（long/short, buy/sell, +1/-1）でなければなりません（値: '横'）"
