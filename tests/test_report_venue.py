"""The report's venue conventions (SPEC §8), safe zone (§10) and adaptive Stress ladder (issue #12),
checked by reading the written workbook back with openpyxl against the core functions."""

from __future__ import annotations

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlcalc as xc
from xlcalc import core
from xlcalc.labels import label
from xlcalc.report import build_report, writer


def _sheets(path):
    return {ws.title: ws for ws in openpyxl.load_workbook(path).worksheets}


def _table(path, key, lang="en"):
    rows = list(_sheets(path)[label(key, lang)].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _positions(path, lang="en"):
    return _table(path, "report_sheet_positions", lang)


def _summary(path, lang="en"):
    """Summary: (label -> value of the settings rows, the accounts table as a DataFrame)."""
    rows = list(_sheets(path)[label("report_sheet_summary", lang)].iter_rows(values_only=True))
    info = {r[0]: r[1] for r in rows[1:] if r and r[0] is not None and len(r) > 1}
    start = next(i for i, r in enumerate(rows) if r and r[0] == label("account", lang))
    end = next((i for i in range(start + 1, len(rows)) if not any(v is not None for v in rows[i])), len(rows))
    return info, pd.DataFrame(rows[start + 1 : end], columns=rows[start])


def _col(df, key, lang="en"):
    return df[label(key, lang)].astype(float).to_numpy()


def _isolated():
    return pd.DataFrame(
        {
            "symbol": ["BTC/JPY", "BTC/JPY", "ETH/JPY", "BTC/JPY"],
            "side": ["long", "short", "long", "short"],
            "entry_price": [10_000_000, 10_000_000, 400_000, 9_500_000],
            "quantity": [0.1, 0.2, 3.0, 0.05],
            "leverage": [2, 2, 2, 2],
            "price": [9_000_000, 10_400_000, 380_000, 9_600_000],
            "deposit": [1_000_000, 1_500_000, 700_000, 400_000],
        }
    )


# -- ticks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["column", "option"])
def test_tick_size_rounds_every_price_conservatively(tmp_path, where):
    df = _isolated()
    tick = 1_000.0
    kw = {}
    if where == "column":
        df["tick_size"] = tick
    else:
        kw["tick_size"] = tick
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en", **kw)
    got = _positions(out)
    s = np.where(df["side"] == "long", 1.0, -1.0)
    args = dict(
        deposit=df["deposit"],
        side=s,
        entry_price=df["entry_price"],
        quantity=df["quantity"],
        leverage=df["leverage"],
    )
    want = {
        "margin_call_price": core.margin_call_price(level=1.0, tick_size=tick, **args),
        "loss_cut_price": core.loss_cut_price(level=0.5, tick_size=tick, **args),
        "safe_price": core.trigger_price(level=core.DEFAULT_SAFE_LEVEL, tick_size=tick, **args),
        "bankruptcy_price": core.bankruptcy_price(
            df["deposit"], s, df["entry_price"], df["quantity"], tick_size=tick
        ),
    }
    for key, values in want.items():
        np.testing.assert_allclose(_col(got, key), np.asarray(values, dtype=float), rtol=1e-12, err_msg=key)
        shown = _col(got, key)[~np.isnan(_col(got, key))]
        assert len(shown) and np.all(np.round(shown / tick) * tick == shown)
    untouched = tmp_path / "plain.xlsx"
    build_report(_isolated(), untouched, lang="en")
    plain = _positions(untouched)
    lc, lc_plain = _col(got, "loss_cut_price"), _col(plain, "loss_cut_price")
    assert np.all(np.where(s > 0, lc >= lc_plain, lc <= lc_plain))  # long up, short down
    assert (lc != lc_plain).any()


def test_blank_tick_cell_is_no_rounding(tmp_path):
    df = _isolated()
    df["tick_size"] = ["1000", "", "1000", ""]
    out = tmp_path / "r.xlsx"
    build_report(df.astype(str), out, lang="en")
    got, want = _col(_positions(out), "loss_cut_price"), None
    s = np.where(df["side"] == "long", 1.0, -1.0)
    want = core.loss_cut_price(df["deposit"], s, df["entry_price"], df["quantity"], df["leverage"], level=0.5)
    np.testing.assert_allclose(got[[1, 3]], np.asarray(want)[[1, 3]], rtol=1e-12)
    assert got[0] % 1000 == 0 and got[2] % 1000 == 0


def test_bad_tick_is_an_error_row(tmp_path):
    df = _isolated().astype(str)
    df["tick_size"] = ["-5", "1", "abc", "1"]
    out = tmp_path / "r.xlsx"
    result = build_report(df, out, lang="en")
    assert (result.positions, result.errors) == (2, 2)
    errors = _table(out, "report_sheet_errors")
    assert errors.iloc[:, 1].str.contains("tick_size").all()  # the core's words name the argument


# -- quote currency ----------------------------------------------------------------------------


def test_quote_rate_eur_usd_in_a_yen_account(tmp_path):
    # SPEC §8: EUR/USD short 15,000 at 1.2, JPY account, USD/JPY 80, 20x: margin 72,000 JPY;
    # with 100,000 JPY the 100 % line is 1.2 + 0.023333.
    df = pd.DataFrame(
        {
            "symbol": ["EUR/USD"],
            "side": ["short"],
            "entry_price": [1.2],
            "quantity": [15_000],
            "leverage": [20],
            "price": [1.2],
            "deposit": [100_000],
            "quote_rate": [80],
        }
    )
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en", currency="JPY")
    got = _positions(out)
    assert _col(got, "required_margin")[0] == pytest.approx(72_000, rel=1e-12)
    assert _col(got, "margin_call_price")[0] == pytest.approx(1.2 + 0.0233333333, rel=1e-9)
    want = core.margin_call_price(100_000, -1, 1.2, 15_000, 20, quote_rate=80.0)
    assert _col(got, "margin_call_price")[0] == pytest.approx(float(want), rel=1e-12)
    # the option gives the same as the column
    out2 = tmp_path / "r2.xlsx"
    build_report(df.drop(columns="quote_rate"), out2, lang="en", quote_rate=80)
    np.testing.assert_allclose(_col(_positions(out2), "margin_call_price"), _col(got, "margin_call_price"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rate=st.floats(0.01, 500), seed=st.integers(0, 1000))
def test_quote_rate_cross_account_equals_account_state(tmp_path, rate, seed):
    rng = np.random.default_rng(seed)
    n = 5
    df = pd.DataFrame(
        {
            "symbol": ["EUR/USD"] * n,
            "side": rng.choice(["long", "short"], n),
            "entry_price": rng.uniform(1.0, 1.3, n),
            "quantity": rng.uniform(1_000, 20_000, n),
            "leverage": 25,
            "price": rng.uniform(1.0, 1.3, n),
        }
    )
    out = tmp_path / f"q{seed}.xlsx"
    build_report(df, out, lang="en", deposit=1_000_000, quote_rate=rate, force=True)
    s = np.where(df["side"] == "long", 1.0, -1.0)
    state = xc.account_state(
        1_000_000, s, df["entry_price"], df["price"], df["quantity"], 25, quote_rate=rate
    )
    _, accounts = _summary(out)
    assert float(accounts[label("ratio", "en")][0]) == pytest.approx(state.ratio, rel=1e-12, nan_ok=True)
    margin = float(accounts[label("required_margin", "en")][0])
    assert margin == pytest.approx(state.required_margin, rel=1e-12)


# -- hedged positions ---------------------------------------------------------------------------


def _hedged():
    return pd.DataFrame(
        {
            "account": ["A", "A", "A", "B"],
            "symbol": ["USD/JPY", "USD/JPY", "EUR/JPY", "USD/JPY"],
            "side": ["long", "short", "long", "long"],
            "entry_price": [150.0, 151.0, 160.0, 150.0],
            "quantity": [10_000, 6_000, 5_000, 10_000],
            "leverage": 25,
            "price": [149.0, 149.0, 161.0, 149.0],
        }
    )


@pytest.mark.parametrize("hedge", ["sum", "max"])
def test_hedge_rule_equals_account_state(tmp_path, hedge):
    df = _hedged()
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en", deposit=300_000, hedge=hedge)
    _, accounts = _summary(out)
    pos = _positions(out)
    for name in ("A", "B"):
        rows = df[df["account"] == name]
        s = np.where(rows["side"] == "long", 1.0, -1.0)
        state = xc.account_state(
            300_000,
            s,
            rows["entry_price"],
            rows["price"],
            rows["quantity"],
            25,
            symbol=rows["symbol"].to_numpy(),
            hedge=hedge,
        )
        acct = accounts[accounts[label("account", "en")] == name].iloc[0]
        assert float(acct[label("required_margin", "en")]) == pytest.approx(state.required_margin, rel=1e-12)
        assert float(acct[label("ratio", "en")]) == pytest.approx(state.ratio, rel=1e-12)
        ratios = pos[pos[label("account", "en")] == name][label("ratio", "en")].astype(float)
        np.testing.assert_allclose(ratios, state.ratio, rtol=1e-12)  # every sheet shows one ratio
    if hedge == "max":  # the smaller USD/JPY leg is not margined: a higher ratio than "sum"
        info, _ = _summary(out)
        assert info[label("report_hedge", "en")] == label("report_hedge_max", "en")


def test_hedge_max_entry_basis_trigger_reaches_the_level(tmp_path):
    # entry basis: the hedged margin does not move with the price, so the row's margin-call
    # price puts the account (account_state with hedge="max") exactly at 100 %
    df = _hedged()[lambda d: d["account"] == "A"]
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en", deposit=300_000, hedge="max")
    pos = _positions(out)
    s = np.where(df["side"] == "long", 1.0, -1.0)
    for i in range(len(df)):
        trig = float(pos[label("margin_call_price", "en")].iloc[i])
        prices = df["price"].to_numpy(dtype=float).copy()
        prices[i] = trig
        state = xc.account_state(
            300_000,
            s,
            df["entry_price"],
            prices,
            df["quantity"],
            25,
            symbol=df["symbol"].to_numpy(),
            hedge="max",
        )
        assert state.ratio == pytest.approx(1.0, rel=1e-9)


def test_preset_hedge_rule_is_followed_and_can_be_overridden(tmp_path):
    df = _hedged()[lambda d: d["symbol"] == "USD/JPY"].assign(symbol="BTC/JPY")
    out_preset, out_sum = tmp_path / "p.xlsx", tmp_path / "s.xlsx"
    build_report(df, out_preset, lang="en", deposit=300_000, exchange="gmo_coin_fx")  # hedge max
    build_report(df, out_sum, lang="en", deposit=300_000, exchange="gmo_coin_fx", hedge="sum")
    a_max = _summary(out_preset)[1][label("required_margin", "en")].astype(float).iloc[0]
    a_sum = _summary(out_sum)[1][label("required_margin", "en")].astype(float).iloc[0]
    assert a_max < a_sum
    with pytest.raises(xc.InputError, match="hedge"):
        build_report(df, tmp_path / "x.xlsx", deposit=1, hedge="min")


# -- presets without a published level -----------------------------------------------------------


@pytest.mark.parametrize(
    "exchange, none_key",
    [("gmo_coin_exchange_leverage", "margin_call_level"), ("bitbank_margin", "loss_cut_level")],
)
def test_preset_with_no_published_level_shows_none(tmp_path, exchange, none_key):
    out = tmp_path / "r.xlsx"
    result = build_report(_isolated(), out, lang="en", exchange=exchange)
    assert result.positions == 4
    info, _ = _summary(out)
    assert info[label(none_key, "en")] == label("none", "en")
    pos = _positions(out)
    key = "margin_call_price" if none_key == "margin_call_level" else "loss_cut_price"
    assert pos[label(key, "en")].isna().all()  # never reached, not 0


# -- safe zone ----------------------------------------------------------------------------------


def test_safe_price_and_caution_status(tmp_path):
    df = _isolated()
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en", safe_level=2.5)
    pos = _positions(out)
    s = np.where(df["side"] == "long", 1.0, -1.0)
    args = dict(
        deposit=df["deposit"],
        side=s,
        entry_price=df["entry_price"],
        quantity=df["quantity"],
        leverage=df["leverage"],
    )
    np.testing.assert_allclose(_col(pos, "safe_price"), core.trigger_price(level=2.5, **args), rtol=1e-12)
    ratio = core.maintenance_ratio(price=df["price"], **args)
    want = core.status(ratio, 1.0, 0.5, safe_level=2.5)
    assert pos[label("status", "en")].tolist() == [label(w, "en") for w in want]
    assert core.STATUS_CAUTION in set(want)
    info, accounts = _summary(out)
    assert info[label("safe_level", "en")] == "250 %"
    assert int(accounts[label("report_n_caution", "en")].iloc[0]) == int((want == core.STATUS_CAUTION).sum())


def test_caution_has_its_own_colour(tmp_path):
    df = pd.DataFrame(
        {
            "side": ["long"],
            "entry_price": [100.0],
            "quantity": [1.0],
            "leverage": [2.0],
            "price": [100.0],
            "deposit": [100.0],
        }
    )  # ratio 200 %: caution at 300 %
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="ja")
    ws = _sheets(out)[label("report_sheet_positions", "ja")]
    rules = {r.formula[0]: r.dxf.fill.fgColor.rgb for cf in ws.conditional_formatting for r in cf.rules}
    caution = next(rgb for f, rgb in rules.items() if label("caution", "ja") in f)
    margin_call = next(rgb for f, rgb in rules.items() if label("margin_call", "ja") in f)
    assert caution.endswith(writer.STATUS_FILLS["caution"]) and caution != margin_call
    _, accounts = _summary(out, "ja")
    assert accounts[label("status", "ja")].iloc[0] == label("caution", "ja")
    summary = _sheets(out)[label("report_sheet_summary", "ja")]
    word = label("caution", "ja")
    filled = [c.fill.fgColor.rgb for row in summary.iter_rows() for c in row if c.value == word]
    assert filled and all(rgb.endswith(writer.STATUS_FILLS["caution"]) for rgb in filled)


def test_safe_level_none_means_no_caution(tmp_path):
    df = pd.DataFrame(
        {
            "side": ["long"],
            "entry_price": [100.0],
            "quantity": [1.0],
            "leverage": [2.0],
            "price": [100.0],
            "deposit": [100.0],
        }
    )
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en", safe_level=math.nan)
    pos = _positions(out)
    assert pos[label("status", "en")].tolist() == [label("ok", "en")]
    assert label("safe_price", "en") not in pos.columns


# -- adaptive Stress ladder -----------------------------------------------------------------------


def _stress(path, lang="en"):
    return _table(path, "report_sheet_stress", lang)


def test_stress_ladder_has_each_trigger_as_its_own_row(tmp_path):
    # a 20x long: the liquidation-like loss-cut at a few percent must be a row, not fall between
    df = pd.DataFrame(
        {
            "symbol": ["BTCUSDT", "ETHUSDT"],
            "side": ["long", "long"],
            "entry_price": [60_000.0, 3_000.0],
            "quantity": [1.0, 10.0],
            "leverage": [20, 20],
            "price": [60_000.0, 3_000.0],
        }
    )
    out = tmp_path / "r.xlsx"
    build_report(df, out, lang="en", deposit=12_000)
    stress = _stress(out)
    moves = stress[label("report_market_move", "en")].astype(float).to_numpy()
    ratio = stress.iloc[:, 1].astype(float).to_numpy()
    s = np.ones(2)
    args = (12_000, s, df["entry_price"], df["price"], df["quantity"], df["leverage"])
    reached = stress[label("report_level_reached", "en")]
    for level, word in ((1.0, "margin_call"), (0.5, "loss_cut")):
        move = xc.market_move_to_level(*args, level)
        i = int(np.argmin(np.abs(moves - move)))
        assert moves[i] == pytest.approx(move, abs=1e-12)
        assert ratio[i] == pytest.approx(level, rel=1e-9)
        assert reached.iloc[i] == label(word, "en")
    zero = int(np.argmin(np.abs(ratio)))
    assert ratio[zero] == pytest.approx(0.0, abs=1e-9)
    assert reached.iloc[zero] == label("report_bankruptcy", "en")
    assert 0.0 in moves
    steps = np.diff(moves[pd.isna(reached.to_numpy())])
    assert steps.min() > 0 and (moves.max() - moves.min()) < 0.3  # zoomed in, not ±50 %
    # every ratio equals account_state at that move
    for x, r in zip(moves, ratio):
        state = xc.account_state(12_000, s, df["entry_price"], df["price"] * (1 + x), df["quantity"], 20)
        assert r == pytest.approx(state.ratio, rel=1e-9, abs=1e-12)


def test_stress_chart_is_a_scatter_with_level_marks_on_one_page(tmp_path):
    import re
    import zipfile

    out = tmp_path / "r.xlsx"
    build_report(_isolated(), out, lang="ja")
    with zipfile.ZipFile(out) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
        stress_xml = z.read("xl/worksheets/sheet3.xml").decode()  # Summary, Positions, Stress, Errors
    assert len(charts) == 1 and "scatterChart" in charts[0] and 'val="diamond"' in charts[0]
    assert "<c:drawing" in stress_xml or "<drawing" in stress_xml
    setup = re.search(r"<pageSetup[^>]*>", stress_xml).group()
    assert 'fitToHeight="1"' in setup and 'fitToWidth="1"' in setup  # table and chart: one page


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), side=st.sampled_from(["long", "short"]))
def test_hedge_max_equals_sum_with_one_side_only(tmp_path, seed, side):
    rng = np.random.default_rng(seed)
    n = 4
    df = pd.DataFrame(
        {
            "symbol": rng.choice(["BTC/JPY", "ETH/JPY"], n),
            "side": side,
            "entry_price": rng.uniform(90, 110, n),
            "quantity": rng.uniform(1, 10, n),
            "leverage": 2,
            "price": rng.uniform(90, 110, n),
        }
    )
    ratios = []
    for hedge in ("sum", "max"):
        out = tmp_path / f"{seed}-{side}-{hedge}.xlsx"
        build_report(df, out, lang="en", deposit=5_000, hedge=hedge, force=True)
        ratios.append(_col(_positions(out), "ratio"))
    np.testing.assert_allclose(ratios[0], ratios[1], rtol=1e-12)


@pytest.mark.parametrize("hedge", ["sum", "max"])
def test_margin_rounding_preset_shows_the_venues_margin_as_the_cli_does(tmp_path, hedge):
    # DMM FX truncates each position's margin to the yen (its simulator, as quoted by mag2.com,
    # 2024-10-16): GBP/JPY 194.787 x 10,000 / 25 = 77,914.8 -> 77,914; USD/JPY 149.094 -> 59,637.
    # The report showed 77,915 (the exact margin in a whole-yen format), xlcalc calc 77,914.
    df = pd.DataFrame(
        {"symbol": ["GBP/JPY", "GBP/JPY", "USD/JPY", "USD/JPY"], "side": ["long", "long", "short", "long"],
         "entry_price": [194.787, 194.787, 149.094, 149.094], "quantity": [10_000] * 4, "leverage": [25] * 4}
    )  # fmt: skip
    out = tmp_path / "dmm.xlsx"
    build_report(df, out, lang="en", deposit=500_000, exchange="dmm_fx", hedge=hedge)
    margins = _positions(out)[label("required_margin", "en")].astype(float).tolist()
    assert margins == [77_914.0, 77_914.0, 59_637.0, 59_637.0]
    cli = xc.required_margin(194.787, 10_000, 25, margin_rounding="floor")  # what xlcalc calc shows
    assert margins[0] == cli
    _, accounts = _summary(out)
    shown = 2 * 77_914 + (59_637 if hedge == "max" else 2 * 59_637)  # the larger USD/JPY side alone
    assert float(accounts[label("required_margin", "en")].iloc[0]) == shown
    # the ratio stays the core's, on the exact margin, as xlcalc calc's
    symbols, sides = df["symbol"].to_numpy(), np.where(df["side"] == "long", 1.0, -1.0)
    state = xc.account_state(500_000, sides, df["entry_price"], df["entry_price"], df["quantity"], 25,
                             basis="mark", symbol=symbols, hedge=hedge)  # fmt: skip
    assert float(accounts[label("ratio", "en")].iloc[0]) == pytest.approx(state.ratio, rel=1e-12)


def test_stress_of_positions_that_stand_alone_is_the_worst_ones(tmp_path):
    # two isolated positions: ETH (a thin deposit) reaches its margin call at -2 % and its loss-cut
    # at -27 %; pooling both deposits put them at -10 % and -35 %, and at -30 % showed 60 %
    df = pd.DataFrame(
        {"symbol": ["BTCJPY", "ETHJPY"], "side": ["long", "long"], "entry_price": [10_000_000, 500_000],
         "quantity": [0.1, 10], "leverage": [2, 2], "deposit": [1_000_000, 2_600_000]}
    )  # fmt: skip
    out = tmp_path / "iso.xlsx"
    result = build_report(df, out, lang="en")
    account = result.accounts[0]
    assert account["move_to_margin_call"] == pytest.approx(-0.02) and account[
        "move_to_loss_cut"
    ] == pytest.approx(-0.27)
    # the account line is its worst position's: ratio (ETH's 104 %, not the pooled 120 %) and the
    # move to the safe level that brings ETH there too (+98 %, not BTC's +50 %)
    own = {"BTC": (1_000_000, 10_000_000, 0.1), "ETH": (2_600_000, 500_000, 10)}
    assert account["ratio"] == pytest.approx(xc.maintenance_ratio(2_600_000, "long", 500_000, 500_000, 10, 2))
    safe = {k: xc.margin_call_price(d, "long", p0, q, 2, level=3.0) / p0 - 1 for k, (d, p0, q) in own.items()}
    assert account["move_to_safe"] == pytest.approx(max(safe.values())) and safe["ETH"] > safe["BTC"]
    stress = _table(out, "report_sheet_stress")
    moves, ratios = stress.iloc[:, 0].astype(float), stress.iloc[:, 1].astype(float)
    assert float(ratios[moves == 0].iloc[0]) == pytest.approx(account["ratio"])  # the Summary's
    marks = dict(zip(stress[label("report_level_reached", "en")], moves))
    assert marks[label("margin_call", "en")] == pytest.approx(-0.02)
    assert marks[label("loss_cut", "en")] == pytest.approx(-0.27)
    # each row of the ladder: the lower of the two positions' own ratios at that move
    for x, shown in zip(moves, ratios):
        own = [
            xc.maintenance_ratio(d, "long", p0, p0 * (1 + x), q, 2)
            for d, p0, q in [(1_000_000, 10_000_000, 0.1), (2_600_000, 500_000, 10)]
        ]
        assert shown == pytest.approx(min(own), rel=1e-12, abs=1e-12)
