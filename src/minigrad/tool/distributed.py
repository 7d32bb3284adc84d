"""Data-parallel training over MPI: ``mpiexec -n N minigrad train CONFIG``.

Every process (rank) builds the same model from the same seed, reads the
same shuffled batches and trains on its own contiguous share of the rows of
each one. After backward the ranks add up their gradients in one flat buffer
(a single ``Allreduce`` per step) and rescale them, so that every rank holds
the gradient one process would have computed on the whole batch; clipping,
the optimizer step and the schedule then run alike everywhere, and the
weights stay identical. Rank 0 alone prints and writes the run folder.

Outside an MPI launcher nothing here touches MPI: ``world()`` is ``ALONE``,
whose methods leave everything as it is, and mpi4py is never imported.
"""

import math
import os
import sys
import time

import numpy as np

from ..backend import to_device, to_numpy
from ..errors import MinigradError

# Variables an MPI launcher gives each process it starts: MPICH and Intel MPI
# (PMI_*, MPI_LOCALNRANKS), Open MPI (OMPI_COMM_WORLD_*), PMIx, MVAPICH and
# Slurm's srun (SLURM_STEP_NUM_TASKS, set for each job step it launches).
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE",
                  "PMIX_SIZE", "SLURM_STEP_NUM_TASKS")
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK", "SLURM_PROCID")
# What else launchers put in each process's environment (MPICH's PMI_FD, Hydra's
# HYDRA_*, Open MPI's OMPI_MCA_*, ...): a process a rank starts must see none of
# it, or it would take itself for a rank of the job.
LAUNCHER_PREFIXES = ("PMI_", "OMPI_", "PMIX_", "HYDRA_", "MPI_LOCAL")
INSTALL = "pip install 'minigrad[mpi]'"

# How long a rank other than 0 waits before reporting an error of its own:
# an error every rank meets (a bad data file, say) is then said once, by rank
# 0, whose MPI_Abort ends the others while they wait.
GRACE_S = 3.0
FORWARD_S = 0.5  # how long a rank that aborts the job waits for its last words to reach the launcher


class DistributedError(MinigradError):
    """Launched by mpiexec, but this Python cannot take part in an MPI job."""

    exit_code = 2


def _number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def launched(environ=None):
    """True when an MPI launcher started this process as one of several."""
    env = os.environ if environ is None else environ
    sizes = [_number(env[name]) for name in SIZE_VARIABLES if name in env]
    if any(size is not None for size in sizes):
        return max(size or 0 for size in sizes) > 1
    return any(name in env for name in RANK_VARIABLES[:-1])  # a rank but no size: ask MPI itself


def launcher_rank(environ=None):
    """This process's rank as the launcher's variables give it, or None outside a launcher."""
    env = os.environ if environ is None else environ
    return next((_number(env[name]) for name in RANK_VARIABLES if name in env), None)


def without_launcher(environ=None):
    """A copy of the environment less every MPI launcher's variables: for a process that must train alone."""
    env = os.environ if environ is None else environ
    names = set(SIZE_VARIABLES + RANK_VARIABLES)
    return {key: value for key, value in env.items() if key not in names and not key.startswith(LAUNCHER_PREFIXES)}


class Alone:
    """One process: every method leaves the numbers exactly as they are."""

    rank, size, is_root = 0, 1, True

    def share(self, batch):
        return batch

    def backward(self, loss, counted, right, summed, parameters):
        """Backpropagate the batch's loss; return (its mean loss, counted targets, right predictions).

        A loss that is not finite stops the run, so it is not backpropagated (numpy would warn).
        """
        value = loss.item()
        if math.isfinite(value):
            (loss * counted if summed else loss).backward()  # the sum over the batch is n times its mean
        return value, counted, right

    def sum(self, values):
        """``values`` summed over the ranks: here, as they are."""
        return tuple(values)

    def from_root(self, value):
        return value

    def broadcast(self, parameters):
        pass

    def every_rank(self, error):
        return error


ALONE = Alone()
_world = None  # the world this process joined, once ``world()`` has been called


def world():
    """The processes training together: ``ALONE``, or every rank of the MPI job that launched us."""
    global _world
    if _world is None:
        _world = _join() if launched() else ALONE
    return _world


def _join():
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as exc:  # missing, or its MPI library cannot be loaded
        raise DistributedError(f"started by an MPI launcher (mpiexec, srun), but mpi4py cannot be imported "
                               f"({exc}); each process would train alone and write the same run folder.",
                               hint=f"Install MPI support with: {INSTALL} (see the README's \"Beyond one "
                                    "machine: MPI\"), or run without mpiexec.") from None
    comm = MPI.COMM_WORLD
    return ALONE if comm.size == 1 else MPIWorld(comm, MPI)


class MPIWorld:
    """The ranks of an MPI job, training one model together."""

    def __init__(self, comm, mpi):
        self.comm, self.mpi = comm, mpi
        self.rank, self.size = comm.rank, comm.size
        self.is_root = self.rank == 0
        _abort_on_uncaught(comm)

    def share(self, batch):
        """This rank's contiguous slice of the rows of every array in ``batch``."""
        rows = len(batch[0])
        start, stop = rows * self.rank // self.size, rows * (self.rank + 1) // self.size
        return type(batch)(*(array[start:stop] for array in batch))

    def backward(self, loss, counted, right, summed, parameters):
        """Backpropagate this rank's share; return (the whole batch's mean loss, counted, right).

        Each rank backpropagates the sum of its losses (``loss`` is None for
        an empty share). One Allreduce adds up the gradients, which
        parameters have one, and the loss and counts; dividing by the
        counted targets of all ranks then gives the gradient of the whole
        batch's mean, however the padding fell between the shares.
        """
        value = 0.0 if loss is None else loss.item() * counted
        if loss is not None and math.isfinite(value):  # any other value stops every rank
            (loss * counted).backward()
        counts = np.array([value, counted, right], dtype=_dtype(parameters))
        flat = self._all_sum(np.concatenate([_flat_gradients(parameters), counts]))
        value, counted, right = float(flat[-3]), round(float(flat[-2])), round(float(flat[-1]))
        _set_gradients(parameters, flat[:-3], 1.0 if summed else 1.0 / max(counted, 1))
        return value / max(counted, 1), counted, right

    def sum(self, values):
        """Each of ``values`` summed over the ranks (in float64), as a tuple."""
        return tuple(self._all_sum(np.asarray(values, dtype=np.float64)).tolist())

    def _all_sum(self, array):
        self.comm.Allreduce(self.mpi.IN_PLACE, array, op=self.mpi.SUM)
        return array

    def from_root(self, value):
        """Rank 0's ``value`` (any picklable object), on every rank."""
        return self.comm.bcast(value, root=0)

    def broadcast(self, parameters):
        """Copy rank 0's parameters to every rank, in one buffer."""
        flat = np.concatenate([to_numpy(p.data).ravel() for p in parameters])
        self.comm.Bcast(flat, root=0)
        for p, part in zip(parameters, _pieces(flat, parameters)):
            p.data[...] = to_device(part.reshape(p.shape), p.device)

    def every_rank(self, error):
        """Mark ``error`` as one every rank meets: said without naming the rank that says it."""
        error.every_rank = True
        return error


def gradient_buffer_bytes(parameters):
    """The bytes one rank sends per training step: its gradients, their flags and three counts."""
    return (sum(p.data.size for p in parameters) + len(parameters) + 3) * np.dtype(_dtype(parameters)).itemsize


def _dtype(parameters):
    return np.result_type(*(p.data.dtype for p in parameters))


def _flat_gradients(parameters):
    """Every gradient (zeros where there is none) and then one flag per parameter: 1 where it has one."""
    grads = [to_numpy(p.grad.data).ravel() if p.grad is not None else np.zeros(p.data.size, _dtype(parameters))
             for p in parameters]
    flags = np.array([p.grad is not None for p in parameters], dtype=_dtype(parameters))
    return np.concatenate(grads + [flags])


def _pieces(flat, parameters):
    """``flat`` cut back into one piece per parameter."""
    ends = np.cumsum([p.data.size for p in parameters])
    return np.split(flat[:ends[-1]], ends[:-1])


def _set_gradients(parameters, flat, scale):
    """Give each parameter its summed gradient times ``scale``; one no rank had stays None."""
    from ..tensor import Tensor

    flags = flat[-len(parameters):]
    for p, part, flag in zip(parameters, _pieces(flat, parameters), flags):
        grad = to_device((part * scale).astype(p.data.dtype).reshape(p.shape), p.device)
        p.grad = Tensor._from_op(grad, None) if flag > 0 else None


def _abort_on_uncaught(comm):
    """Let an unexpected exception on one rank end the whole job instead of leaving the others waiting."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        comm.Abort(1)

    sys.excepthook = hook


def report(error, show):
    """Have ``show(error)`` say a MinigradError once for the whole job, and stop every rank.

    Alone, it is simply shown. Before MPI is joined (mpi4py missing, say)
    every rank meets the same error and exits, and the launcher's rank 0 says
    it. In a job, the other ranks may be waiting for this one in a collective,
    so MPI_Abort ends them all: rank 0 says its error at once; any other rank
    first gives rank 0 the time to say an error every rank meets (a bad data
    file, say) and end the job, and then says its own, naming itself unless
    it is marked ``every_rank`` (a diverging loss, Ctrl-C). An error marked
    ``job_finished`` comes after every rank's work is over and is raised on
    every rank (a suite stopped by Ctrl-C): rank 0 says it and the job ends
    without MPI_Abort, every rank with its exit code.
    """
    if not isinstance(_world, MPIWorld):
        if launcher_rank() in (None, 0):
            show(error)
        return
    if getattr(error, "job_finished", False):  # every rank is through already and raised it: none needs stopping
        if _world.is_root:
            show(error)
            sys.stderr.flush()
        _world.comm.Barrier()  # the others leave after rank 0 has said it: a launcher may end the job at one exit
        return
    if not _world.is_root:
        time.sleep(GRACE_S)
        if not getattr(error, "every_rank", False):
            error.message = f"rank {_world.rank} of {_world.size}: {error.message}"
    show(error)
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(FORWARD_S)  # MPI_Abort kills the job at once: let the launcher pass the message on first
    _world.comm.Abort(error.exit_code)
