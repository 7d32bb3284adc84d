"""The training loop: resuming, determinism, a diverging loss, Ctrl-C."""

import csv
import json

import numpy as np
import pytest
import yaml

from conftest import TINY_LM, TINY_QA, fail_during, invoke, one_line, write_config
from minigrad import serialization
from minigrad.tool import evaluation, runs, training
from minigrad.tool.config import load_config
from minigrad.errors import CheckpointError, TrainingDiverged
from minigrad.tool.predict import Predictor
from minigrad.tool.session import resume_session, start_session

SCORES = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]  # what does not depend on timing


def metric_lines(run_dir):
    return (run_dir / "metrics.csv").read_text().splitlines()


def scores(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [[float(row[k]) for k in SCORES] for row in csv.DictReader(f)]


def saved_epoch(run_dir):
    return json.loads((run_dir / "state.json").read_text())["epoch"]


def snapshot(run_dir):
    return {p.name: p.read_bytes() for p in run_dir.iterdir()}


def assert_same_arrays(a, b):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


LM_MOMENTUM = {**TINY_LM, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}}
QA_CLIPPED = {**TINY_QA, "optimizer": {"name": "adam", "lr": 0.01, "clip_norm": 1.0}}


# ---- resume ---------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [LM_MOMENTUM, QA_CLIPPED], ids=["sgd-momentum-lm", "adam-qa"])
def test_resume_equals_a_straight_run(tmp_path, base):
    """One epoch, then --resume to two, ends exactly where two epochs in one go end.

    Momentum and Adam keep buffers between steps, so this also checks that
    checkpoint.npz restores them."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert invoke("train", write_config(tmp_path / "a", base)).exit_code == 0
    resumed = tmp_path / "a" / "runs" / base["name"]
    first_epoch = metric_lines(resumed)

    result = invoke("train", "--resume", resumed, "--epochs", "2")
    assert result.exit_code == 0, result.output
    lines = metric_lines(resumed)
    assert len(lines) == 3 and lines[:2] == first_epoch  # header and epoch 1 unchanged
    assert saved_epoch(resumed) == 2

    assert invoke("train", write_config(tmp_path / "b", base), "--epochs", "2").exit_code == 0
    straight = tmp_path / "b" / "runs" / base["name"]
    assert_same_arrays(serialization.load(resumed / "weights.npz"), serialization.load(straight / "weights.npz"))
    assert_same_arrays(serialization.load(resumed / "checkpoint.npz"), serialization.load(straight / "checkpoint.npz"))
    np.testing.assert_allclose(scores(resumed), scores(straight), rtol=0, atol=1e-6)


def test_resume_through_latest(tmp_path, make_config):
    """``--resume runs/latest`` trains the run the link points at and keeps the link working."""
    assert invoke("train", make_config()).exit_code == 0
    latest = tmp_path / "runs" / "latest"
    result = invoke("train", "--resume", latest, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert saved_epoch(tmp_path / "runs" / "tiny") == 2
    assert latest.resolve() == (tmp_path / "runs" / "tiny").resolve()
    Predictor.load(latest)


def test_resume_points_latest_at_the_resumed_run(tmp_path, make_config):
    path = make_config()
    invoke("train", path)
    invoke("train", path)  # tiny-2 is now the latest
    assert invoke("train", "--resume", tmp_path / "runs" / "tiny", "--epochs", "2").exit_code == 0
    assert (tmp_path / "runs" / "latest").resolve() == (tmp_path / "runs" / "tiny").resolve()


def test_resume_with_no_epochs_left_says_how_to_train_longer(lm_run_copy):
    before = snapshot(lm_run_copy)
    result = invoke("train", "--resume", lm_run_copy)  # 1 epoch is done, the run file plans 1
    assert result.exit_code == 2, result.output
    text = one_line(result.output)
    assert text.startswith(f"error: {lm_run_copy} already has 1 epoch; its train.epochs (1) asks for no more.")
    assert f"--epochs M, M > 1; for 10 more: minigrad train --resume {lm_run_copy} --epochs 11" in text
    assert "batches" not in text and "run folder:" not in text  # no progress bar, no table
    assert "Traceback" not in result.output
    assert snapshot(lm_run_copy) == before


def test_resume_with_epochs_to_add_gives_the_total_that_adds_them(lm_run_copy):
    invoke("train", "--resume", lm_run_copy, "--epochs", "3")
    result = invoke("train", "--resume", lm_run_copy, "--epochs", "2")  # meant: 2 more
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = one_line(result.output)
    assert f"{lm_run_copy} already has 3 epochs; --epochs 2 asks for no more" in text
    assert "--epochs is the new total, not the epochs to add" in text
    assert f"To train 2 more: minigrad train --resume {lm_run_copy} --epochs 5" in text
    assert saved_epoch(lm_run_copy) == 3
    assert invoke("train", "--resume", lm_run_copy, "--epochs", "5").exit_code == 0  # the command given works
    assert saved_epoch(lm_run_copy) == 5


def test_resume_problems(tmp_path, lm_run_copy):
    result = invoke("train", "--resume", tmp_path / "gone")
    assert result.exit_code == 1 and f"no run folder at {tmp_path / 'gone'}" in one_line(result.output)

    result = invoke("train", "--resume", lm_run_copy, "--epochs", "0")
    assert result.exit_code == 2
    assert "train.epochs" in result.output and "set by --epochs" in result.output

    (lm_run_copy / "weights.npz").unlink()
    with pytest.raises(CheckpointError, match="missing weights.npz"):
        resume_session(lm_run_copy, {"epochs": 2})


# ---- a sequential model from a run file -------------------------------------------------------

SEQUENTIAL = {**TINY_LM, "name": "seq",
              "data": {**TINY_LM["data"], "train_size": 200},
              "model": {"type": "sequential", "layers": [
                  {"type": "Embedding", "dim": 8}, {"type": "Linear", "n_outputs": 16}, {"type": "Tanh"},
                  {"type": "Linear", "n_outputs": "vocab"}]},
              "optimizer": {"name": "adam", "lr": 0.05},
              "train": {"epochs": 2, "seed": 0}}
PLACES = {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}


def test_sequential_model_trains_from_a_run_file_and_predicts(tmp_path):
    """Each step sees only its own word, which is enough to learn that a place follows "the"."""
    result = invoke("train", write_config(tmp_path, SEQUENTIAL))
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "runs" / "seq"
    rows = scores(run_dir)
    assert [row[0] for row in rows] == [1, 2]
    assert rows[1][1] < rows[0][1] < 3.2  # train loss falls from about ln(vocabulary size)
    assert rows[1][4] > 0.5  # test accuracy: most next words are right
    assert sorted(serialization.load(run_dir / "weights.npz")) == [
        "layers.0.weight", "layers.1.bias", "layers.1.weight", "layers.3.bias", "layers.3.weight"]

    result = invoke("predict", "--run", run_dir, "--context", "mary moved to the", "--top-k", "4")
    assert result.exit_code == 0, result.output
    top = Predictor.load(run_dir).next_word("mary moved to the", top_k=4)
    assert {word for word, _ in top} <= PLACES
    assert f"next word: {top[0][0]} (p={top[0][1]:.3f})" in result.output


# ---- determinism ---------------------------------------------------------------------------


def run_twice(tmp_path, base, seeds):
    results = []
    for seed in seeds:
        session = start_session(load_config(write_config(tmp_path, base), {"seed": seed, "epochs": 2}))
        rows = training.train(session)
        results.append(([[row[k] for k in SCORES] for row in rows], session.model.state_dict()))
    return results


@pytest.mark.parametrize("base", [TINY_LM, TINY_QA], ids=["lm", "qa"])
def test_same_seed_same_run(tmp_path, base):
    (metrics_a, weights_a), (metrics_b, weights_b) = run_twice(tmp_path, base, [0, 0])
    assert metrics_a == metrics_b
    assert_same_arrays({k: v.data for k, v in weights_a.items()}, {k: v.data for k, v in weights_b.items()})


def test_another_seed_another_run(tmp_path):
    (metrics_a, _), (metrics_b, _) = run_twice(tmp_path, TINY_LM, [0, 1])
    assert metrics_a != metrics_b


def test_loss_goes_down(tmp_path):
    session = start_session(load_config(write_config(tmp_path), {"epochs": 3}))
    seen = {"starts": [], "batches": []}
    rows = training.train(session, on_epoch_start=lambda epoch, total: seen["starts"].append((epoch, total)),
                          on_batch=seen["batches"].append)
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    assert rows[0]["train_loss"] > rows[1]["train_loss"] > rows[2]["train_loss"]
    assert rows[2]["test_loss"] < rows[0]["test_loss"]
    assert seen["starts"] == [(1, 5), (2, 5), (3, 5)]  # 100 lines in batches of 20
    assert seen["batches"] == [1, 2, 3, 4, 5] * 3


def test_evaluate_every_n_epochs(tmp_path):
    path = write_config(tmp_path, train={**TINY_LM["train"], "epochs": 3, "eval_every": 2})
    session = start_session(load_config(path))
    rows = training.train(session)
    assert [row["epoch"] for row in rows] == [2, 3]  # every 2nd epoch, and always the last
    assert saved_epoch(session.run_dir) == 3 and len(scores(session.run_dir)) == 2


def test_the_test_split_is_scored_every_test_every_epochs_and_at_the_last(tmp_path, monkeypatch):
    path = write_config(tmp_path, train={**TINY_LM["train"], "epochs": 5, "test_every": 2})
    scored = []
    real = training.split_scores
    monkeypatch.setattr(training, "split_scores", lambda session, split: scored.append(split) or real(session, split))
    session = start_session(load_config(path))
    rows = training.train(session)
    assert [row["epoch"] for row in rows] == [1, 2, 3, 4, 5]  # a row every epoch, with its training scores
    assert [row["epoch"] for row in rows if "test_acc" in row] == [2, 4, 5]
    assert scored == ["test"] * 3
    saved = runs.read_metrics(session.run_dir / "metrics.csv")
    assert [("test_acc" in row, "train_acc" in row) for row in saved] == \
        [(False, True), (True, True), (False, True), (True, True), (True, True)]
    listing = invoke("runs", tmp_path / "runs")
    assert listing.exit_code == 0 and "tiny" in listing.output, listing.output  # a listing copes with the gaps


def test_a_checkpoint_every_n_epochs_and_at_the_last(tmp_path, monkeypatch):
    path = write_config(tmp_path, train={**TINY_LM["train"], "epochs": 5, "checkpoint_every": 2})
    saved = []
    real = runs.save_checkpoint
    monkeypatch.setattr(runs, "save_checkpoint", lambda *a, **k: saved.append(a[3]) or real(*a, **k))
    session = start_session(load_config(path))
    training.train(session)
    assert saved == [2, 4, 5] and saved_epoch(session.run_dir) == 5
    assert len(scores(session.run_dir)) == 5  # the rows between checkpoints are saved with the next one


# ---- a diverging loss --------------------------------------------------------------------


def assert_only_the_divergence_is_recorded(run_dir, before, epoch, batch):
    """Every saved file is as it was, but state.json, which adds where the loss diverged, and
    config.yaml, whose train.epochs is the resume's new total."""
    after, changed = snapshot(run_dir), ("state.json", "config.yaml")
    assert {k: v for k, v in after.items() if k not in changed} == \
        {k: v for k, v in before.items() if k not in changed}
    assert yaml.safe_load(after["config.yaml"])["train"]["epochs"] == 3
    assert json.loads((run_dir / "state.json").read_text()) == {"epoch": 1, "diverged": {"epoch": epoch, "batch": batch}}


def test_nan_loss_stops_and_keeps_the_last_good_epoch(tmp_path, make_config, monkeypatch):
    assert invoke("train", make_config()).exit_code == 0
    run_dir = tmp_path / "runs" / "tiny"
    before = snapshot(run_dir)
    # batches 1-2 of epoch 2 still update the weights in memory; batch 3's loss is NaN
    fail_during(monkeypatch, epoch=2, batch=3, make_loss=lambda loss: loss * float("nan"))

    result = invoke("train", "--resume", run_dir, "--epochs", "3")
    assert result.exit_code == 1
    text = one_line(result.output)
    assert "the loss became nan at epoch 2, batch 3; training stopped" in text
    assert f"The last good checkpoint (epoch 1) is kept in {run_dir}" in text and "Lower optimizer.lr" in text
    assert_only_the_divergence_is_recorded(run_dir, before, epoch=2, batch=3)
    Predictor.load(run_dir).next_word("mary moved to the")


def test_nan_in_the_first_epoch_says_nothing_is_saved(tmp_path, make_config, monkeypatch):
    fail_during(monkeypatch, epoch=1, batch=2, make_loss=lambda loss: loss * float("nan"))
    result = invoke("train", make_config())
    assert result.exit_code == 1
    text = one_line(result.output)
    assert "the loss became nan at epoch 1, batch 2" in text
    assert f"No epoch had finished, so no weights were saved in {tmp_path / 'runs' / 'tiny'}." in text
    assert "epoch 0" not in text and "checkpoint" not in text


def test_a_huge_learning_rate_stops_the_run_though_the_loss_stays_finite(tmp_path, make_config):
    """lr 1e20 blows the weights up in the first step; the loss is then about 1e19, not NaN."""
    result = invoke("train", make_config(), "--set", "optimizer.lr=1e20", "--epochs", "3")
    assert result.exit_code == 1, result.output
    text = one_line(result.output)
    assert "error: the loss exploded to " in text and " at epoch 1, batch 2: more than 10 times the " in text
    assert "of guessing every word alike (train.max_loss_ratio: 10); training stopped." in text
    assert "No epoch had finished, so no weights were saved" in text
    assert "Lower optimizer.lr (now 1e+20) or set optimizer.clip_norm; train.max_loss_ratio sets this limit." in text
    assert not (tmp_path / "runs" / "tiny" / "weights.npz").exists()


def test_an_exploding_loss_later_keeps_the_last_good_epoch(tmp_path, make_config, monkeypatch):
    assert invoke("train", make_config()).exit_code == 0
    run_dir = tmp_path / "runs" / "tiny"
    before = snapshot(run_dir)
    # a loss of about 53: above 10 x ln(vocabulary size) = 10 x ln(21) = 30.4
    fail_during(monkeypatch, epoch=2, batch=2, make_loss=lambda loss: loss + 50.0)
    result = invoke("train", "--resume", run_dir, "--epochs", "3")
    assert result.exit_code == 1
    text = one_line(result.output)
    assert "the loss exploded to 5" in text and "at epoch 2, batch 2" in text
    assert f"The last good checkpoint (epoch 1) is kept in {run_dir}" in text
    assert_only_the_divergence_is_recorded(run_dir, before, epoch=2, batch=2)


def test_max_loss_ratio_sets_the_limit(tmp_path, make_config, monkeypatch):
    """The same loss of about 50 passes with the limit raised, or turned off, and stops with it lowered."""
    fail_during(monkeypatch, epoch=1, batch=2, make_loss=lambda loss: loss + 50.0)  # same gradient
    assert invoke("train", make_config(), "--set", "train.max_loss_ratio=20").exit_code == 0
    assert invoke("train", make_config(), "--set", "train.max_loss_ratio=null").exit_code == 0
    result = invoke("train", make_config(), "--set", "train.max_loss_ratio=10")
    assert result.exit_code == 1 and "train.max_loss_ratio: 10" in one_line(result.output)


def test_loss_bound_is_the_ratio_times_a_uniform_guess():
    assert training.loss_bound(10, 21) == pytest.approx(10 * np.log(21))
    assert training.loss_bound(None, 21) is None


def test_infinite_loss_raises_training_diverged(tmp_path, monkeypatch):
    session = start_session(load_config(write_config(tmp_path)))
    fail_during(monkeypatch, epoch=1, batch=1, make_loss=lambda loss: loss * float("inf"))
    with pytest.raises(TrainingDiverged, match="became inf at epoch 1, batch 1"):
        training.train(session)
    assert not (session.run_dir / "weights.npz").exists()  # no epoch finished, none saved


# ---- Ctrl-C ----------------------------------------------------------------------------------


def interrupt(loss):
    raise KeyboardInterrupt


def test_ctrl_c_during_training(tmp_path, make_config, monkeypatch):
    path = make_config(train={**TINY_LM["train"], "epochs": 3})
    run_dir = tmp_path / "runs" / "tiny"
    fail_during(monkeypatch, epoch=2, batch=3, make_loss=interrupt)

    result = invoke("train", path)
    assert result.exit_code == 130
    text = one_line(result.output)
    assert f"interrupted during epoch 2; epoch 1 is saved in {run_dir}" in text
    assert f"Continue with: minigrad train --resume {run_dir}" in text
    assert saved_epoch(run_dir) == 1 and len(scores(run_dir)) == 1
    Predictor.load(run_dir).next_word("mary moved to the")

    monkeypatch.undo()  # the resume the message suggests finishes the run
    result = invoke("train", "--resume", run_dir)
    assert result.exit_code == 0, result.output
    assert saved_epoch(run_dir) == 3 and [row[0] for row in scores(run_dir)] == [1, 2, 3]


def test_ctrl_c_during_evaluation(tmp_path, make_config, monkeypatch):
    path = make_config(train={**TINY_LM["train"], "epochs": 2})
    run_dir = tmp_path / "runs" / "tiny"
    real_evaluate = evaluation.evaluate
    calls = []

    def evaluate(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_evaluate(*args)

    monkeypatch.setattr(evaluation, "evaluate", evaluate)
    result = invoke("train", path)
    assert result.exit_code == 130, result.output
    assert "interrupted during epoch 2; epoch 1 is saved" in one_line(result.output)
    assert saved_epoch(run_dir) == 1
    Predictor.load(run_dir)


def test_ctrl_c_in_the_first_epoch_says_there_is_nothing_to_resume(make_config, monkeypatch):
    fail_during(monkeypatch, epoch=1, batch=1, make_loss=interrupt)
    result = invoke("train", make_config())
    assert result.exit_code == 130
    text = one_line(result.output)
    assert "interrupted during epoch 1, before any epoch was saved" in text
    assert "Nothing to resume yet" in text and "Traceback" not in text


def test_ctrl_c_while_saving_names_the_epoch_the_checkpoint_holds(tmp_path, make_config, monkeypatch):
    """An interrupt after checkpoint.npz is written but before state.json: epoch 2 is safe."""
    path = make_config(train={**TINY_LM["train"], "epochs": 3})
    real_write = runs.write_text_atomic

    def write(file, text):
        if file.name == "state.json" and '"epoch": 2' in text:
            raise KeyboardInterrupt
        real_write(file, text)

    monkeypatch.setattr(runs, "write_text_atomic", write)
    result = invoke("train", path)
    assert result.exit_code == 130
    assert "interrupted during epoch 2; epoch 2 is saved" in one_line(result.output)
    assert runs.load_checkpoint(tmp_path / "runs" / "tiny")[2] == 2
