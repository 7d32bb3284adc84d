"""Matrix products: MatMul, and Linear (a product with its bias add fused in)."""

from ..autograd import Function


def _swap_last(a):
    return a.swapaxes(-1, -2)


class MatMul(Function):
    """f(a, b) = a @ b;  df/da = g @ b^T, df/db = a^T @ g (batched like numpy).

    A 1-D operand is treated as a row (left) or column (right) for the
    gradient, then the extra axis is dropped again.
    """

    def forward(self, a, b):
        self.saved = (a, b)
        return a @ b

    def backward(self, gy):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        if a.ndim > 1 and b.ndim > 1:  # the common case, without the 1-D bookkeeping below
            return (gy @ _swap_last(b) if need_a else None), (_swap_last(a) @ gy if need_b else None)
        # Give 1-D operands (and the gradient) back the axis matmul dropped.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = gy[..., None] if b.ndim == 1 else gy
        g2 = g2[..., None, :] if a.ndim == 1 else g2
        # A 1-D ``a`` gets (..., 1, k) here; unbroadcast sums that down to (k,).
        ga = g2 @ _swap_last(b2) if need_a else None
        gb = _swap_last(a2) @ g2 if need_b else None
        if gb is not None and b.ndim == 1:
            gb = gb[..., 0]
        return ga, gb


class Linear(Function):
    """f(x, W, b) = x @ W + b;  df/dx = g @ W^T, df/dW = x^T @ g, df/db = g summed
    over whatever axes the bias was broadcast along.

    Fusing the bias into the product saves a graph node and a broadcast per
    layer. ``x`` may have leading batch axes; they are flattened for the
    weight gradient so it is one matrix product.
    """

    def forward(self, x, weight, bias=None):
        self.saved = (x, weight)
        y = x @ weight
        if bias is not None:
            y += bias  # y is a fresh array, so adding in place is safe
        return y

    def backward(self, gy):
        x, weight = self.saved
        need = self.needs_input_grad
        gx = gy @ weight.T if need[0] else None
        gw = None
        if need[1]:
            gw = x.reshape(-1, x.shape[-1]).T @ gy.reshape(-1, gy.shape[-1])
        if len(need) == 2:  # no bias
            return gx, gw
        # The engine sums gy down to the bias's shape: (out,), (1, out) or (n, out).
        return gx, gw, (gy if need[2] else None)
