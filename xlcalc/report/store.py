"""Read stage of the report: the reader's validated chunks, kept in a temporary file for the
later passes, with each account's row count and sums (:class:`Rows`)."""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._inputs import InputError, Inputs
from .compute import AccountSums, Levels, Positions, hedged_totals, row_terms
from .reader import account_key, iter_chunks

__all__ = ["Rows", "Store", "read_rows"]


class Store:
    """Pickled chunks in an anonymous temporary file: what the later passes re-read."""

    def __init__(self):
        self.file = tempfile.TemporaryFile(prefix="xlcalc-report-")
        self.offsets, self.lengths, self.width = [], [], 0  # width: fields of the longest rejected row

    def append(self, obj, n_rows):
        self.file.seek(0, os.SEEK_END)
        self.offsets.append(self.file.tell())
        self.lengths.append(n_rows)
        pickle.dump(obj, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, i):
        self.file.seek(self.offsets[i])
        return pickle.load(self.file)

    def add_rejected(self, chunk) -> list:
        """Keeps the rejected rows of ``chunk`` (line, reason, raw fields) in input order;
        returns their raw fields."""
        order = sorted(chunk.reasons)
        raw = [chunk.raw_bad[i] for i in order]
        self.width = max([self.width] + [len(r) for r in raw])
        if order:
            self.append(
                dict(line=chunk.line[order], reasons=[chunk.reasons[i] for i in order], raw=raw), len(order)
            )
        return raw


@dataclass
class Rows:
    """The input after reading and validation: valid rows (``positions``, chunk by chunk, on
    disk), rejected rows (``errors``), counts, and the per-account ``totals`` of
    :func:`compute.row_terms`. ``account_deposit``: each account's deposit (cross) or the sum
    of its rows' deposits (isolated)."""

    header: object  # reader.Header: fields, raw_columns
    cross: bool
    extra_headers: list  # the input's other columns, kept as text
    positions: Store = field(default_factory=Store)
    errors: Store = field(default_factory=Store)
    rows_in: int = 0
    n_positions: int = 0
    n_errors: int = 0
    account_names: list = None
    counts: np.ndarray = None
    totals: dict = None
    account_deposit: np.ndarray = None
    n_at_entry: int = 0  # positions valued at their entry price: no price was given
    n_not_in_prices: int | None = None  # positions the prices file had no price for (None: no file)
    tick_size: float | None = None  # the option, for rows without a tick_size column
    quote_rate: float = 1.0  # the option, for rows without a quote_rate column

    def positions_of(self, kept: dict) -> Positions:
        """The Positions of kept rows, with their tick and quote rate (column, else option)."""
        num = kept["numbers"]
        return Positions(
            side=kept["side"],
            entry_price=num["entry_price"],
            quantity=num["quantity"],
            leverage=num["leverage"],
            price=num["price"],
            fees=num["fees"],
            group=kept["group"],
            n_groups=max(len(self.counts) if self.counts is not None else 1, 1),
            tick_size=num.get("tick_size", self.tick_size),
            quote_rate=num.get("quote_rate", self.quote_rate),
            extra=_symbols(kept["texts"].get("symbol")),
        )

    def chunk(self, i, levels: Levels):
        """Stored chunk ``i``: its rows (dict), Positions and the levels of its rows."""
        rows = self.positions.load(i)
        pos = self.positions_of(rows)
        return rows, pos, levels.for_rows(pos)

    def close(self):
        self.positions.file.close()
        self.errors.file.close()


def _symbols(symbol) -> dict:
    """Rows by symbol (a Categorical of the symbol column), for the tier table of each."""
    if symbol is None:
        return {}
    return {"symbol_codes": np.asarray(symbol.codes), "symbols": list(symbol.categories)}


def read_rows(
    source, levels: Levels, deposit, *, lang="en", tick_size=None, quote_rate=1.0, **reader_options
) -> Rows:
    """Read and validate ``source`` chunk by chunk (reader.iter_chunks) into :class:`Rows`;
    ``tick_size`` and ``quote_rate`` serve the rows without such a column."""
    rows = None
    accounts, sums, legs = {}, AccountSums(), {}
    try:
        for chunk in iter_chunks(source, lang=lang, **reader_options):
            if rows is None:
                rows = Rows(
                    header=chunk.header,
                    cross="deposit" not in chunk.header.fields,
                    extra_headers=list(chunk.extra),
                    tick_size=tick_size,
                    quote_rate=quote_rate,
                    n_not_in_prices=0 if reader_options.get("prices") else None,
                )
                if rows.cross and deposit is None:
                    raise InputError(
                        "a deposit is needed: add a deposit (証拠金) column to the input "
                        "(isolated positions) or give --deposit (one cross-margin account"
                        " per account value)"
                    )
                if rows.cross:
                    deposit = Inputs().number("deposit", deposit, rule="nonnegative")
            _keep(rows, chunk, accounts, sums, levels, legs)
    except BaseException:
        if rows is not None:
            rows.close()
        raise
    n_groups = max(len(accounts), 1)
    rows.account_names = list(accounts) or None
    rows.totals = {k: np.concatenate([v, np.zeros(n_groups - len(v))]) for k, v in sums.totals.items()}
    rows.counts = rows.totals.pop("count", np.zeros(n_groups)).astype(np.int64)
    rows.account_deposit = np.full(n_groups, float(deposit)) if rows.cross else rows.totals.get("deposit")
    if levels.hedge == "max" and rows.cross:
        rows.totals = hedged_totals(rows.totals, legs, levels)
    return rows


def _keep(rows, chunk, accounts, sums, levels, legs):
    rows.rows_in += chunk.n_rows
    rows.n_errors += len(rows.errors.add_rejected(chunk))
    v = ~chunk.bad
    num = {k: a[v] for k, a in chunk.numbers.items()}
    n = len(num["entry_price"])
    group = np.zeros(n, dtype=np.int64)
    if "account" in chunk.texts and n:  # account numbers in order of first appearance
        # one account however its cell is spaced or its digits are written (１２３４ is 1234)
        codes, uniques = pd.factorize(np.asarray(chunk.texts["account"][v], dtype=object))
        names = [account_key(u) for u in uniques]
        group = np.array([accounts.setdefault(a, len(accounts)) for a in names], dtype=np.int64)[codes]
    rows.n_at_entry += int(np.count_nonzero(chunk.at_entry[v]))
    if rows.n_not_in_prices is not None:
        rows.n_not_in_prices += int(np.count_nonzero(chunk.not_in_prices[v]))
    kept = dict(
        numbers=num,
        side=chunk.side[v],
        group=group,
        line=chunk.line[v],
        texts={k: c[v] for k, c in chunk.texts.items()},
        extra={k: c[v] for k, c in chunk.extra.items()},
    )
    rows.positions.append(kept, n)
    rows.n_positions += n
    if n:
        n_groups = max(len(accounts), 1)
        pos = rows.positions_of(kept)
        pos.n_groups = n_groups
        terms = row_terms(pos, levels.for_rows(pos), None if rows.cross else num["deposit"])
        sums.add(dict(count=1.0, **terms), group, n_groups)
        if levels.hedge == "max" and rows.cross:  # each leg's margin, for the larger side
            symbol = np.asarray(kept["texts"]["symbol"], dtype=object) if "symbol" in kept["texts"] else ""
            shown = terms.get("margin_shown", terms["margin"])
            frame = pd.DataFrame(
                dict(g=group, sym=symbol, side=pos.side, m=terms["margin"], rl=terms["rm_lc"], ms=shown)
            )
            sums = frame.groupby(["g", "sym", "side"], sort=False)[["m", "rl", "ms"]].sum()
            for (g, sym, side), values in sums.iterrows():
                leg = legs.setdefault((int(g), sym, float(side)), [0.0, 0.0, 0.0])
                leg[:] = [a + b for a, b in zip(leg, values)]
