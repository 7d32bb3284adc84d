"""Ops of the end-to-end memory network (``minigrad.nn.memory``): a table
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
    """f(W, ids) = sum_j l_j * W[ids[..., j]], over the last axis of ``ids``;
    df/dW[v] = the sum of l_j * g over every slot j that holds word v.

    ``ids`` is (..., words) and the result (..., dim). ``position`` is an
    optional (words, dim) array of weights l_j (position encoding); without it
    every l_j is 1 and this is a plain bag of words. The vectors are summed in
    one gather and one reduction. The backward counts, for each word slot j,
    which bags hold word v there (a one-hot array), so the gradient is one
    small product per slot, weighted by l_j afterwards on the (vocab, dim)
    results rather than on every bag's copy of g.
    """

    def forward(self, weight, ids, position=None):
        rows = weight[ids]  # (..., words, dim), a fresh array
        if position is not None:
            position = position.astype(weight.dtype, copy=False)
            rows *= position
        self.ids, self.position, self.n_rows = ids, position, weight.shape[0]
        return rows.sum(axis=-2)

    def backward(self, gy):
        xp = get_array_module(gy)
        ids = self.ids.reshape(-1, self.ids.shape[-1])  # (bags, words)
        g = gy.reshape(len(ids), -1)  # (bags, dim)
        if xp is not np or ids.size * self.n_rows > ONE_HOT_LIMIT:
            return (self._scattered(xp, ids, g),)
        bags, words = ids.shape
        one_hot = np.zeros((words, self.n_rows, bags), dtype=g.dtype)
        one_hot[np.arange(words)[:, None], ids.T, np.arange(bags)] = 1  # [j, v, n]: bag n has v at slot j
        if self.position is None:
            return (one_hot.sum(axis=0) @ g,)
        return (((one_hot @ g) * self.position[:, None, :]).sum(axis=0),)

    def _scattered(self, xp, ids, g):
        """The same gradient as one scatter-add of every slot's l_j * g (large vocabularies, GPUs)."""
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
