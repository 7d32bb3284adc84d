"""Tensor: an array that remembers how it was computed, so it can backpropagate.

Each arithmetic method is a one-line call of the op class that implements it
(``Tensor.tanh`` calls ``ops.Tanh.apply``); the forward and backward of every
op live together in ``minigrad/ops``.
"""

import numbers

import numpy as np

from . import autograd
from .backend import check_device, device_of, get_array_module, to_device, to_numpy

DEFAULT_FLOAT = np.float32


def _is_float(dtype) -> bool:
    return dtype.kind == "f"  # not np.issubdtype, which costs a microsecond per call


def _to_array(data, dtype, requires_grad):
    """Turn user data into a backend array with minigrad's dtype rules.

    Arrays keep their dtype (float64 stays float64). Python numbers and lists
    of floats become float32. Integer data stays integer (indices, targets),
    except a Python list of ints given with ``requires_grad=True``: asking for
    a gradient says these are values, so they become float32.
    """
    if isinstance(data, Tensor):
        data = data.data
    if not hasattr(data, "dtype") or isinstance(data, np.generic):
        python_ints = not isinstance(data, np.generic)
        data = np.asarray(data)
        if dtype is None and data.dtype == np.float64 and python_ints:
            dtype = DEFAULT_FLOAT
        if dtype is None and requires_grad and python_ints and data.dtype.kind in "iub":
            dtype = DEFAULT_FLOAT
    if dtype is not None and data.dtype != dtype:
        data = data.astype(dtype)
    return data


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
        data = _to_array(data, dtype, requires_grad)
        if device is not None:
            data = to_device(data, device)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad) and _is_float(data.dtype)
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
        return Tensor(self.data.astype(dtype), requires_grad=self.requires_grad)

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
        return ops.Add.apply(*_pair(self, other))

    def __radd__(self, other):
        return ops.Add.apply(*_pair(other, self))

    def __sub__(self, other):
        return ops.Sub.apply(*_pair(self, other))

    def __rsub__(self, other):  # other - self
        return ops.Sub.apply(*_pair(other, self))

    def __mul__(self, other):
        return ops.Mul.apply(*_pair(self, other))

    def __rmul__(self, other):
        return ops.Mul.apply(*_pair(other, self))

    def __truediv__(self, other):
        return ops.Div.apply(*_pair(self, other))

    def __rtruediv__(self, other):  # other / self
        return ops.Div.apply(*_pair(other, self))

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return (exponent * self.log()).exp()
        return ops.Pow.apply(self, exponent=exponent)

    def __rpow__(self, base):  # base ** self, for a constant base > 0
        return (self * float(np.log(base))).exp()

    def __matmul__(self, other):
        return ops.MatMul.apply(*_pair(self, other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(*_pair(other, self))

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
        return ops.GetItem.apply(self, index=_raw_index(index))

    def index_select(self, indices):
        """Rows of this tensor picked by integer ``indices`` (an embedding lookup)."""
        return ops.IndexSelect.apply(self, indices=_raw_index(indices))

    # ---- reductions ----------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return ops.Max.apply(self, dim=dim, keepdim=keepdim)

    # ---- elementwise functions -------------------------------------------------
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.ReLU.apply(self)

    def softmax(self, dim=-1):
        return ops.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim=-1):
        return ops.LogSoftmax.apply(self, dim=dim)

    # ---- losses ----------------------------------------------------------------
    def cross_entropy(self, targets, ignore_index=None):
        """Mean softmax cross-entropy of these logits against integer ``targets``."""
        return ops.CrossEntropy.apply(self, targets=_raw_index(targets), ignore_index=ignore_index)

    def mse(self, target, reduction="mean"):
        """Mean (or summed) squared error against ``target``."""
        return ops.MSE.apply(*_pair(self, target), reduction=reduction)


def _constant(value, like):
    """Wrap a number or array as a non-differentiable Tensor matching ``like``."""
    xp = get_array_module(like.data)
    if isinstance(value, numbers.Number):
        return Tensor._from_op(xp.asarray(value, dtype=like.data.dtype), None)
    value = xp.asarray(value)
    if _is_float(value.dtype) and _is_float(like.data.dtype):
        value = value.astype(like.data.dtype, copy=False)  # a constant follows the tensor's precision
    return Tensor._from_op(value, None)


def _pair(a, b):
    """Two operands of a binary op as Tensors of one floating dtype.

    Python numbers and arrays become constants. An integer operand meeting a
    float one is cast to the float dtype, so float32 stays float32 rather than
    numpy promoting ``float32 - int64`` to float64.
    """
    if not isinstance(a, Tensor):
        a = _constant(a, b)
    if not isinstance(b, Tensor):
        b = _constant(b, a)
    if a.data.dtype != b.data.dtype:
        if not _is_float(a.data.dtype) and _is_float(b.data.dtype):
            a = Tensor._from_op(a.data.astype(b.data.dtype), None)
        elif not _is_float(b.data.dtype) and _is_float(a.data.dtype):
            b = Tensor._from_op(b.data.astype(a.data.dtype), None)
    return a, b


def _raw_index(index):
    """Replace Tensors inside an index with their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def concat(tensors, dim=0):
    """Join tensors along an existing axis ``dim``."""
    return ops.Concat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """Join tensors along a new axis ``dim``."""
    return ops.Stack.apply(*tensors, dim=dim)


from . import ops  # noqa: E402  (the ops subclass autograd.Function, which wraps results in Tensor)
