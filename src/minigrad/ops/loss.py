"""Softmax, log-softmax and the two losses, each fused into one op so the
backward is short and numerically stable."""

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .shape import normalize_dim


def _softmax_axis(dim, x, op):
    """The axis a softmax runs along: ``dim`` checked and made non-negative; for
    a 0-d tensor (dim 0 or -1) no axis, ``()``, so its softmax is 1."""
    axis = normalize_dim(dim, x.ndim, op)
    return () if x.ndim == 0 else axis


def _log_softmax(x, axis):
    """log softmax by the log-sum-exp trick: shifting by the max leaves the
    result unchanged and keeps exp() from overflowing (logits of 1e4 are fine)."""
    xp = get_array_module(x)
    if x.size == 0:  # nothing to normalise, and max() of an empty axis fails
        return x.copy()
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """y = e^x / sum e^x over ``dim``;  dx = y * (g - sum(g * y))."""

    def forward(self, x, dim=-1):
        self.dim = dim = _softmax_axis(dim, x, "softmax")
        self.y = get_array_module(x).exp(_log_softmax(x, dim))
        return self.y

    def backward(self, gy):
        y = self.y
        return (y * (gy - (gy * y).sum(axis=self.dim, keepdims=True)),)


class LogSoftmax(Function):
    """y = x - log sum e^x over ``dim``;  dx = g - softmax(x) * sum(g)."""

    def forward(self, x, dim=-1):
        self.dim = dim = _softmax_axis(dim, x, "log_softmax")
        y = _log_softmax(x, dim)
        self.softmax = get_array_module(x).exp(y)
        return y

    def backward(self, gy):
        return (gy - self.softmax * gy.sum(axis=self.dim, keepdims=True),)


class CrossEntropy(Function):
    """Mean over counted rows of -log softmax(logits)[target].

    Logits are (..., classes) and targets the matching integer array, one class
    id in [0, classes) per row. Rows whose target equals ``ignore_index``
    (padding, say) add nothing and are not counted. Fused with the softmax, the
    gradient is just (softmax - one_hot(target)) / count, with no division by a
    tiny probability.
    """

    def forward(self, logits, targets, ignore_index=None):
        xp = get_array_module(logits)
        if logits.ndim == 0:
            raise ValueError("cross_entropy: logits must have a class axis, not be 0-d")
        if targets.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: targets must be integer class ids, not {targets.dtype}")
        n_classes = logits.shape[-1]
        if targets.size * n_classes != logits.size:
            raise ValueError(
                f"cross_entropy: {logits.size // max(n_classes, 1)} rows of logits {tuple(logits.shape)} "
                f"but {targets.size} targets {tuple(targets.shape)}; give one class id per row"
            )
        log_probs = _log_softmax(logits.reshape(-1, n_classes), axis=1)
        targets = targets.reshape(-1)
        rows = xp.arange(len(targets))
        counted = None
        if ignore_index is not None:
            counted = targets != ignore_index
            targets = xp.where(counted, targets, 0)
        if targets.dtype.kind == "i" and targets.size and int(targets.min()) < 0:
            _refuse(targets, n_classes)  # numpy would read -1 as the last class: a wrong loss, silently
        if xp is not np and targets.size and int(targets.max()) >= n_classes:
            _refuse(targets, n_classes)  # CuPy does not bounds-check an index; numpy raises below
        try:
            picked = log_probs[rows, targets]
        except IndexError:
            _refuse(targets, n_classes)
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


def _refuse(targets, n_classes):
    """Raise IndexError naming the first target that is not a class id in [0, n_classes)."""
    bad = targets[(targets < 0) | (targets >= n_classes)][0]
    raise IndexError(f"cross_entropy: target {int(bad)} is out of range for {n_classes} classes") from None


class MSE(Function):
    """Squared error (pred - target)^2, averaged (``reduction='mean'``) or summed;
    d/dpred = 2 (pred - target) / n, d/dtarget = the negative of that."""

    def forward(self, pred, target, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")
        self.diff = pred - target
        n = self.diff.size
        self.scale = 2 / max(n, 1) if reduction == "mean" else 2  # no element, no gradient: any scale
        squared = (self.diff * self.diff).sum()
        if reduction == "sum":
            return squared
        # The mean of no elements is NaN, as in numpy and PyTorch (without numpy's warning).
        return squared / n if n else get_array_module(squared).asarray(float("nan"), dtype=squared.dtype)

    def backward(self, gy):
        g = self.diff * (gy * self.scale)
        return g, (-g if self.needs_input_grad[1] else None)
