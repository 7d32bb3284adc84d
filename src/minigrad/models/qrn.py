"""Query-reduction networks (Seo, Min, Farhadi and Hajishirzi, ICLR 2017).

The story's statements x_1..x_T and the question q are position-weighted
bags of one word table (A), with the weights of the authors' code
(``position_weights``). A QRN layer reads the statements in order and
reduces the query with each one:

    z_t = sigmoid(W_z (x_t * q_t) + b_z + update_bias)    update gate (a number, or one per dim)
    r_t = sigmoid(W_r (x_t * q_t) + b_r)                  reset gate
    h~_t = tanh(W_h [x_t; q_t] + b_h)                     candidate query
    h_t = z_t r_t h~_t + (1 - z_t) h_{t-1},  h_0 = 0

Every layer but the last also reads the statements backwards, and the next
layer's queries are q_t = h_fwd_t + h_bwd_t; the last layer runs forwards
only, without a reset gate, and the answer's scores are W_y h_T. All layers
share one set of weights; the two directions share all but the reset gate,
which has its own weights for each (as the authors' code has).

The gates read only x_t and q_t, never h_{t-1}, so the recurrence has a closed
form. With c_t = sum_{j <= t} log(1 - z_j),

    h_t = sum_{i <= t} exp(c_t - c_i) z_i r_i h~_i,

one (T x T) lower-triangular matrix of weights per example (per dim with
vector gates) times the (T x d) matrix of z r h~: a batched product, no loop
over statements. The backward direction takes c from the end (``cumsum``
with ``reverse``) and the upper triangle. c_t - c_i <= 0 where it is used, so
exp never overflows; the other triangle is set to -inf before exp, so it
gives exactly 0 and passes no gradient.

Empty slots (a story shorter than the memory) come after the statements; z
is 0 there, so h passes through them unchanged and h at the last slot is h
at the last statement. Inside log(1 - z), filled slots get the dtype's
smallest normal number added (1.2e-38 in float32): when z rounds to 1 the log
stays finite (about -87), so c_t - c_i is never inf - inf, while every other
value is exactly what it was; empty slots get nothing added, so their log is
exactly 0. A z of 1 makes c jump by about -87, after which the weights from
before it are exp(-87), nothing, and the differences after it lose about
1e-5 of relative precision in float32 per such jump.
"""

import numpy as np

from .. import ops
from ..backend import device_of, get_array_module, to_device
from ..data.vocab import PAD_ID
from ..nn.layers import Embedding
from ..nn.module import Module, Parameter
from ..tensor import Tensor

GATES = ("scalar", "vector")


def _glorot(n_inputs, n_outputs):
    """(n_inputs, n_outputs) weights from U(-l, l), l = sqrt(6 / (n_inputs + n_outputs)) (Glorot and Bengio)."""
    limit = np.sqrt(6.0 / (n_inputs + n_outputs))
    return np.random.uniform(-limit, limit, (n_inputs, n_outputs))


def _uniform(limit):
    return lambda n_inputs, n_outputs: np.random.uniform(-limit, limit, (n_inputs, n_outputs))


def _unit_scaling(n_inputs, n_outputs):
    """U(-l, l), l = sqrt(3 / n_inputs): variance 1 / n_inputs, TensorFlow's old default for a weight."""
    return _uniform(np.sqrt(3.0 / n_inputs))(n_inputs, n_outputs)


def _normal(std):
    return lambda *shape: np.random.randn(*shape) * std


# How each weight starts: "table" draws A, "gate" the gates' weights, "layer" W_h, "answer" W_y.
# The authors' code gives A and the gates standard deviation 1 whatever d is; W_h and W_y
# get TensorFlow's default of its day (its comments name uniform unit scaling).
INITS = {
    "authors": lambda std: {"table": _uniform(np.sqrt(3.0)), "gate": _uniform(np.sqrt(3.0)),
                            "layer": _unit_scaling, "answer": _unit_scaling},
    "paper": lambda std: {"table": _normal(std), "gate": _glorot, "layer": _glorot, "answer": _normal(std)},
}


def position_weights(words, dim):
    """(words, dim) weights l_jk = (1 - k/d) + (j/J)(2k/d - 1), j and k from 1, J = ``words``.

    The paper's position encoding, (1 - j/J) - (k/d)(1 - 2j/J), as the authors'
    QRN code computes it: J is the padded sentence length, the same for every
    sentence. Its weights lie in [0, 1], half the scale of the memory network's
    form (``minigrad.models.memory.position_encoding``), which matters here: the
    gates read x * q, a product of two such bags.
    """
    j = np.arange(1, words + 1)[:, None]
    k = np.arange(1, dim + 1)[None, :]
    return (1 - k / dim) + (j / words) * (2 * k / dim - 1)


def _array(x):
    return x.data if isinstance(x, Tensor) else x


class QRN(Module):
    """A query-reduction network over ``data.mode: memory`` batches.

    ``forward(memories, questions, times, mask)`` takes a ``MemoryBatch``'s
    arrays (the ages are not used: the order of the slots is the time) and
    returns answer scores (batch, vocab).

    Args:
        vocab_size: words in the vocabulary; id 0 is ``<pad>``, whose vector stays zero.
        embedding_dim: d, the size of every statement, query and hidden vector.
        layers: stacked QRN layers, all sharing one set of weights.
        reset_gate: use reset gates (in every layer but the last).
        bidirectional: every layer but the last reads the story both ways.
        gate: ``scalar`` (one update and reset gate per statement) or ``vector`` (one per dim).
        memory_size: the most statements a question keeps.
        init: ``authors`` (the released code's: A and the gate weights from
            U(-sqrt(3), sqrt(3)), W_h and W_y from U(-sqrt(3/n), sqrt(3/n)) with n
            their inputs) or ``paper`` (A and W_y from N(0, init_std^2), the gate
            and candidate weights Glorot-uniform); biases start at 0 either way.
        init_std: the standard deviation of A and W_y with ``init="paper"``.
        update_bias: a constant added inside the update gate's sigmoid; -2.5 (the
            code's) starts every z lower, so early statements are not forgotten at once.
    """

    # What ``attend`` gives besides the scores, for ``minigrad predict``'s table: its title and columns.
    reading_labels = ("update gate z of each statement", "layer")

    def __init__(self, vocab_size, embedding_dim=50, layers=2, reset_gate=True, bidirectional=True,
                 gate="scalar", memory_size=50, init="authors", init_std=0.1, update_bias=-2.5):
        if gate not in GATES:
            raise ValueError(f"gate must be 'scalar' or 'vector', not {gate!r}")
        if init not in INITS:
            raise ValueError(f"init must be 'authors' or 'paper', not {init!r}")
        d = self.dim = embedding_dim
        self.vocab_size, self.layers, self.memory_size, self.gate = vocab_size, layers, memory_size, gate
        self.bidirectional, self.update_bias = bidirectional, update_bias
        self.reset_gate = reset_gate and layers > 1  # the last layer has none
        self.width = 1 if gate == "scalar" else d
        resets = (2 if bidirectional else 1) if self.reset_gate else 0
        draw = INITS[init](init_std)
        self.embedding = Embedding(vocab_size, d, padding_idx=PAD_ID)
        self.embedding.weight.data[1:] = draw["table"](vocab_size - 1, d)
        # One product gives every gate: [W_z | W_r forwards | W_r backwards], each block drawn on its own.
        blocks = [draw["gate"](d, self.width) for _ in range(1 + resets)]
        self.gate_weight = Parameter(np.concatenate(blocks, axis=1), dtype=np.float32)
        self.gate_bias = Parameter(np.zeros(self.width * (1 + resets)), dtype=np.float32)
        candidate = draw["layer"](2 * d, d)  # W_h over [x; q], kept as its two halves
        self.candidate_x = Parameter(candidate[:d], dtype=np.float32)
        self.candidate_q = Parameter(candidate[d:], dtype=np.float32)
        self.candidate_bias = Parameter(np.zeros(d), dtype=np.float32)
        self.answer = Parameter(draw["answer"](d, vocab_size), dtype=np.float32)
        self._constants = {}  # (what, size, dtype, device) -> an array built once

    def forward(self, memories, questions, times=None, mask=None):
        return self.attend(memories, questions, times, mask)[0]

    def attend(self, memories, questions, times=None, mask=None):
        """(answer scores (batch, vocab), every layer's update gates (batch, slots), averaged over dims)."""
        memories, questions = _array(memories), _array(questions)
        mask = memories.any(axis=-1) if mask is None else _array(mask)
        x, q = self._embed(memories, questions)
        filled = self._filled(mask, x.data)
        x_part = ops.Linear.apply(x, self.candidate_x, self.candidate_bias)  # the same in every layer
        updates = []
        for k in range(self.layers):
            q, z = self._layer(x, x_part, q, filled, last=k == self.layers - 1)
            updates.append(z if self.width == 1 else z.mean(dim=-1, keepdim=True))
        batch, slots = mask.shape
        return q @ self.answer, [z.reshape(batch, slots) for z in updates]

    def _embed(self, memories, questions):
        """Statement vectors (batch, slots, d) and the question's (batch, 1, d), from one bag of A."""
        ids = get_array_module(memories).concatenate([memories, questions[:, None, :]], axis=1)
        words = ids.shape[-1]
        weight = self.embedding.weight
        position = self._constant("position", words, weight.dtype, weight.data).data
        bags = ops.EmbeddingBag.apply(weight, ids=ids, position=position, padding=PAD_ID)
        return bags[:, :-1], bags[:, -1:]

    def _layer(self, x, x_part, q, filled, last):
        """The next queries (batch, slots, d) of one layer, and its update gates z; of the last
        layer only the query at the last slot, h_T (batch, d)."""
        # A Linear rather than q @ W: its weight gradient is one 2-D product over every slot of the batch.
        candidate = (x_part + ops.Linear.apply(q, self.candidate_q)).tanh()
        bias = self.gate_bias + self._constant("offset", len(self.gate_bias), x.dtype, x.data)
        gates = ops.Linear.apply(x * q, self.gate_weight, bias).sigmoid()
        w = self.width
        z = gates[..., :w] * filled[0]  # 0 at empty slots: h passes them unchanged
        log_keep = ((1 - z) + filled[1]).log()  # log(1 - z), exactly 0 at empty slots
        if last:
            return self._last(z, log_keep, candidate), z
        forwards = backwards = z
        if self.reset_gate:
            forwards, backwards = z * gates[..., w:2 * w], z * gates[..., -w:]
        h = self._reduce(forwards, log_keep, candidate, reverse=False)
        if not self.bidirectional:
            return h, z
        return h + self._reduce(backwards, log_keep, candidate, reverse=True), z

    @staticmethod
    def _last(z, log_keep, candidate):
        """h_T = sum_i exp(c_T - c_i) z_i h~_i: the last row of the forward weights, all the answer reads."""
        sums = log_keep.cumsum(1)
        return ((sums[:, -1:] - sums).exp() * z * candidate).sum(dim=1)

    def _reduce(self, a, log_keep, candidate, reverse):
        """h_t = sum_i exp(c_t - c_i) a_i h~_i over i <= t (i >= t with ``reverse``), c the running sums of log_keep."""
        sums = log_keep.cumsum(1, reverse=reverse)
        batch, slots, d = candidate.shape
        outside = self._constant("upper" if reverse else "lower", slots, sums.dtype, sums.data)
        if self.width == 1:
            weights = (sums - sums.transpose(0, 2, 1) + outside).exp()  # (batch, t, i)
            return weights @ (a * candidate)
        per_dim = sums.transpose(0, 2, 1)  # (batch, d, slots): one matrix of weights per dim
        weights = (per_dim.reshape(batch, d, slots, 1) - per_dim.reshape(batch, d, 1, slots) + outside).exp()
        h = weights @ (a * candidate).transpose(0, 2, 1).reshape(batch, d, slots, 1)
        return h.reshape(batch, d, slots).transpose(0, 2, 1)

    def _filled(self, mask, like):
        """(1 where a slot holds a statement else 0, the dtype's smallest normal number there else 0),
        both (batch, slots, 1): the second keeps log(1 - z) finite (see the module's docstring)."""
        filled = to_device(mask[..., None].astype(like.dtype), device_of(like))
        return Tensor(filled), Tensor(filled * np.finfo(like.dtype).tiny)

    def _constant(self, what, size, dtype, like):
        """An array that depends only on its size: built once per size, dtype and device."""
        key = (what, size, np.dtype(dtype), device_of(like))
        if key not in self._constants:
            self._constants[key] = Tensor(to_device(_CONSTANTS[what](self, size).astype(key[2]), key[3]))
        return self._constants[key]


def _outside(keep_lower):
    """(slots, slots): 0 where a weight is used, -inf on the other side of the diagonal."""
    def build(model, slots):
        used = np.tril(np.ones((slots, slots), bool)) if keep_lower else np.triu(np.ones((slots, slots), bool))
        return np.where(used, 0.0, -np.inf)
    return build


_CONSTANTS = {
    "position": lambda model, words: position_weights(words, model.dim),
    # The update gate's constant: update_bias on its column(s), 0 on the reset gates'.
    "offset": lambda model, n: np.where(np.arange(n) < model.width, model.update_bias, 0.0),
    "lower": _outside(True),
    "upper": _outside(False),
}
