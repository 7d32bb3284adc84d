"""Losses as Modules: ``loss(pred, target)`` (or the lesson's ``loss.forward``)."""

from .. import functional as F
from .layers import LayerError, as_indices, as_tensor
from .module import Module

REDUCTIONS = (None, "mean", "sum")


class MSELoss(Module):
    """Squared error between predictions and targets of the same shape.

    With the default ``reduction=None`` it is the lesson's loss,
    ``((pred - target) * (pred - target)).sum(0)``: summed over the batch
    axis, one value per output feature. ``'mean'`` and ``'sum'`` reduce over
    every element to a scalar, as one fused op.

    Args:
        reduction: None (the lesson's sum over axis 0), ``'mean'`` or ``'sum'``.
    """

    def __init__(self, reduction=None):
        if reduction not in REDUCTIONS:
            raise LayerError(f"reduction must be one of {REDUCTIONS}, not {reduction!r}.")
        self.reduction = reduction

    def forward(self, pred, target):
        target = as_tensor(target)
        if pred.shape != target.shape:
            # Broadcasting (4, 1) against (4,) would silently compare every pair.
            raise LayerError(f"MSELoss: prediction has shape {pred.shape} but target has shape {target.shape}.",
                             hint="Reshape the target to the prediction's shape.")
        if self.reduction is None:
            diff = pred - target
            return (diff * diff).sum(0)
        return F.mse(pred, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    """Mean softmax cross-entropy of logits against integer class targets.

    The softmax is fused into the loss (stable by log-sum-exp), so a model
    trained with it outputs raw logits.

    Args:
        ignore_index: target value (padding, say) whose rows add nothing and
            are left out of the mean.
    """

    def __init__(self, ignore_index=None):
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """``input``: logits (..., classes); ``target``: class ids shaped like ``input[..., 0]``."""
        return F.cross_entropy(input, class_ids(input, target), ignore_index=self.ignore_index)


def class_ids(logits, target):
    """``target`` as an id array with one class id per row of ``logits``, or a LayerError saying why not."""
    target = as_indices(target)
    if target.size * logits.shape[-1] != logits.size:
        raise LayerError(
            f"CrossEntropyLoss: {logits.size // logits.shape[-1]} rows of logits {logits.shape} "
            f"but {target.size} targets {target.shape}.",
            hint="Give one class id per row of logits.",
        )
    return target
