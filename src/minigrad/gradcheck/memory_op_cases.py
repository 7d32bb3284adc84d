"""The gradcheck registry's cases for the memory-network ops, each with a
plain-numpy reference for its forward."""

import numpy as np

from ..ops.memory import EmbeddingBag, MaskedSoftmax, ZeroRow
from .op_cases import case, fixed, normal

# Bags of 4 word slots over a 6-word table: repeated words, and <pad> (0) in the tails.
IDS = [[[1, 2, 1, 0], [3, 5, 0, 0], [0, 0, 0, 0]],
       [[4, 4, 4, 2], [5, 1, 3, 0], [2, 0, 0, 0]]]
AGES = [[[4], [1], [0]], [[2], [2], [3]]]  # one word per bag, one repeated
POSITION = np.linspace(0.5, 1.5, 4 * 3).reshape(4, 3)  # (words, dim), all distinct
# One row with an empty last slot, one with a single real slot, one with none.
MASK = np.array([[True, True, False], [False, True, False], [False, False, False]])


def _bag(weight, ids, position=1.0):
    return (weight[ids] * position).sum(axis=-2)


def _side_by_side_bag(*weights, ids, position=1.0, padding=None):
    """Each table's bag on its own, with the padding row zeroed, joined along the last axis."""
    bags = []
    for w in weights:
        table = w.copy()
        if padding is not None:
            table[padding] = 0
        bags.append(_bag(table, ids, position))
    return np.concatenate(bags, axis=-1)


def _nil_zero(*shape):
    """A table whose row 0, the nil word, is zero, as the memory network holds it."""
    def make(rng):
        table = rng.standard_normal(shape)
        table[0] = 0
        return table
    return make


def _zero_row(weight, row):
    out = weight.copy()
    out[row] = 0
    return out


def _masked_softmax(x, mask):
    e = np.where(mask, np.exp(x - x.max(axis=-1, keepdims=True)), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


CASES = [
    case("zero_row", "row 0 of (5,3)", lambda w: ZeroRow.apply(w, row=0), [normal(5, 3)],
         lambda w: _zero_row(w, 0)),
    case("zero_row", "row 2 of (4,2)", lambda w: ZeroRow.apply(w, row=2), [normal(4, 2)],
         lambda w: _zero_row(w, 2)),
    case("embedding_bag", "bag of words, ids (2,3,4)", lambda w, i: EmbeddingBag.apply(w, ids=i.data),
         [normal(6, 3), fixed(IDS)], _bag),
    case("embedding_bag", "position weights, ids (2,3,4)",
         lambda w, i: EmbeddingBag.apply(w, ids=i.data, position=POSITION), [normal(6, 3), fixed(IDS)],
         lambda w, i: _bag(w, i, POSITION)),
    case("embedding_bag", "position weights, ids (3,4)",
         lambda w, i: EmbeddingBag.apply(w, ids=i.data, position=POSITION), [normal(6, 3), fixed(IDS[1])],
         lambda w, i: _bag(w, i, POSITION)),
    case("embedding_bag", "three tables side by side, position weights, padding 0, ids (2,3,4)",
         lambda a, b, c, i: EmbeddingBag.apply(a, b, c, ids=i.data, position=POSITION, padding=0),
         [normal(6, 3), normal(6, 3), normal(6, 3), fixed(IDS)],
         lambda a, b, c, i: _side_by_side_bag(a, b, c, ids=i, position=POSITION, padding=0)),
    # Its forward leaves out the all-nil bag only while row 0 is zero, so the gradient there comes
    # from the left-out bags' formula, and the finite differences (row 0 moved) from real gathers.
    case("embedding_bag", "two tables side by side, position weights, nil 0 (rows zero), ids (2,3,4)",
         lambda a, b, i: EmbeddingBag.apply(a, b, ids=i.data, position=POSITION, nil=0),
         [_nil_zero(6, 3), _nil_zero(6, 3), fixed(IDS)],
         lambda a, b, i: _side_by_side_bag(a, b, ids=i, position=POSITION)),
    case("embedding_bag", "bag of words, nil 0 (row zero), ids (2,3,4)",
         lambda w, i: EmbeddingBag.apply(w, ids=i.data, nil=0), [_nil_zero(6, 3), fixed(IDS)], _bag),
    case("embedding_bag", "two tables, one-word bags (lookups), ids (2,3,1)",
         lambda a, b, i: EmbeddingBag.apply(a, b, ids=i.data), [normal(5, 2), normal(5, 2), fixed(AGES)],
         lambda a, b, i: _side_by_side_bag(a, b, ids=i)),
    case("masked_softmax", "(3,3) with empty slots and an empty row",
         lambda x: MaskedSoftmax.apply(x, mask=MASK), [normal(3, 3)], lambda x: _masked_softmax(x, MASK)),
    case("masked_softmax", "(2,3,5) all slots real", lambda x: MaskedSoftmax.apply(x, mask=np.ones((2, 3, 5), bool)),
         [normal(2, 3, 5)], lambda x: _masked_softmax(x, True)),
]
