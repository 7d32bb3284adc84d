"""Training a suite's runs over the ranks of an MPI job.

Rank 0 hands out one run at a time to whichever rank has a free slot next,
so fast and slow runs even out; it trains runs of its own as well, since
between messages it only waits. Every rank waits by polling: MPICH's
blocking calls would keep a core busy that a training run needs.
"""

import queue
import signal
import threading
import time

from .. import distributed
from .local import _attempt


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


def _stop_everywhere(comm, run_one, level):
    """Rank 0, on Ctrl-C at ``level`` (1: stop, 2: kill): stop the runs here and tell every other rank."""
    run_one.interrupt(force=level == 2)
    for rank in range(1, comm.size):
        comm.send(level, dest=rank, tag=STOP)


def _hand_out(pending, run_one, jobs, on_start, on_done, world, ctrl_c):
    """Rank 0: answer every free slot, its own and the other ranks', until all runs have ended.

    Returns True if Ctrl-C stopped the suite.
    """
    comm, waiting, slots, level = world.comm, list(reversed(pending)), _Slots(run_one), 0
    asking = (comm.size - 1) * jobs  # the other ranks' slots not yet told that there is nothing left

    def stop(wanted):
        """Ctrl-C (pressed here or on another rank): acted on once per level."""
        nonlocal level
        if wanted > level:
            level = wanted
            _stop_everywhere(comm, run_one, level)

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
