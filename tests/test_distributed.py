"""Data-parallel training over MPI: ``mpiexec -n 2 minigrad train`` against one process.

The MPI tests start real jobs of two ranks with the ``mpiexec`` that the
``mpi`` extra installs (``pip install -e '.[mpi]'``), and are skipped, saying
why, where mpi4py or mpiexec is missing.
"""

import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from minigrad import serialization
from minigrad.tool import distributed

TIMEOUT_S = 120  # a job that hangs fails its test instead of the whole run

LM = {"name": "lm", "data": {"task": 1, "mode": "lm", "batch_size": 20, "train_size": 101, "test_size": 37},
      "model": {"type": "recurrent", "embedding_dim": 8, "cell": "rnn", "hidden_size": 8},
      "optimizer": {"name": "sgd", "lr": 0.1, "clip_norm": 1.0},
      "train": {"epochs": 3, "seed": 0}}
QA = {"name": "qa", "data": {"task": 1, "mode": "qa", "batch_size": 25, "train_size": 101, "test_size": 51},
      "model": {"type": "recurrent", "embedding_dim": 8, "cell": "lstm", "hidden_size": 8},
      "optimizer": {"name": "adam", "lr": 0.01},
      "train": {"epochs": 3, "seed": 0}}
# A summed loss, per-parameter clipping, noisy ages, a linear start and a validation split.
MEMORY = {"name": "memory", "data": {"task": 1, "mode": "memory", "batch_size": 32, "train_size": 161,
                                     "test_size": 60, "valid_fraction": 0.1},
          "model": {"type": "memn2n", "embedding_dim": 12, "hops": 2, "random_noise": 0.1,
                    "linear_start": {"epochs": 1, "lr": 0.005}},
          "loss": {"reduction": "sum"},
          "optimizer": {"name": "sgd", "lr": 0.01, "clip_norm": 40.0, "clip_mode": "per_parameter"},
          "train": {"epochs": 3, "seed": 0, "max_loss_ratio": None}}


def _mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _why_no_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install -e '.[mpi]')"
    return None if _mpiexec() else "no mpiexec found (pip install -e '.[mpi]' brings one)"


needs_mpi = pytest.mark.skipif(_why_no_mpi() is not None, reason=str(_why_no_mpi()))


def clean_env(**extra):
    """This environment without any MPI launcher's variables, one BLAS thread per process."""
    env = distributed.without_launcher()
    return {**env, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "COLUMNS": "200", **extra}


def run(args, ranks=None, code=None, **env):
    """``minigrad ARGS`` (or Python code), alone or as ``mpiexec -n RANKS``; the finished process."""
    program = [sys.executable, "-c", code] if code else [sys.executable, "-m", "minigrad", *map(str, args)]
    command = [_mpiexec(), "-n", str(ranks), *program] if ranks else program
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=clean_env(**env))


def write(folder, base, **train):
    config = {**base, "train": {**base["train"], "out": str(folder / "runs"), **train}}
    path = folder / f"{base['name']}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items() if k not in ("examples_per_s", "elapsed_s")}
                for row in csv.DictReader(f)]


def largest_differences(one, two):
    """(the largest relative difference of the metrics, the largest absolute one of the weights)."""
    rows_one, rows_two = metrics(one), metrics(two)
    assert [r["epoch"] for r in rows_one] == [r["epoch"] for r in rows_two]
    losses = max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-12) for a, b in zip(rows_one, rows_two) for k in a)
    w_one, w_two = serialization.load(one / "weights.npz"), serialization.load(two / "weights.npz")
    assert w_one.keys() == w_two.keys()
    return losses, max(float(np.abs(w_one[k] - w_two[k]).max()) for k in w_one)


def assert_ok(result):
    assert result.returncode == 0, result.stdout + result.stderr


# ---- outside MPI -------------------------------------------------------------------


@pytest.mark.parametrize("env, expected", [
    ({}, False),
    ({"PMI_SIZE": "2", "PMI_RANK": "1"}, True),            # MPICH's mpiexec (hydra)
    ({"PMI_SIZE": "1", "PMI_RANK": "0"}, False),           # mpiexec -n 1: one process, as before
    ({"OMPI_COMM_WORLD_SIZE": "4"}, True),                 # Open MPI
    ({"PMIX_RANK": "0"}, True),                            # a rank but no size: ask MPI
    ({"SLURM_STEP_NUM_TASKS": "8", "SLURM_PROCID": "3"}, True),  # srun -n 8
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "8"}, False),   # the batch script itself
])
def test_launchers_are_recognised_by_their_variables(env, expected):
    assert distributed.launched(env) is expected


def test_training_alone_never_imports_mpi4py(tmp_path):
    code = ("import sys; from minigrad.tool import cli; sys.argv = ['minigrad', 'train', sys.argv[1]]\n"
            "try:\n    cli.main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
            "print('mpi4py' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(write(tmp_path, LM, epochs=1))],
                            capture_output=True, text=True, timeout=TIMEOUT_S, env=clean_env())
    assert_ok(result)
    assert result.stdout.splitlines()[-1] == "False"


@pytest.mark.parametrize("rank", ["0", "1"])
def test_a_launched_run_without_mpi4py_says_how_to_install_it(tmp_path, rank):
    hide = ("import sys; sys.modules['mpi4py'] = None; from minigrad.tool import cli\n"
            f"sys.argv = ['minigrad', 'train', {str(write(tmp_path, LM))!r}]; cli.main()")
    result = run([], code=hide, PMI_SIZE="2", PMI_RANK=rank)
    assert result.returncode == 2
    if rank == "0":
        assert "error: started by an MPI launcher" in result.stderr
        assert "pip install 'minigrad[mpi]'" in result.stderr
    else:  # every rank meets it; rank 0 says it
        assert result.stderr == ""
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


# ---- two ranks against one process ---------------------------------------------------


@needs_mpi
@pytest.mark.parametrize("base", [LM, QA, MEMORY], ids=lambda b: b["name"])
def test_two_ranks_train_as_one_process_does(tmp_path, base):
    config = write(tmp_path, base)
    assert_ok(run(["train", config, "--out", tmp_path / "one"]))
    job = run(["train", config, "--out", tmp_path / "two"], ranks=2)
    assert_ok(job)
    losses, weights = largest_differences(tmp_path / "one" / base["name"], tmp_path / "two" / base["name"])
    print(f"{base['name']}: metrics differ by {losses:.2g} (relative), weights by {weights:.2g}")
    assert losses <= 1e-5 and weights <= 1e-6
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["latest", base["name"]]  # rank 0's only
    assert job.stdout.count("run folder:") == 1 and job.stdout.count("saved to") == 1


@needs_mpi
def test_a_resumed_job_continues_as_one_process_would(tmp_path):
    config = write(tmp_path, QA)
    assert_ok(run(["train", config, "--out", tmp_path / "one"]))
    assert_ok(run(["train", config, "--out", tmp_path / "two", "--epochs", "2"], ranks=2))
    assert_ok(run(["train", "--resume", tmp_path / "two" / "qa", "--epochs", "3"], ranks=2))
    losses, weights = largest_differences(tmp_path / "one" / "qa", tmp_path / "two" / "qa")
    assert losses <= 1e-5 and weights <= 1e-6


# ---- failures stop the whole job with one message ------------------------------------


@needs_mpi
def test_an_error_every_rank_meets_is_said_once(tmp_path):
    job = run(["train", write(tmp_path, LM), "--set", "optimizer.lr=1e6"], ranks=2)
    assert job.returncode == 1
    assert job.stderr.count("error: the loss") == 1 and "Traceback" not in job.stderr


@needs_mpi
def test_a_failing_rank_stops_the_job(tmp_path):
    fail = ("import sys; from minigrad import errors; from minigrad.tool import cli, distributed, training\n"
            "def broken(session, batch):\n"
            "    raise errors.DataError('cannot read the batch')\n"
            "if distributed.launcher_rank() == 1:\n"
            "    training.batch_loss = broken\n"
            f"sys.argv = ['minigrad', 'train', {str(write(tmp_path, LM))!r}]; cli.main()")
    started = time.monotonic()
    job = run([], ranks=2, code=fail)
    assert job.returncode == 2  # DataError's code, from MPI_Abort
    assert time.monotonic() - started < 60
    assert job.stderr.count("error: rank 1 of 2: cannot read the batch") == 1
    assert "Traceback" not in job.stderr
