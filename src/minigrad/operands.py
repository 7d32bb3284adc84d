"""Operands for Tensor's methods: numbers and arrays made constants, mixed dtypes
cast to one (the rules are in ``dtypes``), indices unwrapped.

``autograd.Tensor`` is the Tensor class (see ``autograd.set_tensor_class``):
this module sits below ``tensor.py``, whose methods call it.
"""

import numbers

import numpy as np

from . import autograd, ops
from .backend import get_array_module
from .dtypes import DEFAULT_FLOAT, is_float, promote_types, result_dtype, scalar_dtype


def cast(t, dtype):
    """``t`` as ``dtype``: through the graph when it needs a gradient, else a constant."""
    if t.requires_grad and is_float(dtype):
        return ops.Cast.apply(t, dtype=dtype)
    return autograd.Tensor._from_op(t.data.astype(dtype), None)


def floating(t):
    """``t`` itself when it holds floats, else its values as float32 (integers never need a gradient)."""
    if t.data.dtype.kind in "fc":
        return t
    return autograd.Tensor._from_op(t.data.astype(DEFAULT_FLOAT), None)


def constant(value, like):
    """Wrap a number or array as a non-differentiable Tensor to combine with ``like``."""
    xp = get_array_module(like.data)
    if isinstance(value, numbers.Number):
        if type(value) in (float, int) and like.data.dtype.kind == "f":  # the common case, first
            return autograd.Tensor._from_op(xp.asarray(value, dtype=like.data.dtype), None)
        return autograd.Tensor._from_op(xp.asarray(value, dtype=scalar_dtype(value, like.data.dtype)), None)
    value = xp.asarray(value)
    if is_float(value.dtype) and is_float(like.data.dtype):
        value = value.astype(like.data.dtype, copy=False)  # a constant follows the tensor's precision
    return autograd.Tensor._from_op(value, None)


def _refuse_bool(a, b, op):
    """``op="sub"`` refuses bool operands, which PyTorch does too (numpy refuses only bool - bool)."""
    if op != "sub":
        return
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        raise TypeError("- is not defined for bool operands; use ~ or logical_not to invert a mask")


def pair(a, b, op=None):
    """Two operands of a binary op as Tensors of one dtype, PyTorch's promotion.

    Python numbers and arrays become constants. Operands of different dtypes
    are cast to the result dtype (see ``dtypes.result_dtype``), so float32
    meeting an integer or a float64 0-d tensor stays float32; a cast operand
    that needs a gradient is cast through the graph. ``op="sub"`` refuses bool
    operands.
    """
    tensor = autograd.Tensor
    if not isinstance(a, tensor):
        _refuse_bool(a, None, op)
        a = constant(a, b)
    if not isinstance(b, tensor):
        _refuse_bool(None, b, op)
        b = constant(b, a)
    if a.data.dtype != b.data.dtype:
        if op == "sub" and "b" in (a.data.dtype.kind, b.data.dtype.kind):
            raise TypeError("- is not defined for bool tensors; use ~ or logical_not to invert a mask")
        dtype = result_dtype(a.data, b.data)
        if a.data.dtype != dtype:
            a = cast(a, dtype)
        if b.data.dtype != dtype:
            b = cast(b, dtype)
    return a, b


def true_division(a, b):
    """Operands for ``/``: integers and bools divide as float32, as in PyTorch."""
    if a.data.dtype.kind not in "fc":
        a, b = floating(a), floating(b)
    return a, b


def power(base, exponent):
    """``base ** exponent`` for two Tensors of one dtype."""
    if base.data.dtype.kind == "b":
        raise TypeError("** is not defined for bool tensors")
    return ops.PowTensor.apply(base, exponent)


def joinable(tensors):
    """The tensors for concat or stack, cast to one dtype (PyTorch's promotion, all dimensioned)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        return tensors
    dtype = tensors[0].data.dtype
    for t in tensors[1:]:
        if t.data.dtype != dtype:
            dtype = promote_types(dtype, t.data.dtype)
    return [t if t.data.dtype == dtype else cast(t, dtype) for t in tensors]


def raw_index(index):
    """Replace Tensors inside an index with their arrays."""
    tensor = autograd.Tensor
    if isinstance(index, tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index
