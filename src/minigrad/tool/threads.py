"""How many threads numpy's BLAS may use while ``minigrad train`` runs.

minigrad's models multiply small matrices. Whether a second BLAS thread
helps depends on the model and on the machine: on a quiet machine the
joint memory network's larger products run a fifth faster on two threads,
the small single-task models gain nothing; as soon as another job shares the
cores, two threads wait for each other and an epoch can take two to three
times as long. So training uses one thread unless told otherwise.
``train.threads: auto`` measures instead, for a machine of its own: each
epoch's first batches alternate one and two threads, and the rest of the
epoch runs on whichever was faster per batch. On a shared machine the
measuring misleads (a second thread's spinning slows the batches after it,
whatever their count), so it is not the default.

``--threads N`` (or ``train.threads: N``) fixes the count; results are
reproducible at a fixed thread count (a product's sums may be split
differently across threads). The limits are set at run time through
threadpoolctl, so nothing has to be exported before Python starts.
"""

import os
import statistics
import time

from ..errors import ConfigError
from .config.limits import MAX_THREADS

CHOICES = (1, 2)  # the counts an epoch tries: more rarely pays for products this small
PROBE_BATCHES = 4  # batches an epoch runs on each count before choosing


def blas_threads(threads=None):
    """The BLAS thread plan for a run: ``threads`` fixed (None: one), or measured each epoch for "auto".

    Use it as a context (``with blas_threads(n) as plan``); ``plan.batches``
    wraps an epoch's batches, and leaving the context restores the limits
    numpy had before.
    """
    if threads is None:
        return FixedThreads(1)
    if threads == "auto":
        return TunedThreads() if _cores() > 1 else FixedThreads(1)
    if not 1 <= threads <= MAX_THREADS:
        raise ConfigError(f"--threads {threads}: give a number from 1 to {MAX_THREADS}.",
                          hint="One thread is the fastest for minigrad's models on a shared machine.")
    return FixedThreads(threads)


def _cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
        self.controller.limit(limits=threads, user_api="blas")
        self.threads = threads

    def batches(self, batches):
        """An epoch's batches, unchanged: the count is fixed."""
        return batches


class TunedThreads(FixedThreads):
    """Each epoch, alternate the counts over the first batches, then keep the faster."""

    def __init__(self, controller=None, clock=time.perf_counter):
        super().__init__(CHOICES[0], controller)
        self.clock, self.chosen = clock, []  # the count each epoch settled on

    def batches(self, batches):
        """Yield an epoch's batches, timing the work done on each while probing."""
        seconds = {count: [] for count in CHOICES}
        probes = PROBE_BATCHES * len(CHOICES)
        for i, batch in enumerate(batches):
            if i < probes:  # alternate, so a change in load or batch size hits every count alike
                self.set(CHOICES[i % len(CHOICES)])
                start = self.clock()
                yield batch
                seconds[self.threads].append(self.clock() - start)
                continue
            if i == probes:
                self.set(min(CHOICES, key=lambda count: statistics.median(seconds[count])))
                self.chosen.append(self.threads)
            yield batch
        if len(seconds[CHOICES[-1]]) < PROBE_BATCHES:  # too short an epoch to tell: one thread
            self.set(CHOICES[0])
