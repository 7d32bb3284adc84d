"""Workload 7 of ``scripts/bench.py``: the query-reduction network of configs/babi_qrn.yaml.

One unit is one training epoch on bAbI task 2 (900 questions after the 10%
validation hold-out, 29 batches of 32, stories filling all 50 slots), cut
once by minigrad's ``MemoryDataset`` so both frameworks train on the same
numpy arrays. A step is the run file's: mean cross-entropy, then AdaGrad
(lr 0.5, sums of squares from 0.1, L2 weight decay 0.001). PyTorch runs the
same model written the same way: one position-weighted bag of A for the
statements and the question (``index_select``), the closed form of the
recurrence as a lower/upper-triangular matrix of weights from ``cumsum``
per example and ``bmm``, and of the last layer only h_T.
"""

import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np

import minigrad as mg
from minigrad.data import PAD_ID, MemoryDataset, build_datasets
from minigrad.models import build_model
from minigrad.models.qrn import position_weights
from minigrad.tool.config import load_config

QRN_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "babi_qrn.yaml"


class QRNData(NamedTuple):
    config: object  # configs/babi_qrn.yaml with its task replaced
    train: list  # MemoryBatch es in one fixed shuffled order
    train_set: MemoryDataset
    vocab_size: int


@functools.lru_cache(maxsize=None)
def qrn_data(task=2):
    """configs/babi_qrn.yaml's training batches on bAbI ``task``, cut once (seed 0) and shared."""
    config = load_config(QRN_CONFIG, {"task": task})
    datasets = build_datasets(config.data, memory_size=config.model.memory_size)
    batches = list(datasets.train.batches(config.data.batch_size, np.random.default_rng(0)))
    return QRNData(config, batches, datasets.train, len(datasets.vocab))


def _runner(train_on, batches):
    from _bench_workloads import Runner  # a sibling script, loaded by bench.py before this one

    return Runner(lambda: train_on(batches), lambda: [train_on(batches[:2]) for _ in range(3)])


def minigrad_qrn_trainer(data):
    """(model, function that trains on a list of batches): ``minigrad train``'s step for the run file."""
    config = data.config
    np.random.seed(config.train.seed)
    model = build_model(config, data.vocab_size)
    spec = config.optimizer
    optimizer = mg.Adagrad(model.parameters(), lr=spec.lr, initial_accumulator=spec.initial_accumulator,
                           weight_decay=spec.weight_decay)

    def train_on(batches):
        for *inputs, answers in batches:
            model(*inputs).cross_entropy(answers, ignore_index=PAD_ID).backward()
            optimizer.step()

    return model, train_on


def minigrad_qrn(data=None):
    data = data or qrn_data()
    return _runner(minigrad_qrn_trainer(data)[1], data.train)


def _torch_qrn_module(torch, spec, vocab_size, sentence_len):
    """The QRN of ``spec`` (the run file's model section) in PyTorch: 2r, scalar gates, bidirectional."""
    if spec.gate != "scalar" or not (spec.bidirectional and spec.reset_gate):
        raise ValueError("the PyTorch QRN is written for scalar gates, both directions and reset gates")
    nn, d = torch.nn, spec.embedding_dim
    std = spec.init_std or d ** -0.5  # for timing only: the scale of the draws does not change the work

    def glorot(n_in, n_out):
        return nn.Parameter(nn.init.xavier_uniform_(torch.empty(n_in, n_out)))

    class QRN(nn.Module):
        def __init__(self):
            super().__init__()
            self.A = nn.Parameter(torch.randn(vocab_size, d) * std)
            self.gate_weight = nn.Parameter(torch.cat([glorot(d, 1) for _ in range(3)], dim=1).detach())
            self.gate_bias = nn.Parameter(torch.zeros(3))
            self.candidate_x, self.candidate_q = glorot(d, d), glorot(d, d)
            self.candidate_bias = nn.Parameter(torch.zeros(d))
            self.answer = nn.Parameter(torch.randn(d, vocab_size) * std)
            keep = torch.ones(vocab_size, 1)
            keep[PAD_ID] = 0
            self.register_buffer("keep", keep)
            self.register_buffer("position", torch.tensor(position_weights(sentence_len, d), dtype=torch.float32))
            self.register_buffer("offset", torch.tensor([spec.update_bias, 0.0, 0.0]))

        def forward(self, memories, questions, times, mask):
            ids = torch.cat([memories, questions.unsqueeze(1)], dim=1)
            table = self.A * self.keep
            bags = (table.index_select(0, ids.reshape(-1)).view(*ids.shape, d) * self.position).sum(dim=-2)
            x, q = bags[:, :-1], bags[:, -1:]
            filled = mask.unsqueeze(-1).to(x.dtype)
            x_part = x @ self.candidate_x + self.candidate_bias
            slots = x.shape[1]
            lower = torch.ones(slots, slots, dtype=torch.bool).tril()
            for layer in range(spec.layers):
                candidate = torch.tanh(x_part + q @ self.candidate_q)
                gates = torch.sigmoid((x * q) @ self.gate_weight + self.gate_bias + self.offset)
                z = gates[..., :1] * filled
                log_keep = torch.log(1 - z + filled * torch.finfo(x.dtype).tiny)
                if layer == spec.layers - 1:
                    sums = log_keep.cumsum(1)
                    return (torch.exp(sums[:, -1:] - sums) * z * candidate).sum(dim=1) @ self.answer
                q = (self.reduce(z * gates[..., 1:2], log_keep.cumsum(1), candidate, lower)
                     + self.reduce(z * gates[..., 2:3], log_keep.flip(1).cumsum(1).flip(1), candidate, lower.T))

        @staticmethod
        def reduce(a, sums, candidate, used):
            exponents = (sums - sums.transpose(1, 2)).masked_fill(~used, float("-inf"))
            return torch.bmm(exponents.exp(), a * candidate)

    return QRN()


def pytorch_qrn_trainer(torch, data):
    config = data.config
    torch.manual_seed(config.train.seed)
    model = _torch_qrn_module(torch, config.model, data.vocab_size, data.train_set.sentence_len)
    spec = config.optimizer
    optimizer = torch.optim.Adagrad(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay,
                                    initial_accumulator_value=spec.initial_accumulator, eps=1e-10)

    def train_on(batches):
        for *inputs, answers in batches:
            loss = torch.nn.functional.cross_entropy(model(*inputs), answers, ignore_index=PAD_ID)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return model, train_on


def pytorch_qrn(torch, data=None):
    data = data or qrn_data()
    batches = [tuple(torch.from_numpy(a) for a in batch) for batch in data.train]
    return _runner(pytorch_qrn_trainer(torch, data)[1], batches)
