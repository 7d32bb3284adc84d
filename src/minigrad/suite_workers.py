"""Training a suite's runs: in long-lived child processes, several at once.

Each worker is a child process that trains one run after another, each as
``minigrad train`` would, with that command's arguments, output and exit
code. A child process is the one unit that can be given its own environment
before numpy starts (one BLAS thread each, so that ``jobs`` of them share the
machine), be stopped with the same Ctrl-C as ``minigrad train`` (it saves its
last checkpoint), and be lost (a crash, a kill) without taking the rest
along: a worker that dies fails its run, and the next run gets a new worker.
Keeping a worker for many runs saves starting Python, importing minigrad and
reading the same task's files again for every run. Each worker gets its own
process group, so Ctrl-C in the terminal reaches it once, passed on by the
suite, never twice.

Which runs go where is the runner's business alone: ``run_locally`` trains
them here, ``run_over_mpi`` spreads them over the ranks of an MPI job. Both
take the pending runs and a function that trains one.

Over MPI, rank 0 hands out one run at a time to whichever rank has a free
slot next, so fast and slow runs even out; it trains runs of its own as well,
since between messages it only waits. Every rank waits by polling: MPICH's
blocking calls would keep a core busy that a training run needs.
"""

import json
import os
import platform
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import distributed
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
    return ["minigrad", *train_arguments(suite, run)]


def train_arguments(suite, run):
    """``train_command`` less the program's name: what a worker passes to the command line."""
    if saved_epoch(run.folder) > 0:
        return ["train", "--resume", str(run.folder)]
    sets = [f"--set={text}" for text in suite.set_texts] + [f"--set=name={run.name}"]
    return ["train", str(suite.config_path), "--task", str(run.task), "--seed", str(run.seed),
            "--out", str(suite.folder), *sets]


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
            if code is not None:
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


WORKER_COMMAND = [sys.executable, "-m", "minigrad.suite_workers"]  # runs serve()


class Worker:
    """One child process that trains the runs it is sent, one at a time (see ``serve``)."""

    def __init__(self, env):
        self.process = subprocess.Popen(WORKER_COMMAND, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
                                        start_new_session=True)

    def train(self, arguments, log):
        """The exit code ``minigrad train ARGUMENTS`` had, its output appended to ``log``; None if the worker died."""
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


def serve():
    """A worker's loop: read one run a line from stdin, train it, answer its exit code on stdout.

    The run's output (what ``minigrad train`` prints) goes to its log file:
    file descriptors 1 and 2 are pointed there for the run, so nothing
    written by any library can reach the answers.
    """
    from .cli import app

    answers = os.fdopen(os.dup(1), "w")
    for line in sys.stdin:
        job = json.loads(line)
        with open(job["log"], "a", encoding="utf-8") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            code = _exit_code(lambda: app(args=job["arguments"], prog_name="minigrad"))
            sys.stdout.flush(), sys.stderr.flush()
        answers.write(json.dumps({"code": code}) + "\n")
        answers.flush()


def _exit_code(command):
    """The exit code of a command-line call that ends with SystemExit (0 if it returns)."""
    try:
        command()
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except KeyboardInterrupt:
        return Interrupted.exit_code
    return 0


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


# ---- over MPI ---------------------------------------------------------------------------

POLL_S = 0.05  # how long a rank waits between looks for a message or a finished run
ASK, WORK, STOP = 1, 2, 3  # tags: a free slot (and what ended in it); rank 0's answer; Ctrl-C (1) or kill (2)


def run_over_mpi(pending, run_one, jobs, on_start=None, on_done=None, world=None):
    """Train ``pending`` runs over the ranks of an MPI job, ``jobs`` at a time on each rank.

    Every rank calls it. Rank 0 gives out ``pending`` (the other ranks' is
    ignored), one run to each free slot in turn, its own included, and calls
    the callbacks for every run, wherever it trains; the other ranks train
    what they are given. Ctrl-C on any rank reaches every rank: no further
    run starts, the running ones are asked to stop and waited for (a second
    Ctrl-C kills them), and every rank raises KeyboardInterrupt once all have.
    """
    world = world or distributed.world()
    with _CtrlC() as ctrl_c:
        try:
            if world.is_root:
                stopped = _hand_out(pending, run_one, jobs, on_start or _nothing, on_done or _nothing, world, ctrl_c)
            else:
                stopped = _train_given(run_one, jobs, world, ctrl_c)
        except BaseException:
            run_one.interrupt(force=True)  # a rank that is going down takes no training run along
            raise
        _wait_for_all(world.comm)
    if stopped:  # on every rank, so that each exits as interrupted, whichever the launcher reports
        raise KeyboardInterrupt


def _nothing(*_):
    pass


class _CtrlC:
    """Counts Ctrl-C presses instead of raising KeyboardInterrupt, which could cut an exchange of messages in two."""

    def __init__(self):
        self.presses = 0

    def level(self):
        return min(self.presses, 2)  # 1: stop the runs, 2: kill them

    def _press(self, *_):
        self.presses += 1

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._press)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)


class _Slots:
    """The runs this rank trains, each in a thread: ``start(run)``, then ``ended()`` gives (run, outcome)."""

    def __init__(self, run_one):
        self.run_one, self.running, self.results = run_one, 0, queue.Queue()

    def start(self, run):
        self.running += 1
        threading.Thread(target=lambda: self.results.put((run, _attempt(self.run_one, run))), daemon=True).start()

    def ended(self):
        """The next run that ended, waiting up to POLL_S, or None."""
        try:
            ended = self.results.get(timeout=POLL_S)
        except queue.Empty:
            return None
        self.running -= 1
        return ended


def _hand_out(pending, run_one, jobs, on_start, on_done, world, ctrl_c):
    """Rank 0: answer every free slot, its own and the other ranks', until all runs have ended.

    Returns True if Ctrl-C stopped the suite.
    """
    comm, waiting, slots, level = world.comm, list(reversed(pending)), _Slots(run_one), 0
    asking = (comm.size - 1) * jobs  # the other ranks' slots not yet told that there is nothing left

    def stop(wanted):
        """Ctrl-C (pressed here or on another rank): stop the runs here and tell every rank, once per level."""
        nonlocal level
        if wanted > level:
            level = wanted
            run_one.interrupt(force=level == 2)
            for rank in range(1, comm.size):
                comm.send(level, dest=rank, tag=STOP)

    def next_run():
        run = waiting.pop() if waiting and not level else None
        if run is not None:
            on_start(run)
        return run

    for _ in range(jobs):
        if (run := next_run()) is not None:
            slots.start(run)
    while slots.running or asking:
        stop(ctrl_c.level())
        if (ended := slots.ended()) is not None:
            on_done(*ended)
            if (run := next_run()) is not None:
                slots.start(run)
        for rank, tag, message in _messages(world):
            if tag == STOP:  # Ctrl-C reached that rank first: no run may be handed out after it
                stop(message)
                continue
            if message[0] is not None:
                on_done(*message)
            run = next_run()
            comm.send(run, dest=rank, tag=WORK)
            asking -= run is None
    return level > 0


def _train_given(run_one, jobs, world, ctrl_c):
    """Any other rank: fill ``jobs`` slots with the runs rank 0 gives, until it has none left."""
    comm, slots, level = world.comm, _Slots(run_one), 0

    def ask(run=None, outcome=None):
        comm.send((run, outcome), dest=0, tag=ASK)
        while not comm.iprobe(source=0, tag=WORK):
            time.sleep(POLL_S / 5)
        if (given := comm.recv(source=0, tag=WORK)) is not None:
            slots.start(given)

    for _ in range(jobs):
        ask()
    while slots.running:
        # Ctrl-C first: rank 0 must hear of a press here before this rank asks for its next run.
        told = max([message for _, tag, message in _messages(world, STOP)], default=0)
        pressed = ctrl_c.level()
        if pressed > level:
            comm.send(pressed, dest=0, tag=STOP)
        if max(pressed, told) > level:
            level = max(pressed, told)
            run_one.interrupt(force=level == 2)
        if (ended := slots.ended()) is not None:
            ask(*ended)
    return level > 0


def _messages(world, tag=None):
    """(source, tag, message) for every message already waiting (of ``tag``, or any)."""
    comm, mpi = world.comm, world.mpi
    status = mpi.Status()
    while comm.iprobe(source=mpi.ANY_SOURCE, tag=mpi.ANY_TAG if tag is None else tag, status=status):
        source, found = status.Get_source(), status.Get_tag()
        yield source, found, comm.recv(source=source, tag=found)


def _wait_for_all(comm):
    """Wait, without keeping a core busy, until every rank is through: a rank that left early would spin."""
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(POLL_S)


if __name__ == "__main__":
    serve()
