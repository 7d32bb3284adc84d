"""The gradcheck registry's cases for ``minigrad.lesson``.

Each is checked against its own definition: the lesson's cross-entropy
against finite differences of the *summed* loss (``report="sum"``), whose
gradient it backpropagates whatever it reports, and the lesson's layers
against their formulas. Parameters are redrawn as float64 from the case's
generator, as in the layer cases.
"""

import numpy as np

from ..lesson import Embedding, LessonCrossEntropy, Linear, LSTMCell, RNNCell, Sequential, Tanh
from .case import Case, Trial
from .layer_cases import _float64_parameters, _log_softmax, embedding_trial
from .recurrent_cases import _linear, _step

BATCH, N_IN, N_HIDDEN, N_OUT, STEPS = 2, 3, 4, 3, 2


def _summed_cross_entropy(logits, targets):
    """sum over rows of -log softmax(logits)[target], in numpy."""
    log_probs = _log_softmax(logits).reshape(-1, logits.shape[-1])
    return -log_probs[np.arange(targets.size), targets.reshape(-1)].sum()


def _cross_entropy_case(shape):
    def setup(rng):
        targets = rng.integers(0, shape[-1], shape[:-1])
        fn = lambda x, t: LessonCrossEntropy.apply(x, targets=t.data, report="sum")  # noqa: E731
        return Trial(fn, [rng.standard_normal(shape) * 2, targets], _summed_cross_entropy)

    return Case("lesson_cross_entropy", f"{shape} logits, gradient of the sum", setup)


def _linear_case(rng):
    layer = Linear(4, 3)
    params = _float64_parameters(layer, rng)
    return Trial(layer, [rng.standard_normal((5, 4))], lambda x: _linear(layer, x), params)


def _sequential_case(rng):
    """The lesson's Embedding + CrossEntropy example: its model into the summed loss."""
    embed, out = Embedding(3, 3), Linear(3, 4)
    model = Sequential([embed, Tanh(), out])
    params = _float64_parameters(model, rng)
    ids, targets = np.array([1, 2, 1, 2]), np.array([0, 1, 0, 1])
    fn = lambda i: LessonCrossEntropy.apply(model(i), targets=targets, report="sum")  # noqa: E731
    reference = lambda i: _summed_cross_entropy(_linear(out, np.tanh(embed.weight.data[i])), targets)  # noqa: E731
    return Trial(fn, [ids], reference, params)


def _state_arrays(state):
    """A cell's state from ``init_hidden`` as numpy arrays, for the reference."""
    return tuple(s.data for s in state) if isinstance(state, tuple) else state.data


def _cell_case(cls):
    """STEPS steps of a lesson cell from its ``init_hidden``: the last output."""

    def setup(rng):
        cell = cls(N_IN, N_HIDDEN, N_OUT)
        params = _float64_parameters(cell, rng)

        def fn(*inputs):
            state = cell.init_hidden(BATCH)
            for x in inputs:
                output, state = cell.forward(x, state)
            return output

        def reference(*inputs):
            state = _state_arrays(cell.init_hidden(BATCH))
            for x in inputs:
                h, state = _step(cell, x, state)
            return _linear(cell.w_ho, h)

        return Trial(fn, [rng.standard_normal((BATCH, N_IN)) for _ in range(STEPS)], reference, params)

    return Case(f"lesson.{cls.__name__}", f"{STEPS} steps from init_hidden", setup)


CASES = [
    _cross_entropy_case((6, 4)),
    _cross_entropy_case((2, 3, 5)),
    Case("lesson.Linear", "(5,4) -> (5,3)", _linear_case),
    Case("lesson.Embedding", "5x3 table, ids (2,3) with repeats", lambda rng: embedding_trial(rng, Embedding)),
    Case("lesson.Sequential", "Embedding+Tanh+Linear into the summed cross-entropy", _sequential_case),
    _cell_case(RNNCell),
    _cell_case(LSTMCell),
]
