"""Which dtype a tensor gets: from user data, and from mixed operands (PyTorch's promotion).

Plain numpy rules on dtypes and arrays; nothing here knows about Tensors.

Each dtype has a category, bool < integer < float. Two tensors of one
category take the larger dtype (int32 and int64 give int64); of different
categories, the higher one's dtype, so float32 meeting int64 stays float32
(numpy would say float64). A Python number takes the tensor's dtype unless it
is of a higher category, then that category's default: int tensor * 0.5 is
float32, bool tensor + 1 is int64. A 0-d tensor beside a dimensioned one
behaves the same way: it decides the dtype only when its category is higher.
"""

import numbers

import numpy as np

DEFAULT_FLOAT = np.float32

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def is_float(dtype) -> bool:
    return dtype.kind == "f"  # not np.issubdtype, which costs a microsecond per call


def to_array(data, dtype, requires_grad):
    """Turn user data (not a Tensor) into an array with minigrad's dtype rules.

    Arrays keep their dtype (float64 stays float64). Python numbers and lists
    of floats become float32. Integer data stays integer (indices, targets),
    except a Python list of ints given with ``requires_grad=True``: asking for
    a gradient says these are values, so they become float32.
    """
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


def category(dtype):
    return _CATEGORY.get(dtype.kind, 3)  # 3: complex, above everything


def scalar_dtype(value, dtype):
    """The dtype a Python number takes beside a tensor of ``dtype``."""
    if isinstance(value, (bool, np.bool_)):
        return dtype
    if isinstance(value, numbers.Integral):
        return dtype if category(dtype) >= 1 else np.dtype(np.int64)
    if isinstance(value, numbers.Real):
        return dtype if category(dtype) >= 2 else np.dtype(DEFAULT_FLOAT)
    return np.result_type(dtype, value)


def promote_types(a, b):
    """PyTorch's promote_types for two dtypes, ignoring which tensor is 0-d."""
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def result_dtype(a, b):
    """The dtype of a binary op on arrays ``a`` and ``b`` (PyTorch's rule)."""
    if (a.ndim == 0) == (b.ndim == 0):
        return promote_types(a.dtype, b.dtype)
    dim, zero = (a.dtype, b.dtype) if b.ndim == 0 else (b.dtype, a.dtype)
    if category(zero) > category(dim):
        return promote_types(dim, zero)
    return dim
