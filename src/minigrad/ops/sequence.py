"""Whole recurrent layers as single ops: the time loop runs inside forward
and backward, on raw arrays.

Unrolled one op per step, an LSTM over 66 steps is some 300 graph nodes,
each paying Python bookkeeping for a few microseconds of arithmetic. Here the
input's contribution to every gate, ``x @ W_ih + b``, is computed for all
steps by the caller in one large matrix product (``xz``; for word ids, the
LSTM can take the embedding table times W_ih and pick its rows itself); the
op then loops over time doing only what must be sequential, ``h @ W_hh`` and the gate
arithmetic, into preallocated arrays. Backward walks time in reverse
(backpropagation through time) and gets the gradient of ``W_hh`` for all
steps from one matrix product at the end.

Arrays are time-major, (time, batch, features), so each step's slice is
contiguous.
"""

from ..autograd import Function
from ..backend import get_array_module, sum_rows_by_index
from .elementwise import sigmoid


def _previous(hs, h0):
    """The hidden vector before each step: h0, then hs[0], ..., hs[T-2], as (T*B, H)."""
    xp = get_array_module(hs)
    return xp.concatenate([h0[None], hs[:-1]]).reshape(-1, hs.shape[-1])


def _times_transposed(xp, z, w, out):
    """z @ w.T, computed as (w @ z.T).T into ``out`` (w.shape[0], z.shape[0]).

    The same product, but OpenBLAS runs it about 10% faster with the long side
    of w as rows, and it needs no transposed copy of w, which for a 512 x 2048
    matrix took as long as six of these products. The result is a transposed
    view; the elementwise ops that follow read it at little extra cost.
    """
    xp.matmul(w, z.T, out=out)
    return out.T


def _gate_scale_and_shift(xp, batch, n, dtype):
    """(4, batch, n) arrays, one block per gate, that turn one tanh into the
    four gates' nonlinearities.

    sigmoid(z) = 0.5 tanh(0.5 z) + 0.5, so scaling i, f and o by 0.5 before
    and after a tanh and adding 0.5, while g keeps scale 1 and shift 0, gives
    sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) with no temporary arrays.
    They are full-sized rather than broadcast: numpy multiplies two arrays of
    one shape about twice as fast as it broadcasts a smaller one.
    """
    scale = xp.full((4, batch, n), 0.5, dtype=dtype)
    shift = xp.full((4, batch, n), 0.5, dtype=dtype)
    scale[2], shift[2] = 1, 0
    return scale, shift


def _gates_first(xp, array, n):
    """A view of (..., 4H), gates side by side, as gate-major (4, ..., H) for a
    matrix, or (T, 4, ..., H) for a sequence."""
    blocks = array.reshape(array.shape[:-1] + (4, n))
    return xp.moveaxis(blocks, -2, 0 if array.ndim == 2 else 1)


def _scaled_inputs(xp, xz, rows, scale):
    """Every step's input term of the gates, gate-major (T, 4, B, H) and
    times ``scale``: from xz (T, B, 4H), or with ``rows`` (T, B) from the
    rows of the table xz (V, 4H) those ids, already in [0, V), pick.

    A table is scaled while it is small and its rows are gathered straight
    into place with one fancy index, rather than gathered into a (T, B, 4H)
    array that would then be copied gate-major: one pass over the
    (T, 4, B, H) values instead of two. (``take`` into a preallocated array
    would be two passes again: numpy buffers it.)
    """
    n = scale.shape[-1]
    if rows is None:
        steps, batch = xz.shape[:2]
        acts = xp.empty((steps, 4, batch, n), dtype=xz.dtype)
        return xp.multiply(_gates_first(xp, xz, n), scale, out=acts)
    vocab = xz.shape[0]
    table = (_gates_first(xp, xz, n) * scale[:, :1]).reshape(4 * vocab, n)  # gate k of word r: row k V + r
    picks = rows[:, None, :] + vocab * get_array_module(rows).arange(4)[:, None]  # (T, 4, B), where the ids live
    return table[picks]


def _table_rows(ids, vocab):
    """``ids`` as rows of a table of ``vocab`` rows, negative ones counted from
    the end as in indexing; an id outside [-vocab, vocab) raises IndexError."""
    outside = (ids < -vocab) | (ids >= vocab)
    if outside.any():
        raise IndexError(f"LSTMLayer: id {int(ids[outside][0])} is out of range for a table of {vocab} rows")
    return ids % vocab


def _local_derivatives(acts, cs, tanh_cs, c0):
    """Every step's local derivatives, for all steps at once before backward's
    sequential loop, which then only multiplies them by gc and gh.

    With the gate values a (acts, gate-major), sigmoid' = a (1 - a) and
    tanh' = 1 - a^2. Returns ``through`` (T, 4, B, H), the derivatives of
    c_t by the pre-activations of i, f and g (g sigmoid'(i), c_{t-1}
    sigmoid'(f), i tanh'(g)) and of h_t by that of o (tanh c_t sigmoid'(o));
    and ``c_to_h`` (T, B, H), the derivative of h_t by c_t, o (1 - tanh^2 c_t).
    """
    i, g, o = acts[:, 0], acts[:, 2], acts[:, 3]
    through = acts * (1 - acts)
    through[:, 2] = 1 - g * g
    through[:, 0] *= g
    through[0, 1] *= c0
    through[1:, 1] *= cs[:-1]
    through[:, 2] *= i
    through[:, 3] *= tanh_cs
    return through, o * (1 - tanh_cs * tanh_cs)


class LSTMLayer(Function):
    """An LSTM over a whole sequence: hs = LSTM(xz, W_hh, h0, c0).

    With z_t = xz_t + h_{t-1} @ W_hh split into blocks i, f, g, o::

        c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g),   h_t = sigmoid(o) tanh(c_t)

    Inputs: xz (T, B, 4H), W_hh (H, 4H), h0 and c0 (B, H). With ``rows``,
    an integer array (T, B), xz is instead a table (V, 4H) and step t's input
    term for example b is its row ``rows[t, b]``: an embedding table already
    multiplied by the input weights, whose gradient comes back as the table's.
    Output: (T + 1, B, H): the hidden vector of every step, then one more row
    holding the last cell state c_T, so that a sequence continued from
    (h_T, c_T) backpropagates into this one too.

    Inside, the gates are kept gate-major, (T, 4, B, H) rather than
    (T, B, 4H), so that each gate of a step is one contiguous (B, H) block:
    numpy multiplies those about three times as fast as the strided column
    blocks of (B, 4H), and OpenBLAS computes h @ W_hh as four (H, H)
    products (one batched call) faster than as one (H, 4H) product, by about
    a sixth at H = 100 and a quarter at H = 512.
    """

    def forward(self, xz, w_hh, h0, c0, rows=None):
        xp = get_array_module(xz)
        batch, n = h0.shape
        self.table_size = xz.shape[0]
        self.rows = None if rows is None else _table_rows(rows, self.table_size)  # checked once, for both passes
        scale, shift = _gate_scale_and_shift(xp, batch, n, xz.dtype)
        # The scale inside the tanh goes on xz and W_hh once, rather than on z at every step.
        # It is 0.5 or 1, so the products are exactly what scaling z would give.
        acts = _scaled_inputs(xp, xz, self.rows, scale)  # becomes the gate values i, f, g, o
        self.steps = steps = acts.shape[0]
        w_gates = xp.empty((4, n, n), dtype=w_hh.dtype)  # W_hh's four (H, H) blocks, scaled
        xp.multiply(_gates_first(xp, w_hh, n), scale[:, :1], out=w_gates)
        cs = xp.empty((steps,) + c0.shape, dtype=xz.dtype)
        tanh_cs = xp.empty_like(cs)
        out = xp.empty((steps + 1,) + c0.shape, dtype=xz.dtype)
        input_gated = xp.empty_like(c0)  # sigmoid(i) tanh(g), reused every step
        recurrent = xp.empty_like(acts[0])  # h @ W_hh (scaled), reused every step
        h, c = h0, c0
        for t in range(steps):
            a = acts[t]
            a += xp.matmul(h, w_gates, out=recurrent)
            # sigmoid on i, f, o and tanh on g, as one tanh over all four blocks
            xp.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, g, o = a
            c = xp.multiply(f, c, out=cs[t])
            c += xp.multiply(i, g, out=input_gated)
            h = xp.multiply(o, xp.tanh(c, out=tanh_cs[t]), out=out[t])
        out[steps] = c
        self.saved = (acts, cs, tanh_cs, out[:steps], w_hh, h0, c0)
        return out

    def backward(self, g_out):
        acts, cs, tanh_cs, hs, w_hh, h0, c0 = self.saved
        xp = get_array_module(g_out)
        steps, _, batch, n = acts.shape
        through, c_to_h = _local_derivatives(acts, cs, tanh_cs, c0)
        gz = xp.empty((steps, batch, 4 * n), dtype=acts.dtype)  # gradient at each step's gate pre-activations
        gz_blocks = gz.reshape(steps, batch, 4, n)
        # The loop writes into these buffers instead of allocating new arrays each step.
        gz_gates = xp.empty_like(acts[0])  # one step's gz, gate-major
        gh_t = xp.zeros((n, batch), dtype=h0.dtype)  # gradient at h, transposed (H, B)
        gh, through_h = xp.empty_like(h0), xp.empty_like(h0)
        gc = g_out[-1].copy()  # gradient at c
        for t in range(steps - 1, -1, -1):
            xp.add(gh_t.T, g_out[t], out=gh)
            gc += xp.multiply(gh, c_to_h[t], out=through_h)
            xp.multiply(gc, through[t, :3], out=gz_gates[:3])  # i, f and g reach h through c
            xp.multiply(gh, through[t, 3], out=gz_gates[3])     # o reaches h directly
            gz_blocks[t] = gz_gates.transpose(1, 0, 2)
            _times_transposed(xp, gz[t], w_hh, out=gh_t)
            gc *= acts[t, 1]  # through the forget gate to c_{t-1}
        g_w = _previous(hs, h0).T @ gz.reshape(-1, gz.shape[-1]) if self.needs_input_grad[1] else None
        return self._input_gradient(gz), g_w, xp.ascontiguousarray(gh_t.T), gc

    def _input_gradient(self, gz):
        """gz itself, or with ``rows`` the table's gradient: each row's sum of the steps that picked it."""
        if self.rows is None:
            return gz
        if not self.needs_input_grad[0]:
            return None
        return sum_rows_by_index(self.rows.reshape(-1), gz.reshape(-1, gz.shape[-1]), self.table_size)


class RNNLayer(Function):
    """An Elman RNN over a whole sequence: h_t = act(xz_t + h_{t-1} @ W_hh),
    with act tanh or sigmoid.

    Inputs: xz (T, B, H), W_hh (H, H), h0 (B, H). Output: hs (T, B, H).
    """

    def forward(self, xz, w_hh, h0, activation="tanh"):
        xp = get_array_module(xz)
        self.tanh = activation == "tanh"
        hs = xp.empty_like(xz)
        h = h0
        for t in range(xz.shape[0]):
            z = xz[t] + h @ w_hh
            h = xp.tanh(z, out=hs[t]) if self.tanh else sigmoid(xp, z, out=hs[t])
        self.saved = (hs, w_hh, h0)
        return hs

    def backward(self, ghs):
        hs, w_hh, h0 = self.saved
        xp = get_array_module(ghs)
        # tanh' = 1 - h^2 and sigmoid' = h (1 - h), both from the output, for all steps at once.
        slopes = 1 - hs * hs if self.tanh else hs * (1 - hs)
        gz = xp.empty_like(hs)
        gh = xp.zeros_like(h0)
        gh_t = xp.empty(h0.shape[::-1], dtype=h0.dtype)
        for t in range(hs.shape[0] - 1, -1, -1):
            gh = gh + ghs[t]
            xp.multiply(gh, slopes[t], out=gz[t])
            gh = _times_transposed(xp, gz[t], w_hh, out=gh_t)
        g_w = _previous(hs, h0).T @ gz.reshape(-1, gz.shape[-1]) if self.needs_input_grad[1] else None
        return gz, g_w, xp.ascontiguousarray(gh)
