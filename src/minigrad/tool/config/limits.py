"""The largest value each number of a run file may take, and the types that hold fields to them.

Every size, count and length a run file (or ``--set``, or a command-line
option) gives has a maximum, so that a typo such as ``hidden_size: 10000000``
or ``hops: 4294967296`` is refused with a message naming the field and the
limit, instead of running out of memory or overflowing inside numpy. Each
limit alone is something a machine with 24 GiB of memory can build (with the
other fields at ordinary values); the README's run-file section lists them.
"""

from typing import Annotated

from pydantic import Field

from ...errors import ConfigError
from .wording import short_repr

MAX_WIDTH = 8192  # embedding_dim, hidden_size, a layer's dim, n_inputs and n_outputs
MAX_RECURRENT_LAYERS = 64  # stacked recurrent cells
MAX_HOPS = 64  # memory network hops
MAX_QRN_LAYERS = 64  # stacked query-reduction layers
MAX_MEMORY_SIZE = 1000  # statements a memory network keeps
MAX_SEQUENTIAL_LAYERS = 256  # items of a sequential model's list of layers
MAX_BATCH_SIZE = 65536
MAX_EXAMPLES = 10**8  # data.train_size, data.test_size
MAX_LENGTH = 100_000  # data.max_len, max_story_len, max_question_len (tokens)
MAX_EPOCHS = 10**6  # train.epochs, every *_every, optimizer.schedule.every, linear_start.epochs
MAX_SEED = 2**32 - 1  # numpy's seeds are 32-bit
MAX_INDEX = 2**31 - 1  # loss.ignore_index, either sign
MAX_NAME_LENGTH = 100  # the run's name, which names its folder
MAX_SUITE_SEEDS = 1000  # minigrad suite --seeds
MAX_JOBS = 1024  # minigrad suite --jobs
MAX_THREADS = 256  # train.threads and --threads (BLAS threads)


def _bounded(low, high):
    """A whole number written as a number (strict: ``true`` or ``"3"`` is not taken for 1 or 3), low..high."""
    if low == 1:
        return Annotated[int, Field(strict=True, gt=0, le=high)]  # says "greater than 0"
    return Annotated[int, Field(strict=True, ge=low, le=high)]


Width = _bounded(1, MAX_WIDTH)
RecurrentLayers = _bounded(1, MAX_RECURRENT_LAYERS)
Hops = _bounded(1, MAX_HOPS)
QRNLayers = _bounded(1, MAX_QRN_LAYERS)
MemorySize = _bounded(1, MAX_MEMORY_SIZE)
BatchSize = _bounded(1, MAX_BATCH_SIZE)
ExampleCount = _bounded(1, MAX_EXAMPLES)
Length = _bounded(1, MAX_LENGTH)
Epochs = _bounded(1, MAX_EPOCHS)  # a number of epochs, or "every N epochs"
Seed = _bounded(0, MAX_SEED)
Index = _bounded(-MAX_INDEX, MAX_INDEX)
Threads = Annotated[int, Field(strict=True, ge=1, le=MAX_THREADS)]


def check_seed(seed, option):
    """Refuse a seed given on the command line that numpy cannot take."""
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{option} {short_repr(seed)}: a seed is a whole number from 0 to {MAX_SEED}.", hint="e.g. --seed 0")

