"""Reductions over one axis, several, or all; and running sums along one axis."""

from ..autograd import Function
from ..backend import get_array_module
from .shape import normalize_dim, normalize_dims


def _axes(dim, ndim, op):
    """``dim`` (None, an int or a tuple) as a tuple of non-negative axes; a dim
    out of range raises DimError. A 0-d tensor takes dim 0 or -1 and has no
    axes to reduce, so its reduction is the value itself."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, first
        return (dim + ndim if dim < 0 else dim,)
    return normalize_dims(dim if isinstance(dim, (tuple, list)) else (dim,), ndim, op)


def _spread(gy, x_shape, axes, keepdim):
    """Broadcast a reduced gradient back over the axes that were reduced."""
    xp = get_array_module(gy)
    if not keepdim:
        gy = xp.expand_dims(gy, axes)
    return xp.broadcast_to(gy, x_shape)


class Sum(Function):
    """f(x) = sum of x over ``dim``;  each element's derivative is 1."""

    def forward(self, x, dim=None, keepdim=False):
        self.axes, self.keepdim, self.shape = _axes(dim, x.ndim, "sum"), keepdim, x.shape
        return x.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, gy):
        return (_spread(gy, self.shape, self.axes, self.keepdim),)


class Mean(Function):
    """f(x) = mean of x over ``dim``;  each element's derivative is 1/n."""

    def forward(self, x, dim=None, keepdim=False):
        self.axes, self.keepdim, self.shape = _axes(dim, x.ndim, "mean"), keepdim, x.shape
        self.count = 1
        for axis in self.axes:
            self.count *= x.shape[axis]
        return x.mean(axis=self.axes, keepdims=keepdim)

    def backward(self, gy):
        # An empty reduced axis leaves no element to receive a gradient; max(.., 1) avoids 0/0.
        return (_spread(gy / max(self.count, 1), self.shape, self.axes, self.keepdim),)


class Max(Function):
    """f(x) = max of x over ``dim``;  the gradient goes to the maximal elements,
    split evenly between ties so that it still sums to the upstream gradient."""

    def forward(self, x, dim=None, keepdim=False):
        self.axes, self.keepdim = _axes(dim, x.ndim, "max"), keepdim
        y = x.max(axis=self.axes, keepdims=True)
        self.winners = x == y
        return y if keepdim else y.squeeze(self.axes)

    def backward(self, gy):
        share = self.winners / self.winners.sum(axis=self.axes, keepdims=True)
        return (_spread(gy, share.shape, self.axes, self.keepdim) * share,)


def _running_sums(x, axis, reverse):
    """Inclusive running sums of ``x`` along ``axis``: from the first element, or from the last with ``reverse``."""
    if x.ndim == 0:
        return x.copy()
    xp = get_array_module(x)
    if not reverse:
        return xp.cumsum(x, axis=axis)
    return xp.flip(xp.cumsum(xp.flip(x, axis=axis), axis=axis), axis=axis)


class CumSum(Function):
    """y_t = sum of x_s over s <= t along ``dim`` (s >= t with ``reverse``);  dx_s = sum of g_t over
    the t whose sums hold x_s, which are the running sums of g taken the other way."""

    def forward(self, x, dim, reverse=False):
        self.axis, self.reverse = normalize_dim(dim, x.ndim, "cumsum"), reverse
        return _running_sums(x, self.axis, reverse)

    def backward(self, gy):
        return (_running_sums(gy, self.axis, not self.reverse),)
