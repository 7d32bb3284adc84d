"""The gate arithmetic of the LSTM and GRU cells as fused ops.

Written with one op per operation, an LSTM step costs four slices, three
sigmoids, two tanhs, three products and a sum: thirteen graph nodes, each a
few microseconds of Python for a few microseconds of arithmetic (a GRU step
is worse). These ops do the same work in two nodes (LSTM) and one (GRU).

The LSTM ops both read the gate pre-activations ``z`` (..., 4H), blocks in
the order i, f, g, o (input, forget, candidate, output), and both hand back a
gradient for all of ``z`` that is zero outside their own blocks; the engine
adds the two.
"""

from ..autograd import Function
from ..backend import get_array_module
from .elementwise import sigmoid


class LSTMCellState(Function):
    """f(z, c) = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_g), the new cell state.

    With i, f, g the gate values:  df/dc = f,  df/dz_i = g i (1 - i),
    df/dz_f = c f (1 - f),  df/dz_g = i (1 - g^2),  df/dz_o = 0.
    """

    def forward(self, z, c):
        xp = get_array_module(z)
        n = c.shape[-1]
        gates = sigmoid(xp, z[..., : 2 * n])  # i and f in one call
        i, f = gates[..., :n], gates[..., n:]
        g = xp.tanh(z[..., 2 * n : 3 * n])
        self.saved = (i, f, g, c)
        return f * c + i * g

    def backward(self, gc):
        i, f, g, c = self.saved
        need_z, need_c = self.needs_input_grad
        gz = None
        if need_z:
            n = c.shape[-1]
            gz = get_array_module(gc).zeros(gc.shape[:-1] + (4 * n,), dtype=gc.dtype)
            gz[..., :n] = gc * g * i * (1 - i)
            gz[..., n : 2 * n] = gc * c * f * (1 - f)
            gz[..., 2 * n : 3 * n] = gc * i * (1 - g * g)
        return gz, (gc * f if need_c else None)


class LSTMHidden(Function):
    """f(z, c) = sigmoid(z_o) * tanh(c), the new hidden vector.

    With o the output gate and t = tanh(c):  df/dz_o = t o (1 - o),
    df/dc = o (1 - t^2),  and zero for the other blocks of z.
    """

    def forward(self, z, c):
        xp = get_array_module(z)
        n = c.shape[-1]
        o = sigmoid(xp, z[..., 3 * n :])
        t = xp.tanh(c)
        self.saved = (o, t)
        return o * t

    def backward(self, gh):
        o, t = self.saved
        need_z, need_c = self.needs_input_grad
        gz = None
        if need_z:
            n = t.shape[-1]
            gz = get_array_module(gh).zeros(gh.shape[:-1] + (4 * n,), dtype=gh.dtype)
            gz[..., 3 * n :] = gh * t * o * (1 - o)
        return gz, (gh * o * (1 - t * t) if need_c else None)


class GRUHidden(Function):
    """The GRU's new hidden vector from a = x @ W_ih + b_ih, b = h @ W_hh + b_hh
    (each (..., 3H), blocks r, u, n) and the previous hidden vector h:

        r = sigmoid(a_r + b_r),  u = sigmoid(a_u + b_u),  n = tanh(a_n + r b_n)
        f(a, b, h) = n + u (h - n)

    Backward, with p_n = (1 - u)(1 - n^2) g the gradient at n's pre-activation:
    df/dh = u g;  df/da = [p_r, p_u, p_n] and df/db = [p_r, p_u, r p_n], where
    p_u = (h - n) u (1 - u) g  and  p_r = b_n p_n r (1 - r).
    """

    def forward(self, a, b, h):
        xp = get_array_module(a)
        k = h.shape[-1]
        ru = sigmoid(xp, a[..., : 2 * k] + b[..., : 2 * k])
        r, u = ru[..., :k], ru[..., k:]
        b_n = b[..., 2 * k :]
        n = xp.tanh(a[..., 2 * k :] + r * b_n)
        self.saved = (r, u, n, b_n, h)
        return n + u * (h - n)

    def backward(self, gy):
        r, u, n, b_n, h = self.saved
        xp = get_array_module(gy)
        p_n = gy * (1 - u) * (1 - n * n)
        p_u = gy * (h - n) * u * (1 - u)
        p_r = p_n * b_n * r * (1 - r)
        need_a, need_b, need_h = self.needs_input_grad
        ga = xp.concatenate([p_r, p_u, p_n], axis=-1) if need_a else None
        gb = xp.concatenate([p_r, p_u, p_n * r], axis=-1) if need_b else None
        return ga, gb, (gy * u if need_h else None)


class RNNStep(Function):
    """One step of the Elman cell: f(x, h) = act(x @ W_ih + b_ih + h @ W_hh + b_hh),
    act tanh or sigmoid, as one op instead of two products, a sum and an activation.

    With p = g act'(z) (act' taken from the output: 1 - y^2 or y (1 - y)):
    df/dx = p W_ih^T, df/dh = p W_hh^T, df/dW_ih = x^T p, df/dW_hh = h^T p,
    and each bias gets p summed over the batch.
    """

    def forward(self, x, h, w_ih, b_ih, w_hh, b_hh, activation="sigmoid"):
        xp = get_array_module(x)
        z = x @ w_ih
        z += h @ w_hh
        z += b_ih
        z += b_hh
        y = xp.tanh(z, out=z) if activation == "tanh" else sigmoid(xp, z)
        self.saved = (x, h, w_ih, w_hh, y, activation == "tanh")
        return y

    def backward(self, gy):
        x, h, w_ih, w_hh, y, is_tanh = self.saved
        p = gy * ((1 - y * y) if is_tanh else y * (1 - y))
        need = self.needs_input_grad
        gb = p.sum(axis=0)
        return (p @ w_ih.T if need[0] else None, p @ w_hh.T if need[1] else None,
                x.T @ p if need[2] else None, gb, h.T @ p if need[4] else None, gb)
