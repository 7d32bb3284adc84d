"""Training a suite's runs: each in a child ``minigrad train`` process, several at once.

A child process is the one unit that can be given its own environment before
numpy starts (one BLAS thread each, so that ``jobs`` of them share the
machine), be stopped with the same Ctrl-C as ``minigrad train`` (it saves its
last complete epoch), and be lost (a crash, a diverging loss) without taking
the rest along. Each child gets its own process group, so Ctrl-C in the
terminal reaches it once, passed on by the suite, never twice.

Which runs go where is ``run_locally``'s business alone: it takes the
pending runs and a function that trains one, so a runner that spreads the
same runs over machines needs only another function of that shape.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .training import Interrupted

ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


@dataclass
class Outcome:
    """How one attempt at a run ended: ``done``, ``failed`` or ``interrupted``."""

    status: str
    message: str = ""
    seconds: float = 0.0



def saved_epoch(folder):
    """The last complete epoch of a run folder (its state.json), or 0 before the first one."""
    try:
        return int(json.loads((Path(folder) / "state.json").read_text(encoding="utf-8"))["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def train_command(suite, run):
    """The ``minigrad train`` line for a run: resume it from its checkpoint, or start it afresh."""
    command = [sys.executable, "-m", "minigrad", "train"]
    if saved_epoch(run.folder) > 0:
        return command + ["--resume", str(run.folder)]
    sets = [f"--set={text}" for text in suite.set_texts] + [f"--set=name={run.name}"]
    return command + [str(suite.config_path), "--task", str(run.task), "--seed", str(run.seed),
                      "--out", str(suite.folder), *sets]


class TrainProcesses:
    """Trains a run in a child ``minigrad train`` process: ``processes(run)`` blocks until it ends."""

    def __init__(self, suite):
        self.suite = suite
        self.running = {}
        self.lock = threading.Lock()
        self.env = {**os.environ, **ONE_THREAD, "COLUMNS": "200"}  # a wide log: one line per message

    def __call__(self, run):
        log = self.suite.folder / "logs" / f"{run.name}.log"
        log.parent.mkdir(exist_ok=True)
        if saved_epoch(run.folder) == 0 and run.folder.exists():
            # Nothing trained is lost, and a folder left in the way would make train pick "-2" beside it.
            shutil.rmtree(run.folder)
        started = time.perf_counter()
        with open(log, "a", encoding="utf-8") as output:
            start = output.tell()
            child = subprocess.Popen(train_command(self.suite, run), stdout=output, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env, start_new_session=True)
            with self.lock:
                self.running[run] = child
            code = child.wait()
        with self.lock:
            self.running.pop(run, None)
        return _outcome(code, log, start, time.perf_counter() - started)

    def interrupt(self, force=False):
        """Ask every child to stop (Ctrl-C: it saves its last complete epoch), or, ``force``, kill it."""
        with self.lock:
            children = list(self.running.values())
        for child in children:
            try:
                child.send_signal(signal.SIGKILL if force else signal.SIGINT)
            except ProcessLookupError:
                pass


def _outcome(code, log, start, seconds):
    if code == 0:
        return Outcome("done", seconds=seconds)
    if code == Interrupted.exit_code:
        return Outcome("interrupted", seconds=seconds)
    return Outcome("failed", _error_message(log, start, code), seconds)


def _error_message(log, start, code):
    """The ``error:`` line (and hint) ``minigrad train`` printed, else the last line of its output."""
    with open(log, encoding="utf-8", errors="replace") as file:
        file.seek(start)
        lines = [line.strip() for line in file.read().splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("error:")]
    if errors:
        text = " ".join(lines[errors[-1]:errors[-1] + 2]).removeprefix("error:").strip()
    else:
        text = f"exit code {code}: {lines[-1] if lines else 'no output'}"
    return f"{text} (log: {log})"


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
        try:
            outcome = run_one(run)
        except Exception as exc:  # e.g. the interpreter cannot be started: this run fails, the rest go on
            outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
        events.put((on_done, run, outcome))

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
