"""Does ``mpiexec -n N minigrad train`` train as one process does?

Trains each run file once alone and once as an MPI job of N ranks, at the same
global batch, and prints per run file the largest relative difference of the
train and test losses over the epochs (at full precision, not metrics.csv's
six digits), the largest difference of the saved weights, and the bytes each
rank sends per training step (the flat gradient buffer).

    python scripts/mpi_equivalence.py                      # babi_rnn and babi_lstm_qa, 3 epochs, 2 ranks
    python scripts/mpi_equivalence.py configs/babi_memn2n.yaml --epochs 22 --ranks 4 --set data.batch_size=64

Needs the mpi extra: pip install -e '.[mpi]'.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CONFIGS = ["configs/babi_rnn.yaml", "configs/babi_lstm_qa.yaml"]


def worker(config_path, epochs, out, report, settings):
    """Train one run (alone, or as this job's rank); rank 0 writes its rows and buffer size to ``report``."""
    from minigrad.tool import distributed, training
    from minigrad.tool.session import start_session
    from minigrad.tool.config import load_config
    from minigrad.tool.config.overrides import parse_settings

    config = load_config(config_path, {"epochs": epochs, "out": out}, settings=parse_settings(settings))
    session = start_session(config)
    rows = training.train(session)
    if session.world.is_root:
        found = {"rows": rows, "run_dir": str(session.run_dir),
                 "bytes_per_step": distributed.gradient_buffer_bytes(session.optimizer.parameters)}
        Path(report).write_text(json.dumps(found))


def mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def train(config, epochs, folder, ranks, settings):
    """Run ``worker`` alone (ranks 1) or under mpiexec; its report."""
    report = folder / "report.json"
    command = [sys.executable, __file__, "--worker", config, str(epochs), str(folder / "runs"), str(report),
               *settings]
    if ranks > 1:
        command = [mpiexec(), "-n", str(ranks), *command]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    subprocess.run(command, check=True, env=env)
    return json.loads(report.read_text())


def largest_relative(one, two, key):
    return max(abs(a[key] - b[key]) / abs(a[key]) for a, b in zip(one["rows"], two["rows"]))


def largest_weight_difference(one, two):
    from minigrad import serialization

    w_one = serialization.load(Path(one["run_dir"]) / "weights.npz")
    w_two = serialization.load(Path(two["run_dir"]) / "weights.npz")
    return max(float(np.abs(w_one[k] - w_two[k]).max()) for k in w_one)


def compare(config, epochs, ranks, settings):
    with tempfile.TemporaryDirectory() as tmp:
        alone = train(config, epochs, Path(tmp) / "alone", 1, settings)
        job = train(config, epochs, Path(tmp) / "job", ranks, settings)
        print(f"{config}: {epochs} epochs, {ranks} ranks against 1 process: largest relative difference "
              f"train loss {largest_relative(alone, job, 'train_loss'):.2g}, "
              f"test loss {largest_relative(alone, job, 'test_loss'):.2g}; "
              f"weights differ by at most {largest_weight_difference(alone, job):.2g}; "
              f"{job['bytes_per_step']:,} bytes sent per step per rank", flush=True)


def main():
    if sys.argv[1:2] == ["--worker"]:
        config, epochs, out, report, *settings = sys.argv[2:]
        return worker(config, int(epochs), out, report, settings)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=CONFIGS)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="PATH=VALUE",
                        help="change the run files, as minigrad train --set does")
    args = parser.parse_args()
    for config in args.configs:
        compare(config, args.epochs, args.ranks, args.settings)


if __name__ == "__main__":
    main()
