"""minigrad train holds numpy's BLAS to one thread unless --threads or train.threads says otherwise."""

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


class _FakeBlas:
    """A stand-in for threadpoolctl's controller: records the counts asked for."""

    def __init__(self):
        self.asked = []

    def limit(self, limits, user_api):
        self.asked.append(limits)
        return self

    def restore_original_limits(self):
        self.asked.append("restored")


def _run_epoch(plan, n_batches, seconds_per_batch):
    """Consume an epoch's batches, each taking seconds_per_batch[current count] on the plan's clock."""
    now = [0.0]
    plan.clock = lambda: now[0]
    for _ in plan.batches(range(n_batches)):
        now[0] += seconds_per_batch[plan.threads]


@pytest.mark.parametrize("seconds, expected", [({1: 1.0, 2: 0.6}, 2), ({1: 1.0, 2: 2.4}, 1)])
def test_each_epoch_keeps_the_faster_count(seconds, expected):
    from minigrad.tool.threads import PROBE_BATCHES, TunedThreads

    blas = _FakeBlas()
    with TunedThreads(controller=blas) as plan:
        _run_epoch(plan, 50, seconds)
        assert plan.threads == expected and plan.chosen == [expected]
        assert blas.asked[1:1 + 2 * PROBE_BATCHES] == [1, 2] * PROBE_BATCHES  # alternated while probing
    assert blas.asked[-1] == "restored"


def test_the_choice_follows_a_change_of_load_between_epochs():
    from minigrad.tool.threads import TunedThreads

    with TunedThreads(controller=_FakeBlas()) as plan:
        _run_epoch(plan, 30, {1: 1.0, 2: 0.7})  # quiet: two threads win
        _run_epoch(plan, 30, {1: 1.0, 2: 2.5})  # another job started: one thread wins
    assert plan.chosen == [2, 1]


def test_an_epoch_too_short_to_measure_runs_on_one_thread():
    from minigrad.tool.threads import TunedThreads

    with TunedThreads(controller=_FakeBlas()) as plan:
        _run_epoch(plan, 5, {1: 1.0, 2: 0.1})
        assert plan.threads == 1 and plan.chosen == []


def test_a_fixed_count_leaves_the_batches_alone():
    from minigrad.tool.threads import FixedThreads

    blas = _FakeBlas()
    with FixedThreads(3, controller=blas) as plan:
        batches = [object(), object()]
        assert plan.batches(batches) is batches
    assert blas.asked == [3, "restored"]


def test_auto_in_the_run_file_measures_each_epoch(tmp_path, monkeypatch):
    from minigrad.tool import threads

    plans = []
    real = threads.blas_threads
    monkeypatch.setattr(threads, "blas_threads", lambda n=None: plans.append(real(n)) or plans[-1])
    monkeypatch.setattr(threads, "_cores", lambda: 2)
    config = write_config(tmp_path, TINY_LM, train={"epochs": 1, "seed": 0, "threads": "auto"})
    assert invoke("train", config).exit_code == 0
    (tmp_path / "b").mkdir()
    assert invoke("train", write_config(tmp_path / "b", TINY_LM)).exit_code == 0
    assert [type(p).__name__ for p in plans] == ["TunedThreads", "FixedThreads"]
