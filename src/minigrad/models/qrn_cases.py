"""The gradcheck cases of the query-reduction network: every weight of the whole model at once.

Each configuration (scalar or vector gates, with or without reset gates, one
or both directions, one to three layers) is checked against a plain-numpy
forward that runs the recurrence h_t = z_t r_t h~_t + (1 - z_t) h_{t-1} one
statement at a time, so the cases check the closed form as well as its
gradients. The first example's last slot is empty.
"""

import numpy as np

from ..gradcheck import Case, Trial
from .qrn import QRN, position_weights

VOCAB, DIM, MEMORY_SIZE = 7, 3, 5
MEMORIES = np.array([[[2, 3, 1, 0], [4, 4, 0, 0], [6, 1, 2, 0], [0, 0, 0, 0]],  # the last slot is empty
                     [[5, 6, 2, 3], [6, 1, 0, 0], [3, 2, 5, 0], [1, 4, 0, 0]]])
QUESTIONS = np.array([[6, 2, 0, 0], [1, 3, 4, 0]])
TIMES = np.zeros(MEMORIES.shape[:2], dtype=np.int64)  # not read by a QRN
MASK = MEMORIES.any(axis=-1)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _steps(a, z, candidate, reverse):
    """h_t = a_t h~_t + (1 - z_t) h_{t-1} from h = 0, one statement at a time, in either direction."""
    h, out = np.zeros_like(candidate[:, 0]), np.zeros_like(candidate)
    order = range(candidate.shape[1] - 1, -1, -1) if reverse else range(candidate.shape[1])
    for t in order:
        h = a[:, t] * candidate[:, t] + (1 - z[:, t]) * h
        out[:, t] = h
    return out


def _reference(model):
    """The model's forward in numpy, reading its current weights."""
    w = model.width

    def bag(ids):
        table = model.embedding.weight.data.copy()
        table[0] = 0
        return (table[ids] * position_weights(ids.shape[-1], DIM)).sum(axis=-2)

    def run(memories, questions, times, mask):
        x, q = bag(memories), bag(questions)[:, None, :]
        offset = np.where(np.arange(model.gate_bias.shape[0]) < w, model.update_bias, 0.0)
        for k in range(model.layers):
            candidate = np.tanh(x @ model.candidate_x.data + q @ model.candidate_q.data + model.candidate_bias.data)
            gates = _sigmoid((x * q) @ model.gate_weight.data + model.gate_bias.data + offset)
            z = gates[..., :w] * mask[..., None]
            if k == model.layers - 1:
                q = _steps(z, z, candidate, reverse=False)[:, -1]
                continue
            forwards, backwards = (z * gates[..., w:2 * w], z * gates[..., -w:]) if model.reset_gate else (z, z)
            q = _steps(forwards, z, candidate, reverse=False)
            if model.bidirectional:
                q = q + _steps(backwards, z, candidate, reverse=True)
        return q @ model.answer.data

    return run


def _qrn_case(layers=2, gate="scalar", reset_gate=True, bidirectional=True):
    def setup(rng):
        model = QRN(VOCAB, embedding_dim=DIM, layers=layers, reset_gate=reset_gate, bidirectional=bidirectional,
                    gate=gate, memory_size=MEMORY_SIZE, update_bias=-0.5)
        params = model.parameters()
        for p in params:
            p.data = rng.standard_normal(p.shape) * 0.5
        return Trial(model, [MEMORIES, QUESTIONS, TIMES, MASK], _reference(model), params)

    label = (f"{layers} layers, {gate} gates, {'reset' if reset_gate else 'no reset'}, "
             f"{'both directions' if bidirectional else 'forwards only'}")
    if layers == 1:  # the last layer runs forwards only, without a reset gate
        label = f"1 layer, {gate} gates"
    return Case("QRN", label, setup)


CASES = [
    _qrn_case(),
    _qrn_case(gate="vector"),
    _qrn_case(reset_gate=False),
    _qrn_case(gate="vector", reset_gate=False, bidirectional=False),
    _qrn_case(layers=3, bidirectional=False),
    _qrn_case(layers=3, gate="vector"),
    _qrn_case(layers=1),
]
