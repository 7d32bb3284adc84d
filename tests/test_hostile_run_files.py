"""Run folders made to hurt: archives that unpack to gigabytes or lie about
their arrays, weights that are not float or not finite, figures far beyond
what a run writes. Each gets one message naming the file, never a traceback
or a runaway allocation."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

from conftest import invoke, one_line
from minigrad import serialization
from minigrad.errors import CheckpointError

PREDICT = ["predict", "--context", "mary moved to the", "--run"]


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def _rewrite_member(file, name, data, compress=zipfile.ZIP_STORED):
    """``file`` with its member ``name.npy`` replaced by ``data`` (raw .npy bytes)."""
    with zipfile.ZipFile(file) as archive:
        members = {m.filename: archive.read(m) for m in archive.infolist()}
    members[f"{name}.npy"] = data
    with zipfile.ZipFile(file, "w", compression=compress) as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def _predict_fails_naming(run_dir, file, words):
    result = invoke(*PREDICT, run_dir)
    text = one_line(result.output)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert str(run_dir / file) in text and words in text, text


def test_a_header_that_claims_more_than_the_member_holds(lm_run_copy):
    weights = lm_run_copy / "weights.npz"
    name = next(iter(serialization.load(weights)))
    header = _npy_bytes(np.zeros(2, np.float32))
    lying = header.replace(b"(2,)", b"(1099511627776,)")  # 2**40 elements, 8 bytes of data
    _rewrite_member(weights, name, lying)
    _predict_fails_naming(lm_run_copy, "weights.npz", "does not hold the (1099511627776,) array")


def test_a_member_that_unpacks_to_gigabytes_is_refused_before_unpacking(lm_run_copy, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_LOAD_BYTES", 1 << 20)  # the same check, at a size a test can make
    weights = lm_run_copy / "weights.npz"
    name = next(iter(serialization.load(weights)))
    _rewrite_member(weights, name, _npy_bytes(np.zeros(1 << 19, np.float32)), zipfile.ZIP_DEFLATED)
    assert weights.stat().st_size < 100_000  # 2 MiB of zeros, deflated
    _predict_fails_naming(lm_run_copy, "weights.npz", "unpack to more than")


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint64, np.float16])
def test_weights_that_are_not_float32_or_float64_are_refused(lm_run_copy, dtype):
    weights = lm_run_copy / "weights.npz"
    state = serialization.load(weights)
    serialization.save({k: v.astype(dtype) for k, v in state.items()}, weights)
    _predict_fails_naming(lm_run_copy, "weights.npz", f"holds {np.dtype(dtype)} values")


def test_weights_that_are_not_finite_are_refused(lm_run_copy):
    weights = lm_run_copy / "weights.npz"
    state = serialization.load(weights)
    first = next(iter(state))
    state[first] = np.full_like(state[first], np.nan)
    serialization.save(state, weights)
    _predict_fails_naming(lm_run_copy, "weights.npz", f"weight {first!r} holds NaN or infinite values")


def test_a_huge_metrics_file_is_refused_unread_and_predict_never_reads_it(lm_run_copy):
    metrics = lm_run_copy / "metrics.csv"
    with open(metrics, "r+b") as file:
        file.truncate(300 << 20)  # 300 MiB, sparse: costs no disk
    assert invoke(*PREDICT, lm_run_copy).exit_code == 0
    result = invoke("train", "--resume", lm_run_copy, "--epochs", "2")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{metrics} is damaged (it is 300 MiB" in one_line(result.output)


@pytest.mark.parametrize("file, value, words", [
    ("state.json", {"epoch": 10 ** 9}, "N from 0 to 1,000,000"),
    ("meta.json", {"mode": "lm", "slots": 10 ** 12}, "slots must be a whole number from 1 to 100,000"),
])
def test_figures_beyond_what_a_run_writes_are_damage(lm_run_copy, file, value, words):
    (lm_run_copy / file).write_text(json.dumps(value))
    _predict_fails_naming(lm_run_copy, file, words)


def test_the_loader_alone_refuses_a_lying_archive(tmp_path):
    file = tmp_path / "w.npz"
    serialization.save({"w": np.zeros(3)}, file)
    _rewrite_member(file, "w", _npy_bytes(np.zeros(3)).replace(b"(3,)", b"(30,)"))
    with pytest.raises(CheckpointError, match="does not hold the"):
        serialization.load(file)
    assert os.path.getsize(file) < 10_000


def test_a_config_yaml_with_an_alias_bomb_is_damage(lm_run_copy):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (lm_run_copy / "config.yaml").write_text("\n".join(levels) + "\n")
    _predict_fails_naming(lm_run_copy, "config.yaml", "once its aliases are expanded")
