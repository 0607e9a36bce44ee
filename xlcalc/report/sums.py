"""Per-account sums fed chunk by chunk that equal, to the last bit, the sums the in-memory
report takes over whole columns, so streaming changes no figure.

* :class:`RowOrderSums`: ``np.bincount(group, weights)`` — one row after another.
* :class:`PairwiseSums`: ``np.sum`` of each account's rows (what :func:`xlcalc.account_state`
  and :func:`xlcalc.market_move_to_level` take) — numpy's pairwise summation: blocks of at
  most 128 values summed with 8 running accumulators, the blocks halved and added as a tree.
  The tree depends on the account's row count, which the first pass over the input counts.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x, g = rng.standard_normal(1000) * 1e6, rng.integers(0, 3, 1000)
>>> ps = PairwiseSums(np.bincount(g, minlength=3), 1)
>>> for a in range(0, 1000, 300):
...     ps.add(g[a:a + 300], x[None, a:a + 300])
>>> [float(t) for t in ps.totals()[:, 0]] == [float(np.sum(x[g == i])) for i in range(3)]
True
"""
from __future__ import annotations

import numpy as np

__all__ = ["RowOrderSums", "PairwiseSums"]

_BLOCK = 128   # numpy's PW_BLOCKSIZE
_LANES = 8     # its unrolling


class RowOrderSums:
    """Sums per group in row order, like ``np.bincount`` (groups may appear as it goes)."""

    def __init__(self, keys):
        self.sums = {k: np.zeros(0) for k in keys}

    def add(self, group, terms: dict, n_groups: int):
        for key, values in terms.items():
            acc = self.sums[key]
            if len(acc) < n_groups:
                acc = self.sums[key] = np.concatenate([acc, np.zeros(n_groups - len(acc))])
            np.add.at(acc, group, np.broadcast_to(values, group.shape))

    def totals(self, n_groups: int) -> dict:
        return {k: np.concatenate([v, np.zeros(max(n_groups - len(v), 0))]) for k, v in self.sums.items()}


def _tree(n, sizes, merges):
    """numpy's split of n values: leaf block sizes in order, merges after each leaf."""
    if n <= _BLOCK:
        sizes.append(n)
        merges.append(0)
        return
    half = n // 2
    half -= half % _LANES
    _tree(half, sizes, merges)
    _tree(n - half, sizes, merges)
    merges[-1] += 1


class PairwiseSums:
    """``np.sum`` of each group's rows, for ``q`` quantities at once, fed in row order.

    ``counts``: rows of each group over the whole input. ``add(group, values)`` takes the
    next rows (``values`` shaped ``(q, rows)``); ``totals()`` gives ``(groups, q)``.
    """

    def __init__(self, counts, q: int):
        counts = np.asarray(counts, dtype=np.int64)
        self.q = q
        self.base = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
        self.done = np.zeros(len(counts), dtype=np.int64)
        starts, sizes, merges, groups = [], [], [], []
        for gi, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            sz, mg = [], []
            _tree(n, sz, mg)
            starts.append(self.base[gi] + np.concatenate([[0], np.cumsum(sz)[:-1]]))
            sizes += sz
            merges += mg
            groups += [gi] * len(sz)
        cat = (lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dtype=dt))
        self.leaf_start = cat(starts, np.int64)
        self.leaf_size = np.asarray(sizes, dtype=np.int64)
        self.leaf_merges = merges
        self.leaf_group = groups
        self.carry = {}                                    # leaf -> (lanes (q, 8), result (q,))
        self.stacks = [[] for _ in range(len(counts))]

    def add(self, group, values):
        group = np.asarray(group, dtype=np.int64)
        m = len(group)
        if m == 0:
            return
        values = np.asarray(values, dtype=float).reshape(self.q, m)
        # the position of each row within its group: rows already done + rank in this chunk
        order = np.argsort(group, kind="stable")
        sorted_g = group[order]
        rank = np.empty(m, dtype=np.int64)
        rank[order] = np.arange(m) - np.searchsorted(sorted_g, sorted_g, "left")
        key = self.base[group] + self.done[group] + rank
        leaf = np.searchsorted(self.leaf_start, key, "right") - 1
        pos = key - self.leaf_start[leaf]
        size = self.leaf_size[leaf]
        main_len = np.where(size >= _LANES, size - size % _LANES, 0)
        main = pos < main_len
        touched, u = np.unique(leaf, return_inverse=True)
        n_u = len(touched)
        # -0.0 is the exact identity of the lanes (numpy starts them at the first values);
        # a block under 8 values starts its result at +0.0 as numpy does.
        lanes = np.full((self.q, n_u * _LANES), -0.0)
        result = np.zeros((self.q, n_u))
        for j, lf in enumerate(touched.tolist()):
            if lf in self.carry:
                ln, res = self.carry.pop(lf)
                lanes[:, j * _LANES:(j + 1) * _LANES] = ln
                result[:, j] = res
        slot = u[main] * _LANES + pos[main] % _LANES
        for k in range(self.q):
            np.add.at(lanes[k], slot, values[k, main])
        closes = np.unique(u[main & (pos == main_len - 1)])   # lanes complete: fold them
        if len(closes):
            r = lanes.reshape(self.q, n_u, _LANES)[:, closes, :]
            result[:, closes] = ((r[..., 0] + r[..., 1]) + (r[..., 2] + r[..., 3])) + \
                ((r[..., 4] + r[..., 5]) + (r[..., 6] + r[..., 7]))
        rest = u[~main]                                          # the tail, one by one
        for k in range(self.q):
            np.add.at(result[k], rest, values[k, ~main])
        finished = set(np.unique(u[pos == size - 1]).tolist())
        for j, lf in enumerate(touched.tolist()):
            if j not in finished:
                self.carry[lf] = (lanes[:, j * _LANES:(j + 1) * _LANES].copy(), result[:, j].copy())
                continue
            stack = self.stacks[self.leaf_group[lf]]
            stack.append(result[:, j].copy())
            for _ in range(self.leaf_merges[lf]):
                right = stack.pop()
                stack[-1] = stack[-1] + right
        self.done += np.bincount(group, minlength=len(self.done))

    def totals(self) -> np.ndarray:
        out = np.zeros((len(self.stacks), self.q))
        for gi, stack in enumerate(self.stacks):
            if stack:
                assert len(stack) == 1, "rows missing from a group"
                out[gi] = 0.0 + stack[0]   # numpy adds the blocks to a +0.0 start
        return out
