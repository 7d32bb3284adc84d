"""The gradcheck registry's memory-network cases: the whole model, in both
tyings, with and without position and temporal encoding, and in its
linear-start form, against a plain-numpy forward written hop by hop."""

import numpy as np

from ..gradcheck import Case, Trial
from .layers import Embedding
from .memory import LayerwiseMemN2N, memn2n, position_encoding

VOCAB, DIM, SLOTS, WORDS, MEMORY_SIZE = 7, 4, 3, 4, 5
MEMORIES = np.array([[[2, 3, 1, 0], [4, 4, 0, 0], [0, 0, 0, 0]],   # the last slot is empty
                     [[5, 6, 2, 3], [6, 1, 0, 0], [3, 2, 5, 0]]])
QUESTIONS = np.array([[6, 2, 0, 0], [1, 3, 4, 0]])
TIMES = np.array([[1, 0, 0], [4, 2, 0]])  # ages, with a gap in the second row (random noise)
MASK = MEMORIES.any(axis=-1)


def _nil_zeroed(weight):
    table = weight.copy()
    table[0] = 0
    return table


def _masked_softmax(x, mask):
    e = np.where(mask, np.exp(x - x.max(axis=-1, keepdims=True)), 0.0)
    return e / e.sum(axis=-1, keepdims=True)


def _reference(model):
    """The model's forward in numpy, reading its current weights.

    As in the authors' code, the age is one more word after a statement's
    words, at position J = words + 1 of the position encoding, and an empty
    slot has no words and no age.
    """
    def weights(words):
        return position_encoding(words + 1, DIM) if model.position_encoding else np.ones((words + 1, DIM))

    def bag(table, ids):
        return (table[ids] * weights(ids.shape[-1])[:-1]).sum(axis=-2)

    def age(i, times, mask, words):
        if not model.times:
            return 0
        return model.times[i].weight.data[times] * weights(words)[-1] * mask[..., None]

    def run(memories, questions, times, mask):
        tables = [_nil_zeroed(t.weight.data) for t in model.tables]
        embedded = [bag(t, memories) + age(i, times, mask, memories.shape[-1]) for i, t in enumerate(tables)]
        layerwise = isinstance(model, LayerwiseMemN2N)
        u = bag(_nil_zeroed(model.question.weight.data) if layerwise else tables[0], questions)
        everywhere = np.ones_like(mask)
        for key, value in model.pairs:
            scores = np.einsum("bmd,bd->bm", embedded[key], u)
            p = scores if model.linear_start else _masked_softmax(
                scores, mask if model.empty_slots == "mask" else everywhere)
            o = np.einsum("bm,bmd->bd", p, embedded[value])
            u = (u @ model.mix.weight.data if layerwise else u) + o
        return u @ model.answer.weight.data if layerwise else u @ tables[-1].T

    return run


def _model_case(tying, hops=2, linear_start=False, **options):
    def setup(rng):
        model = memn2n(VOCAB, tying=tying, embedding_dim=DIM, hops=hops, memory_size=MEMORY_SIZE, **options)
        model.linear_start = linear_start
        params = model.parameters()
        for p in params:
            p.data = rng.standard_normal(p.shape) * 0.4
        return Trial(model, [MEMORIES, QUESTIONS, TIMES, MASK], _reference(model), params)

    encodings = " ".join(name for name, on in (("PE", options.get("position_encoding", True)),
                                              ("TE", options.get("temporal_encoding", True))) if on)
    label = f"{tying}, {hops} hops, {encodings or 'bag of words'}" + (", linear start" if linear_start else "")
    if options.get("empty_slots") == "mask":
        label += ", empty slots masked"
    return Case("MemN2N", label, setup)


def _padded_embedding(rng):
    """Ids with <pad> (0): its row must get no gradient and give zero vectors."""
    layer = Embedding(5, 3, padding_idx=0)
    layer.weight.data = rng.standard_normal((5, 3))
    ids = np.array([[1, 0, 1], [4, 2, 0]])
    return Trial(layer, [ids], lambda i: _nil_zeroed(layer.weight.data)[i], [layer.weight])


CASES = [
    Case("Embedding", "padding_idx=0, ids (2,3) with <pad>", _padded_embedding),
    _model_case("adjacent"),
    _model_case("adjacent", hops=3, position_encoding=False, temporal_encoding=False),
    _model_case("adjacent", position_encoding=False),
    _model_case("adjacent", linear_start=True),
    _model_case("adjacent", empty_slots="mask"),
    _model_case("layerwise"),
    _model_case("layerwise", hops=3, position_encoding=False, temporal_encoding=False),
    _model_case("layerwise", temporal_encoding=False),
    _model_case("layerwise", linear_start=True),
]
