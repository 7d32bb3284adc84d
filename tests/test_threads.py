"""minigrad train holds numpy's BLAS to one thread unless --threads says otherwise."""

import pytest
from threadpoolctl import threadpool_info

from conftest import TINY_LM, invoke, one_line, write_config
from minigrad.tool import training


def _blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.mark.parametrize("option, expected", [([], {1}), (["--threads", "2"], {2})])
def test_training_runs_with_the_chosen_blas_threads(tmp_path, monkeypatch, option, expected):
    seen = []
    real = training.train

    def recording(session, **callbacks):
        seen.append(_blas_threads())
        return real(session, **callbacks)

    monkeypatch.setattr(training, "train", recording)
    before = _blas_threads()
    result = invoke("train", write_config(tmp_path, TINY_LM), *option)
    assert result.exit_code == 0, result.output
    assert seen == [expected] and _blas_threads() == before  # set for the run, then given back


def test_a_thread_count_out_of_range_is_refused(tmp_path):
    result = invoke("train", write_config(tmp_path, TINY_LM), "--threads", "0")
    assert result.exit_code == 2 and "--threads 0: give a number from 1 to 256" in one_line(result.output)


def test_the_run_file_chooses_threads_and_the_option_wins(tmp_path, monkeypatch):
    seen = []
    real = training.train
    monkeypatch.setattr(training, "train", lambda session, **kw: (seen.append(_blas_threads()), real(session, **kw)))
    config = write_config(tmp_path, TINY_LM, train={"epochs": 1, "seed": 0, "threads": 2})
    assert invoke("train", config).exit_code == 0
    assert invoke("train", config, "--threads", "1").exit_code == 0
    assert seen == [{2}, {1}]
