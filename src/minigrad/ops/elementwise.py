"""Elementwise ops. Broadcasting is undone by the engine, not here."""

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
    """f(x) = x^p for a constant p;  f' = p x^(p-1)."""

    def forward(self, x, exponent):
        self.saved = (x, exponent)
        return x**exponent

    def backward(self, gy):
        x, p = self.saved
        return (gy * p * x ** (p - 1),)


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
    """f(x) = max(x, 0);  f' = 1 where x > 0, else 0 (taking 0 at x = 0)."""

    def forward(self, x):
        self.positive = x > 0
        return x * self.positive

    def backward(self, gy):
        return (gy * self.positive,)
