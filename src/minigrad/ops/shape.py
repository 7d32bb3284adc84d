"""Ops that move values around without changing them: their backward routes
each gradient element back to where its value came from."""

from ..autograd import Function
from ..backend import get_array_module, scatter_add, sum_rows_by_index


class Reshape(Function):
    """f(x) = x viewed with a new shape;  the gradient is reshaped back."""

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, gy):
        return (gy.reshape(self.shape),)


class Transpose(Function):
    """f(x) = x with its axes permuted (reversed when ``axes`` is None)."""

    def forward(self, x, axes=None):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, gy):
        if self.axes is None:
            return (gy.transpose(),)
        inverse = sorted(range(len(self.axes)), key=lambda i: self.axes[i])
        return (gy.transpose(inverse),)


class Expand(Function):
    """The lesson's expand: a new axis ``dim`` holding ``copies`` copies of x;
    the gradient sums over that axis."""

    def forward(self, x, dim, copies):
        xp = get_array_module(x)
        self.dim = dim
        y = xp.expand_dims(x, dim)
        shape = list(y.shape)
        shape[dim] = copies
        return xp.broadcast_to(y, shape)  # a read-only view: no copy is made

    def backward(self, gy):
        return (gy.sum(axis=self.dim),)


class BroadcastTo(Function):
    """f(x) = x broadcast to ``shape``;  the engine's unbroadcast sums it back."""

    def forward(self, x, shape):
        return get_array_module(x).broadcast_to(x, shape)

    def backward(self, gy):
        return (gy,)


def _is_basic(index):
    """True for an index of ints, slices, None and ..., which picks each element
    at most once (numpy's basic indexing); integer arrays can repeat elements."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    """f(x) = x[index] for slices and integer arrays; the gradient is scattered
    back, adding where an element was picked more than once."""

    def forward(self, x, index):
        self.index, self.shape, self.dtype = index, x.shape, x.dtype
        return x[index]

    def backward(self, gy):
        gx = get_array_module(gy).zeros(self.shape, dtype=self.dtype)
        if _is_basic(self.index):
            gx[self.index] = gy  # no repeats: a plain assignment, far cheaper than scatter_add
            return (gx,)
        return (scatter_add(gx, self.index, gy),)


class IndexSelect(Function):
    """f(W) = W[indices]: rows of W (an embedding lookup); rows picked several
    times receive the sum of their gradients."""

    def forward(self, weight, indices):
        self.indices, self.shape = indices, weight.shape
        return weight[indices]

    def backward(self, gy):
        rows = gy.reshape(self.indices.size, -1)
        gw = sum_rows_by_index(self.indices.reshape(-1), rows, self.shape[0])
        return (gw.reshape(self.shape),)


class Concat(Function):
    """f(x1, x2, ...) = the inputs joined along axis ``dim``; the gradient is
    cut back into pieces of the inputs' sizes."""

    def forward(self, *xs, dim=0):
        xp = get_array_module(xs[0])
        self.dim = dim
        self.ends = []
        end = 0
        for x in xs:
            end += x.shape[dim]
            self.ends.append(end)
        return xp.concatenate(xs, axis=dim)

    def backward(self, gy):
        return tuple(get_array_module(gy).split(gy, self.ends[:-1], axis=self.dim))


class Stack(Function):
    """f(x1, x2, ...) = the inputs stacked along a new axis ``dim``."""

    def forward(self, *xs, dim=0):
        self.dim, self.count = dim, len(xs)
        return get_array_module(xs[0]).stack(xs, axis=dim)

    def backward(self, gy):
        return tuple(gy.take(i, axis=self.dim) for i in range(self.count))
