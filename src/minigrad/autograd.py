"""The graph machinery: Function (one differentiable op), no_grad, and backward.

How a graph is recorded: ``SomeOp.apply(a, b)`` runs ``SomeOp.forward`` on the
raw arrays of ``a`` and ``b`` and wraps the result in a Tensor. When gradients
are wanted, the result keeps the op instance (its *context*, ``ctx``), and the
context keeps its input tensors (``ctx.parents``) plus whatever its forward
saved for the backward. That chain of contexts is the graph.

How it is walked: ``backward`` orders the graph topologically with an explicit
stack (never recursion, so a graph a million ops deep is fine), then visits it
from the output back to the inputs, handing each context the gradient of its
output and routing the gradients it returns to its parents. A context is
dropped as soon as it has been visited, so the memory held by the graph shrinks
while backward runs and is gone when it ends.
"""

from contextlib import contextmanager

from .errors import GraphError

_grad_enabled = True  # switched off inside ``no_grad()``


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
    to each input's shape in one place (``unbroadcast``), so ops never do.
    """

    parents = ()
    needs_input_grad = ()

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


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting."""
    if grad.shape == shape:
        return grad
    leading = grad.ndim - len(shape)
    stretched = tuple(i + leading for i, n in enumerate(shape) if n == 1 and grad.shape[i + leading] != 1)
    return grad.sum(axis=tuple(range(leading)) + stretched, keepdims=False).reshape(shape)


def _topological_order(root):
    """Tensors of the graph under ``root`` with a context, inputs before outputs."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._ctx.parents:
            if parent._ctx is not None and id(parent) not in visited:
                stack.append((parent, False))
    return order


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
    for node in reversed(_topological_order(root)):
        grad = pending.pop(id(node), None)
        ctx = node._ctx
        if grad is None:  # no path from root reaches this node's gradient
            continue
        if not retain_graph:
            node._ctx = RELEASED
        input_grads = ctx.backward(grad)
        for parent, input_grad in zip(ctx.parents, input_grads):
            if input_grad is None or not parent.requires_grad:
                continue
            input_grad = unbroadcast(input_grad, parent.data.shape)
            if parent._ctx is None:
                _accumulate_leaf(parent, input_grad)
            else:
                key = id(parent)
                # Out of place: an op may have handed the same array to two inputs.
                pending[key] = pending[key] + input_grad if key in pending else input_grad


from .tensor import Tensor  # noqa: E402  (Tensor's methods call ops, which subclass Function)
