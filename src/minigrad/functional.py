"""Stateless functions that layers call: each is a thin, documented wrapper
over one op, so a layer's forward reads like its formula."""

from . import ops
from .tensor import Tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight + bias`` as one fused op (``weight`` is (in, out))."""
    if bias is None:
        return ops.Linear.apply(x, weight)
    return ops.Linear.apply(x, weight, bias)


def embedding(weight: Tensor, indices) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices``."""
    return weight.index_select(indices)


def cross_entropy(logits: Tensor, targets, ignore_index=None) -> Tensor:
    """Mean softmax cross-entropy; see ``Tensor.cross_entropy``."""
    return logits.cross_entropy(targets, ignore_index=ignore_index)


def mse(pred: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean (or summed) squared error; see ``Tensor.mse``."""
    return pred.mse(target, reduction=reduction)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return x.log_softmax(dim)
