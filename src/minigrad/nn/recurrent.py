"""Recurrent layers: one time step at a time (cells), and a whole sequence (RNN).

A cell maps (input at step t, state after step t-1) to (output at step t,
state after step t). It has two parts:

* ``step(input, state) -> (h, state)``: the recurrence itself, where ``h`` is
  the new hidden vector (batch, n_hidden) and ``state`` whatever the next step
  needs (``h`` again for RNNCell and GRUCell, the pair ``(h, c)`` for LSTMCell);
* ``w_ho``, a Linear layer that reads the output off ``h``, as in the lesson.

``forward`` is the two together. ``RNN`` runs cells over a (batch, time,
features) input, stacking layers, and applies one output layer to every step.
"""

from ..backend import get_array_module
from ..errors import MinigradError
from .. import functional as F
from ..ops.recurrent import GRUHidden, LSTMCellState, LSTMHidden, RNNStep
from ..ops.sequence import LSTMLayer, RNNLayer
from ..tensor import Tensor, concat, stack
from .layers import Linear, as_indices, as_tensor
from .module import Module

ACTIVATIONS = ("sigmoid", "tanh")


class RecurrentLayerError(MinigradError, ValueError):
    """A recurrent layer was asked for a cell type or nonlinearity it does not have."""


def _zeros(batch_size, n_hidden, like):
    """A zero state on the device and in the dtype of the array ``like``.

    It needs no gradient: nothing learns the starting state.
    """
    return Tensor(get_array_module(like).zeros((batch_size, n_hidden), dtype=like.dtype))


class _Cell(Module):
    """What the three cells share: sizes, the output layer, ``forward`` and
    ``init_hidden``. Subclasses make their weights, then call ``_add_output``."""

    def __init__(self, n_inputs, n_hidden):
        self.n_inputs, self.n_hidden = n_inputs, n_hidden

    def _add_output(self, n_output):
        # ``n_output=None`` leaves the output layer out: the output is h itself
        # (RNN uses this for its cells and applies one output layer at the end).
        self.n_output = n_output
        self.w_ho = None if n_output is None else Linear(self.n_hidden, n_output)

    def step(self, input, state):
        raise NotImplementedError

    def forward(self, input, hidden):
        """(output, new state) for one time step; ``input`` is (batch, n_inputs)."""
        h, state = self.step(as_tensor(input), hidden)
        output = h if self.w_ho is None else self.w_ho(h)
        return output, state

    def init_hidden(self, batch_size=1):
        """The state before the first step: zeros of shape (batch_size, n_hidden)."""
        return _zeros(batch_size, self.n_hidden, self.w_ih.weight.data)

    def run(self, inputs, state=None):
        """Run the cell over a whole time-major sequence ``inputs`` (time, batch, n_inputs).

        Returns (hidden vectors (time, batch, n_hidden), state after the last
        step). This plain version steps one op at a time; RNNCell and LSTMCell
        replace it with a single whole-sequence op (``ops.sequence``).
        """
        state = self.init_hidden(inputs.shape[1]) if state is None else state
        hiddens = []
        for t in range(inputs.shape[0]):
            h, state = self.step(inputs[t], state)
            hiddens.append(h)
        return stack(hiddens, dim=0), state

    def run_on_ids(self, embedding, ids, state=None):
        """``run`` over the vectors that ``embedding`` gives the time-major
        word ids ``ids`` (time, batch)."""
        return self.run(embedding(ids), state)


class _ProjectedCell(_Cell):
    """A cell whose input enters only through one product, x @ W_x + b, that
    no earlier step affects. ``project`` computes it for every step at once;
    ``run_projected`` runs the time loop on the result as a single op."""

    def project(self, inputs):
        raise NotImplementedError

    def run_projected(self, xz, state=None):
        raise NotImplementedError

    def run(self, inputs, state=None):
        return self.run_projected(self.project(inputs), state)

    def run_on_ids(self, embedding, ids, state=None):
        # Project the table, not the tokens: embedding(ids) @ W_x + b equals
        # (embedding.weight @ W_x + b)[ids]. With V words in the vocabulary,
        # E-wide vectors and N tokens, the backward then sums N gradient rows
        # into V (a V x N one-hot product) instead of running two N x E
        # products; that is less work while V is below about 2E, and the
        # projection's own product shrinks from N rows to V.
        if embedding.vocab_size > 2 * embedding.dim:
            return super().run_on_ids(embedding, ids, state)
        return self.run_on_table(self.project(embedding.table()), as_indices(ids), state)

    def run_on_table(self, table, ids, state=None):
        """``run_projected`` on the rows of the projected table that ``ids`` pick."""
        return self.run_projected(F.embedding(table, ids), state)


class RNNCell(_ProjectedCell):
    """The lesson's Elman cell: h' = act(x @ W_ih + b_ih + h @ W_hh + b_hh).

    Args:
        n_inputs, n_hidden, n_output: sizes of x, h and the output.
        activation: ``"sigmoid"`` (the lesson's default) or ``"tanh"``.
    """

    def __init__(self, n_inputs, n_hidden, n_output, activation="sigmoid"):
        if activation not in ACTIVATIONS:
            raise RecurrentLayerError(
                f"unknown activation {activation!r} for RNNCell.",
                hint=f"Use one of: {', '.join(ACTIVATIONS)}.",
            )
        super().__init__(n_inputs, n_hidden)
        self.activation = activation  # fused into RNNStep / RNNLayer, so a name, not a layer
        self.w_ih = Linear(n_inputs, n_hidden)
        self.w_hh = Linear(n_hidden, n_hidden)
        self._add_output(n_output)

    def step(self, input, hidden):
        if input.dtype.kind != "f":  # the lesson's integer features, as Linear accepts them
            input = Tensor(input.data.astype(self.w_ih.weight.dtype))
        h = RNNStep.apply(input, as_tensor(hidden), self.w_ih.weight, self.w_ih.bias,
                          self.w_hh.weight, self.w_hh.bias, activation=self.activation)
        return h, h

    def project(self, inputs):
        """Every step's input term, x @ W_ih + b_ih + b_hh, in one product."""
        return self.w_ih(inputs) + self.w_hh.bias

    def run_projected(self, xz, state=None):
        """The whole sequence in one ``RNNLayer`` op."""
        state = self.init_hidden(xz.shape[1]) if state is None else state
        hs = RNNLayer.apply(xz, self.w_hh.weight, as_tensor(state), activation=self.activation)
        return hs, hs[-1]


class LSTMCell(_ProjectedCell):
    """Long short-term memory cell.

    With z = [x, h] @ W + b split into four (batch, n_hidden) blocks in the
    order i, f, g, o (input, forget, candidate, output gates)::

        c' = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_g)
        h' = sigmoid(z_o) * tanh(c')

    All four gates come from one product: ``w_gates`` maps the input and the
    hidden vector side by side, (n_inputs + n_hidden) -> 4 n_hidden. That is
    faster than a product for each (one matmul instead of two, and no sum),
    and the gate arithmetic is two fused ops (``ops.recurrent``) instead of a
    dozen small ones: at these sizes the time goes into per-op overhead.
    The state is the pair ``(h, c)``.
    """

    def __init__(self, n_inputs, n_hidden, n_output):
        super().__init__(n_inputs, n_hidden)
        self.w_gates = Linear(n_inputs + n_hidden, 4 * n_hidden)
        # Forget-gate bias 1: sigmoid(1) = 0.73, so a fresh cell keeps most of
        # its memory from step to step and the gradient reaches early steps,
        # instead of halving at every step as it would with bias 0.
        self.w_gates.bias.data[n_hidden : 2 * n_hidden] = 1.0
        self._add_output(n_output)

    def step(self, input, state):
        h, c = state
        z = self.w_gates(concat([input, h], dim=-1))
        c = LSTMCellState.apply(z, c)
        h = LSTMHidden.apply(z, c)
        return h, (h, c)

    def init_hidden(self, batch_size=1):
        """The state before the first step: the pair (h, c) of zeros."""
        like = self.w_gates.weight.data
        return _zeros(batch_size, self.n_hidden, like), _zeros(batch_size, self.n_hidden, like)

    def project(self, inputs):
        """Every step's input term of the gates: the input rows of ``w_gates``
        times the inputs, plus the bias, in one product."""
        return F.linear(inputs, self.w_gates.weight[: self.n_inputs], self.w_gates.bias)

    def run_projected(self, xz, state=None):
        """The whole sequence in one ``LSTMLayer`` op, which loops over time
        with the hidden rows of ``w_gates``."""
        return self._run_layer(xz, state)

    def run_on_table(self, table, ids, state=None):
        # The op picks the table's rows itself, straight into its own buffer.
        return self._run_layer(table, state, rows=ids)

    def _run_layer(self, xz, state, rows=None):
        batch = (xz if rows is None else rows).shape[1]
        h, c = self.init_hidden(batch) if state is None else state
        out = LSTMLayer.apply(xz, self.w_gates.weight[self.n_inputs :], as_tensor(h), as_tensor(c), rows=rows)
        hs = out[:-1]  # the op appends the last cell state as one more row
        return hs, (hs[-1], out[-1])


class GRUCell(_Cell):
    """Gated recurrent unit. With blocks r, u, n (reset, update, candidate) of
    a = x @ W_ih + b_ih and b = h @ W_hh + b_hh::

        r = sigmoid(a_r + b_r),  u = sigmoid(a_u + b_u)
        n = tanh(a_n + r * b_n)
        h' = (1 - u) * n + u * h

    The gate arithmetic is one fused op (``ops.recurrent.GRUHidden``). Unlike
    the LSTM's, the two products cannot be merged into one: r multiplies b_n
    alone.
    """

    def __init__(self, n_inputs, n_hidden, n_output):
        super().__init__(n_inputs, n_hidden)
        self.w_ih = Linear(n_inputs, 3 * n_hidden)
        self.w_hh = Linear(n_hidden, 3 * n_hidden)
        self._add_output(n_output)

    def step(self, input, hidden):
        h = GRUHidden.apply(self.w_ih(input), self.w_hh(hidden), hidden)
        return h, h


CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


class RNN(Module):
    """A stack of ``n_layers`` recurrent cells run over whole sequences.

    Layer 0 reads the input; layer k > 0 reads layer k-1's hidden vectors.
    One output layer ``w_ho`` maps the top layer's hidden vectors to outputs,
    in a single product over all time steps.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        n_inputs, n_hidden, n_output: sizes of each input vector, of every
            layer's hidden vector, and of each output vector.
        n_layers: how many cells are stacked (at least 1).
        activation: the RNNCell nonlinearity (``cell="rnn"`` only). Tanh by
            default, not the lesson's sigmoid: it keeps hidden vectors centred
            on zero, which suits stacked layers.

    The input is a float Tensor (batch, time, n_inputs), or a list of the
    time steps' (batch, n_inputs) Tensors. For word ids, look them up first
    with an ``Embedding``: one step at a time gives the list, which is cheaper
    to backpropagate than slicing one big lookup (each slice's gradient is a
    whole (batch, time, n_inputs) array).
    """

    def __init__(self, cell, n_inputs, n_hidden, n_output, n_layers=1, activation="tanh"):
        if cell not in CELLS:
            raise RecurrentLayerError(f"unknown recurrent cell {cell!r}.", hint=f"Use one of: {', '.join(CELLS)}.")
        if n_layers < 1:
            raise RecurrentLayerError(f"n_layers must be at least 1, not {n_layers}.")
        options = {"activation": activation} if cell == "rnn" else {}
        sizes = [n_inputs] + [n_hidden] * (n_layers - 1)
        self.cell, self.n_layers = cell, n_layers
        self.n_inputs, self.n_hidden, self.n_output = n_inputs, n_hidden, n_output
        self.cells = [CELLS[cell](size, n_hidden, None, **options) for size in sizes]
        self.w_ho = Linear(n_hidden, n_output)

    def init_hidden(self, batch_size=1):
        """One zero state per layer, as a list."""
        return [cell.init_hidden(batch_size) for cell in self.cells]

    def forward(self, input, hidden=None):
        """Run the sequence ``input`` through every layer.

        Returns:
            (outputs, states): outputs (batch, time, n_output) and the list of
            each layer's state after the last step (pass it back as ``hidden``
            to continue the sequence).
        """
        if isinstance(input, (list, tuple)):
            x = stack([as_tensor(step) for step in input], dim=0)
        else:
            x = as_tensor(input).transpose(1, 0, 2)  # cells run time-major
        states = list(hidden) if hidden is not None else self.init_hidden(x.shape[1])
        for k, cell in enumerate(self.cells):
            x, states[k] = cell.run(x, states[k])
        return self.w_ho(x).transpose(1, 0, 2), states
