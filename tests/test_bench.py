"""The benchmark script: its JSON interface and how it turns times into a ratio.

The timings themselves are not tested (they belong to the script, not to
tests); what is tested is that the script runs and writes what tools read.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_ratio_is_the_median_of_per_repetition_ratios(bench):
    # Per-repetition ratios 2, 2 and 3: their median is 2.
    assert bench.paired_ratio([2.0, 4.0, 6.0], [1.0, 2.0, 2.0]) == pytest.approx(2.0)
    # The machine slows down 3x in the second repetition: per-repetition
    # ratios are both 0.5, while the medians' ratio would be 2.0 / 3.0.
    assert bench.paired_ratio([1.0, 3.0], [2.0, 6.0]) == pytest.approx(0.5)


def test_paired_ratio_needs_both_sides(bench):
    assert bench.paired_ratio([1.0], None) is None
    assert bench.paired_ratio([], [1.0]) is None


def test_product_rates_cover_the_lstm_products(bench):
    rates = bench.product_rates(hidden=8, batch=2, steps=3)
    assert set(rates) == {"per-step h @ W_hh", "per-step W_hh @ gz.T", "W_hh's gradient, all steps"}
    assert all(rate > 0 for rate in rates.values())


def test_unknown_workload_is_refused(bench):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--only", "9"])
    assert exit_info.value.code == 2


def test_quick_run_writes_the_json_that_tools_read(bench, tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--only", "1", "--json", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())
    assert [row["workload"] for row in rows] == [bench.WORKLOADS[1].label]
    row = rows[0]
    assert set(row) >= {"workload", "minigrad_s", "pytorch_s", "ratio", "peak_mib", "pytorch_step_s", "pytorch_plain_s"}
    # Measured values only as measurements: how large they are is the script's report, not a test.
    assert isinstance(row["minigrad_s"], float) and row["minigrad_s"] > 0
    assert isinstance(row["peak_mib"], float) and row["peak_mib"] > 0
    if row["pytorch_s"] is None:  # PyTorch is not installed: no ratio to give
        assert row["ratio"] is None
    else:
        assert row["ratio"] > 0



def test_memory_workload_trains_on_task_2s_900_questions_in_50_slots(bench):
    data = bench.W.memory_data(2)
    assert data.config.data.task == 2
    assert sum(len(batch.answers) for batch in data.train) == len(data.train_set) == 900  # 1000 less 10%
    assert len(data.train) == 29 and data.train[0].memories.shape[:2] == (32, 50)


def test_accuracy_trains_the_models_of_the_chosen_workloads(bench, monkeypatch):
    trained = []
    monkeypatch.setattr(bench.W, "train_for_accuracy",
                        lambda torch, hidden, epochs: trained.append("lstm") or {"minigrad": 1.0, "pytorch": None})
    monkeypatch.setattr(bench.W, "memory_train_for_error",
                        lambda torch, task: trained.append("memory") or {"minigrad": 0.0, "pytorch": None,
                                                                         "epochs": 1})
    rows = [{"workload": bench.WORKLOADS[6].label}]
    bench.run_accuracy(None, rows, [6])
    assert trained == ["memory"] and rows[0]["minigrad_test_error"] == 0.0
    trained.clear()
    bench.run_accuracy(None, [], [1, 3])  # as before workload 6: the LSTM only
    assert trained == ["lstm"]


def test_quick_run_of_the_memory_network(bench, tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--only", "6", "--json", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [row] = json.loads(out.read_text())
    assert row["workload"] == bench.WORKLOADS[6].label
    assert isinstance(row["minigrad_s"], float) and row["minigrad_s"] > 0
    assert (row["ratio"] is None) == (row["pytorch_s"] is None)
