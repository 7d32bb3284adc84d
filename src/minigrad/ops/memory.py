"""Ops of the end-to-end memory network (``minigrad.models.memory``): a table
whose padding row is held at zero, a position-weighted bag of word vectors,
and a softmax over memory slots that leaves the empty ones out."""

import numpy as np

from ..autograd import Function
from ..backend import ONE_HOT_LIMIT, get_array_module, sum_rows_by_index


class ZeroRow(Function):
    """f(W) = W with row ``row`` replaced by zeros;  df/dW = g with that row zeroed.

    Reading a table through this op makes its padding word contribute nothing
    wherever the table is used (lookups, bags, a tied read-out), and its
    gradient is exactly zero, so training never moves that row.
    """

    def forward(self, weight, row=0):
        self.row = row
        out = weight.copy()
        out[row] = 0
        return out

    def backward(self, gy):
        g = gy.copy()  # gy may be shared with another input's gradient: never edit it
        g[self.row] = 0
        return (g,)


class EmbeddingBag(Function):
    """f(W_1..W_k, ids) = sum_j l_j * [W_1 | .. | W_k][ids[..., j]], over the last axis of ``ids``;
    df/dW_i[v] = the sum of l_j * g_i over every slot j that holds word v.

    ``ids`` is (..., words); the tables, all (vocab, dim), are read side by
    side, so the result is (..., k * dim) with table i's bag in columns
    i * dim .. (i + 1) * dim: tables that read the same ids share one gather
    per word slot and one product in the backward. ``position`` is an
    optional (words, dim) array of weights l_j (position encoding); without
    it every l_j is 1 and this is a plain bag of words.

    Two ways to treat the id that fills out short sentences and empty slots:

    * ``padding``: that word adds nothing and its rows get no gradient, as if
      each table were read through ``ZeroRow``;
    * ``nil``: its rows are read like any other's, so they get their
      gradient; the caller holds them at zero (the memory network authors'
      nil word), and while they are zero a bag of nothing but ``nil`` is
      zero and is not gathered.

    Either way a bag of nothing but that id (most memory slots of most
    stories) costs no gathers, here or in backward.
    """

    def forward(self, *weights, ids, position=None, padding=None, nil=None):
        xp = get_array_module(ids)
        side = xp.concatenate(weights, axis=1)  # (vocab, k * dim), a fresh array
        if padding is not None:
            side[padding] = 0
        blank = padding if nil is None or side[nil].any() else nil  # the id of the bags known to be zero
        words = ids.shape[-1]
        if position is not None:
            # The weights go on the small (words, vocab, k * dim) tables, not on every bag's copy of them.
            position = xp.tile(position.astype(side.dtype, copy=False), len(weights))
            slot_tables = side * position[:, None, :]
        else:
            slot_tables = (side,) * words
        self.n_rows, self.count, self.position, self.padding = side.shape[0], len(weights), position, padding
        self.nil = nil
        self.filled = None if blank is None else (ids != blank).any(axis=-1)
        if self.filled is None or self.filled.all():
            self.filled, self.ids = None, ids
            return self._bags(slot_tables, ids)
        self.ids = ids[self.filled]
        out = xp.zeros(ids.shape[:-1] + side.shape[1:], dtype=side.dtype)
        out[self.filled] = self._bags(slot_tables, self.ids)
        return out

    @staticmethod
    def _bags(slot_tables, ids):
        # One gather per word slot, added in place: cheaper than gathering (..., words, k * dim) and summing it.
        out = slot_tables[0][ids[..., 0]]
        for j in range(1, ids.shape[-1]):
            out += slot_tables[j][ids[..., j]]
        return out

    def backward(self, gy):
        xp = get_array_module(gy)
        ids = self.ids.reshape(-1, self.ids.shape[-1]) % self.n_rows  # (bags, words); negative ids count from the end
        g = gy[self.filled] if self.filled is not None else gy
        g = g.reshape(len(ids), -1)  # (bags, k * dim)
        bags, words = ids.shape
        if xp is not np or ids.size * self.n_rows > ONE_HOT_LIMIT:
            grad = self._scattered(xp, ids, g)
        else:
            # Row j * vocab + v of the one-hot marks the bags holding word v at slot j, so one
            # product gives every slot's sums; l_j then weighs the (vocab, k * dim) results.
            one_hot = np.zeros((words * self.n_rows, bags), dtype=g.dtype)
            one_hot[ids + np.arange(words) * self.n_rows, np.arange(bags)[:, None]] = 1
            sums = (one_hot @ g).reshape(words, self.n_rows, -1)
            if self.position is not None:
                sums *= self.position[:, None, :]
            grad = sums.sum(axis=0)
        if self.padding is not None:
            grad[self.padding] = 0
        elif self.nil is not None and self.filled is not None:
            grad[self.nil] += self._blank_gradient(gy)
        return tuple(xp.split(grad, self.count, axis=1))

    def _blank_gradient(self, gy):
        """The nil rows' gradient from the bags left out: each holds nil at every slot j, so sum_j l_j * g."""
        blank = gy[~self.filled].reshape(-1, gy.shape[-1]).sum(axis=0)
        weights = self.position.sum(axis=0) if self.position is not None else self.ids.shape[-1]
        return weights * blank

    def _scattered(self, xp, ids, g):
        """The same (vocab, k * dim) gradient as one scatter-add of every slot's l_j * g (large vocabularies, GPUs)."""
        spread = xp.broadcast_to(g[:, None, :], ids.shape + g.shape[-1:])
        if self.position is not None:
            spread = spread * self.position
        rows = xp.ascontiguousarray(spread).reshape(ids.size, -1)
        return sum_rows_by_index(ids.reshape(-1), rows, self.n_rows)


class MaskedSoftmax(Function):
    """y = softmax of x over the last axis, taken over the slots where ``mask``
    is true; y = 0 exactly where it is false;  dx = y * (g - sum(g * y)).

    A row with no true slot gives all zeros. The shift by the row's largest
    real score keeps exp() from overflowing, as in ``Softmax``.
    """

    def forward(self, x, mask):
        xp = get_array_module(x)
        top = xp.where(mask, x, -xp.inf).max(axis=-1, keepdims=True)
        top = xp.where(xp.isfinite(top), top, 0)  # rows without a real slot
        e = xp.exp(xp.where(mask, x - top, -xp.inf))  # exp(-inf) = 0: no weight on empty slots
        total = e.sum(axis=-1, keepdims=True)
        self.y = e / xp.where(total > 0, total, 1)
        return self.y

    def backward(self, gy):
        y = self.y
        return (y * (gy - (gy * y).sum(axis=-1, keepdims=True)),)
