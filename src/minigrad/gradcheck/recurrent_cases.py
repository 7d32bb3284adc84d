"""The gradcheck registry's recurrent cases: the fused gate ops, each cell for
one step, and the RNN wrapper over five steps.

A cell case checks the output and the new state together (joined along the
last axis), so the gradient through every path is compared. Parameters are
redrawn as float64 from the case's generator, and every forward is compared
with a plain-numpy reference.
"""

import numpy as np

from ..nn.recurrent import RNN, GRUCell, LSTMCell, RNNCell
from ..ops.recurrent import GRUHidden, LSTMCellState, LSTMHidden
from ..tensor import concat
from .case import Case, Trial
from .layer_cases import _float64_parameters, _sigmoid  # shared with the feed-forward cases

BATCH, N_IN, N_HIDDEN, N_OUT, STEPS = 2, 3, 4, 3, 5


# ---- numpy references, one step each -------------------------------------------


def _lstm_gates(z, c):
    """(h', c') from pre-activations z (blocks i, f, g, o) and the cell state c."""
    i, f, g, o = np.split(z, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def _gru_gates(a, b, h):
    a_r, a_u, a_n = np.split(a, 3, axis=-1)
    b_r, b_u, b_n = np.split(b, 3, axis=-1)
    r, u = _sigmoid(a_r + b_r), _sigmoid(a_u + b_u)
    n = np.tanh(a_n + r * b_n)
    return (1 - u) * n + u * h


def _linear(layer, x):
    return x @ layer.weight.data + (0 if layer.bias is None else layer.bias.data)


def _step(cell, x, state):
    """(h, state) of one step of ``cell`` in numpy, reading its current weights."""
    if isinstance(cell, RNNCell):
        h = _linear(cell.w_ih, x) + _linear(cell.w_hh, state)
        h = np.tanh(h) if cell.activation == "tanh" else _sigmoid(h)
        return h, h
    if isinstance(cell, LSTMCell):
        h, c = _lstm_gates(_linear(cell.w_gates, np.concatenate([x, state[0]], axis=-1)), state[1])
        return h, (h, c)
    h = _gru_gates(_linear(cell.w_ih, x), _linear(cell.w_hh, state), state)
    return h, h


# ---- cases -------------------------------------------------------------------------


def _op_case(name, op, widths):
    """A fused gate op on inputs of (BATCH, width) for each width."""

    def reference(*arrays):
        if op is GRUHidden:
            return _gru_gates(*arrays)
        if op is LSTMCellState:
            return _lstm_gates(*arrays)[1]
        z, c = arrays  # LSTMHidden reads the new cell state
        return _sigmoid(np.split(z, 4, axis=-1)[3]) * np.tanh(c)

    def setup(rng):
        return Trial(op.apply, [rng.standard_normal((BATCH, w)) for w in widths], reference)

    return Case(name, f"hidden {N_HIDDEN}", setup)


def _cell_case(cls, **options):
    """One step of a cell: output, h (and c) joined, checked against numpy."""

    def setup(rng):
        cell = cls(N_IN, N_HIDDEN, N_OUT, **options)
        params = _float64_parameters(cell, rng)
        n_states = 2 if cls is LSTMCell else 1
        inputs = [rng.standard_normal((BATCH, N_IN))]
        inputs += [rng.standard_normal((BATCH, N_HIDDEN)) for _ in range(n_states)]

        def fn(x, *state):
            output, state = cell(x, tuple(state) if n_states == 2 else state[0])
            return concat([output, *(state if n_states == 2 else [state])], dim=-1)

        def reference(x, *state):
            h, state = _step(cell, x, tuple(state) if n_states == 2 else state[0])
            states = list(state) if n_states == 2 else [state]
            return np.concatenate([_linear(cell.w_ho, h), *states], axis=-1)

        return Trial(fn, inputs, reference, params)

    label = options.get("activation", "one step")
    return Case(cls.__name__, label, setup)


def _rnn_case(cell, n_layers, **options):
    """The RNN wrapper, ``n_layers`` deep, over STEPS steps: all outputs,
    checked against numpy. Labelled like "lstm x2, 5 steps"."""

    def setup(rng):
        model = RNN(cell, N_IN, N_HIDDEN, N_OUT, n_layers=n_layers, **options)
        params = _float64_parameters(model, rng)

        def reference(x):
            inputs = list(x.transpose(1, 0, 2))
            for layer in model.cells:
                state = (np.zeros((BATCH, N_HIDDEN)),) * 2 if cell == "lstm" else np.zeros((BATCH, N_HIDDEN))
                hs = []
                for x_t in inputs:
                    h, state = _step(layer, x_t, state)
                    hs.append(h)
                inputs = hs
            return _linear(model.w_ho, np.stack(inputs, axis=1))

        return Trial(lambda x: model(x)[0], [rng.standard_normal((BATCH, STEPS, N_IN))], reference, params)

    return Case("RNN", f"{cell} x{n_layers}, {STEPS} steps", setup)


CASES = [
    _op_case("lstm_cell_state", LSTMCellState, [4 * N_HIDDEN, N_HIDDEN]),
    _op_case("lstm_hidden", LSTMHidden, [4 * N_HIDDEN, N_HIDDEN]),
    _op_case("gru_hidden", GRUHidden, [3 * N_HIDDEN, 3 * N_HIDDEN, N_HIDDEN]),
    _cell_case(RNNCell, activation="sigmoid"),
    _cell_case(RNNCell, activation="tanh"),
    _cell_case(LSTMCell),
    _cell_case(GRUCell),
    _rnn_case("lstm", 1),
    _rnn_case("lstm", 2),
    _rnn_case("gru", 2),
    _rnn_case("rnn", 2, activation="tanh"),
]
