"""Training a suite's runs in long-lived child processes, several at once.

Each worker is a child process that trains one run after another, each as
``minigrad train`` would, with that command's arguments, output and exit
code (``serve`` is the child's side). A child process is the one unit that
can be given its own environment before numpy starts (one BLAS thread each,
so that ``jobs`` of them share the machine), be stopped with the same Ctrl-C
as ``minigrad train`` (it saves its last checkpoint), and be lost (a crash, a
kill) without taking the rest along: a worker that dies fails its run, and
the next run gets a new worker. Keeping a worker for many runs saves starting
Python, importing minigrad and reading the same task's files again for every
run. Each worker gets its own process group, so Ctrl-C in the terminal
reaches it once, passed on by the suite, never twice.

Which runs go where is the runner's business alone: ``local.run_locally``
trains them here, ``mpi.run_over_mpi`` spreads them over the ranks of an MPI
job. Both take the pending runs and a function that trains one, such as
``TrainWorkers``.
"""

import json
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import CheckpointError
from .. import distributed, runs
from ..training import Interrupted

ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


@dataclass
class Outcome:
    """How one attempt at a run ended: ``done``, ``failed`` or ``interrupted``."""

    status: str
    message: str = ""
    seconds: float = 0.0



def saved_epoch(folder):
    """The last complete epoch of a run folder (see ``runs.saved_epoch``), or 0 before the first one."""
    try:
        return runs.saved_epoch(folder)
    except CheckpointError:
        return 0


def train_command(suite, run):
    """The ``minigrad train`` line for a run: resume it from its checkpoint, or start it afresh."""
    return ["minigrad", *train_arguments(suite, run)]


def train_arguments(suite, run):
    """``train_command`` less the program's name: what a worker passes to the command line."""
    if saved_epoch(run.folder) > 0:
        return ["train", "--resume", str(run.folder), "--threads", "1"]
    sets = [f"--set={text}" for text in suite.set_texts] + [f"--set=name={run.name}"]
    return ["train", str(suite.config_path), "--task", str(run.task), "--seed", str(run.seed),
            "--out", str(suite.folder), "--threads", "1", *sets]


class TrainWorkers:
    """Trains a run in a worker process: ``workers(run)`` blocks until it ends; ``close()`` ends the workers."""

    def __init__(self, suite, world=distributed.ALONE):
        self.suite = suite
        self.idle, self.running = [], {}
        self.lock = threading.Lock()
        # No launcher variables: a child that saw them would try to join the MPI job (or start one);
        # a wide log: one line per message.
        self.env = {**distributed.without_launcher(), **ONE_THREAD, "COLUMNS": "200"}
        self.where = platform.node() + (f", rank {world.rank} of {world.size}" if world.size > 1 else "")

    def __call__(self, run):
        log = self.suite.folder / "logs" / f"{run.name}.log"
        log.parent.mkdir(exist_ok=True)
        if saved_epoch(run.folder) == 0 and run.folder.exists():
            # Nothing trained is lost, and a folder left in the way would make train pick "-2" beside it.
            shutil.rmtree(run.folder)
        started, arguments, worker = time.perf_counter(), train_arguments(self.suite, run), self._take()
        with open(log, "a", encoding="utf-8") as output:
            # where each attempt ran, and how
            output.write(f"[{self.where}, worker {worker.process.pid}] {shlex.join(['minigrad', *arguments])}\n")
            start = output.tell()
        with self.lock:
            self.running[run] = worker
        code = worker.train(arguments, log)
        with self.lock:
            self.running.pop(run, None)
            if worker.alive():  # one that died (killed, out of memory) fails its run and trains no other
                self.idle.append(worker)
        return _outcome(code, log, start, time.perf_counter() - started)

    def _take(self):
        with self.lock:
            if self.idle:
                return self.idle.pop()
        return Worker(self.env)

    def interrupt(self, force=False):
        """Ask every running worker to stop its run (Ctrl-C: it saves its checkpoint), or, ``force``, kill it."""
        with self.lock:
            workers = list(self.running.values())
        for worker in workers:
            worker.signal(signal.SIGKILL if force else signal.SIGINT)

    def close(self):
        """End the idle workers; a worker still training ends when its run does."""
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.close()


WORKER_COMMAND = [sys.executable, "-m", "minigrad.tool.suite.serve"]  # runs serve()


class Worker:
    """One child process that trains the runs it is sent, one at a time (see ``serve``)."""

    def __init__(self, env):
        self.process = subprocess.Popen(WORKER_COMMAND, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
                                        start_new_session=True)

    def train(self, arguments, log):
        """The exit code ``minigrad train ARGUMENTS`` had, its output appended to ``log``; the worker's own
        exit code (as a killing signal, negative) if it died meanwhile."""
        try:
            self.process.stdin.write(json.dumps({"arguments": arguments, "log": str(log)}) + "\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
        except OSError:  # the worker is gone
            reply = ""
        if not reply:
            code = self.process.wait()
            return -signal.SIGKILL if code == 0 else code  # a worker never ends by itself mid-run
        return int(json.loads(reply)["code"])

    def alive(self):
        return self.process.poll() is None

    def signal(self, number):
        try:
            self.process.send_signal(number)
        except ProcessLookupError:
            pass

    def close(self):
        try:
            self.process.stdin.close()  # the worker ends when its input does
        except OSError:
            pass
        self.process.wait()


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
