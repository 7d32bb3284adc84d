"""train.loggers: TensorBoard event files read back with TensorBoard's own reader, an MLflow SQLite
store queried through MlflowClient, and one clear message when a logger's package is missing."""

import importlib.util

import pytest

from conftest import TINY_LM, TINY_QA, invoke, one_line, write_config


def _train(tmp_path, loggers, base=TINY_LM, epochs=2):
    config = write_config(tmp_path, base, train={"epochs": epochs, "seed": 0, "loggers": loggers})
    result = invoke("train", config)
    assert result.exit_code == 0, result.output
    return tmp_path / "runs" / base["name"]


def test_tensorboard_gets_every_rows_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = _train(tmp_path, ["csv", "tensorboard"])
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    assert {"train_loss", "train_acc", "test_loss", "test_acc"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("train_loss")] == [1, 2]
    import csv
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))  # the same figures as metrics.csv
    assert [round(e.value, 4) for e in events.Scalars("test_acc")] == [round(float(r["test_acc"]), 4) for r in rows]


def test_mlflow_records_params_metrics_and_artifacts(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_dir = _train(tmp_path, ["mlflow"])
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")  # beside the runs folder
    experiment = client.get_experiment_by_name("tiny")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "tiny" and run.info.status == "FINISHED"
    assert run.data.params["train.epochs"] == "2" and run.data.params["model.type"] == "recurrent"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "train_loss")] == [1, 2]
    assert {"metrics.csv", "weights.npz"} <= {a.path for a in client.list_artifacts(run.info.run_id)}
    resumed = invoke("train", "--resume", run_dir, "--epochs", "3")
    assert resumed.exit_code == 0, resumed.output
    (again,) = client.search_runs([experiment.experiment_id])  # the same MLflow run, one epoch longer
    assert [m.step for m in client.get_metric_history(again.info.run_id, "train_loss")] == [1, 2, 3]


def test_a_suites_runs_are_tagged_with_suite_task_and_seed(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = write_config(tmp_path, {**TINY_QA, "train": {"epochs": 1, "seed": 0, "loggers": ["mlflow"]},
                                     "data": {**TINY_QA["data"], "valid_fraction": 0.2}})
    result = invoke("suite", config, "--tasks", "1", "--seeds", "2", "--out", tmp_path / "suites" / "mine",
                    "--jobs", "1")
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'suites' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("mine").experiment_id])
    assert sorted((r.data.tags["task"], r.data.tags["seed"]) for r in runs) == [("1", "0"), ("1", "1")]
    assert {r.data.tags["suite"] for r in runs} == {"mine"}


def test_runs_that_open_a_new_store_at_once_are_all_recorded(tmp_path, monkeypatch):
    """Two suite workers meeting a store that does not exist yet: one creates its tables and the
    experiment, the other waits for it, and neither run fails."""
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = write_config(tmp_path, {**TINY_QA, "train": {"epochs": 1, "seed": 0, "loggers": ["mlflow"]}})
    result = invoke("suite", config, "--tasks", "1", "--seeds", "2", "--out", tmp_path / "suites" / "two",
                    "--jobs", "2")
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'suites' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("two").experiment_id])
    assert sorted(r.data.tags["seed"] for r in runs) == ["0", "1"]


@pytest.mark.parametrize("logger, package", [("tensorboard", "tensorboardX"), ("mlflow", "mlflow")])
def test_a_missing_package_is_said_before_training(tmp_path, monkeypatch, logger, package):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == package else real(name, *a))
    config = write_config(tmp_path, TINY_LM, train={"epochs": 1, "seed": 0, "loggers": [logger]})
    result = invoke("train", config)
    text = one_line(result.output)
    assert result.exit_code == 2 and f"train.loggers: {logger} needs the {package} package" in text
    assert f"pip install 'minigrad[{logger}]'" in text and not (tmp_path / "runs").exists()
