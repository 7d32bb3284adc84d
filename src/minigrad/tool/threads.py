"""How many threads numpy's BLAS may use while ``minigrad train`` runs.

minigrad's models multiply small matrices: a second BLAS thread barely helps
on a quiet machine, and on a busy one (a second run, a suite, any other
job) its threads wait for each other and an epoch can take two to three
times as long. So training uses one thread unless ``--threads N`` says
otherwise. The limit is set at run time through threadpoolctl, so nothing
has to be exported before Python starts; results are reproducible at a fixed
thread count (a product's sums may be split differently across threads).
"""

from threadpoolctl import threadpool_limits

from ..errors import ConfigError
from .config.limits import MAX_THREADS

DEFAULT_THREADS = 1


def blas_threads(threads=None):
    """A context that holds the BLAS libraries to ``threads`` threads (``DEFAULT_THREADS`` for None)."""
    threads = DEFAULT_THREADS if threads is None else threads
    if not 1 <= threads <= MAX_THREADS:
        raise ConfigError(f"--threads {threads}: give a number from 1 to {MAX_THREADS}.",
                          hint="One thread is the fastest for minigrad's models on a shared machine.")
    return threadpool_limits(limits=threads, user_api="blas")
