"""minigrad train chooses numpy's BLAS threads each epoch unless --threads or train.threads fixes them."""

import pytest
from threadpoolctl import threadpool_info

from conftest import TINY_LM, invoke, one_line, write_config
from minigrad.tool import training


def _blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.mark.parametrize("option, expected", [(["--threads", "1"], {1}), (["--threads", "2"], {2})])
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


class _FakeLoad:
    """Others' use of the cores, in cores, as each reading will return it (None: too short to tell)."""

    def __init__(self, *readings):
        self.readings = list(readings)

    def others(self):
        return self.readings.pop(0)


def _run_epoch(plan, n_batches, seconds_per_batch):
    """Consume an epoch's batches, each taking seconds_per_batch[current count] on the plan's clock."""
    now = [0.0]
    plan.clock = lambda: now[0]
    for _ in plan.batches(range(n_batches)):
        now[0] += seconds_per_batch[plan.threads]


def _tuned(*readings):
    from minigrad.tool.threads import TunedThreads

    return TunedThreads(_FakeLoad(*readings), controller=_FakeBlas())


QUIET, BUSY = 0.02, 1.0  # other processes' use of our cores, in cores


@pytest.mark.parametrize("seconds, expected", [({1: 1.0, 2: 0.6}, 2), ({1: 1.0, 2: 0.97}, 1), ({1: 1.0, 2: 2.4}, 1)])
def test_a_quiet_machine_is_measured_once_and_two_threads_kept_only_if_clearly_faster(seconds, expected):
    from minigrad.tool.threads import PROBE_BATCHES

    plan = _tuned(None, None, QUIET)  # nothing to read at first: one thread until the load reads
    with plan:
        _run_epoch(plan, 50, seconds)
        assert plan.threads == expected and plan.chosen == [expected] and plan.quiet_choice == expected
        assert plan.controller.asked[:2 * PROBE_BATCHES] == [1, 2] * PROBE_BATCHES  # alternated
    assert plan.controller.asked[-1] == "restored"


def test_later_quiet_epochs_reuse_the_measurement_without_probing():
    plan = _tuned(QUIET, QUIET, QUIET, QUIET)
    with plan:
        _run_epoch(plan, 30, {1: 1.0, 2: 0.7})
        asked = len(plan.controller.asked)
        for _ in range(3):
            _run_epoch(plan, 30, {1: 1.0, 2: 0.7})
    assert plan.chosen == [2, 2, 2, 2] and len(plan.controller.asked) == asked + 1  # only the restore


def test_another_job_on_the_cores_means_one_thread_without_measuring():
    # Timed beside another job, two threads can look faster (their spinning slows the one-thread
    # batches after them): a busy machine is read from the load, not from timings.
    plan = _tuned(None, None, BUSY, BUSY, QUIET, BUSY, QUIET)
    with plan:
        for _ in range(5):
            _run_epoch(plan, 30, {1: 1.0, 2: 0.7})
            if plan.quiet_choice is None:
                assert plan.controller.asked == [1]  # never tried two threads while busy
    assert plan.chosen == [1, 1, 2, 1, 2]


def test_an_epoch_too_soon_to_read_keeps_the_count_it_has():
    plan = _tuned(QUIET, None, BUSY, None)
    with plan:
        for _ in range(4):
            _run_epoch(plan, 30, {1: 1.0, 2: 0.7})
    assert plan.chosen == [2, 2, 1, 1]


def test_an_epoch_that_ends_with_its_last_probe_still_chooses():
    from minigrad.tool.threads import PROBE_BATCHES

    plan = _tuned(QUIET)
    with plan:
        _run_epoch(plan, 2 * PROBE_BATCHES, {1: 1.0, 2: 0.6})
        assert plan.chosen == [2] and plan.quiet_choice == 2


def test_an_epoch_too_short_to_measure_ends_on_one_thread():
    plan = _tuned(QUIET, QUIET)
    with plan:
        _run_epoch(plan, 5, {1: 1.0, 2: 0.1})
        _run_epoch(plan, 5, {1: 1.0, 2: 0.1})
        assert plan.threads == 1 and plan.chosen == [1, 1] and plan.quiet_choice is None


def test_short_epochs_add_their_probes_up_to_one_measurement():
    # An epoch of 5 batches cannot time 8 on each count; four such quiet epochs can, with a
    # busy one between them that neither probes nor loses what was timed.
    plan = _tuned(QUIET, QUIET, BUSY, QUIET, QUIET, QUIET)
    with plan:
        for _ in range(6):
            _run_epoch(plan, 5, {1: 1.0, 2: 0.6})
    assert plan.chosen == [1, 1, 1, 1, 2, 2] and plan.quiet_choice == 2
    assert [len(seconds) for seconds in plan.probes.values()] == [8, 8]


def test_others_load_is_the_cores_busy_time_less_our_own():
    from minigrad.tool.threads import CoreLoad

    wall, busy, own = [0.0], [100.0], [5.0]
    load = CoreLoad([0, 1], read_busy=lambda: busy[0], clock=lambda: wall[0], own_cpu=lambda: own[0])
    wall[0], busy[0], own[0] = 2.0, 103.0, 6.5  # 3 core-seconds busy in 2 s, 1.5 of them ours
    assert load.others() == pytest.approx(0.75)
    wall[0] = 2.05
    assert load.others() is None  # 50 ms: too few clock ticks to read


def test_the_kernel_counters_are_read_for_our_cores_only(tmp_path, monkeypatch):
    from minigrad.tool.threads import CoreLoad

    stat = tmp_path / "stat"
    stat.write_text("cpu  900 0 900 9000 0 0 0 0 0 0\n"
                    "cpu0 100 5 50 1000 7 3 2 0 0 0\n"
                    "cpu1 200 0 100 2000 0 0 0 0 0 0\n"
                    "cpu2 999 0 999 0 0 0 0 0 0 0\n")
    monkeypatch.setattr(CoreLoad, "STAT", str(stat))
    load = CoreLoad([0, 1])
    assert load.read_busy() == pytest.approx((160 + 300) / load.ticks)  # idle and iowait left out


def test_a_fixed_count_leaves_the_batches_alone():
    from minigrad.tool.threads import FixedThreads

    blas = _FakeBlas()
    with FixedThreads(3, controller=blas) as plan:
        batches = [object(), object()]
        assert plan.batches(batches) is batches
    assert blas.asked == [3, "restored"]


@pytest.mark.parametrize("run_file, expected", [({"threads": "auto"}, "TunedThreads"), ({}, "TunedThreads"),
                                                ({"threads": 1}, "FixedThreads")])
def test_auto_is_the_default_and_a_number_fixes_the_count(tmp_path, monkeypatch, run_file, expected):
    from minigrad.tool import threads

    plans = []
    real = threads.blas_threads
    monkeypatch.setattr(threads, "blas_threads", lambda n=None: plans.append(real(n)) or plans[-1])
    monkeypatch.setattr(threads, "_cores", lambda: [0, 1])
    config = write_config(tmp_path, TINY_LM, train={"epochs": 1, "seed": 0, **run_file})
    assert invoke("train", config).exit_code == 0
    assert [type(p).__name__ for p in plans] == [expected]


def test_one_core_or_no_kernel_counters_means_one_thread(monkeypatch):
    from minigrad.tool import threads

    monkeypatch.setattr(threads, "_cores", lambda: [0])
    assert type(threads.blas_threads("auto")).__name__ == "FixedThreads"
    monkeypatch.setattr(threads, "_cores", lambda: [0, 1])
    monkeypatch.setattr(threads.CoreLoad, "STAT", "/nonexistent/stat")
    assert type(threads.blas_threads(None)).__name__ == "FixedThreads"
