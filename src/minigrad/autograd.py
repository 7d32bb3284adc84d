"""The graph machinery: Function (one differentiable op), no_grad, and backward.

How a graph is recorded: ``SomeOp.apply(a, b)`` runs ``SomeOp.forward`` on the
raw arrays of ``a`` and ``b`` and wraps the result in a Tensor. When gradients
are wanted, the result keeps the op instance (its *context*, ``ctx``), and the
context keeps its input tensors (``ctx.parents``) plus whatever its forward
saved for the backward. That chain of contexts is the graph.

How it is walked: every recorded op gets a sequence number when it runs, so
an op's inputs always have smaller numbers than the op itself. ``backward``
keeps the tensors waiting for their turn in a heap and always takes the one
with the largest number next: by then every op that consumed it has passed
its gradient back, so its gradient is complete. This is a loop, never
recursion, so a graph a million ops deep is fine. A context is dropped as soon
as it has been visited, so the memory held by the graph shrinks while
backward runs and is gone when it ends.
"""

from contextlib import contextmanager
from heapq import heappop, heappush
from itertools import count

from .errors import GraphError

_grad_enabled = True  # switched off inside ``no_grad()``
_sequence = count()  # numbers recorded ops in the order they ran

# Ops wrap their results in Tensors, but Tensor is built on top of the ops (its
# methods call them), so this module cannot import tensor.py without a circle.
# tensor.py hands its class over instead, once, right after defining it.
Tensor = None


def set_tensor_class(cls):
    """Make ``cls`` the class every op's result is wrapped in (tensor.py calls this)."""
    global Tensor
    Tensor = cls


@contextmanager
def no_grad():
    """Run the block without recording a graph (for evaluation and updates)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _grad_enabled


class Function:
    """One differentiable op: ``forward`` and ``backward`` side by side.

    Subclasses implement ``forward(self, *arrays, **params) -> array`` and
    ``backward(self, grad_output) -> tuple`` with one gradient (or None) per
    input. Both work on raw backend arrays, never on Tensors, so a backward
    cannot grow the graph by accident. Forward stores on ``self`` only what the
    backward needs. ``self.needs_input_grad[i]`` says whether input i wants a
    gradient, so a backward can skip work nobody asked for.

    Gradients may come back with a broadcast shape; the engine sums them down
    to each input's shape in one place (``unbroadcast``), so ops never do. Any
    other shape is a bug in the op, and backward raises BackwardShapeError
    naming it rather than reshaping the gradient.
    """

    parents = ()
    needs_input_grad = ()
    seq = -1  # this op's place in the order ops ran, set when it is recorded

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors and record it in the graph when that is needed."""
        ctx = cls()
        output = ctx.forward(*[t.data for t in inputs], **params)
        if _grad_enabled:
            needs = tuple([t.requires_grad for t in inputs])
            if True in needs:
                ctx.parents = inputs
                ctx.needs_input_grad = needs
                ctx.seq = next(_sequence)
                return Tensor._from_op(output, ctx)
        return Tensor._from_op(output, None)

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError


class _Released(Function):
    """Stands in for a context that backward has already used and dropped."""

    def backward(self, grad_output):
        raise GraphError(
            "backward through a graph that has already been released.",
            hint="Call .backward(retain_graph=True) the first time if you need to go through it twice.",
        )


RELEASED = _Released()


class BackwardShapeError(RuntimeError):
    """An op's backward returned a gradient that does not fit its input: a bug
    in that op, reported instead of being reshaped into a wrong answer."""


def broadcasts_to(shape, target):
    """True when numpy broadcasting takes ``shape`` to ``target`` exactly."""
    leading = len(target) - len(shape)
    return leading >= 0 and all(n == 1 or n == target[i + leading] for i, n in enumerate(shape))


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting.

    ``shape`` must broadcast to ``grad.shape``; anything else is not a
    broadcast to undo, and raises ValueError rather than being reshaped.
    """
    if grad.shape == shape:
        return grad
    if not broadcasts_to(shape, grad.shape):
        raise ValueError(f"a gradient of shape {grad.shape} cannot be summed down to shape {shape}")
    leading = grad.ndim - len(shape)
    stretched = tuple(i + leading for i, n in enumerate(shape) if n == 1 and grad.shape[i + leading] != 1)
    return grad.sum(axis=tuple(range(leading)) + stretched, keepdims=False).reshape(shape)


def _fit(ctx, grads, grad, shape):
    """``grad`` (one of ``grads``, from ``ctx.backward``) summed down to its
    input's ``shape`` if the op returned it broadcast; any other shape is the op's bug."""
    if not broadcasts_to(shape, grad.shape):
        index = next(i for i, g in enumerate(grads) if g is grad and ctx.parents[i].data.shape == shape)
        raise BackwardShapeError(
            f"{type(ctx).__name__}.backward returned a gradient of shape {tuple(grad.shape)} for input {index}, "
            f"which has shape {tuple(shape)}: not that shape, nor one it broadcasts to."
        )
    return unbroadcast(grad, shape)


def _accumulate_leaf(leaf, grad):
    """Add ``grad`` into a leaf's ``.grad``, which the leaf owns outright."""
    if grad.dtype != leaf.data.dtype:
        grad = grad.astype(leaf.data.dtype)
    if leaf.grad is None:
        # A copy, because the same array may have been handed to other tensors.
        leaf.grad = Tensor._from_op(grad.copy(), None)
    else:
        leaf.grad.data += grad


def backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` (an array shaped like ``root``) through root's graph."""
    if root._ctx is None:
        _accumulate_leaf(root, grad)
        return
    pending = {id(root): grad}  # gradients that have reached a tensor, not yet passed on
    waiting = [(-root._ctx.seq, root)]  # a heap: the most recent op comes out first
    while waiting:
        node = heappop(waiting)[1]
        ctx = node._ctx
        if not retain_graph:
            node._ctx = RELEASED
        grads = ctx.backward(pending.pop(id(node)))
        if len(grads) != len(ctx.parents):
            raise BackwardShapeError(
                f"{type(ctx).__name__}.backward returned {len(grads)} gradients for {len(ctx.parents)} inputs."
            )
        for parent, input_grad in zip(ctx.parents, grads):
            if input_grad is None or not parent.requires_grad:
                continue
            if input_grad.shape != parent.data.shape:  # the only shape check on the hot path
                input_grad = _fit(ctx, grads, input_grad, parent.data.shape)
            if parent._ctx is None:
                _accumulate_leaf(parent, input_grad)
                continue
            key = id(parent)
            if key in pending:
                # Out of place: an op may have handed the same array to two inputs.
                pending[key] = pending[key] + input_grad
            else:
                pending[key] = input_grad
                heappush(waiting, (-parent._ctx.seq, parent))

