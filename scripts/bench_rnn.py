"""Time one training step of two recurrent models in minigrad and in PyTorch.

(a) the lesson's model: Embedding(20, 16) + RNNCell(16, 16, n_output=20),
    5 steps, batch 100, cross-entropy on the last step;
(b) Embedding(100, 50) + LSTMCell(50, 100, n_output=100), 50 steps, batch 32,
    cross-entropy on the last step.

A training step is forward, backward and a plain SGD update. Both frameworks
run the same model written step by step (the output layer runs at every step,
as a cell's forward does, though only the last output is scored), in the same
process, alternating, and the table shows the median over the repetitions. PyTorch (CPU) is
optional: without it only minigrad's times are printed.

    python scripts/bench_rnn.py [--repeats 7] [--steps 20]
"""

import argparse
import statistics
import time

import numpy as np

import minigrad as mg
from minigrad.nn.layers import Embedding
from minigrad.nn.recurrent import LSTMCell, RNNCell
from minigrad.optim import SGD

CONFIGS = {
    "a: RNNCell 16, 5 steps, batch 100": {"cell": "rnn", "vocab": 20, "dim": 16, "hidden": 16, "steps": 5, "batch": 100},
    "b: LSTMCell 100, 50 steps, batch 32": {
        "cell": "lstm", "vocab": 100, "dim": 50, "hidden": 100, "steps": 50, "batch": 32,
    },
}


def minigrad_step_fn(cell, vocab, dim, hidden, steps, batch, seed=0):
    """A function that runs one minigrad training step on fixed random data."""
    np.random.seed(seed)
    ids = np.random.default_rng(seed).integers(0, vocab, (batch, steps + 1))
    embed = Embedding(vocab, dim)
    model = RNNCell(dim, hidden, vocab) if cell == "rnn" else LSTMCell(dim, hidden, vocab)
    optimizer = SGD(parameters=model.parameters() + embed.parameters(), alpha=0.05)

    def train_step():
        state = model.init_hidden(batch)
        for t in range(steps):
            output, state = model(embed(ids[:, t]), state)
        loss = output.cross_entropy(ids[:, steps])
        loss.backward()
        optimizer.step()
        return loss.item()

    return train_step


def torch_step_fn(cell, vocab, dim, hidden, steps, batch, seed=0):
    """The same step in PyTorch, or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(seed)
    ids = torch.from_numpy(np.random.default_rng(seed).integers(0, vocab, (batch, steps + 1)))
    embed = torch.nn.Embedding(vocab, dim)
    if cell == "rnn":
        w_ih, w_hh = torch.nn.Linear(dim, hidden), torch.nn.Linear(hidden, hidden)
        recurrent = [w_ih, w_hh]
    else:
        lstm = torch.nn.LSTMCell(dim, hidden)
        recurrent = [lstm]
    w_ho = torch.nn.Linear(hidden, vocab)
    params = [p for m in [embed, w_ho, *recurrent] for p in m.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.05)

    def train_step():
        h = torch.zeros(batch, hidden)
        c = torch.zeros(batch, hidden)
        for t in range(steps):
            x = embed(ids[:, t])
            if cell == "rnn":
                h = torch.sigmoid(w_ih(x) + w_hh(h))
            else:
                h, c = lstm(x, (h, c))
            output = w_ho(h)  # every step, as the cell's forward does
        loss = torch.nn.functional.cross_entropy(output, ids[:, steps])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return train_step


def per_step_seconds(train_step, steps):
    """Seconds per call of ``train_step``, averaged over ``steps`` calls."""
    start = time.perf_counter()
    for _ in range(steps):
        train_step()
    return (time.perf_counter() - start) / steps


def compare(config, repeats, steps):
    """Median seconds per training step: (minigrad, torch or None)."""
    fns = {"minigrad": minigrad_step_fn(**config), "torch": torch_step_fn(**config)}
    fns = {name: fn for name, fn in fns.items() if fn is not None}
    times = {name: [] for name in fns}
    for fn in fns.values():  # warm up caches and allocators
        per_step_seconds(fn, 2)
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(per_step_seconds(fn, steps))
    medians = {name: statistics.median(values) for name, values in times.items()}
    return medians["minigrad"], medians.get("torch")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="alternating rounds; the median is shown")
    parser.add_argument("--steps", type=int, default=20, help="training steps timed per round")
    args = parser.parse_args()
    try:
        import torch

        header = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        header = "PyTorch not installed: minigrad only"
    print(f"minigrad {mg.__version__}, numpy {np.__version__}; {header}")
    print(f"{'model':40} {'minigrad ms':>12} {'torch ms':>10} {'ratio':>7}")
    for label, config in CONFIGS.items():
        ours, theirs = compare(config, args.repeats, args.steps)
        if theirs is None:
            print(f"{label:40} {ours * 1e3:12.3f} {'-':>10} {'-':>7}")
        else:
            print(f"{label:40} {ours * 1e3:12.3f} {theirs * 1e3:10.3f} {ours / theirs:7.2f}")
    print("ratio = minigrad time / PyTorch time (below 1: minigrad is faster)")


if __name__ == "__main__":
    main()
