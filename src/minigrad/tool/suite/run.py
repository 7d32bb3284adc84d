"""Training a suite's unfinished runs, reporting each, and writing the suite's files."""

from functools import partial

from ...errors import MinigradError
from .. import distributed
from .local import run_locally
from .mpi import run_over_mpi
from .plan import is_finished, result_of
from .baselines import choose
from .report import load_baselines, summarize, write_outputs
from .view import Progress
from .workers import TrainWorkers


class Interrupted(MinigradError):
    """Ctrl-C stopped the suite; finished runs and every run's last epoch are kept."""

    exit_code = 130
    job_finished = True  # raised once every rank of an MPI job has stopped its runs: nothing to abort


def run_suite(suite, jobs, view_for, world=distributed.ALONE):
    """Train every unfinished run, ``jobs`` at a time, then write the suite's files.

    ``view_for(progress)`` gives the view to report to. Returns (results, summary,
    baselines); on Ctrl-C the files are written with what is done and
    ``Interrupted`` is raised. Under MPI every rank calls it, with ``jobs``
    runs at a time on each: rank 0 hands out the runs, reports and writes; the
    others train what they are given and return None.
    """
    run_one = TrainWorkers(suite, world)
    try:
        if not world.is_root:
            try:
                return run_over_mpi([], run_one, jobs, world=world)
            except KeyboardInterrupt:
                raise _interrupted() from None  # said by rank 0 only: see distributed.report
        return _run_and_report(suite, jobs, view_for, world, run_one)
    finally:
        run_one.close()


def _run_and_report(suite, jobs, view_for, world, run_one):
    """Rank 0's part of ``run_suite``: hand out the pending runs, report each, write the suite's files."""
    runner = run_locally if world.size == 1 else partial(run_over_mpi, world=world)
    baselines = choose(load_baselines(), suite.columns or [])
    finished = [(run, result_of(suite, run)) for run in suite.runs if is_finished(suite, run)]
    pending = [run for run in suite.runs if not is_finished(suite, run)]
    view, outcomes = view_for(Progress(suite.runs, jobs * world.size, finished)), {}

    def done(run, outcome):
        outcomes[run] = outcome
        view.finished(run, result_of(suite, run, outcome))

    def write():
        results = [result_of(suite, run, outcomes.get(run)) for run in suite.runs]
        summary = summarize(results, sorted({run.task for run in suite.runs}), suite.select_by, baselines)
        write_outputs(suite.folder, results, summary, baselines, suite.select_by)
        return results, summary, baselines

    try:
        with view:
            runner(pending, run_one, jobs, view.started, done)
    except KeyboardInterrupt:
        write()
        raise _interrupted() from None
    return write()


def _interrupted():
    return Interrupted("interrupted: finished runs are kept, and each stopped run keeps its last complete epoch.",
                       hint="Run the same command again to continue where it stopped.")
