"""Training a suite's pending runs on this machine, ``jobs`` at a time."""

import queue
from concurrent.futures import ThreadPoolExecutor

from .workers import Outcome


def run_locally(pending, run_one, jobs, on_start=None, on_done=None):
    """Train ``pending`` runs on this machine, ``jobs`` at a time, in order.

    ``run_one(run) -> Outcome`` trains one run and blocks; ``run_one.interrupt(force)``
    asks every run in progress to stop. The callbacks are called in this thread.
    On Ctrl-C no further run starts, the running ones are asked to stop and
    waited for (a second Ctrl-C kills them), and KeyboardInterrupt is raised.
    """
    events = queue.Queue()

    def work(run):
        events.put((on_start, run, None))
        events.put((on_done, run, _attempt(run_one, run)))

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    futures = [pool.submit(work, run) for run in pending]
    try:
        _dispatch(events, futures)
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        run_one.interrupt()
        _drain(events, futures, run_one)
        raise
    finally:
        pool.shutdown(wait=True)


def _attempt(run_one, run):
    try:
        return run_one(run)
    except Exception as exc:  # e.g. the interpreter cannot be started: this run fails, the rest go on
        return Outcome("failed", f"{type(exc).__name__}: {exc}")


def _dispatch(events, futures):
    """Call each event's callback until every future is done and every event handled."""
    while not (all(f.done() for f in futures) and events.empty()):
        try:
            callback, run, outcome = events.get(timeout=0.2)
        except queue.Empty:
            continue
        if callback is not None:
            callback(run) if outcome is None else callback(run, outcome)


def _drain(events, futures, run_one):
    """After Ctrl-C: keep reporting until the running runs have stopped; Ctrl-C again kills them."""
    while True:
        try:
            return _dispatch(events, [f for f in futures if not f.cancelled()])
        except KeyboardInterrupt:
            run_one.interrupt(force=True)
