"""Ops that move values around without changing them: their backward routes
each gradient element back to where its value came from.

Also the one place dims are checked (``normalize_dim``), which every op that
takes a dim calls, so a dim out of range fails the same clear way everywhere.
"""

import operator
from math import prod

from ..autograd import Function
from ..backend import get_array_module, scatter_add, sum_rows_by_index
from ..errors import MinigradError


class DimError(MinigradError, IndexError):
    """A dim outside a tensor's range, or a list of dims that is not valid."""


def normalize_dim(dim, ndim, op, new_axis=False):
    """``dim`` as a non-negative axis, PyTorch's rule: negative dims count from
    the end, and a 0-d tensor takes dim 0 or -1 (as if it had one axis).

    ``new_axis``: the dim names a new axis being inserted (stack, expand), so
    it ranges over ``ndim + 1`` places. Raises DimError naming ``op``, the dim
    and the tensor's ndim when the dim is out of range.
    """
    try:
        d = operator.index(dim)
    except TypeError:
        raise TypeError(f"{op}: dim must be an integer, not {type(dim).__name__} {dim!r}") from None
    size = max(ndim + 1 if new_axis else ndim, 1)
    if not -size <= d < size:
        where = "a new axis in " if new_axis else ""
        raise DimError(
            f"{op}: dim {d} is out of range for {where}a tensor of ndim {ndim} "
            f"(expected a dim from {-size} to {size - 1})"
        )
    return d + size if d < 0 else d


def normalize_dims(dims, ndim, op):
    """A tuple of dims (for a reduction) as sorted non-negative axes, each once.

    A 0-d tensor has no axes: its dims (0 or -1) become ``()``.
    """
    axes = [normalize_dim(d, ndim, op) for d in dims]
    if len(set(axes)) != len(axes):
        raise DimError(f"{op}: dims {tuple(dims)} name the same dim twice (tensor of ndim {ndim})")
    return () if ndim == 0 else tuple(sorted(axes))


class Reshape(Function):
    """f(x) = x viewed with a new shape;  the gradient is reshaped back."""

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, gy):
        return (gy.reshape(self.shape),)


def normalize_permutation(axes, ndim, op="transpose"):
    """``axes`` (negative allowed) as a permutation of range(ndim), or DimError."""
    if len(axes) == ndim and sorted(axes) == list(range(ndim)):  # the common case, first
        return tuple(axes)
    return _permutation(axes, ndim, op)


def _permutation(axes, ndim, op):
    if len(axes) != ndim:
        raise DimError(f"{op}: axes {tuple(axes)} must name each of the tensor's dims once (ndim {ndim})")
    perm = tuple(normalize_dim(a, ndim, op) for a in axes)
    if len(set(perm)) != ndim:
        raise DimError(f"{op}: axes {tuple(axes)} name the same dim twice (ndim {ndim})")
    return perm


class Transpose(Function):
    """f(x) = x with its axes permuted (reversed when ``axes`` is None);  the
    gradient is permuted back by the inverse permutation."""

    def forward(self, x, axes=None):
        self.axes = None if axes is None else normalize_permutation(axes, x.ndim)
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return (gy.transpose(),)
        inverse = [0] * len(self.axes)
        for i, axis in enumerate(self.axes):
            inverse[axis] = i
        return (gy.transpose(inverse),)


class Expand(Function):
    """The lesson's expand: a new axis ``dim`` holding ``copies`` copies of x;
    the gradient sums over that axis."""

    def forward(self, x, dim, copies):
        xp = get_array_module(x)
        self.dim = dim = normalize_dim(dim, x.ndim, "expand", new_axis=True)
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
    """f(W) = W[indices]: rows of W (an embedding lookup), or with ``dim`` the
    slices of W along that axis; the result has the indices' shape in place of
    that axis. Slices picked several times receive the sum of their gradients.
    Negative indices count from the end."""

    def forward(self, weight, indices, dim=0):
        if weight.ndim == 0:
            raise DimError("index_select: a 0-d tensor (ndim 0) has no dim to select along")
        if indices.dtype.kind not in "iu":
            raise TypeError(f"index_select: indices must be integers, not {indices.dtype}")
        self.dim = normalize_dim(dim, weight.ndim, "index_select")
        self.indices, self.shape = indices, weight.shape
        if self.dim == 0:
            return weight[indices]
        return get_array_module(weight).take(weight, indices, axis=self.dim)

    def backward(self, gy):
        xp, dim, indices, shape = get_array_module(gy), self.dim, self.indices, self.shape
        if dim:  # bring the picked axes to the front, as for rows
            gy = xp.moveaxis(gy, tuple(range(dim, dim + indices.ndim)), tuple(range(indices.ndim)))
        rest = shape[:dim] + shape[dim + 1 :]
        rows = gy.reshape(indices.size, prod(rest))
        gw = sum_rows_by_index(indices.reshape(-1), rows, shape[dim]).reshape((shape[dim],) + rest)
        return (xp.moveaxis(gw, 0, dim) if dim else gw,)


class Concat(Function):
    """f(x1, x2, ...) = the inputs joined along axis ``dim``; the gradient is
    cut back into pieces of the inputs' sizes."""

    def forward(self, *xs, dim=0):
        if not xs:
            raise ValueError("concat: needs at least one tensor")
        if xs[0].ndim == 0:
            raise DimError("concat: 0-d tensors (ndim 0) have no dim to join along; use stack")
        xp = get_array_module(xs[0])
        self.dim = dim = normalize_dim(dim, xs[0].ndim, "concat")
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
        if not xs:
            raise ValueError("stack: needs at least one tensor")
        self.dim, self.count = normalize_dim(dim, xs[0].ndim, "stack", new_axis=True), len(xs)
        return get_array_module(xs[0]).stack(xs, axis=self.dim)

    def backward(self, gy):
        return tuple(gy.take(i, axis=self.dim) for i in range(self.count))
