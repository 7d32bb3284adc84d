"""Run folders: atomic writes, folder names, the latest link, reading a run back."""

import os
import re

import numpy as np
import pytest

from conftest import RUN_FILES
from minigrad import serialization
from minigrad.tool import runs
from minigrad.errors import CheckpointError


def leftovers(folder):
    """Temporary files an interrupted write could leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")


# ---- write_text_atomic ----------------------------------------------------------------------


def test_write_replaces_the_file(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    runs.write_text_atomic(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert leftovers(tmp_path) == []


def test_failed_rename_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "metrics.csv"
    target.write_text("epoch\n1\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(CheckpointError, match=f"cannot write {target}: No space left"):
        runs.write_text_atomic(target, "epoch\n1\n2\n")
    assert target.read_text() == "epoch\n1\n"
    assert leftovers(tmp_path) == []


def test_write_failing_midway_leaves_the_old_file(tmp_path, monkeypatch):
    """Ctrl-C after part of the text reached the temporary file."""
    target = tmp_path / "config.yaml"
    target.write_text("name: old\n")

    def interrupted_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        runs.write_text_atomic(target, "name: new\n")
    assert target.read_text() == "name: old\n"
    assert leftovers(tmp_path) == []


def test_failed_first_write_leaves_no_file(tmp_path):
    target = tmp_path / "meta.json"
    with pytest.raises(TypeError):
        runs.write_text_atomic(target, b"bytes are not text")
    assert list(tmp_path.iterdir()) == []


# ---- folder names and the latest link ---------------------------------------------------------


def test_new_run_dirs_are_numbered(tmp_path):
    out = tmp_path / "runs"
    made = [runs.new_run_dir(out, "exp") for _ in range(3)]
    assert [d.name for d in made] == ["exp", "exp-2", "exp-3"]
    assert all(d.is_dir() for d in made)
    assert os.readlink(out / "latest") == "exp-3"


def test_a_dangling_link_takes_its_name(tmp_path):
    out = tmp_path / "runs"
    out.mkdir()
    os.symlink("moved-away", out / "exp")
    assert runs.new_run_dir(out, "exp").name == "exp-2"


def test_a_run_named_latest_does_not_clash_with_the_link(tmp_path):
    out = tmp_path / "runs"
    run_dir = runs.new_run_dir(out, "latest")
    assert run_dir.name == "latest-2" and run_dir.is_dir()
    assert (out / "latest").is_symlink() and os.readlink(out / "latest") == "latest-2"


def test_point_latest_given_the_link_itself(tmp_path):
    """Pointing ``latest`` at ``runs/latest`` must keep it on its target, not loop onto itself."""
    out = tmp_path / "runs"
    runs.new_run_dir(out, "a")
    runs.point_latest(out / "latest")
    assert os.readlink(out / "latest") == "a"
    assert (out / "latest").resolve() == (out / "a").resolve()
    assert leftovers(out) == []


def test_latest_link_is_relative(tmp_path):
    out = tmp_path / "runs"
    runs.new_run_dir(out, "a")
    moved = tmp_path / "moved"
    out.rename(moved)
    assert (moved / "latest").resolve() == (moved / "a").resolve()


# ---- reading a run back --------------------------------------------------------------------


class FakeModel:
    def __init__(self, scale):
        self.weights = {"w": np.full((2, 3), scale, np.float32), "b": np.arange(3, dtype=np.float32)}

    def state_dict(self):
        return self.weights


class FakeOptimizer:
    def state_dict(self):
        return {"0.velocity": np.ones(3)}


ROW = dict(epoch=1, train_loss=2.5, train_acc=0.25, test_loss=2.75, test_acc=0.125,
           examples_per_s=1000.0, elapsed_s=0.5)


def saved_run(tmp_path):
    """A run folder written by save_setup and save_checkpoint from the tiny config."""
    from conftest import write_config
    from minigrad.tool.config import load_config
    from minigrad.data.vocab import Vocabulary

    config = load_config(write_config(tmp_path))
    run_dir = runs.new_run_dir(tmp_path / "runs", config.name)
    runs.save_setup(run_dir, config, Vocabulary(["mary", "moved"]), {"mode": "lm"})
    runs.save_checkpoint(run_dir, FakeModel(0.5), FakeOptimizer(), 1, [ROW])
    return run_dir


def test_saved_run_reads_back(tmp_path):
    run_dir = saved_run(tmp_path)
    saved = runs.load_run(run_dir)
    assert saved.epoch == 1 and saved.meta == {"mode": "lm"}
    assert saved.vocab.words == ["<pad>", "<unk>", "mary", "moved"]
    assert saved.config_dict["name"] == "tiny" and saved.config_dict["data"]["train_size"] == 100
    np.testing.assert_array_equal(saved.weights["w"], np.full((2, 3), 0.5, np.float32))
    assert saved.metrics == [ROW]  # values with up to 6 digits survive the csv exactly
    checkpoint = serialization.load(run_dir / "checkpoint.npz")
    assert checkpoint["optimizer/0.velocity"].tolist() == [1, 1, 1] and int(checkpoint["epoch"]) == 1
    weights, buffers, epoch = runs.load_checkpoint(run_dir)
    assert epoch == 1 and buffers["0.velocity"].tolist() == [1, 1, 1]
    np.testing.assert_array_equal(weights["w"], np.full((2, 3), 0.5, np.float32))


def test_checkpoint_failing_before_the_state_file_keeps_the_old_epoch(tmp_path, monkeypatch):
    """state.json goes last: a save that fails earlier never claims the new epoch."""
    run_dir = saved_run(tmp_path)
    real_write = runs.write_text_atomic

    def failing_write(path, text):
        if path.name == "metrics.csv":
            raise OSError(28, "No space left on device")
        real_write(path, text)

    monkeypatch.setattr(runs, "write_text_atomic", failing_write)
    with pytest.raises(OSError):
        runs.save_checkpoint(run_dir, FakeModel(9.0), FakeOptimizer(), 2, [ROW, {**ROW, "epoch": 2}])
    saved = runs.load_run(run_dir)
    assert saved.epoch == 1 and len(saved.metrics) == 1
    assert runs.load_checkpoint(run_dir)[2] == 1


def test_resume_point_survives_a_failure_after_the_weights(tmp_path, monkeypatch):
    """weights.npz may run one epoch ahead, but checkpoint.npz (what --resume reads) does not."""
    run_dir = saved_run(tmp_path)
    real_save = runs.serialization.save

    def failing_save(state, path):
        if path.name == "checkpoint.npz":
            raise OSError(28, "No space left on device")
        real_save(state, path)

    monkeypatch.setattr(runs.serialization, "save", failing_save)
    with pytest.raises(OSError):
        runs.save_checkpoint(run_dir, FakeModel(9.0), FakeOptimizer(), 2, [ROW, {**ROW, "epoch": 2}])
    weights, _, epoch = runs.load_checkpoint(run_dir)
    assert epoch == 1 and float(weights["w"][0, 0]) == 0.5


def test_a_run_without_a_checkpoint_cannot_be_resumed(tmp_path):
    run_dir = saved_run(tmp_path)
    (run_dir / "checkpoint.npz").unlink()
    with pytest.raises(CheckpointError, match="cannot be resumed"):
        runs.load_checkpoint(run_dir)


@pytest.mark.parametrize("name, text, words", [
    ("state.json", '{"epoch": 1', ["state.json is damaged"]),
    ("meta.json", "", ["meta.json is damaged"]),
    ("config.yaml", "- a list\n", ["config.yaml is damaged (not a mapping)"]),
    ("vocab.json", '{"format": "other"}', ["not a minigrad vocabulary file"]),
])
def test_damaged_files_are_named(tmp_path, name, text, words):
    run_dir = saved_run(tmp_path)
    (run_dir / name).write_text(text)
    with pytest.raises(CheckpointError) as caught:
        runs.load_run(run_dir)
    for word in words:
        assert word in caught.value.message


def test_every_missing_file_is_listed(tmp_path):
    run_dir = saved_run(tmp_path)
    (run_dir / "weights.npz").unlink()
    (run_dir / "vocab.json").unlink()
    with pytest.raises(CheckpointError) as caught:
        runs.load_run(run_dir)
    assert caught.value.message == f"run folder {run_dir} is incomplete: missing vocab.json, weights.npz."


def test_a_new_run_folder_without_an_epoch_is_incomplete(tmp_path):
    """Setup is written before training: a run stopped in epoch 1 has no weights yet."""
    run_dir = saved_run(tmp_path)
    for name in ("weights.npz", "checkpoint.npz", "metrics.csv", "state.json"):
        (run_dir / name).unlink()
    with pytest.raises(CheckpointError, match="missing weights.npz, state.json") as caught:
        runs.load_run(run_dir)
    assert "before its first epoch ended" in caught.value.hint


def test_missing_latest_hints_at_training(tmp_path):
    with pytest.raises(CheckpointError) as caught:
        runs.load_run(tmp_path / "runs" / "latest")
    assert "minigrad train" in caught.value.hint
    with pytest.raises(CheckpointError) as caught:
        runs.load_run(tmp_path / "nothing")
    assert "Pass the folder of a run" in caught.value.hint



# ---- metrics.csv ------------------------------------------------------------------------------


def test_metrics_keep_extra_columns(tmp_path):
    """Columns beyond the standard ones (a model may report more) are written and read back."""
    run_dir = saved_run(tmp_path)
    rows = [{**ROW, "valid_loss": 2.0}, {**ROW, "epoch": 2}]
    runs.save_checkpoint(run_dir, FakeModel(0.5), FakeOptimizer(), 2, rows)
    text = (run_dir / "metrics.csv").read_text()
    assert text.splitlines()[0] == ",".join(runs.METRIC_COLUMNS + ["valid_loss"])
    assert text.splitlines()[2].endswith(",")  # the second row has no valid_loss
    assert runs.load_run(run_dir).metrics == rows


METRICS_HEADER = ",".join(runs.METRIC_COLUMNS)


@pytest.mark.parametrize("text, words", [
    ("", "it is empty"),
    ("\n", "its header is not epoch,train_loss"),
    ("epoch,train_loss\n1,2.5\n", "its header is not epoch,train_loss"),
    (f"{METRICS_HEADER},{METRICS_HEADER}\n", "its header is not"),
    (f"{METRICS_HEADER}\n1,2.5,0.25,2.75,0.125,1000", "its last row is cut short"),
    (f"{METRICS_HEADER}\n1,2.5,0.25,2.75\n", "line 2 has 4 values for 7 columns"),
    (f"{METRICS_HEADER}\n1,2.5,0.25,2.75,0.125,1000,0.5,9\n", "line 2 has 8 values for 7 columns"),
    (f"{METRICS_HEADER}\n1,2.5,0.25,2.75,0.125,1000,0.5\n\n", "line 3 has 0 values"),
    (f"{METRICS_HEADER}\n1,2.5,0.25,2.75,0.125,fast,0.5\n", "line 2: examples_per_s is 'fast', not a number"),
    (f"{METRICS_HEADER}\n1.5,2.5,0.25,2.75,0.125,1000,0.5\n", "line 2: epoch is '1.5'"),
    (f"{METRICS_HEADER}\n1,,0.25,2.75,0.125,1000,0.5\n", "line 2: train_loss is ''"),
    (f"{METRICS_HEADER},valid_loss\n1,2.5,0.25,2.75,0.125,1000,0.5,low\n", "line 2: valid_loss is 'low'"),
])
def test_damaged_metrics_are_named(tmp_path, text, words):
    run_dir = saved_run(tmp_path)
    (run_dir / "metrics.csv").write_text(text)
    with pytest.raises(CheckpointError) as caught:
        runs.load_run(run_dir)
    assert caught.value.message.startswith(f"{run_dir / 'metrics.csv'} is damaged (")
    assert words in caught.value.message
    assert "train the run again" in caught.value.hint


@pytest.mark.parametrize("name, text, words", [
    ("state.json", "[1]", 'expected {"epoch": N}'),
    ("state.json", '{"epoch": true}', 'expected {"epoch": N}'),
    ("state.json", '{"epoch": -1}', 'expected {"epoch": N}'),
    ("meta.json", '{"mode": "sing"}', "expected the run's mode"),
    ("meta.json", '{"mode": "qa", "story_len": 0, "question_len": 3}', "story_len and question_len"),
    ("config.yaml", "data: [", "config.yaml is damaged (while parsing"),
])
def test_readable_but_wrong_run_files_are_named(tmp_path, name, text, words):
    run_dir = saved_run(tmp_path)
    (run_dir / name).write_text(text)
    with pytest.raises(CheckpointError, match=re.escape(f"{run_dir / name} is damaged")) as caught:
        runs.load_run(run_dir)
    assert words in caught.value.message


def test_checkpoint_without_an_epoch_is_damaged(tmp_path):
    run_dir = saved_run(tmp_path)
    serialization.save({"model/w": np.zeros((2, 3))}, run_dir / "checkpoint.npz")
    with pytest.raises(CheckpointError, match="checkpoint.npz is damaged .it has no valid epoch entry"):
        runs.load_checkpoint(run_dir)


# ---- every file of a run folder, damaged, through every command that reads it ------------------

# Bytes that are not UTF-8, not JSON, not YAML, not a zip: a disk error or a wrong copy.
GARBAGE = bytes((i * 167 + 13) % 256 for i in range(600))


def damage(path, kind):
    """Damage one run file: delete it, cut it in half, replace it by garbage or by the empty file."""
    data = path.read_bytes()
    path.unlink()
    kinds = {"missing": None, "truncated": data[:len(data) // 2], "garbage": GARBAGE, "emptied": b""}
    if kinds[kind] is not None:
        path.write_bytes(kinds[kind])


# What each command reads: predict needs neither the resume checkpoint nor the metrics.
COMMANDS = {
    "predict": (["predict", "--context", "mary moved to the", "--run"],
                set(RUN_FILES) - {"checkpoint.npz", "metrics.csv"}),
    "resume": (["train", "--epochs", "2", "--resume"], set(RUN_FILES)),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", ["missing", "truncated", "garbage", "emptied"])
@pytest.mark.parametrize("name", sorted(RUN_FILES))
def test_a_damaged_run_file_is_named_by_every_command(lm_run_copy, name, kind, command):
    from conftest import invoke, one_line

    args, reads = COMMANDS[command]
    others = {p.name: p.read_bytes() for p in lm_run_copy.iterdir() if p.name != name}
    damage(lm_run_copy / name, kind)
    result = invoke(*args, lm_run_copy)  # fails the test on any uncaught exception
    text = one_line(result.output)
    if name not in reads or (name, kind) == ("state.json", "missing"):  # the checkpoint names its epoch
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code != 0, result.output
    assert text.count("error: ") == 1 and str(lm_run_copy) in text and name in text, text
    assert {p.name: p.read_bytes() for p in lm_run_copy.iterdir() if p.name != name} == others


def rewrite_checkpoint(run_dir, change):
    """Replace the run's checkpoint by ``change(entries)``, saved as minigrad would."""
    file = run_dir / "checkpoint.npz"
    entries = serialization.load(file)
    serialization.save(change(entries), file)
    return file


@pytest.mark.parametrize("change, words", [
    (lambda e: {**e, "optimizer/99.velocity": np.zeros(3)}, "'99.velocity' names no parameter of this model"),
    (lambda e: {**e, "optimizer/0.velocity": np.zeros((1, 1))}, "'0.velocity' has shape (1, 1)"),
    (lambda e: {k: (np.zeros((2, 2)) if k == "model/output.weight" else v) for k, v in e.items()},
     "weight 'output.weight' has shape (2, 2)"),
])
def test_resume_from_a_checkpoint_that_does_not_fit(lm_run_copy, change, words):
    from conftest import invoke, one_line

    assert "model/output.weight" in serialization.load(lm_run_copy / "checkpoint.npz")
    file = rewrite_checkpoint(lm_run_copy, change)
    result = invoke("train", "--resume", lm_run_copy, "--epochs", "2")
    assert result.exit_code == 1, result.output
    assert f"error: {file}: " in one_line(result.output) and words in one_line(result.output)
    assert runs.load_run(lm_run_copy).epoch == 1  # nothing was trained or saved
