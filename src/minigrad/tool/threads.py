"""How many threads numpy's BLAS may use while ``minigrad train`` runs.

minigrad's models multiply small matrices. Whether a second BLAS thread
helps depends on the model and on the machine: on a quiet machine the
joint memory network's larger products run a fifth faster on two threads,
the small single-task models gain nothing; as soon as another job shares the
cores, two threads wait for each other and an epoch can take two to three
times as long.

So by default (``train.threads: auto``) each epoch decides from two facts:

- how much of this process's cores other processes used during the last
  epoch, read from the kernel's per-core counters (``/proc/stat``) less this
  process's own CPU time. Timing batches cannot tell this: a second BLAS
  thread keeps spinning after its product and slows whatever runs next. If
  others used half a core or more, the epoch runs on one thread.
- on a quiet machine, whether two threads are faster for this model: the
  first epoch that starts on a quiet machine alternates one and two threads
  over its first batches and keeps the faster per batch (an epoch with too
  few batches leaves the rest of the probes to the next quiet ones), and
  later quiet epochs reuse that answer.

A run starts on one thread and reads the load as soon as enough time has
passed to read it (``MIN_WINDOW``); an epoch that starts too soon after the
last reading keeps the count it has. Two threads are kept only if they are
clearly faster (``SECOND_THREAD_GAIN``): their spinning costs the rest of
the machine too.

Where the counters cannot be read (not Linux) or there is one core, training
uses one thread. ``--threads N`` (or ``train.threads: N``) fixes the count;
results are reproducible at a fixed thread count (a product's sums may be
split differently across threads), which is why ``minigrad suite`` gives its
runs ``--threads 1``. The limits are set at run time through threadpoolctl,
so nothing has to be exported before Python starts.
"""

import os
import statistics
import time

from ..errors import ConfigError
from .config.limits import MAX_THREADS

CHOICES = (1, 2)  # the counts a quiet epoch tries: more rarely pays for products this small
PROBE_BATCHES = 8  # batches run on each count, once a run, before choosing
SECOND_THREAD_GAIN = 0.95  # two threads must take at most this share of one's time per batch
BUSY_CORES = 0.5  # others' use of our cores, in cores, from which one thread is faster
MIN_WINDOW = 0.2  # seconds: a shorter window holds too few clock ticks to read a load from


def blas_threads(threads="auto"):
    """The BLAS thread plan for a run: ``threads`` fixed, or chosen each epoch for "auto" (or None).

    Use it as a context (``with blas_threads(n) as plan``); ``plan.batches``
    wraps an epoch's batches, and leaving the context restores the limits
    numpy had before.
    """
    if threads in (None, "auto"):
        cores = _cores()
        return TunedThreads(CoreLoad(cores)) if len(cores) > 1 and CoreLoad.readable() else FixedThreads(1)
    if not 1 <= threads <= MAX_THREADS:
        raise ConfigError(f"--threads {threads}: give a number from 1 to {MAX_THREADS}.",
                          hint="Leave it out to let each epoch choose between 1 and 2.")
    return FixedThreads(threads)


def _cores():
    """The cores this process may run on."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


class CoreLoad:
    """How many of our cores' worth of CPU time other processes used since the last reading."""

    STAT = "/proc/stat"

    def __init__(self, cores, read_busy=None, clock=time.monotonic, own_cpu=time.process_time):
        self.cores = cores
        self.read_busy = read_busy or self._busy_seconds
        self.clock, self.own_cpu = clock, own_cpu
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.last = self._reading()

    @classmethod
    def readable(cls):
        return os.access(cls.STAT, os.R_OK)

    def others(self):
        """Cores' worth used by other processes since the last call; None if too short a time to tell."""
        now = self._reading()
        (wall, busy, own), (wall0, busy0, own0) = now, self.last
        if wall - wall0 < MIN_WINDOW:
            return None
        self.last = now
        return max(0.0, (busy - busy0) - (own - own0)) / (wall - wall0)

    def _reading(self):
        return self.clock(), self.read_busy(), self.own_cpu()

    def _busy_seconds(self):
        """Seconds our cores have spent on anything but idling, since boot."""
        wanted = {f"cpu{core}" for core in self.cores}
        busy = 0
        with open(self.STAT) as stat:
            for line in stat:
                name, *counts = line.split()
                if name in wanted:  # user nice system idle iowait irq softirq steal ...
                    ticks = [int(c) for c in counts[:8]]
                    busy += sum(ticks) - ticks[3] - ticks[4]
        return busy / self.ticks


class FixedThreads:
    """BLAS held to one count for the whole run."""

    def __init__(self, threads, controller=None):
        self.threads, self.controller, self._limiter = threads, controller, None

    def __enter__(self):
        if self.controller is None:
            from threadpoolctl import ThreadpoolController  # scans the loaded libraries: once a run
            self.controller = ThreadpoolController()
        self._limiter = self.controller.limit(limits=self.threads, user_api="blas")
        return self

    def __exit__(self, *exc):
        self._limiter.restore_original_limits()

    def set(self, threads):
        """Hold BLAS to ``threads`` from now on."""
        if threads != self.threads:
            self.controller.limit(limits=threads, user_api="blas")
            self.threads = threads

    def batches(self, batches):
        """An epoch's batches, unchanged: the count is fixed."""
        return batches


class TunedThreads(FixedThreads):
    """One thread while other processes share the cores; on a quiet machine, the faster of 1 and 2."""

    def __init__(self, load, controller=None, clock=time.perf_counter):
        super().__init__(CHOICES[0], controller)
        self.load, self.clock = load, clock
        self.quiet_choice = None  # the faster count on a quiet machine, once measured
        self.probes = {count: [] for count in CHOICES}  # seconds of the batches timed on each count so far
        self.chosen = []  # the count each epoch settled on

    def batches(self, batches):
        """Yield an epoch's batches on the count the load and the first quiet measurement give."""
        batches = iter(batches)
        others = self.load.others()  # None: too short a time since the last reading
        if others is None and not self.chosen:  # the run's first batches: one thread until the load reads
            for batch in batches:
                yield batch
                others = self.load.others()
                if others is not None:
                    break
        if others is not None and others < BUSY_CORES and self.quiet_choice is None:
            yield from self._measure(batches)
            return
        if others is not None:
            self.set(CHOICES[0] if others >= BUSY_CORES else self.quiet_choice)
        self.chosen.append(self.threads)  # with no reading, the count the last epoch had
        yield from batches

    def _measure(self, batches):
        """Alternate the counts batch by batch until each has PROBE_BATCHES timed, then keep the faster.

        An epoch of fewer batches than that leaves the rest of the measurement
        to the next quiet epoch, and its own last count is one thread.
        """
        for batch in batches:
            if self.quiet_choice is not None:
                yield batch
                continue
            timed = sum(len(seconds) for seconds in self.probes.values())
            self.set(CHOICES[timed % len(CHOICES)])  # alternate, so a change in load or batch size hits every count alike
            start = self.clock()
            yield batch
            self.probes[self.threads].append(self.clock() - start)
            if min(len(seconds) for seconds in self.probes.values()) == PROBE_BATCHES:
                self._choose()  # even when the epoch ends with this batch
        if self.quiet_choice is None:
            self.set(CHOICES[0])
            self.chosen.append(CHOICES[0])

    def _choose(self):
        """Keep the faster count from now on; the load was read as quiet before each probing epoch."""
        one, two = (statistics.median(self.probes[count]) for count in CHOICES)
        self.quiet_choice = CHOICES[1] if two <= SECOND_THREAD_GAIN * one else CHOICES[0]
        self.set(self.quiet_choice)
        self.chosen.append(self.quiet_choice)
