"""Saving and loading weights: a ``{name: array}`` dict as one ``.npz`` file.

The format is numpy's zip of ``.npy`` arrays plus one marker entry that says
minigrad wrote it. Nothing is pickled, so loading a file cannot run code.
Files are written atomically: into a temporary file in the same folder,
flushed to disk, then renamed over the target, so a crash mid-save leaves the
old file (or none), never half a file.
"""

import os
import tempfile
import zipfile
import zlib

import numpy as np

from .backend import to_numpy
from .errors import CheckpointError
from .tensor import Tensor

MARKER = "__minigrad__"  # the entry that identifies a minigrad weights file
FORMAT_VERSION = 1

def _read_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp makes files readable by their owner only; saved weights get the
# permissions any new file would get.
_FILE_MODE = 0o666 & ~_read_umask()

# What numpy and zipfile raise for a damaged file, depending on where it is cut.
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, NotImplementedError, zipfile.BadZipFile, zlib.error)


def _as_array(name, value):
    array = to_numpy(value.data) if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind == "O":
        raise TypeError(f"cannot save {name!r}: only numeric arrays can be saved, not objects")
    return array


def save(state_dict, path):
    """Write ``state_dict`` (names to arrays or Tensors) to ``path`` atomically.

    Args:
        state_dict: e.g. ``model.state_dict()``.
        path: the file to write (conventionally ending in ``.npz``); replaced if it exists.
    Raises:
        CheckpointError: the file could not be written.
    """
    if MARKER in state_dict:
        raise ValueError(f"{MARKER!r} is reserved and cannot be used as a weight name")
    arrays = {name: _as_array(name, value) for name, value in state_dict.items()}
    arrays[MARKER] = np.array(FORMAT_VERSION)
    try:
        write_atomic(path, lambda file: np.savez(file, **arrays))
    except OSError as exc:
        raise CheckpointError(f"cannot write weights to {os.fspath(path)}: {exc.strerror}.",
                              hint="Check that the folder exists, is writable and has space.") from None


TEMPORARY_PREFIX = ".tmp-"  # write_atomic's files before their rename; a killed write leaves one behind


def write_atomic(path, write, binary=True):
    """Write a file through ``write(file)`` so readers see the old or the new one, never half.

    The data goes into a temporary file in the same folder, is flushed to disk,
    and the temporary file is renamed over ``path`` (a rename within a folder
    is atomic). On any failure the temporary file is removed and ``path`` is
    untouched.
    """
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    fd, temp = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, _FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def write_text_atomic(path, text):
    """``write_atomic`` for a text file; CheckpointError naming ``path`` if it cannot be written."""
    try:
        write_atomic(path, lambda file: file.write(text), binary=False)
    except OSError as exc:
        raise CheckpointError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}.",
                              hint="Check that the folder exists, is writable and has space.") from None


def load(path):
    """Read a file written by ``save``.

    Args:
        path: the ``.npz`` file.
    Returns:
        dict of name to numpy array.
    Raises:
        CheckpointError: the file is missing, not a minigrad file, or damaged.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"no weights file at {path}.", hint="Check the path, or save the model there first.")
    if not _starts_like_numpy_data(path):
        # np.load would take it for a pickle and suggest loading it unsafely
        raise CheckpointError(f"{path} is damaged or not a weights file (it is not an .npz archive).",
                              hint="Pass a file written by minigrad.save, or save the weights again.")
    try:
        _check_sizes(path)
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            arrays = {}  # a bare .npy array: readable, but not a weights archive
        else:
            with archive:
                arrays = {name: archive[name] for name in archive.files}
    except _READ_ERRORS as exc:
        raise CheckpointError(
            f"{path} is damaged or not a weights file ({exc}).",
            hint="It may be truncated by an interrupted copy or save: save it again, or use another file.",
        ) from None
    return _check_marker(path, arrays)


MAX_LOAD_BYTES = 8 << 30  # the arrays of one file, unpacked: far above any model a run file can describe


def _check_sizes(path):
    """Refuse an archive before unpacking it if its arrays would not fit, or do not match their headers.

    Each member's ``.npy`` header says its dtype and shape, and the zip says
    how many bytes it unpacks to: a member that claims more elements than it
    holds, or that unpacks to gigabytes (a "zip bomb"), is refused here
    instead of running the machine out of memory. A bare ``.npy`` file is
    left to ``np.load``.
    """
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_LOAD_BYTES:
            raise ValueError(f"its arrays unpack to more than {MAX_LOAD_BYTES >> 30} GiB")
        for member in members:
            with archive.open(member) as file:
                _check_member(member, file)


def _check_member(member, file):
    version = np.lib.format.read_magic(file)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in read_header:
        raise ValueError(f"{member.filename} has .npy format {version}, which minigrad does not write")
    shape, _, dtype = read_header[version](file)
    if dtype.hasobject or dtype.kind not in "biuf":
        raise ValueError(f"{member.filename} holds {dtype} values, not numbers")
    if int(np.prod(shape, dtype=object)) * dtype.itemsize != member.file_size - file.tell():
        raise ValueError(f"{member.filename} does not hold the {shape} array its header declares")


def _starts_like_numpy_data(path):
    """Whether the file begins as a zip archive (``.npz``) or an ``.npy`` array does."""
    try:
        with open(path, "rb") as file:
            start = file.read(6)
    except OSError:
        return True  # let np.load report the problem
    return start.startswith(b"PK") or start == b"\x93NUMPY"


def _check_marker(path, arrays):
    """The arrays without the marker, after checking it is there and understood."""
    marker = arrays.pop(MARKER, None)
    if marker is None or marker.shape != () or marker.dtype.kind not in "iu":
        raise CheckpointError(f"{path} was not written by minigrad (it has no valid {MARKER!r} entry).",
                              hint="Pass a file written by minigrad.save (e.g. a run's saved weights).")
    if int(marker) > FORMAT_VERSION:
        raise CheckpointError(f"{path} uses weights format {marker}, newer than this minigrad reads ({FORMAT_VERSION}).",
                              hint="Upgrade minigrad to load it.")
    return arrays
