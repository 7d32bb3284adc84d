"""Time one op's forward and backward in minigrad, numpy and PyTorch (CPU).

minigrad's models are small, so an op's cost is mostly Python bookkeeping,
not arithmetic. This script measures that cost per op on the sizes minigrad
trains with (a batch of 100 vectors of 16 numbers, float32):

    python scripts/bench_ops.py [--reps 2000] [--batches 7] [--threads 1]

Each number is the median over ``--batches`` batches of the mean time of one
repetition in a batch of ``--reps``. One repetition of a "forward+backward"
clears the leaves' gradients, runs the op and backpropagates a fixed upstream
gradient, as a training step does. PyTorch is imported here only, and only if
it is installed.
"""

import argparse
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from minigrad import Tensor

SHAPES = {"add": [(100, 16), (100, 16)], "matmul": [(100, 16), (16, 16)], "tanh": [(100, 16)]}


def _apply(name, inputs):
    """Run op ``name`` on ``inputs``: numpy arrays, minigrad Tensors or torch tensors alike."""
    if name == "add":
        return inputs[0] + inputs[1]
    if name == "matmul":
        return inputs[0] @ inputs[1]
    return inputs[0].tanh() if hasattr(inputs[0], "tanh") else np.tanh(inputs[0])


def median_us(step, reps, batches):
    """Median over batches of the mean microseconds of one ``step()``."""
    step()  # warm up: first calls allocate and fill caches
    means = []
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(reps):
            step()
        means.append((time.perf_counter_ns() - start) / reps / 1000)
    return statistics.median(means)


def _arrays(name, rng):
    return [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES[name]]


def _upstream(name, arrays):
    return np.ones_like(_apply(name, arrays))


def time_numpy(name, arrays, reps, batches):
    return {"numpy fwd": median_us(lambda: _apply(name, arrays), reps, batches)}


def time_framework(label, leaf, tensor, name, arrays, reps, batches):
    """Forward and forward+backward microseconds of op ``name`` in one framework.

    ``leaf`` makes a tensor that requires grad from an array and ``tensor`` a
    plain one, so the same code times minigrad and PyTorch.
    """
    leaves = [leaf(a) for a in arrays]
    g = tensor(_upstream(name, arrays))

    def train_step():
        for x in leaves:
            x.grad = None
        _apply(name, leaves).backward(g)

    forward = median_us(lambda: _apply(name, leaves), reps, batches)
    return {f"{label} fwd": forward, f"{label} fwd+bwd": median_us(train_step, reps, batches)}


def _import_torch(threads):
    """PyTorch if installed (with ``threads`` intra-op threads when given), else None."""
    try:
        import torch
    except ImportError:
        return None
    if threads:
        torch.set_num_threads(threads)
    return torch


def _label(name):
    shapes = ["x".join(map(str, shape)) for shape in SHAPES[name]]
    return f"{name} " + {"add": " + ", "matmul": " @ "}.get(name, "").join(shapes)


def results_table(rows, torch_note):
    """A rich Table of the timings in microseconds, with the ratios that matter."""
    table = Table(
        title=f"One float32 op, microseconds per call\n({torch_note})",
        caption="fwd records the graph (inputs require grad); x torch and x numpy: minigrad fwd+bwd over "
        "torch fwd+bwd and over numpy fwd",
    )
    columns = ["numpy fwd", "minigrad fwd", "minigrad fwd+bwd", "torch fwd", "torch fwd+bwd"]
    table.add_column("op")
    for column in columns:
        table.add_column(column.replace(" ", "\n"), justify="right")
    table.add_column("x torch", justify="right")
    table.add_column("x numpy", justify="right")
    for name, times in rows.items():
        cells = [f"{times[c]:.2f}" if c in times else "-" for c in columns]
        mine = times["minigrad fwd+bwd"]
        vs_torch = f"{mine / times['torch fwd+bwd']:.2f}" if "torch fwd+bwd" in times else "-"
        table.add_row(_label(name), *cells, vs_torch, f"{mine / times['numpy fwd']:.1f}")
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000, help="repetitions per batch")
    parser.add_argument("--batches", type=int, default=7, help="batches; the median is reported")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (0: PyTorch's default)")
    args = parser.parse_args()
    torch = _import_torch(args.threads)
    if torch is None:
        note = "PyTorch not installed"
    else:
        note = f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s)"
    rng = np.random.default_rng(0)
    rows = {}
    for name in SHAPES:
        arrays = _arrays(name, rng)
        rows[name] = time_numpy(name, arrays, args.reps, args.batches)
        rows[name].update(time_framework("minigrad", lambda a: Tensor(a, requires_grad=True), Tensor,
                                         name, arrays, args.reps, args.batches))
        if torch is not None:
            rows[name].update(time_framework("torch", lambda a: torch.tensor(a, requires_grad=True), torch.tensor,
                                             name, arrays, args.reps, args.batches))
    Console().print(results_table(rows, note))


if __name__ == "__main__":
    main()
