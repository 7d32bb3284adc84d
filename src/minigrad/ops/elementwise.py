"""Elementwise ops. Broadcasting is undone by the engine, not here."""

import numpy as np

from ..autograd import Function
from ..backend import get_array_module


class Add(Function):
    """f(a, b) = a + b;  df/da = df/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    """f(a, b) = a - b;  df/da = 1, df/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, (-gy if self.needs_input_grad[1] else None)


class Mul(Function):
    """f(a, b) = a * b;  df/da = b, df/db = a."""

    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, gy):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


class Div(Function):
    """f(a, b) = a / b;  df/da = 1/b, df/db = -a/b^2."""

    def forward(self, a, b):
        self.saved = (a, b)
        return a / b

    def backward(self, gy):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        ga = gy / b if need_a else None
        gb = -gy * a / (b * b) if need_b else None
        return ga, gb


class Neg(Function):
    """f(x) = -x;  f' = -1."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


class Pow(Function):
    """f(x) = x^p for a constant number p;  f' = p x^(p-1), and exactly 0 for
    p = 0 (x^0 is 1 everywhere, also at x = 0, where p x^(p-1) would be 0 * inf)."""

    def forward(self, x, exponent):
        self.saved = (x, exponent)
        return x**exponent

    def backward(self, gy):
        x, p = self.saved
        if p == 0:
            return (get_array_module(gy).zeros(x.shape, dtype=gy.dtype),)
        return (gy * (p * x ** (p - 1)),)


class PowTensor(Function):
    """f(x, p) = x^p elementwise with the exponent a tensor too (either side may
    be a constant). As in PyTorch:

        df/dx = p x^(p-1), and 0 where p = 0;
        df/dp = x^p ln x,  and 0 where x = 0 and p >= 0 (x^p is 0 or 1 there).

    Elsewhere the formulas give what the arithmetic gives: at a negative base
    ln x is NaN (x^p is real only at whole p there, so it has no derivative in
    p), at x = 0 with p < 0 the exponent's gradient is -inf, and at x = inf it
    is inf or NaN. The base's gradient is finite wherever the derivative is,
    negative bases included (it never goes through ln x).
    """

    def forward(self, x, p):
        y = x**p
        self.saved = (x, p, y)
        return y

    def backward(self, gy):
        x, p, y = self.saved
        xp = get_array_module(gy)
        need_x, need_p = self.needs_input_grad
        gx = gp = None
        with np.errstate(divide="ignore", invalid="ignore"):  # inf and NaN here are the answer, not an accident
            if need_x:
                gx = xp.where(p == 0, 0, gy * (p * x ** (p - 1)))
            if need_p:
                gp = gy * xp.where((x == 0) & (p >= 0), 0, y * xp.log(x))
        return gx, gp


class Cast(Function):
    """f(x) = x converted to ``dtype``;  the gradient is converted back."""

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, gy):
        return (gy.astype(self.dtype),)


class Exp(Function):
    """f(x) = e^x;  f' = e^x, so the output is saved instead of the input."""

    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        return (gy * self.y,)


class Log(Function):
    """f(x) = ln x;  f' = 1/x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        return (gy / self.x,)


class Tanh(Function):
    """f(x) = tanh x;  f' = 1 - tanh^2 x."""

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        return (gy * (1 - self.y * self.y),)


def sigmoid(xp, x, out=None):
    """1 / (1 + e^-x) on raw arrays, written as 0.5 tanh(x / 2) + 0.5: tanh never
    overflows, where e^-x does for x < -88 in float32. Ops that fuse a sigmoid
    into their own forward (the recurrent ones) call this too."""
    y = xp.tanh(x * 0.5, out=out)
    y *= 0.5
    y += 0.5
    return y


class Sigmoid(Function):
    """f(x) = 1 / (1 + e^-x);  f' = f (1 - f)."""

    def forward(self, x):
        self.y = sigmoid(get_array_module(x), x)
        return self.y

    def backward(self, gy):
        y = self.y
        return (gy * y * (1 - y),)


class ReLU(Function):
    """f(x) = max(x, 0);  f' = 1 where x > 0, else 0 (taking 0 at x = 0).

    NaN stays NaN and passes its gradient through, as in PyTorch."""

    def forward(self, x):
        self.positive = ~(x <= 0)  # not x > 0, which would stop the gradient at NaN
        return get_array_module(x).maximum(x, 0)

    def backward(self, gy):
        return (gy * self.positive,)
