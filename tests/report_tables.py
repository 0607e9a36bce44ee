"""A whole positions file read into one :class:`~xlcalc.report.reader.Chunk`, for tests: the
report itself streams :func:`~xlcalc.report.reader.iter_chunks` and never gathers them."""

from __future__ import annotations

import numpy as np
from pandas.api.types import union_categoricals

from xlcalc.report.reader import Chunk, iter_chunks


def read_table(source, *, prices=None, default_leverage=None, decimal=None, sheet=None) -> Chunk:
    """Every validated row of ``source`` in one Chunk (its ``reasons`` and ``raw_bad`` keyed
    by the row's position in the table); keywords as :func:`iter_chunks`."""
    chunks = list(
        iter_chunks(source, prices=prices, default_leverage=default_leverage, decimal=decimal, sheet=sheet)
    )
    chunks = [c for c in chunks if c.n_rows] or chunks[:1]  # an empty chunk's categories have no dtype
    table = Chunk(chunks[0].header)
    for name in ("line", "side", "bad"):
        setattr(table, name, np.concatenate([getattr(c, name) for c in chunks]))
    table.numbers = {k: np.concatenate([c.numbers[k] for c in chunks]) for k in chunks[0].numbers}
    table.texts = {k: union_categoricals([c.texts[k] for c in chunks]) for k in chunks[0].texts}
    table.extra = {k: union_categoricals([c.extra[k] for c in chunks]) for k in chunks[0].extra}
    at = 0  # the chunk's first row in the table
    for c in chunks:
        table.reasons.update({at + i: reason for i, reason in c.reasons.items()})
        table.raw_bad.update({at + i: raw for i, raw in c.raw_bad.items()})
        at += c.n_rows
    return table
