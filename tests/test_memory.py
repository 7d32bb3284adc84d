"""Training runs in flat memory: backward frees the graph, and thousands of
iterations of the lesson's experiment hold on to nothing.

The measure is ``tracemalloc``, which sees Python objects and numpy's array
buffers alike (numpy reports its allocations to it). A leak of one small
(100, 16) float32 array per iteration would add 12 MB over the 1,900
iterations compared here, three times the bound.
"""

import tracemalloc
import weakref

import numpy as np

from minigrad import SGD, CrossEntropyLoss, Embedding, Tensor
from minigrad.data import resolve_task
from minigrad.nn.recurrent import RNNCell

BATCH, DIM, STEPS = 100, 16, 5
GROWTH_BOUND = 4 * 2**20  # bytes


def lesson_data():
    """The lesson's reading of bAbI task 1: its first 1000 lines, lower-cased,
    split on spaces after the line id, left-padded with '-' to 6 tokens."""
    with open(resolve_task(1, "train"), encoding="utf-8") as f:
        lines = [line.lower().replace("\n", "").split(" ")[1:] for line in f.readlines()[:1000]]
    tokens = [["-"] * (STEPS + 1 - len(line)) + line for line in lines]
    vocab = sorted({word for line in tokens for word in line})
    index = {word: i for i, word in enumerate(vocab)}
    return np.array([[index[w] for w in line] for line in tokens])[:BATCH], len(vocab)


class LessonRNN:
    """The lesson's model and training iteration: Embedding + RNNCell, loss on the last step, SGD."""

    def __init__(self):
        self.data, vocab_size = lesson_data()
        np.random.seed(0)
        self.embed = Embedding(vocab_size=vocab_size, dim=DIM)
        self.model = RNNCell(n_inputs=DIM, n_hidden=DIM, n_output=vocab_size)
        self.criterion = CrossEntropyLoss()
        params = self.model.get_parameters() + self.embed.get_parameters()
        self.optimizer = SGD(parameters=params, alpha=0.05)

    def loss(self, hiddens=None):
        """Forward over the 5 steps; each step's hidden Tensor is appended to ``hiddens`` if given."""
        hidden = self.model.init_hidden(batch_size=BATCH)
        for t in range(STEPS):
            output, hidden = self.model.forward(self.embed.forward(Tensor(self.data[:, t], autograd=True)), hidden)
            if hiddens is not None:
                hiddens.append(hidden)
        return self.criterion.forward(output, Tensor(self.data[:, STEPS], autograd=True))

    def step(self, retain_graph=False):
        loss = self.loss()
        loss.backward(retain_graph=retain_graph)
        self.optimizer.step()
        return loss


def traced_growth(run, warmup=100, iterations=2000):
    """(peak growth, current growth) in bytes between iteration ``warmup`` and ``iterations``."""
    tracemalloc.start()
    try:
        for _ in range(warmup):
            run()
        current_before, peak_before = tracemalloc.get_traced_memory()
        for _ in range(iterations - warmup):
            run()
        current_after, peak_after = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak_after - peak_before, current_after - current_before


def test_two_thousand_iterations_keep_memory_flat():
    rnn = LessonRNN()
    first = rnn.step().item()
    peak, current = traced_growth(rnn.step)
    assert peak < GROWTH_BOUND, f"peak grew {peak / 2**20:.2f} MiB (now holding {current / 2**20:+.2f} MiB more)"
    assert rnn.step().item() < first  # it did train: the measure ran over real iterations


def test_the_measure_sees_a_graph_kept_alive():
    # Keeping every loss with its graph must break the bound well before 2,000 iterations.
    rnn, kept = LessonRNN(), []
    peak, current = traced_growth(lambda: kept.append(rnn.step(retain_graph=True)), warmup=20, iterations=300)
    assert peak > GROWTH_BOUND and current > GROWTH_BOUND


def _hidden_refs(hiddens):
    return [weakref.ref(h.data) for h in hiddens]  # arrays: the graph's payload


def test_backward_releases_the_graph_while_the_loss_lives():
    rnn, hiddens = LessonRNN(), []
    loss = rnn.loss(hiddens)
    refs = _hidden_refs(hiddens)
    del hiddens
    assert all(ref() is not None for ref in refs)  # the graph holds them until backward
    loss.backward()
    # Freed by reference counting alone, with no garbage collection: the graph has no cycles.
    assert [ref() is None for ref in refs] == [True] * STEPS
    assert np.isfinite(loss.item())


def test_dropping_the_loss_frees_a_retained_graph():
    rnn, hiddens = LessonRNN(), []
    loss = rnn.loss(hiddens)
    refs = _hidden_refs(hiddens)
    del hiddens
    loss.backward(retain_graph=True)
    assert all(ref() is not None for ref in refs)  # retained: backward could run again
    del loss
    assert [ref() is None for ref in refs] == [True] * STEPS
