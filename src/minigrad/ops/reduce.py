"""Reductions over one axis, several, or all."""

from ..autograd import Function
from ..backend import get_array_module


def _axes(dim, ndim):
    """``dim`` (None, an int or a tuple) as a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted(d % ndim for d in dims))


def _spread(gy, x_shape, axes, keepdim):
    """Broadcast a reduced gradient back over the axes that were reduced."""
    xp = get_array_module(gy)
    if not keepdim:
        gy = xp.expand_dims(gy, axes)
    return xp.broadcast_to(gy, x_shape)


class Sum(Function):
    """f(x) = sum of x over ``dim``;  each element's derivative is 1."""

    def forward(self, x, dim=None, keepdim=False):
        self.axes, self.keepdim, self.shape = _axes(dim, x.ndim), keepdim, x.shape
        return x.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, gy):
        return (_spread(gy, self.shape, self.axes, self.keepdim),)


class Mean(Function):
    """f(x) = mean of x over ``dim``;  each element's derivative is 1/n."""

    def forward(self, x, dim=None, keepdim=False):
        self.axes, self.keepdim, self.shape = _axes(dim, x.ndim), keepdim, x.shape
        self.count = 1
        for axis in self.axes:
            self.count *= x.shape[axis]
        return x.mean(axis=self.axes, keepdims=keepdim)

    def backward(self, gy):
        return (_spread(gy / self.count, self.shape, self.axes, self.keepdim),)


class Max(Function):
    """f(x) = max of x over ``dim``;  the gradient goes to the maximal elements,
    split evenly between ties so that it still sums to the upstream gradient."""

    def forward(self, x, dim=None, keepdim=False):
        self.axes, self.keepdim = _axes(dim, x.ndim), keepdim
        y = x.max(axis=self.axes, keepdims=True)
        self.winners = x == y
        return y if keepdim else y.squeeze(self.axes)

    def backward(self, gy):
        share = self.winners / self.winners.sum(axis=self.axes, keepdims=True)
        return (_spread(gy, share.shape, self.axes, self.keepdim) * share,)
