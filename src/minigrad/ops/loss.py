"""Softmax, log-softmax and the two losses, each fused into one op so the
backward is short and numerically stable."""

from ..autograd import Function
from ..backend import get_array_module


def _log_softmax(x, axis):
    """log softmax by the log-sum-exp trick: shifting by the max leaves the
    result unchanged and keeps exp() from overflowing (logits of 1e4 are fine)."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """y = e^x / sum e^x over ``dim``;  dx = y * (g - sum(g * y))."""

    def forward(self, x, dim=-1):
        self.dim = dim
        self.y = get_array_module(x).exp(_log_softmax(x, dim))
        return self.y

    def backward(self, gy):
        y = self.y
        return (y * (gy - (gy * y).sum(axis=self.dim, keepdims=True)),)


class LogSoftmax(Function):
    """y = x - log sum e^x over ``dim``;  dx = g - softmax(x) * sum(g)."""

    def forward(self, x, dim=-1):
        self.dim = dim
        y = _log_softmax(x, dim)
        self.softmax = get_array_module(x).exp(y)
        return y

    def backward(self, gy):
        return (gy - self.softmax * gy.sum(axis=self.dim, keepdims=True),)


class CrossEntropy(Function):
    """Mean over counted rows of -log softmax(logits)[target].

    Logits are (..., classes) and targets the matching integer array. Rows whose
    target equals ``ignore_index`` (padding, say) add nothing and are not
    counted. Fused with the softmax, the gradient is just
    (softmax - one_hot(target)) / count, with no division by a tiny probability.
    """

    def forward(self, logits, targets, ignore_index=None):
        xp = get_array_module(logits)
        n_classes = logits.shape[-1]
        log_probs = _log_softmax(logits.reshape(-1, n_classes), axis=1)
        targets = targets.reshape(-1)
        rows = xp.arange(len(targets))
        counted = None
        if ignore_index is not None:
            counted = targets != ignore_index
            targets = xp.where(counted, targets, 0)
        picked = log_probs[rows, targets]
        if counted is not None:
            picked = picked * counted
            count = max(int(counted.sum()), 1)
        else:
            count = max(len(targets), 1)
        self.saved = (log_probs, rows, targets, counted, count, logits.shape)
        return xp.asarray(-picked.sum() / count, dtype=logits.dtype)

    def backward(self, gy):
        log_probs, rows, targets, counted, count, shape = self.saved
        grad = get_array_module(log_probs).exp(log_probs)
        grad[rows, targets] -= 1
        if counted is not None:
            grad *= counted[:, None]
        return ((grad * (gy / count)).reshape(shape),)


class MSE(Function):
    """Squared error (pred - target)^2, averaged (``reduction='mean'``) or summed;
    d/dpred = 2 (pred - target) / n, d/dtarget = the negative of that."""

    def forward(self, pred, target, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")
        self.diff = pred - target
        self.scale = 2 / self.diff.size if reduction == "mean" else 2
        squared = (self.diff * self.diff).sum()
        return squared / self.diff.size if reduction == "mean" else squared

    def backward(self, gy):
        g = self.diff * (gy * self.scale)
        return g, (-g if self.needs_input_grad[1] else None)
