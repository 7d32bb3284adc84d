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
        """A copy converted to ``dtype``; differentiable when both dtypes are floats."""
        dtype = np.dtype(dtype)
        if self.requires_grad and _is_float(dtype):
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
        return ops.Add.apply(*_pair(self, other))

    def __radd__(self, other):
        return ops.Add.apply(*_pair(other, self))

    def __sub__(self, other):
        return ops.Sub.apply(*_pair(self, other, "sub"))

    def __rsub__(self, other):  # other - self
        return ops.Sub.apply(*_pair(other, self, "sub"))

    def __mul__(self, other):
        return ops.Mul.apply(*_pair(self, other))

    def __rmul__(self, other):
        return ops.Mul.apply(*_pair(other, self))

    def __truediv__(self, other):
        return ops.Div.apply(*_true_division(*_pair(self, other)))

    def __rtruediv__(self, other):  # other / self
        return ops.Div.apply(*_true_division(*_pair(other, self)))

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
            dtype = _scalar_dtype(exponent, self.data.dtype)  # int tensor ** 0.5 is float32
            return ops.Pow.apply(self if dtype == self.data.dtype else _cast(self, dtype), exponent=exponent)
        return _power(*_pair(self, exponent))

    def __rpow__(self, base):  # base ** self
        return _power(*_pair(base, self))

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

    def index_select(self, indices, *, dim=0):
        """Rows of this tensor picked by integer ``indices`` (an embedding lookup),
        or slices along ``dim``; the result has ``indices``' shape in place of that dim."""
        indices = _raw_index(indices)
        if not hasattr(indices, "dtype"):
            indices = np.asarray(indices)
        return ops.IndexSelect.apply(self, indices=indices, dim=dim)

    # ---- reductions ----------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        """The mean over ``dim``; of an integer tensor, as float32 (PyTorch refuses those)."""
        return ops.Mean.apply(_floating(self), dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return ops.Max.apply(self, dim=dim, keepdim=keepdim)

    # ---- elementwise functions -------------------------------------------------
    # The float functions take an integer or bool tensor as float32, as PyTorch does.
    def exp(self):
        return ops.Exp.apply(_floating(self))

    def log(self):
        return ops.Log.apply(_floating(self))

    def tanh(self):
        return ops.Tanh.apply(_floating(self))

    def sigmoid(self):
        return ops.Sigmoid.apply(_floating(self))

    def relu(self):
        if self.data.dtype.kind == "b":
            raise TypeError("relu is not defined for bool tensors")
        return ops.ReLU.apply(self)

    def softmax(self, dim=-1):
        """Softmax along ``dim``; of an integer tensor, as float32 (PyTorch refuses those)."""
        return ops.Softmax.apply(_floating(self), dim=dim)

    def log_softmax(self, dim=-1):
        return ops.LogSoftmax.apply(_floating(self), dim=dim)

    # ---- losses ----------------------------------------------------------------
    def cross_entropy(self, targets, ignore_index=None):
        """Mean softmax cross-entropy of these logits against integer ``targets``."""
        return ops.CrossEntropy.apply(self, targets=_raw_index(targets), ignore_index=ignore_index)

    def mse(self, target, reduction="mean"):
        """Mean (or summed) squared error against ``target``."""
        return ops.MSE.apply(*_pair(self, target), reduction=reduction)


# ---- dtypes of mixed operands: PyTorch's type promotion --------------------------------
#
# Each dtype has a category, bool < integer < float. Two tensors of one
# category take the larger dtype (int32 and int64 give int64); of different
# categories, the higher one's dtype, so float32 meeting int64 stays float32
# (numpy would say float64). A Python number takes the tensor's dtype unless it
# is of a higher category, then that category's default: int tensor * 0.5 is
# float32, bool tensor + 1 is int64. A 0-d tensor beside a dimensioned one
# behaves the same way: it decides the dtype only when its category is higher.

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _category(dtype):
    return _CATEGORY.get(dtype.kind, 3)  # 3: complex, above everything


def _scalar_dtype(value, dtype):
    """The dtype a Python number takes beside a tensor of ``dtype``."""
    if isinstance(value, (bool, np.bool_)):
        return dtype
    if isinstance(value, numbers.Integral):
        return dtype if _category(dtype) >= 1 else np.dtype(np.int64)
    if isinstance(value, numbers.Real):
        return dtype if _category(dtype) >= 2 else np.dtype(DEFAULT_FLOAT)
    return np.result_type(dtype, value)


def _promote_types(a, b):
    """PyTorch's promote_types for two dtypes, ignoring which tensor is 0-d."""
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _result_dtype(a, b):
    """The dtype of a binary op on arrays ``a`` and ``b`` (PyTorch's rule)."""
    if (a.ndim == 0) == (b.ndim == 0):
        return _promote_types(a.dtype, b.dtype)
    dim, zero = (a.dtype, b.dtype) if b.ndim == 0 else (b.dtype, a.dtype)
    if _category(zero) > _category(dim):
        return _promote_types(dim, zero)
    return dim


def _cast(t, dtype):
    """``t`` as ``dtype``: through the graph when it needs a gradient, else a constant."""
    if t.requires_grad and _is_float(dtype):
        return ops.Cast.apply(t, dtype=dtype)
    return Tensor._from_op(t.data.astype(dtype), None)


def _floating(t):
    """``t`` itself when it holds floats, else its values as float32 (integers never need a gradient)."""
    if t.data.dtype.kind in "fc":
        return t
    return Tensor._from_op(t.data.astype(DEFAULT_FLOAT), None)


def _constant(value, like):
    """Wrap a number or array as a non-differentiable Tensor to combine with ``like``."""
    xp = get_array_module(like.data)
    if isinstance(value, numbers.Number):
        if type(value) in (float, int) and like.data.dtype.kind == "f":  # the common case, first
            return Tensor._from_op(xp.asarray(value, dtype=like.data.dtype), None)
        return Tensor._from_op(xp.asarray(value, dtype=_scalar_dtype(value, like.data.dtype)), None)
    value = xp.asarray(value)
    if _is_float(value.dtype) and _is_float(like.data.dtype):
        value = value.astype(like.data.dtype, copy=False)  # a constant follows the tensor's precision
    return Tensor._from_op(value, None)


def _pair(a, b, op=None):
    """Two operands of a binary op as Tensors of one dtype, PyTorch's promotion.

    Python numbers and arrays become constants. Operands of different dtypes
    are cast to the result dtype (see ``_result_dtype``), so float32 meeting an
    integer or a float64 0-d tensor stays float32; a cast operand that needs a
    gradient is cast through the graph. ``op="sub"`` refuses bool operands,
    which PyTorch does too (numpy refuses only bool - bool).
    """
    if not isinstance(a, Tensor):
        if op == "sub" and isinstance(a, (bool, np.bool_)):
            raise TypeError("- is not defined for bool operands; use ~ or logical_not to invert a mask")
        a = _constant(a, b)
    if not isinstance(b, Tensor):
        if op == "sub" and isinstance(b, (bool, np.bool_)):
            raise TypeError("- is not defined for bool operands; use ~ or logical_not to invert a mask")
        b = _constant(b, a)
    if a.data.dtype != b.data.dtype:
        if op == "sub" and "b" in (a.data.dtype.kind, b.data.dtype.kind):
            raise TypeError("- is not defined for bool tensors; use ~ or logical_not to invert a mask")
        dtype = _result_dtype(a.data, b.data)
        if a.data.dtype != dtype:
            a = _cast(a, dtype)
        if b.data.dtype != dtype:
            b = _cast(b, dtype)
    return a, b


def _true_division(a, b):
    """Operands for ``/``: integers and bools divide as float32, as in PyTorch."""
    if a.data.dtype.kind not in "fc":
        a, b = _floating(a), _floating(b)
    return a, b


def _power(base, exponent):
    """``base ** exponent`` for two Tensors of one dtype."""
    if base.data.dtype.kind == "b":
        raise TypeError("** is not defined for bool tensors")
    return ops.PowTensor.apply(base, exponent)


def _joinable(tensors):
    """The tensors for concat or stack, cast to one dtype (PyTorch's promotion, all dimensioned)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        return tensors
    dtype = tensors[0].data.dtype
    for t in tensors[1:]:
        if t.data.dtype != dtype:
            dtype = _promote_types(dtype, t.data.dtype)
    return [t if t.data.dtype == dtype else _cast(t, dtype) for t in tensors]


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
    """Join tensors along an existing axis ``dim`` (of mixed dtypes: promoted as by ``+``)."""
    return ops.Concat.apply(*_joinable(tensors), dim=dim)


def stack(tensors, dim=0):
    """Join tensors along a new axis ``dim`` (of mixed dtypes: promoted as by ``+``)."""
    return ops.Stack.apply(*_joinable(tensors), dim=dim)


from . import ops  # noqa: E402  (the ops subclass autograd.Function, which wraps results in Tensor)
