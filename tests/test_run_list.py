"""``minigrad runs`` over finished, interrupted, diverged and damaged runs; the training sparkline."""

import json
import math
import os

import pytest

from conftest import TINY_LM, invoke, one_line, train_run, write_config
from minigrad.tool import run_list, training
from minigrad.tool.config import load_config
from minigrad.errors import TrainingDiverged
from minigrad.tool.views.tables import accuracy_caption, add_metrics_row, metrics_table, sparkline
from minigrad.tool.session import resume_session, start_session


def test_sparkline_draws_values_on_a_fixed_scale():
    assert sparkline([0, 0.5, 1]) == "▁▅█"
    assert sparkline([0.1, 0.3, math.nan, 2.0, -1.0]) == "▂▃ █▁"  # clipped, NaN blank
    assert sparkline([]) == ""
    assert accuracy_caption([(1, 0.2), (2, 0.9), (3, 0.5)]) == "test acc ▂▇▅  last 0.500 (epoch 3)"


def test_metrics_table_caption_grows_with_its_rows():
    table = metrics_table("t")
    row = dict(epoch=1, train_loss=1.0, train_acc=0.1, test_loss=1.0, test_acc=0.25, examples_per_s=1.0, elapsed_s=1.0)
    add_metrics_row(table, row)
    assert table.caption == "test acc ▃  last 0.250 (epoch 1)"
    add_metrics_row(table, dict(row, epoch=2, test_acc=1.0))
    assert table.caption == "test acc ▃█  last 1.000 (epoch 2)"


def _session(folder, name, **sections):
    config = dict(TINY_LM, name=name)
    return start_session(load_config(write_config(folder, config, train={"epochs": 2, "seed": 0},
                                                           **sections)))


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A folder with a finished, an interrupted and a diverged run, each made by training for real."""
    folder = tmp_path_factory.mktemp("runs")
    finished = train_run(folder, dict(TINY_LM, name="finished"), train={"epochs": 2, "seed": 0})

    interrupted = _session(folder, "interrupted")
    def stop_in_epoch_two(batch):
        if interrupted_epoch[0] == 2:
            raise KeyboardInterrupt
    interrupted_epoch = [0]
    with pytest.raises(training.Interrupted):
        training.train(interrupted, on_epoch_start=lambda e, n: interrupted_epoch.__setitem__(0, e),
                       on_batch=stop_in_epoch_two)

    diverged = _session(folder, "diverged", optimizer={"name": "sgd", "lr": 1e4})
    with pytest.raises(TrainingDiverged):
        training.train(diverged)
    interrupted.close(), diverged.close()
    for age, run in enumerate((diverged.run_dir, interrupted.run_dir, finished)):  # newest: finished
        for f in run.iterdir():
            os.utime(f, (1_000_000 + age * 100, 1_000_000 + age * 100))
    return folder / "runs"


def test_the_three_runs_and_their_status(run_folder):
    by_name = {s.name: s for s in run_list.list_runs(run_folder)}
    assert [s.name for s in run_list.list_runs(run_folder)] == ["finished", "interrupted", "diverged"]
    finished, interrupted, diverged = by_name["finished"], by_name["interrupted"], by_name["diverged"]
    assert (finished.status, finished.done, finished.planned) == ("finished", 2, 2)
    assert (interrupted.status, interrupted.done, interrupted.planned) == ("interrupted", 1, 2)
    assert diverged.status == "diverged (epoch 1)" and diverged.done == 0
    state = json.loads((run_folder / "diverged" / "state.json").read_text())
    assert state["epoch"] == 0 and state["diverged"]["epoch"] == 1 and state["diverged"]["batch"] >= 1
    rows = training.runs.load_run(run_folder / "finished").metrics
    # no validation split: nothing chooses an epoch, so the last one's test accuracy, marked last
    assert (finished.test_acc, finished.best_epoch, finished.chosen_on) == (rows[-1]["test_acc"], 2, "last")
    assert finished.valid_acc is None
    assert finished.wall_s == pytest.approx(rows[-1]["elapsed_s"])
    assert finished.model == "rnn" and finished.task == "1"


def test_the_interrupted_run_resumes(run_folder, tmp_path):
    import shutil

    copy = shutil.copytree(run_folder / "interrupted", tmp_path / "interrupted")
    session = resume_session(copy)
    assert session.start_epoch == 1
    training.train(session)
    assert run_list.summarize(copy, tmp_path).status == "running"  # the session still holds the folder
    session.close()
    assert run_list.summarize(copy, tmp_path).status == "finished"


def test_the_command_lists_them_and_a_damaged_one(run_folder, tmp_path):
    import shutil

    folder = shutil.copytree(run_folder, tmp_path / "runs", symlinks=True)
    suite_run = shutil.copytree(folder / "finished", folder / "suite" / "task01-seed0")
    (folder / "interrupted" / "metrics.csv").write_text("epoch,oops\n")
    result = invoke("runs", folder)
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert "damaged: metrics.csv" in text and "diverged (epoch 1)" in text and "finished" in text
    assert f"{os.path.join('suite', suite_run.name)}" in text  # a suite's runs one level further down
    assert "latest" not in text  # the link to the newest run is not a second copy of it


def test_no_runs_folder_is_one_message(tmp_path):
    result = invoke("runs", tmp_path / "none")
    assert result.exit_code == 1 and "no folder" in result.output
