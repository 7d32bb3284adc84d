"""Saving and loading weights: exact round trips, and clear refusals."""

import errno
import os
import re

import numpy as np
import pytest

import minigrad
from minigrad import Embedding, Linear, Sequential, Tanh, Tensor
from minigrad.errors import CheckpointError
from minigrad.serialization import MARKER


def _model():
    return Sequential([Embedding(6, 4), Tanh(), Linear(4, 3)])


def test_saved_and_loaded_model_gives_bit_identical_outputs(tmp_path):
    path = tmp_path / "weights.npz"
    trained = _model()
    minigrad.save(trained.state_dict(), path)
    fresh = _model()
    fresh.load_state_dict(minigrad.load(path))
    ids = np.array([[0, 5, 2], [3, 3, 1]])
    assert np.array_equal(fresh(ids).data, trained(ids).data)
    assert fresh.layers[0].weight.dtype == np.float32


def test_load_returns_exact_arrays_and_dtypes(tmp_path):
    state = {"a": np.arange(6, dtype=np.int32).reshape(2, 3), "b": np.float32([0.1, np.nan]),
             "c": Tensor(np.float64([1e-300]))}
    path = str(tmp_path / "w.npz")
    minigrad.save(state, path)
    loaded = minigrad.load(path)
    assert sorted(loaded) == ["a", "b", "c"]
    assert loaded["a"].dtype == np.int32 and np.array_equal(loaded["a"], state["a"])
    assert loaded["b"].dtype == np.float32 and np.array_equal(loaded["b"], state["b"], equal_nan=True)
    assert loaded["c"][0] == 1e-300


def test_save_replaces_the_file_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "w.npz"
    minigrad.save({"x": np.zeros(2)}, path)
    minigrad.save({"x": np.ones(2)}, path)
    assert os.listdir(tmp_path) == ["w.npz"]
    np.testing.assert_array_equal(minigrad.load(path)["x"], [1, 1])


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "w.npz"
    minigrad.save({"x": np.zeros(2)}, path)
    with pytest.raises(TypeError, match="'bad'"):
        minigrad.save({"x": np.ones(2), "bad": np.array([object()])}, path)
    np.testing.assert_array_equal(minigrad.load(path)["x"], [0, 0])
    assert os.listdir(tmp_path) == ["w.npz"]


def test_a_write_error_mid_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    minigrad.save({"x": np.zeros(2)}, path)

    def disk_full(file, **arrays):
        file.write(b"PK partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(CheckpointError, match="No space left"):
        minigrad.save({"x": np.ones(2)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(minigrad.load(path)["x"], [0, 0])
    assert os.listdir(tmp_path) == ["w.npz"]


def test_save_into_a_missing_folder_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "no" / "such" / "w.npz"
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        minigrad.save({"x": np.zeros(1)}, path)


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "absent.npz"
    with pytest.raises(CheckpointError, match=re.escape(f"no weights file at {path}")):
        minigrad.load(path)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    minigrad.save(_model().state_dict(), path)
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=re.escape(f"{path} is damaged")) as info:
            minigrad.load(path)
        assert "save it again" in str(info.value)


def test_corrupted_bytes_are_refused(tmp_path):
    path = tmp_path / "w.npz"
    minigrad.save({"w": np.zeros(1000)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the array's bytes: the zip checksum catches it
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged"):
        minigrad.load(path)


def test_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weight=np.random.randn(3, 3), bias=np.random.randn(3))
    with pytest.raises(CheckpointError, match=re.escape(f"{path} was not written by minigrad")) as info:
        minigrad.load(path)
    assert "minigrad.save" in str(info.value)


@pytest.mark.parametrize("content", [b"hello, not a zip file\n" * 5, b""])
def test_non_zip_file_is_refused(tmp_path, content):
    path = tmp_path / "notes.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        minigrad.load(path)


def test_plain_npy_file_is_refused(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.arange(3))
    with pytest.raises(CheckpointError, match="not written by minigrad"):
        minigrad.load(path)


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "future.npz"
    np.savez(path, **{MARKER: np.array(99), "w": np.zeros(1)})
    with pytest.raises(CheckpointError, match="format 99"):
        minigrad.load(path)


def test_marker_name_is_reserved(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        minigrad.save({MARKER: np.zeros(1)}, tmp_path / "w.npz")


# Writes a weights file and a text file in a fresh process, so that the umask is the one
# the process starts with, as when a user runs minigrad.
_WRITE_BOTH = """
import sys
from minigrad import serialization
serialization.save({"w": [1.0]}, sys.argv[1] + "/w.npz")
serialization.write_text_atomic(sys.argv[1] + "/state.json", "{}")
"""


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_saved_files_get_the_mode_of_any_new_file(tmp_path, umask, mode):
    """Not mkstemp's owner-only 0600: what open() would give under the user's umask."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", _WRITE_BOTH, str(tmp_path)], check=True,
                   preexec_fn=lambda: os.umask(umask))
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {"w.npz": mode, "state.json": mode}
