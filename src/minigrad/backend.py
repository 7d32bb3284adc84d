"""Array backends: numpy on the CPU, CuPy on an NVIDIA GPU.

Every op body is written once against an "array module" ``xp`` that is either
``numpy`` or ``cupy``; ``get_array_module`` picks it from the arrays at hand.
CuPy is imported lazily so that importing minigrad never needs it.
"""

import ctypes

import numpy as np

from .errors import DeviceError

DEVICES = ("cpu", "cuda")

_cupy = None  # the cupy module once it has been imported successfully


def _import_cupy():
    """Import CuPy and check a GPU is visible, or raise one clear DeviceError."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError:
        raise DeviceError(
            "device 'cuda' needs CuPy, which is not installed.",
            hint="Install it with: pip install 'minigrad[cuda]'  (or use device 'cpu').",
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CuPy raises its own runtime error types
        raise DeviceError(f"device 'cuda' is not usable: {exc}", hint="Use device 'cpu'.") from None
    if count == 0:
        raise DeviceError("device 'cuda' was asked for, but no GPU is visible.", hint="Use device 'cpu'.")
    _cupy = cupy
    return cupy


# glibc's mallopt parameters and the values keep_freed_memory sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
_TRIM_THRESHOLD = 512 << 20


def keep_freed_memory() -> bool:
    """Have the C allocator keep freed memory for reuse; True if it could.

    numpy takes every array from malloc. glibc serves large blocks with fresh
    pages from the kernel (mmap) and hands freed space at the top of its heap
    back; a training step allocates the same large arrays every batch, so
    each batch paid again for the kernel to map and zero their pages (about
    40% of an epoch of the LSTM question-answering model at hidden 100).
    Blocks under 32 MiB now come from the heap, and up to 512 MiB of freed
    space stays there, so the process holds about its peak, not more.

    This changes the whole process, so the library never calls it by itself:
    ``minigrad train`` does. Where the C library is not glibc it does nothing.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


def check_device(device: str) -> str:
    """Return ``device`` if it names a known device, else raise DeviceError."""
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}.", hint="Use one of: cpu, cuda.")
    if device == "cuda":
        _import_cupy()
    return device


def get_array_module(array):
    """Return the module (numpy or cupy) that owns ``array``."""
    if isinstance(array, np.ndarray) or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def device_of(array) -> str:
    """Name the device an array lives on."""
    return "cpu" if isinstance(array, (np.ndarray, np.generic)) else "cuda"


def to_device(array, device: str):
    """Move an array to ``device``, returning it unchanged if it is already there."""
    check_device(device)
    if device == device_of(array):
        return array
    if device == "cuda":
        return _import_cupy().asarray(array)
    return array.get()


def to_numpy(array) -> np.ndarray:
    """A numpy array holding the values of ``array`` (copied off the GPU if needed)."""
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic):  # numpy reductions to one value return a scalar, not an array
        return np.asarray(array)
    return np.asarray(array.get())


def scatter_add(target, index, values):
    """``target[index] += values``, adding (not overwriting) where indices repeat."""
    if isinstance(target, np.ndarray):
        np.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)
    return target


ONE_HOT_LIMIT = 1 << 22  # one-hot matrices up to 4M entries (16 MB in float32)


def sum_rows_by_index(indices, rows, n_rows):
    """``out[i]`` = the sum of ``rows[j]`` over every j with ``indices[j] == i``.

    This is an embedding's gradient. When the vocabulary is small it is one
    matrix product, one_hot(indices)^T @ rows, which BLAS does many times
    faster than any scatter; for large vocabularies a ``bincount`` over
    (row, column) pairs, about twice as fast as ``np.add.at``.
    """
    indices = indices % n_rows  # negative ids count from the end, as in indexing
    if not isinstance(rows, np.ndarray):
        return scatter_add(_import_cupy().zeros((n_rows, rows.shape[1]), dtype=rows.dtype), indices, rows)
    if n_rows * len(indices) <= ONE_HOT_LIMIT:
        one_hot = np.zeros((n_rows, len(indices)), dtype=rows.dtype)
        one_hot[indices, np.arange(len(indices))] = 1
        return one_hot @ rows
    width = rows.shape[1]
    cells = (indices[:, None] * width + np.arange(width)).ravel()
    sums = np.bincount(cells, weights=rows.ravel(), minlength=n_rows * width)
    return sums.reshape(n_rows, width).astype(rows.dtype, copy=False)
