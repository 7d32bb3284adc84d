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
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "test"]
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
            "tiny train", "tiny test", "held train", "held valid", "held test"]
        assert len(ax.get_legend().get_texts()) == 5


def test_suite_folder_gives_error_bars_against_baselines(tmp_path):
    (tmp_path / "summary.csv").write_text(
        "task,selected_seed,test_error,valid_error,median_test_error,min_test_error,max_test_error,lstm\n"
        "1,0,0.5,0.4,1.0,0.5,2.0,50.0\n2,0,12.0,10.0,14.0,11.0,15.0,80.0\n3,,,,,,,79.0\n")
    fig, written = plot.plot([tmp_path], tmp_path / "errors.png")
    (ax,) = fig.axes
    assert png_size(written)[0] == 1100
    minigrad, lstm = ax.containers
    assert [bar.get_height() for bar in minigrad] == [0.5, 12.0]  # task 3 has no result yet
    assert [bar.get_height() for bar in lstm] == [50.0, 80.0, 79.0]
    assert ax.get_ylabel() == "test error (%)"


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
