"""The best epoch, chosen on validation only; early stopping; resumed runs' time, plan and best;
``predict --weights``; the statuses ``minigrad runs`` shows."""

import json

import numpy as np
import pytest
import yaml

from conftest import TINY_QA, invoke, one_line, write_config
from minigrad import serialization
from minigrad.errors import ConfigError
from minigrad.tool import run_list, training
from minigrad.tool.config import load_config
from minigrad.tool.predict import Predictor
from minigrad.tool.session import resume_session, start_session

VALID = {**TINY_QA["data"], "valid_fraction": 0.2}


def scripted_scores(monkeypatch, valid_losses, test_accs=None):
    """Make epoch N's validation loss ``valid_losses[N - 1]`` (and its test accuracy ``test_accs[N - 1]``).

    Training is real; only the figures that choose (or must not choose) an epoch are scripted.
    """
    real = training.split_scores

    def split_scores(session, split):
        epoch = len(session.metrics) + 1  # a row every epoch; this epoch's is not appended yet
        if split == "valid":
            return (valid_losses[epoch - 1], 0.5), {}
        if test_accs is not None:
            return (1.0, test_accs[epoch - 1]), {}
        return real(session, split)

    monkeypatch.setattr(training, "split_scores", split_scores)


def train_recording(session):
    """Train, returning each evaluated epoch's weights as they were when it was scored."""
    weights = {}

    def record(row):
        weights[row["epoch"]] = {k: np.array(v, copy=True) for k, v in session.model.state_dict().items()}

    try:
        training.train(session, on_eval=record)
    finally:
        session.close()
    return weights


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def qa_config(tmp_path, epochs, **train):
    return write_config(tmp_path, TINY_QA, data=VALID, train={"epochs": epochs, "seed": 0, **train})


def test_the_best_epoch_is_chosen_on_validation_never_on_test(tmp_path, monkeypatch):
    # validation is best at epoch 2; test accuracy is highest at epoch 4, which must not matter
    scripted_scores(monkeypatch, [3.0, 1.0, 2.0, 2.5], test_accs=[0.1, 0.3, 0.2, 0.9])
    session = start_session(load_config(qa_config(tmp_path, 4)))
    weights = train_recording(session)
    found = json.loads((session.run_dir / "best.json").read_text())
    assert found["epoch"] == 2 and found["value"] == 1.0 and found["test_acc"] == 0.3
    found["test_acc"] = 0.25  # what runs shows comes from best.json
    (session.run_dir / "best.json").write_text(json.dumps(found))
    assert_same_weights(serialization.load(session.run_dir / "best.npz"), weights[2])
    summary = run_list.summarize(session.run_dir, tmp_path)
    assert (summary.best_epoch, summary.valid_acc, summary.test_acc) == (2, 0.5, 0.25)  # not 0.9, epoch 4's test
    assert summary.status == "finished"
    listing = one_line(invoke("runs", tmp_path / "runs").output)
    assert "0.500 (2)" in listing and "0.250" in listing and "0.900" not in listing
    (session.run_dir / "best.json").write_text("{oops")
    assert run_list.summarize(session.run_dir, tmp_path).status == "damaged: best.json"


def test_early_stopping_stops_and_predict_uses_the_best_weights(tmp_path, monkeypatch):
    scripted_scores(monkeypatch, [3.0, 2.0, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0])
    path = qa_config(tmp_path, 8, early_stopping={"monitor": "valid_loss", "patience": 2})
    session = start_session(load_config(path))
    weights = train_recording(session)
    assert session.stopped_early == 4 and [r["epoch"] for r in session.metrics] == [1, 2, 3, 4]
    assert "test_acc" in session.metrics[-1]  # the test split is scored where the run ends
    run_dir = session.run_dir
    assert json.loads((run_dir / "state.json").read_text()) == {"epoch": 4, "stopped_early": True}
    assert json.loads((run_dir / "best.json").read_text())["epoch"] == 2
    best, last = Predictor.load(run_dir), Predictor.load(run_dir, "last")
    assert_same_weights(best.model.state_dict(), weights[2])
    assert_same_weights(last.model.state_dict(), weights[4])
    assert best.weights == "best on validation (epoch 2)" and last.weights == "last (epoch 4)"
    assert run_list.summarize(run_dir, tmp_path).status == "stopped early"
    assert "stopped early" in one_line(invoke("runs", tmp_path / "runs").output)


def test_stopping_early_is_a_normal_end_of_the_command(tmp_path, monkeypatch):
    scripted_scores(monkeypatch, [3.0, 1.0, 3.0, 4.0, 5.0, 6.0])
    path = qa_config(tmp_path, 6, early_stopping={"monitor": "valid_error", "patience": 1})
    # valid_error: the scripted accuracy is constant, so epoch 1 stays the best (epoch 2's lower
    # valid_loss is not what is watched) and epoch 2 stops
    result = invoke("train", path)
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert "stopped early at epoch 2: valid_error has not improved for 1 epoch." in text
    assert "best epoch on validation: 1" in text
    run = tmp_path / "runs" / "tinyqa"
    story, question = "Mary went to the garden.", "Where is Mary?"
    shown = invoke("predict", "--run", run, "--story", story, "--question", question)
    assert shown.exit_code == 0 and "weights: best on validation (epoch 1)" in one_line(shown.output)
    found = json.loads(invoke("predict", "--run", run, "--story", story, "--question", question, "--json",
                              "--weights", "last").output)
    assert found["weights"] == "last (epoch 2)"
    summary = run_list.summarize(run, tmp_path)
    assert (summary.best_epoch, summary.status) == (1, "stopped early")
    wrong = invoke("predict", "--run", run, "--story", story, "--question", question, "--weights", "first")
    assert wrong.exit_code == 2 and "--weights 'first': give best or last" in one_line(wrong.output)


def test_early_stopping_needs_a_validation_split(tmp_path):
    path = write_config(tmp_path, TINY_QA, train={"epochs": 3, "seed": 0, "early_stopping": {"patience": 2}})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "train.early_stopping" in caught.value.message and "data.valid_fraction" in caught.value.message
    for bad in ({"patience": 0}, {"patience": 2, "monitor": "test_loss"}, {"patience": 2, "min_delta": -1},
                {"patience": True}):
        with pytest.raises(ConfigError) as caught:
            load_config(qa_config(tmp_path, 3, early_stopping=bad))
        assert "train.early_stopping" in caught.value.message
    with pytest.raises(ConfigError) as caught:
        load_config(qa_config(tmp_path, 3, early_stopping={"patience": 10**7}))
    assert "train.early_stopping.patience: 10000000 is over the limit of 1,000,000" in caught.value.message
    with pytest.raises(ConfigError) as caught:
        load_config(qa_config(tmp_path, 3, early_stopping={"patience": 1, "min_delta": 101.0}))
    assert "train.early_stopping.min_delta" in caught.value.message
    assert load_config(qa_config(tmp_path, 3, early_stopping={"patience": 10**6, "min_delta": 100.0}))


def test_a_resume_keeps_elapsed_time_the_plan_and_the_best(tmp_path, monkeypatch):
    # best at epoch 1; after the resume, epoch 3 is two epochs past it: with patience 2, it stops there
    scripted_scores(monkeypatch, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    session = start_session(load_config(qa_config(tmp_path, 2, early_stopping={"patience": 2})))
    train_recording(session)
    assert not session.stopped_early
    before = session.metrics[-1]["elapsed_s"]
    resumed = resume_session(session.run_dir, {"epochs": 6})
    assert (resumed.best.epoch, resumed.best.value) == (1, 1.0)
    train_recording(resumed)
    assert resumed.stopped_early == 3
    elapsed = [row["elapsed_s"] for row in resumed.metrics]
    assert elapsed == sorted(elapsed) and elapsed[2] > before  # goes on from the first session's total
    assert yaml.safe_load((session.run_dir / "config.yaml").read_text())["train"]["epochs"] == 6
    summary = run_list.summarize(session.run_dir, tmp_path)
    assert (summary.done, summary.planned, summary.status) == (3, 6, "stopped early")
    assert summary.wall_s == pytest.approx(elapsed[-1], rel=1e-4)  # metrics.csv keeps 6 digits


def test_a_resumed_run_without_a_new_total_keeps_its_plan(tmp_path):
    path = write_config(tmp_path, TINY_QA, train={"epochs": 2, "seed": 0})
    session = start_session(load_config(path))
    session.config.train.epochs = 1  # stop after one epoch, as an interrupted run would
    train_recording(session)
    resumed = resume_session(session.run_dir)
    train_recording(resumed)
    assert yaml.safe_load((session.run_dir / "config.yaml").read_text())["train"]["epochs"] == 2
    assert run_list.summarize(session.run_dir, tmp_path).status == "finished"
    assert not (session.run_dir / "best.json").exists()  # no validation split: no best to choose
    assert Predictor.load(session.run_dir).weights.startswith("last (epoch 2): the run keeps no best epoch")


def test_a_suite_counts_a_run_stopped_early_as_finished(tmp_path):
    from types import SimpleNamespace

    from minigrad.tool.suite import plan

    folder = tmp_path / "task01-seed0"
    folder.mkdir()
    suite, run = SimpleNamespace(epochs=10), SimpleNamespace(folder=folder)
    (folder / "state.json").write_text(json.dumps({"epoch": 4}))
    assert not plan.is_finished(suite, run)
    (folder / "state.json").write_text(json.dumps({"epoch": 4, "stopped_early": True}))
    assert plan.is_finished(suite, run)


def test_a_damaged_best_is_named_and_last_still_answers(tmp_path):
    path = qa_config(tmp_path, 1)
    assert invoke("train", path).exit_code == 0
    run = tmp_path / "runs" / "tinyqa"
    (run / "best.npz").write_text("garbage")
    args = ("predict", "--run", run, "--story", "Mary went to the garden.", "--question", "Where is Mary?")
    broken = invoke(*args)
    assert broken.exit_code == 1 and f"{run / 'best.npz'} is damaged" in one_line(broken.output)
    assert invoke(*args, "--weights", "last").exit_code == 0
    (run / "best.npz").unlink()
    gone = invoke("evaluate", run)
    assert gone.exit_code == 1 and "best.npz is missing" in one_line(gone.output)
