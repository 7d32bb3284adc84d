"""``minigrad plot``: training curves of runs, a suite's errors per task, and matplotlib missing."""

import struct
import sys

import pytest

from conftest import TINY_LM, invoke, one_line, train_run
from minigrad.tool.views import plot

pytest.importorskip("matplotlib")


def png_size(path):
    """(width, height) from a PNG's header, after checking its magic bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plot")
    plain = train_run(folder, TINY_LM, train={"epochs": 2, "seed": 0})
    valid = train_run(folder, dict(TINY_LM, name="held"), train={"epochs": 2, "seed": 0},
                      data={"valid_fraction": 0.2})
    return plain, valid


def test_one_run_gives_train_and_test_curves(two_runs, tmp_path):
    target = tmp_path / "one.png"
    fig, written = plot.plot([two_runs[0]], target)
    assert written == target and png_size(target) == (1100, 450)
    loss_ax, acc_ax = fig.axes
    assert [text.get_text() for text in loss_ax.get_legend().get_texts()] == ["train", "test"]
    assert fig.get_suptitle() == "tiny, task 1, seed 0"  # the folder's name is the run file's
    assert all(line.get_marker() == "o" for line in loss_ax.get_lines())  # 2 epochs: each marked
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss (nats)"
    assert acc_ax.get_ylabel() == "accuracy (%)"
    test_acc = acc_ax.get_lines()[1]
    rows = plot.read_metrics(two_runs[0])
    assert list(test_acc.get_xdata()) == [1, 2]
    assert list(test_acc.get_ydata()) == pytest.approx([100 * r["test_acc"] for r in rows])


def test_two_runs_overlaid_with_their_names(two_runs, tmp_path):
    result = invoke("plot", *two_runs, "-o", tmp_path / "two.png")
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "two.png") == (1100, 450)
    fig, _ = plot.plot(two_runs, tmp_path / "again.png")
    for ax in fig.axes:  # 2 curves of the plain run, 3 of the one with a validation split
        assert [line.get_label() for line in ax.get_lines()] == [
            "tiny, task 1, seed 0: train", "tiny, task 1, seed 0: test", "held, task 1, seed 0: train",
            "held, task 1, seed 0: valid", "held, task 1, seed 0: test"]
    (legend,) = fig.legends  # one below both plots: a line per run, then per split
    assert [t.get_text() for t in legend.get_texts()] == [
        "tiny, task 1, seed 0", "held, task 1, seed 0", "train", "test", "valid"]


def test_suite_folder_gives_error_bars_against_baselines(tmp_path):
    (tmp_path / "summary.csv").write_text(
        "task,selected_seed,test_error,valid_error,median_test_error,min_test_error,max_test_error,lstm\n"
        "1,0,0.5,0.4,1.0,0.5,2.0,50.0\n2,0,12.0,10.0,14.0,11.0,15.0,80.0\n3,,,,,,,79.0\n")
    fig, written = plot.plot([tmp_path], tmp_path / "errors.png")
    (ax,) = fig.axes
    assert png_size(written)[0] == 1100
    (minigrad,) = ax.containers  # minigrad's errors are bars; the published ones are markers
    assert [bar.get_height() for bar in minigrad] == [0.5, 12.0]  # task 3 has no result yet
    assert [t.get_text() for t in ax.texts] == ["0.5", "12.0", "n/a"]  # each bar's figure; task 3 says so
    (lstm,) = [line for line in ax.get_lines() if line.get_label() == "LSTM"]
    assert list(lstm.get_ydata()) == [50.0, 80.0, 79.0] and lstm.get_linestyle() == "None"
    assert ax.get_ylabel() == "test error (%)"


def test_a_zero_error_is_a_visible_labelled_bar(tmp_path):
    fig = plot.suite_errors("s", [1, 2], {"minigrad": [0.0, 10.0], "LSTM": [50.0, 80.0]})
    (ax,) = fig.axes
    zero = ax.containers[0][0]
    assert zero.get_height() == 0.0 and zero.get_linewidth() > 0 and zero.get_edgecolor()[3] == 1.0
    assert ax.texts[0].get_text() == "0.0" and ax.get_ylim()[0] < 0  # the flat bar sits above the axis
    lstm_x = [line for line in ax.get_lines() if line.get_label() == "LSTM"][0].get_xdata()
    assert all(x > bar.get_x() + bar.get_width() for x, bar in zip(lstm_x, ax.containers[0]))  # beside, not over


def rows_of(losses, accuracy=0.5):
    return [{"epoch": e, "train_loss": loss, "train_acc": accuracy} for e, loss in enumerate(losses, start=1)]


def test_long_runs_have_no_markers_and_a_wide_loss_range_is_on_a_log_scale():
    fig = plot.curves([("long", rows_of([1.0 + 2.0 / e for e in range(1, 41)]))])
    loss_ax, _ = fig.axes
    assert loss_ax.get_lines()[0].get_marker() in (None, "None", "")  # 40 epochs
    assert loss_ax.get_yscale() == "linear"  # 3.0 down to 1.05
    fig = plot.curves([("long", rows_of([3.0 / e for e in range(1, 41)]))])
    assert fig.axes[0].get_yscale() == "log" and fig.axes[0].get_ylabel() == "loss (nats, log scale)"  # 3 to 0.075


def test_first_epoch_spikes_do_not_set_the_loss_axis():
    fig = plot.curves([("spiky", rows_of([9.0, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5]))])
    assert fig.axes[0].get_ylim()[1] == pytest.approx(1.1 * 1.2)  # above the highest loss after epoch 1
    fig = plot.curves([("smooth", rows_of([2.5, 2.0, 1.6, 1.4, 1.2, 1.1, 1.0, 0.95, 0.9, 0.85]))])
    assert fig.axes[0].get_ylim()[1] > 2.5  # a start that is not a spike stays in view


def test_pictures_go_into_the_folder_drawn_not_the_current_one(tmp_path, monkeypatch):
    run = train_run(tmp_path, TINY_LM, train={"epochs": 2, "seed": 0})
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "summary.csv").write_text("task,test_error\n1,0.0\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert f"wrote {run / 'curves.png'}" in one_line(invoke("plot", run).output)
    assert f"wrote {tmp_path / 'suite' / 'errors.png'}" in one_line(invoke("plot", tmp_path / "suite").output)
    assert png_size(run / "curves.png") == (1100, 450) and png_size(tmp_path / "suite" / "errors.png")[0] == 1100
    assert list(work.iterdir()) == []


def test_suite_runs_are_named_by_task_and_seed(tmp_path):
    run = train_run(tmp_path, dict(TINY_LM, name="task02-seed3"), train={"epochs": 1, "seed": 3},
                    data={"task": 2})
    other = train_run(tmp_path, dict(TINY_LM, name="task02-seed3"), train={"epochs": 1, "seed": 3},
                      data={"task": 2})
    assert plot.run_labels([run]) == ["task 2, seed 3"]
    assert plot.run_labels([run, other]) == ["task 2, seed 3 (task02-seed3)", "task 2, seed 3 (task02-seed3-2)"]


def test_without_matplotlib_the_command_says_how_to_install(two_runs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now raises ImportError
    result = invoke("plot", two_runs[0], "-o", tmp_path / "x.png")
    assert result.exit_code == 1
    assert "needs matplotlib" in result.output and "pip install 'minigrad[plot]'" in result.output
    assert not (tmp_path / "x.png").exists()


def test_a_missing_run_is_one_message(tmp_path):
    result = invoke("plot", tmp_path / "nothing")
    assert result.exit_code == 1 and "no run folder" in result.output


def test_an_output_without_a_suffix_is_written_and_named_as_png(two_runs, tmp_path):
    result = invoke("plot", two_runs[0], "-o", tmp_path / "curves")
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "curves.png") == (1100, 450) and not (tmp_path / "curves").exists()
    assert f"wrote {tmp_path / 'curves.png'}" in one_line(result.output)
