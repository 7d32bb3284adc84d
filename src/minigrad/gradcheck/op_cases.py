"""The gradcheck registry's op cases: valid-domain inputs, broadcasting shapes,
and a plain-numpy reference for each forward.

Both ``tests/test_gradcheck.py`` and ``minigrad gradcheck`` run this list. Each
edge case the PyTorch sweep (``scripts/op_sweep.py``) turned up that finite
differences can check has a case here too: negative axes, 0-d reductions,
``**`` with exponent 0 and with tensor exponents.
"""

import numpy as np

from ..functional import linear
from ..ops.recurrent import RNNStep
from ..ops.sequence import LSTMLayer, RNNLayer
from ..tensor import concat, stack
from .case import Case, Trial


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    """Values at least 0.1 from 0, where relu's kink would fool finite differences."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)


def integers(high, *shape):
    return lambda rng: rng.integers(0, high, shape)


def fixed(array):
    return lambda rng: np.asarray(array)


def case(name, label, fn, makers, reference=None):
    """A registry case whose inputs come from ``makers`` (one per input)."""
    return Case(name, label, lambda rng: Trial(fn, [make(rng) for make in makers], reference))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _cross_entropy(logits, targets, ignore=None):
    logp = np.log(_softmax(logits, -1)).reshape(-1, logits.shape[-1])
    t = targets.reshape(-1)
    keep = np.ones_like(t, dtype=bool) if ignore is None else t != ignore
    return -logp[np.arange(len(t))[keep], t[keep]].mean()


def _logistic(x):
    return 1 / (1 + np.exp(-x))


def _rnn(xz, w, h, activation):
    """Reference Elman recurrence, one step at a time."""
    hs = []
    for x in xz:
        h = activation(x + h @ w)
        hs.append(h)
    return np.stack(hs)


# Ids (time, batch) into a 3-row table: repeats, so rows sum several steps'
# gradients, and -1, which counts from the end as in indexing.
_TABLE_ROWS = np.array([[0, 2], [1, 1], [-1, 0], [2, 2]])


def _lstm(xz, w, h, c):
    """Reference LSTM recurrence, one step at a time (gate blocks i, f, g, o)."""
    hs = []
    for x in xz:
        i, f, g, o = np.split(x + h @ w, 4, axis=-1)
        c = _logistic(f) * c + _logistic(i) * np.tanh(g)
        h = _logistic(o) * np.tanh(c)
        hs.append(h)
    return np.concatenate([np.stack(hs), c[None]])


def _reduction_cases(name, method, reference, make=normal):
    cases = [case(name, "all", lambda x: getattr(x, method)(), [make(2, 3, 4)], lambda x: reference(x, axis=None))]
    for dim in (0, 1, 2, -1, -3, (0, -1)):
        for keepdim in (False, True):
            cases.append(case(
                name, f"dim={dim} keepdim={keepdim}",
                lambda x, d=dim, k=keepdim: getattr(x, method)(d, keepdim=k),
                [make(2, 3, 4)],
                lambda x, d=dim, k=keepdim: reference(x, axis=d, keepdims=k),
            ))
    # A 0-d tensor takes dim 0 or -1, and its reduction is itself.
    for dim in (None, 0, -1):
        for keepdim in (False, True):
            cases.append(case(
                name, f"0-d dim={dim} keepdim={keepdim}",
                lambda x, d=dim, k=keepdim: getattr(x, method)(d, keepdim=k),
                [normal()],
                lambda x: x,
            ))
    return cases


def _distinct(*shape):
    """Values at least 0.1 apart, so a max has one winner that eps cannot change."""
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n) * 0.2 + rng.uniform(0, 0.1, n)).reshape(shape) - n * 0.1


CASES = [
    case("add", "(3,1)+(1,4)", lambda a, b: a + b, [normal(3, 1), normal(1, 4)], np.add),
    case("add", "(5,4)+(4,)", lambda a, b: a + b, [normal(5, 4), normal(4)], np.add),
    case("add", "scalar+tensor", lambda a: 2.5 + a, [normal(3, 2)], lambda a: 2.5 + a),
    case("add", "tensor+scalar", lambda a: a + 2.5, [normal(3, 2)], lambda a: a + 2.5),
    case("sub", "(3,1)-(1,4)", lambda a, b: a - b, [normal(3, 1), normal(1, 4)], np.subtract),
    case("sub", "scalar-tensor", lambda a: 1.0 - a, [normal(4)], lambda a: 1.0 - a),
    case("mul", "(5,4)*(4,)", lambda a, b: a * b, [normal(5, 4), normal(4)], np.multiply),
    case("mul", "scalar*tensor", lambda a: 3.0 * a, [normal(2, 3)], lambda a: 3.0 * a),
    case("mul", "same tensor twice", lambda a: a * a, [normal(3, 3)], lambda a: a * a),
    case("div", "(3,4)/(4,)", lambda a, b: a / b, [normal(3, 4), positive(4)], np.divide),
    case("div", "scalar/tensor", lambda a: 1.0 / a, [positive(5)], lambda a: 1.0 / a),
    case("neg", "(3,4)", lambda a: -a, [normal(3, 4)], np.negative),
    case("pow", "x**3", lambda a: a**3, [normal(3, 4)], lambda a: a**3),
    case("pow", "x**0.5", lambda a: a**0.5, [positive(3, 4)], np.sqrt),
    case("pow", "x**0, also at x=0", lambda a: a**0, [fixed([0.0, 1.5, -2.0, 0.0])], lambda a: a**0),
    case("pow", "x**-2", lambda a: a**-2, [away_from_zero(3, 4)], lambda a: a**-2.0),
    case("pow", "tensor**tensor, (3,1)**(1,4)", lambda a, p: a**p, [positive(3, 1), normal(1, 4)], np.power),
    case("pow", "negative base ** integer tensor", lambda a, p: a**p,
         [fixed([[-1.5, -0.7], [-2.0, 0.8]]), fixed([[2, 3], [1, 0]])], np.power),
    case("pow", "base 0 ** tensor 0 and 2", lambda a, p: a**p, [fixed([0.0, 0.0, 1.5]), fixed([0, 2, 0])],
         np.power),
    case("pow", "2 ** tensor", lambda p: 2.0**p, [normal(3, 2)], lambda p: 2.0**p),
    case("pow", "0 ** positive tensor", lambda p: 0.0**p, [positive(4)], lambda p: 0.0**p),
    case("cast", "float64 -> longdouble -> float64, 0-d into (3,)", lambda a, b: a * b.astype(np.longdouble),
         [normal(3), normal()], np.multiply),
    case("matmul", "(2,3,4)@(4,5)", lambda a, b: a @ b, [normal(2, 3, 4), normal(4, 5)], np.matmul),
    case("matmul", "(2,3,4)@(2,4,5)", lambda a, b: a @ b, [normal(2, 3, 4), normal(2, 4, 5)], np.matmul),
    case("matmul", "(3,4)@(4,)", lambda a, b: a @ b, [normal(3, 4), normal(4)], np.matmul),
    case("matmul", "(4,)@(4,5)", lambda a, b: a.mm(b), [normal(4), normal(4, 5)], np.matmul),
    case("matmul", "(4,)@(4,)", lambda a, b: a @ b, [normal(4), normal(4)], np.matmul),
    case("linear", "(5,3)x(3,4)+(4,)", lambda x, w, b: linear(x, w, b), [normal(5, 3), normal(3, 4), normal(4)],
         lambda x, w, b: x @ w + b),
    case("linear", "(2,5,3)x(3,4)+(4,)", lambda x, w, b: linear(x, w, b), [normal(2, 5, 3), normal(3, 4), normal(4)],
         lambda x, w, b: x @ w + b),
    case("linear", "no bias", lambda x, w: linear(x, w), [normal(5, 3), normal(3, 4)], np.matmul),
    case("linear", "bias (1,4)", lambda x, w, b: linear(x, w, b), [normal(5, 3), normal(3, 4), normal(1, 4)],
         lambda x, w, b: x @ w + b),
    case("transpose", "axes (2,0,1)", lambda a: a.transpose(2, 0, 1), [normal(2, 3, 4)],
         lambda a: a.transpose(2, 0, 1)),
    case("transpose", "axes (-1,0,1)", lambda a: a.transpose(-1, 0, 1), [normal(2, 3, 4)],
         lambda a: a.transpose(2, 0, 1)),
    case("transpose", "axes (-1,0,1) of (2,2,2)", lambda a: a.transpose(-1, 0, 1), [normal(2, 2, 2)],
         lambda a: a.transpose(2, 0, 1)),
    case("transpose", "axes (0,-1,-2)", lambda a: a.transpose((0, -1, -2)), [normal(2, 3, 4)],
         lambda a: a.transpose(0, 2, 1)),
    case("transpose", ".T", lambda a: a.T, [normal(3, 5)], lambda a: a.T),
    case("reshape", "(2,3,4)->(6,4)", lambda a: a.reshape(6, 4), [normal(2, 3, 4)], lambda a: a.reshape(6, 4)),
    case("expand", "dim=0 copies=3", lambda a: a.expand(0, 3), [normal(4)], lambda a: np.stack([a] * 3, 0)),
    case("expand", "dim=1 copies=2", lambda a: a.expand(1, 2), [normal(3, 4)], lambda a: np.stack([a] * 2, 1)),
    case("expand", "dim=-1 copies=2", lambda a: a.expand(-1, 2), [normal(3, 4)], lambda a: np.stack([a] * 2, -1)),
    case("broadcast_to", "(3,1)->(2,3,4)", lambda a: a.broadcast_to(2, 3, 4), [normal(3, 1)],
         lambda a: np.broadcast_to(a, (2, 3, 4))),
    case("getitem", "slices", lambda a: a[1:, ::2], [normal(4, 5)], lambda a: a[1:, ::2]),
    case("getitem", "repeated integer rows", lambda a: a[np.array([0, 2, 0, 0])], [normal(3, 4)],
         lambda a: a[[0, 2, 0, 0]]),
    case("getitem", "mixed index", lambda a: a[1, np.array([0, 0, 3])], [normal(3, 4)], lambda a: a[1, [0, 0, 3]]),
    case("index_select", "5x3 rows [[1,2,3],[2,3,4]]", lambda w, i: w.index_select(i),
         [normal(5, 3), fixed([[1, 2, 3], [2, 3, 4]])], lambda w, i: w[i]),
    case("index_select", "dim=1 of 3x5, ids [[0,4],[4,-1]]", lambda w, i: w.index_select(i, dim=1),
         [normal(3, 5), fixed([[0, 4], [4, -1]])], lambda w, i: np.take(w, i, axis=1)),
    case("index_select", "dim=-2 of 2x4x3", lambda w, i: w.index_select(i, dim=-2),
         [normal(2, 4, 3), fixed([3, 3, 0])], lambda w, i: np.take(w, i, axis=1)),
    case("concat", "dim=0", lambda a, b: concat([a, b], 0), [normal(2, 3), normal(4, 3)],
         lambda a, b: np.concatenate([a, b], 0)),
    case("concat", "dim=1, three inputs", lambda a, b, c: concat([a, b, c], dim=1),
         [normal(2, 3), normal(2, 1), normal(2, 2)], lambda a, b, c: np.concatenate([a, b, c], 1)),
    case("concat", "dim=-1", lambda a, b: concat([a, b], dim=-1), [normal(2, 3), normal(2, 1)],
         lambda a, b: np.concatenate([a, b], -1)),
    case("stack", "dim=1", lambda a, b: stack([a, b], dim=1), [normal(2, 3), normal(2, 3)],
         lambda a, b: np.stack([a, b], 1)),
    case("stack", "dim=-1", lambda a, b: stack([a, b], dim=-1), [normal(2, 3), normal(2, 3)],
         lambda a, b: np.stack([a, b], -1)),
    case("stack", "0-d tensors", lambda a, b: stack([a, b]), [normal(), normal()], lambda a, b: np.stack([a, b])),
    *_reduction_cases("sum", "sum", np.sum),
    *_reduction_cases("mean", "mean", np.mean),
    *_reduction_cases("max", "max", np.max, make=_distinct),
    case("cumsum", "(3,4) dim 1", lambda x: x.cumsum(1), [normal(3, 4)], lambda x: np.cumsum(x, axis=1)),
    case("cumsum", "(4,2,3) dim -3, reverse", lambda x: x.cumsum(-3, reverse=True), [normal(4, 2, 3)],
         lambda x: np.cumsum(x[::-1], axis=0)[::-1]),
    case("cumsum", "0-d", lambda x: x.cumsum(0), [normal()], lambda x: x),
    case("exp", "(3,4)", lambda a: a.exp(), [normal(3, 4)], np.exp),
    case("log", "(3,4) positive", lambda a: a.log(), [positive(3, 4)], np.log),
    case("tanh", "(3,4)", lambda a: a.tanh(), [normal(3, 4)], np.tanh),
    case("sigmoid", "(3,4)", lambda a: a.sigmoid(), [normal(3, 4)], lambda a: 1 / (1 + np.exp(-a))),
    case("relu", "(3,4) away from 0", lambda a: a.relu(), [away_from_zero(3, 4)], lambda a: np.maximum(a, 0)),
    case("softmax", "dim=-1", lambda a: a.softmax(), [normal(3, 5)], lambda a: _softmax(a, -1)),
    case("softmax", "dim=0", lambda a: a.softmax(0), [normal(3, 5)], lambda a: _softmax(a, 0)),
    case("softmax", "dim=-3 of 3-D", lambda a: a.softmax(-3), [normal(2, 3, 4)], lambda a: _softmax(a, 0)),
    case("softmax", "0-d", lambda a: a.softmax(0), [normal()], lambda a: np.ones_like(a)),
    case("log_softmax", "0-d", lambda a: a.log_softmax(-1), [normal()], lambda a: np.zeros_like(a)),
    case("log_softmax", "dim=-1", lambda a: a.log_softmax(), [normal(3, 5)], lambda a: np.log(_softmax(a, -1))),
    case("log_softmax", "dim=1 of 3-D", lambda a: a.log_softmax(1), [normal(2, 3, 4)],
         lambda a: np.log(_softmax(a, 1))),
    case("cross_entropy", "(6,5) logits", lambda x, t: x.cross_entropy(t), [normal(6, 5), integers(5, 6)],
         _cross_entropy),
    case("cross_entropy", "(2,3,5) logits", lambda x, t: x.cross_entropy(t), [normal(2, 3, 5), integers(5, 2, 3)],
         _cross_entropy),
    case("cross_entropy", "ignore_index=0", lambda x, t: x.cross_entropy(t, ignore_index=0),
         [normal(6, 4), fixed([0, 1, 2, 0, 3, 1])], lambda x, t: _cross_entropy(x, t, ignore=0)),
    case("lstm_layer", "T=4 B=2 H=3", lambda xz, w, h0, c0: LSTMLayer.apply(xz, w, h0, c0),
         [normal(4, 2, 12), normal(3, 12), normal(2, 3), normal(2, 3)], lambda xz, w, h0, c0: _lstm(xz, w, h0, c0)),
    case("lstm_layer", "rows of a table T=4 B=2 H=3 V=3",
         lambda table, w, h0, c0: LSTMLayer.apply(table, w, h0, c0, rows=_TABLE_ROWS),
         [normal(3, 12), normal(3, 12), normal(2, 3), normal(2, 3)],
         lambda table, w, h0, c0: _lstm(table[_TABLE_ROWS], w, h0, c0)),
    case("rnn_layer", "tanh T=5 B=2 H=3", lambda xz, w, h0: RNNLayer.apply(xz, w, h0, activation="tanh"),
         [normal(5, 2, 3), normal(3, 3), normal(2, 3)], lambda xz, w, h0: _rnn(xz, w, h0, np.tanh)),
    case("rnn_layer", "sigmoid T=5 B=2 H=3", lambda xz, w, h0: RNNLayer.apply(xz, w, h0, activation="sigmoid"),
         [normal(5, 2, 3), normal(3, 3), normal(2, 3)], lambda xz, w, h0: _rnn(xz, w, h0, _logistic)),
    case("rnn_step", "sigmoid B=3 in=4 H=5",
         lambda x, h, wi, bi, wh, bh: RNNStep.apply(x, h, wi, bi, wh, bh, activation="sigmoid"),
         [normal(3, 4), normal(3, 5), normal(4, 5), normal(5), normal(5, 5), normal(5)],
         lambda x, h, wi, bi, wh, bh: _logistic(x @ wi + bi + h @ wh + bh)),
    case("rnn_step", "tanh B=3 in=4 H=5",
         lambda x, h, wi, bi, wh, bh: RNNStep.apply(x, h, wi, bi, wh, bh, activation="tanh"),
         [normal(3, 4), normal(3, 5), normal(4, 5), normal(5), normal(5, 5), normal(5)],
         lambda x, h, wi, bi, wh, bh: np.tanh(x @ wi + bi + h @ wh + bh)),
    case("mse", "mean", lambda p, t: p.mse(t), [normal(4, 3), normal(4, 3)], lambda p, t: ((p - t) ** 2).mean()),
    case("mse", "sum", lambda p, t: p.mse(t, reduction="sum"), [normal(4, 1), normal(4, 1)],
         lambda p, t: ((p - t) ** 2).sum()),
]

