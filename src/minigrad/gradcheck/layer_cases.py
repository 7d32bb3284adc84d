"""The gradcheck registry's layer and loss cases.

Each case builds a layer, gives it float64 parameters drawn from the case's
generator (so a case never depends on the global numpy seed), and checks the
gradients of its inputs and parameters, with a numpy reference for the forward.
"""

import numpy as np

from ..nn.layers import Dropout, Embedding, Linear, Sequential, Sigmoid, Tanh
from ..nn.losses import CrossEntropyLoss, MSELoss
from .case import Case, Trial


def _float64_parameters(layer, rng):
    """Replace the layer's parameters with float64 values; return them."""
    params = layer.parameters()
    for p in params:
        p.data = rng.standard_normal(p.shape) * 0.5
    return params


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _cross_entropy(logits, targets, ignore=None):
    logp = _log_softmax(logits).reshape(-1, logits.shape[-1])
    t = targets.reshape(-1)
    keep = np.ones(len(t), bool) if ignore is None else t != ignore
    return -logp[np.arange(len(t))[keep], t[keep]].mean()


def _linear(bias):
    def setup(rng):
        layer = Linear(4, 3, bias=bias)
        params = _float64_parameters(layer, rng)
        b = layer.bias.data if bias else 0.0
        return Trial(layer, [rng.standard_normal((5, 4))], lambda x: x @ layer.weight.data + b, params)

    return setup


def embedding_trial(rng, make=Embedding):
    """A 5x3 table from ``make`` (minigrad's Embedding or the lesson's) looked up at repeated ids."""
    layer = make(5, 3)
    params = _float64_parameters(layer, rng)
    ids = np.array([[1, 2, 1], [4, 2, 2]])  # repeated ids: their gradients must add up
    return Trial(layer, [ids], lambda i: layer.weight.data[i], params)


def _sequential(rng):
    model = Sequential([Linear(3, 4), Tanh(), Linear(4, 2), Sigmoid()])
    params = _float64_parameters(model, rng)
    w1, b1, w2, b2 = (p.data for p in params)
    reference = lambda x: _sigmoid(np.tanh(x @ w1 + b1) @ w2 + b2)  # noqa: E731
    return Trial(model, [rng.standard_normal((5, 3))], reference, params)


def _mse(reduction, reference):
    def setup(rng):
        shape = (4, 2)
        return Trial(MSELoss(reduction), [rng.standard_normal(shape), rng.standard_normal(shape)], reference)

    return setup


def _cross_entropy_case(ignore_index, targets):
    def setup(rng):
        logits = rng.standard_normal((len(targets), 4))
        reference = lambda x, t: _cross_entropy(x, t, ignore_index)  # noqa: E731
        return Trial(CrossEntropyLoss(ignore_index), [logits, np.array(targets)], reference)

    return setup


def _dropout_eval(rng):
    return Trial(Dropout(0.5).eval(), [rng.standard_normal((3, 4))], lambda x: x)


def _pad_row_zeroed(weight):
    table = weight.copy()
    table[0] = 0
    return table


def _padded_embedding(rng):
    """Ids with <pad> (0): its row must get no gradient and give zero vectors."""
    layer = Embedding(5, 3, padding_idx=0)
    layer.weight.data = rng.standard_normal((5, 3))
    ids = np.array([[1, 0, 1], [4, 2, 0]])
    return Trial(layer, [ids], lambda i: _pad_row_zeroed(layer.weight.data)[i], [layer.weight])



CASES = [
    Case("Linear", "bias, (5,4) -> (5,3)", _linear(bias=True)),
    Case("Linear", "no bias", _linear(bias=False)),
    Case("Embedding", "5x3 table, ids (2,3) with repeats", embedding_trial),
    Case("Embedding", "padding_idx=0, ids (2,3) with <pad>", _padded_embedding),
    Case("Sequential", "Linear+Tanh+Linear+Sigmoid", _sequential),
    Case("MSELoss", "lesson default: sum over batch", _mse(None, lambda p, t: ((p - t) ** 2).sum(0))),
    Case("MSELoss", "reduction='mean'", _mse("mean", lambda p, t: ((p - t) ** 2).mean())),
    Case("CrossEntropyLoss", "(6,4) logits", _cross_entropy_case(None, [0, 3, 1, 2, 3, 1])),
    Case("CrossEntropyLoss", "ignore_index=0", _cross_entropy_case(0, [0, 3, 1, 0, 2, 1])),
    Case("Dropout", "eval mode is the identity", _dropout_eval),
]
