"""Exchange presets: the shipped table, users' own rows, levels in ratio terms."""

import math

import pytest

import xlcalc as xc
from xlcalc.presets import COLUMNS, preset_levels

REQUIRED = [
    "bitflyer_cfd",
    "gmo_coin_fx",
    "gmo_coin_exchange_leverage",
    "bitbank_margin",
    "jp_fx_25x",
    "binance_usdm",
    "bybit_usdt",
]


def test_every_row_has_source_and_date():
    table = xc.exchange_presets(path=None)
    assert set(REQUIRED) <= set(table.index)
    assert list(table.columns) == COLUMNS
    assert table["source_url"].str.startswith("https://").all()
    assert table["as_of"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()


def test_known_levels():
    assert xc.get_preset("bitflyer_cfd")["margin_call_level"] == 1.0
    assert xc.get_preset("bitflyer_cfd")["loss_cut_level"] == 0.5
    gmo = xc.get_preset("gmo_coin_fx")
    assert math.isnan(gmo["margin_call_level"]) and gmo["loss_cut_level"] == 0.75
    assert xc.get_preset("gmo_coin_exchange_leverage")["basis"] == "entry"


def test_mmr_preset_levels_depend_on_leverage():
    binance = xc.get_preset("binance_usdm")
    levels = preset_levels(binance, leverage=20)
    assert levels["basis"] == "mark" and levels["loss_cut_level"] == pytest.approx(binance["mmr"] * 20)
    # the ratio-model loss-cut at mmr*L on mark basis is the MMR liquidation price
    lp = xc.liquidation_price(500, "long", 10_000, 1, binance["mmr"])
    lc = xc.loss_cut_price(500, "long", 10_000, 1, 20, levels["loss_cut_level"], basis="mark")
    assert lc == pytest.approx(lp)
    with pytest.raises(xc.InputError, match="leverage is needed"):
        preset_levels(binance)


def test_user_rows_add_and_override(tmp_path, monkeypatch):
    user = tmp_path / "mine.csv"
    user.write_text(
        "id,name,product,max_leverage,margin_call_level,loss_cut_level,basis,source_url,as_of\n"
        "my_broker,My broker,FX,25,1.2,0.8,mark,https://example.com,2026-11-20\n"
        "bitflyer_cfd,bitFlyer,Crypto CFD,2,1.0,0.6,entry,https://bitflyer.com,2026-11-21\n",
        encoding="utf-8",
    )
    table = xc.exchange_presets(user)
    assert table.loc["my_broker", "loss_cut_level"] == 0.8
    assert table.loc["bitflyer_cfd", "loss_cut_level"] == 0.6
    assert len(table) == len(xc.exchange_presets()) + 1
    monkeypatch.setenv("XLCALC_PRESETS", str(user))
    assert xc.get_preset("my_broker")["basis"] == "mark"


@pytest.mark.parametrize(
    "encoding, separator", [("cp932", ","), ("utf-8", ";"), ("utf-16", "\t"), ("utf-8-sig", "\t")]
)
def test_user_file_as_excel_saves_it(tmp_path, encoding, separator):
    # Japanese Windows (cp932), European (semicolons), "Unicode text" (UTF-16, tabs)
    user = tmp_path / "mine.csv"
    text = "id,name,max_leverage,margin_call_level,loss_cut_level,basis\nmy_broker,私の業者,25,1.2,0.8,mark\n"
    user.write_bytes(text.replace(",", separator).encode(encoding))
    row = xc.get_preset("my_broker", user)
    assert (row["name"], row["loss_cut_level"], row["basis"]) == ("私の業者", 0.8, "mark")


def test_not_text_is_one_sentence(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,name\nx,\x82\xff\x80\n")
    with pytest.raises(xc.InputError, match=r"presets file .*bad.csv is neither UTF-8, UTF-16 nor"):
        xc.exchange_presets(bad)


def test_bad_user_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,loss_cut_level\nx,half\n", encoding="utf-8")
    with pytest.raises(xc.InputError, match=r"loss_cut_level must be a number, got 'half' in row 2"):
        xc.exchange_presets(bad)
    with pytest.raises(xc.InputError, match="presets file not found"):
        xc.exchange_presets(tmp_path / "missing.csv")
    with pytest.raises(xc.InputError, match="exchange must be one of"):
        xc.get_preset("nowhere")
