"""The report's output file: numbers exact, the same table in openpyxl, pandas and LibreOffice,
zip entries dated now, and the display (widths, formats, pages) of issue #12."""
from __future__ import annotations

import sys
import time
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.libreoffice import convert, require_soffice
from xlcalc.labels import label
from xlcalc.report import build_report, writer


def awkward_positions(n=60, seed=7):
    """Prices and sizes whose floats need all 17 digits, tiny and huge, a short at its entry."""
    rng = np.random.default_rng(seed)
    entry = rng.uniform(0.0001, 20_000_000, n) * (1 + 1e-15 * rng.standard_normal(n))
    df = pd.DataFrame({"symbol": rng.choice(["BTC/JPY", "SHIB/USDT", "=1+1"], n),
                       "side": rng.choice(["long", "short"], n), "entry_price": entry,
                       "quantity": rng.uniform(1e-8, 1e6, n), "leverage": rng.choice([1, 2, 25, 125], n),
                       "price": entry * rng.uniform(0.5, 1.5, n), "deposit": rng.uniform(0, 1e7, n),
                       "fees": rng.uniform(0, 1e3, n)})
    df.loc[0, ["side", "price"]] = ["short", df.loc[0, "entry_price"]]  # P&L exactly 0
    return df


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "r.xlsx"
    build_report(awkward_positions(), out, lang="en")
    return out


def positions(path, **kw):
    return pd.read_excel(path, sheet_name=label("report_sheet_positions", "en"), **kw)


def test_every_number_round_trips_exactly(report_file):
    df = awkward_positions()
    got = positions(report_file, engine="openpyxl")
    for key in ("entry_price", "quantity", "price", "deposit", "fees"):
        np.testing.assert_array_equal(got[label(key, "en")].to_numpy(float), df[key].to_numpy(float))
    assert not (np.signbit(got.select_dtypes(float).to_numpy()) & (got.select_dtypes(float) == 0)).any().any()


def test_repr_fallback_writes_the_same_bytes(monkeypatch):
    v = np.array([0.1, 1e-5, 1e22, 123456789.123456789, np.nan, 5.0, 2.5e-300])
    fast = writer._numbers(v)
    monkeypatch.setitem(sys.modules, "orjson", None)   # as if not installed
    slow = writer._numbers(v)
    assert [float(x) for x in fast.split(b",") if x != b"null"] == [float(x) for x in slow.split(b",")
                                                                     if x != b"null"]
    assert slow.split(b",")[4] == b"null" and fast.split(b",")[4] == b"null"


def test_zlib_fallback_is_raw_deflate(monkeypatch):
    import zlib

    monkeypatch.setitem(sys.modules, "zlib_ng", None)
    c = writer._compressobj(4)
    data = b"<row><c s=\"1\"><v>1.5</v></c></row>" * 100
    assert zlib.decompress(c.compress(data) + c.flush(), -15) == data


def test_no_cell_references_and_entries_dated_now(report_file):
    with zipfile.ZipFile(report_file) as z:
        sheet = z.read("xl/worksheets/sheet2.xml")
        infos = z.infolist()
    data = sheet.split(b"<sheetData>")[1]
    assert b'<c r="' not in data.split(b"</row>", 1)[1]       # below the header row
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
    for col in header:
        a, b, c = ([None if v is None or v != v else v for v in frame[col]]
                   for frame in (via_openpyxl, via_pandas, via_libreoffice))
        assert a == b, col
        if any(isinstance(v, float) for v in a):  # LibreOffice saves doubles to 15 digits
            np.testing.assert_allclose(np.array(c, dtype=float), np.array(a, dtype=float), rtol=1e-14,
                                       err_msg=col)
        else:
            assert a == c, col
