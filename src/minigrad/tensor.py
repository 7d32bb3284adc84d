"""Tensor: an array that remembers how it was computed, so it can backpropagate.

Each arithmetic method is a one-line call of the op class that implements it
(``Tensor.tanh`` calls ``ops.Tanh.apply``); the forward and backward of every
op live together in ``minigrad/ops``. How mixed operands are turned into
Tensors of one dtype is in ``operands`` (and its rules in ``dtypes``).
"""

import numbers

import numpy as np

from . import autograd, ops
from .backend import check_device, device_of, get_array_module, to_device, to_numpy
from .dtypes import is_float, scalar_dtype, to_array
from .operands import cast, floating, joinable, pair, power, raw_index, true_division


class Tensor:
    """An n-dimensional array with automatic differentiation.

    Args:
        data: a number, nested list, numpy/CuPy array or Tensor.
        requires_grad: record operations on this tensor so ``backward`` can
            compute its gradient. Ignored for integer data, which is never
            differentiated (indices and targets).
        dtype: numpy dtype to store; default float32 for Python floats, the
            array's own dtype for arrays.
        device: ``"cpu"`` or ``"cuda"``; default: where ``data`` already is.
        autograd: the lesson's name for ``requires_grad``.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_ufunc__ = None  # make numpy defer to our reflected operators (array + tensor)

    def __init__(self, data, requires_grad=False, dtype=None, device=None, autograd=None):
        if autograd is not None:
            requires_grad = autograd
        data = to_array(data.data if isinstance(data, Tensor) else data, dtype, requires_grad)
        if device is not None:
            data = to_device(data, device)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad) and is_float(data.dtype)
        self._ctx = None

    @classmethod
    def _from_op(cls, data, ctx):
        """Wrap an op's output array; the hot path, so it skips __init__'s checks."""
        tensor = cls.__new__(cls)
        tensor.data = data
        tensor.grad = None
        tensor.requires_grad = ctx is not None
        tensor._ctx = ctx
        return tensor

    # ---- description -------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    device = property(lambda self: device_of(self.data))
    is_leaf = property(lambda self: self._ctx is None)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({to_numpy(self.data)!r}{grad})"

    def __str__(self):
        return str(to_numpy(self.data))

    def __array__(self, dtype=None, copy=None):
        array = to_numpy(self.data)
        return array if dtype is None else array.astype(dtype)

    # ---- conversion ----------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a numpy array (copied off the GPU if needed)."""
        return to_numpy(self.data)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        return self.data.item()

    def tolist(self):
        return to_numpy(self.data).tolist()

    def detach(self) -> "Tensor":
        """The same values, cut off from the graph."""
        return Tensor._from_op(self.data, None)

    def to(self, device: str) -> "Tensor":
        """A copy on ``device`` (or self when already there), keeping requires_grad."""
        check_device(device)
        if device == self.device:
            return self
        return Tensor(to_device(self.data, device), requires_grad=self.requires_grad)

    def astype(self, dtype) -> "Tensor":
        """A copy converted to ``dtype``; differentiable when both dtypes are floats."""
        dtype = np.dtype(dtype)
        if self.requires_grad and is_float(dtype):
            return ops.Cast.apply(self, dtype=dtype)
        return Tensor._from_op(self.data.astype(dtype), None)

    # ---- autograd ------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Backpropagate from this tensor, accumulating into every leaf's ``.grad``.

        Args:
            grad: gradient of the final objective with respect to this tensor.
                Defaults to ones (1 for a one-element tensor), as in the lesson.
            retain_graph: keep the graph so backward can run through it again.
        """
        xp = get_array_module(self.data)
        if grad is None:
            grad = xp.ones_like(self.data)
        else:
            grad = xp.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                grad = xp.broadcast_to(grad, self.data.shape)
        if not self.requires_grad:
            return
        autograd.backward(self, grad, retain_graph)

    def zero_grad(self):
        self.grad = None

    # ---- arithmetic ----------------------------------------------------------
    def __add__(self, other):
        return ops.Add.apply(*pair(self, other))

    def __radd__(self, other):
        return ops.Add.apply(*pair(other, self))

    def __sub__(self, other):
        return ops.Sub.apply(*pair(self, other, "sub"))

    def __rsub__(self, other):  # other - self
        return ops.Sub.apply(*pair(other, self, "sub"))

    def __mul__(self, other):
        return ops.Mul.apply(*pair(self, other))

    def __rmul__(self, other):
        return ops.Mul.apply(*pair(other, self))

    def __truediv__(self, other):
        return ops.Div.apply(*true_division(*pair(self, other)))

    def __rtruediv__(self, other):  # other / self
        return ops.Div.apply(*true_division(*pair(other, self)))

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pow__(self, exponent):
        if type(exponent) in (int, float) and self.data.dtype.kind == "f":  # the common case, first
            return ops.Pow.apply(self, exponent=exponent)
        if self.data.dtype.kind == "b" and isinstance(exponent, (bool, np.bool_)):
            # PyTorch's one power of a bool tensor: x ** True is x, x ** False is all True.
            xp = get_array_module(self.data)
            return Tensor._from_op(self.data.copy() if exponent else xp.ones_like(self.data), None)
        if isinstance(exponent, numbers.Real) and not isinstance(exponent, (bool, np.bool_)):
            if isinstance(exponent, np.generic):
                exponent = exponent.item()  # a Python number, so float32 ** it stays float32
            dtype = scalar_dtype(exponent, self.data.dtype)  # int tensor ** 0.5 is float32
            return ops.Pow.apply(self if dtype == self.data.dtype else cast(self, dtype), exponent=exponent)
        return power(*pair(self, exponent))

    def __rpow__(self, base):  # base ** self
        return power(*pair(base, self))

    def __matmul__(self, other):
        return ops.MatMul.apply(*pair(self, other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(*pair(other, self))

    def matmul(self, other):
        return self @ other

    mm = matmul  # the lesson's name

    # ---- shape ---------------------------------------------------------------
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=shape)

    def view(self, *shape):
        return self.reshape(*shape)

    def transpose(self, *axes):
        """Permute axes; with no arguments reverse them (the lesson's transpose)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.Transpose.apply(self, axes=axes or None)

    T = property(lambda self: self.transpose())

    def expand(self, dim, copies):
        """The lesson's expand: insert axis ``dim`` holding ``copies`` copies."""
        return ops.Expand.apply(self, dim=dim, copies=copies)

    def broadcast_to(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.BroadcastTo.apply(self, shape=shape)

    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=raw_index(index))

    def index_select(self, indices, *, dim=0):
        """Rows of this tensor picked by integer ``indices`` (an embedding lookup),
        or slices along ``dim``; the result has ``indices``' shape in place of that dim."""
        indices = raw_index(indices)
        if not hasattr(indices, "dtype"):
            indices = np.asarray(indices)
        return ops.IndexSelect.apply(self, indices=indices, dim=dim)

    # ---- reductions ----------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        """The mean over ``dim``; of an integer tensor, as float32 (PyTorch refuses those)."""
        return ops.Mean.apply(floating(self), dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return ops.Max.apply(self, dim=dim, keepdim=keepdim)

    def cumsum(self, dim, reverse=False):
        """Running sums along ``dim``, from its first element (or from its last with ``reverse``)."""
        return ops.CumSum.apply(floating(self), dim=dim, reverse=reverse)

    # ---- elementwise functions -------------------------------------------------
    # The float functions take an integer or bool tensor as float32, as PyTorch does.
    def exp(self):
        return ops.Exp.apply(floating(self))

    def log(self):
        return ops.Log.apply(floating(self))

    def tanh(self):
        return ops.Tanh.apply(floating(self))

    def sigmoid(self):
        return ops.Sigmoid.apply(floating(self))

    def relu(self):
        if self.data.dtype.kind == "b":
            raise TypeError("relu is not defined for bool tensors")
        return ops.ReLU.apply(self)

    def softmax(self, dim=-1):
        """Softmax along ``dim``; of an integer tensor, as float32 (PyTorch refuses those)."""
        return ops.Softmax.apply(floating(self), dim=dim)

    def log_softmax(self, dim=-1):
        return ops.LogSoftmax.apply(floating(self), dim=dim)

    # ---- losses ----------------------------------------------------------------
    def cross_entropy(self, targets, ignore_index=None):
        """Mean softmax cross-entropy of these logits against integer ``targets``."""
        return ops.CrossEntropy.apply(self, targets=raw_index(targets), ignore_index=ignore_index)

    def mse(self, target, reduction="mean"):
        """Mean (or summed) squared error against ``target``."""
        return ops.MSE.apply(*pair(self, target), reduction=reduction)


def concat(tensors, dim=0):
    """Join tensors along an existing axis ``dim`` (of mixed dtypes: promoted as by ``+``)."""
    return ops.Concat.apply(*joinable(tensors), dim=dim)


def stack(tensors, dim=0):
    """Join tensors along a new axis ``dim`` (of mixed dtypes: promoted as by ``+``)."""
    return ops.Stack.apply(*joinable(tensors), dim=dim)


autograd.set_tensor_class(Tensor)  # ops wrap their results in it from now on (see autograd)
