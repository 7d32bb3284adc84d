"""Helpers every kind of batch uses: padding id sequences, shuffled chunks, the last tokens.

Batches are produced lazily from lists of id sequences; the order is
shuffled with a ``numpy.random.Generator`` the caller owns, so one generator
seeded with the run's seed gives the same order every run and a new order
every epoch. The datasets themselves are in ``lm``, ``qa`` and ``memory``.
"""

import math

import numpy as np

from ..errors import DataError
from .vocab import PAD_ID

ID_DTYPE = np.int64
_SENTENCE_END = {".", "!", "?"}


def _last(tokens, n):
    """The last ``n`` tokens (all of them when ``n`` is None)."""
    return list(tokens) if n is None else list(tokens)[max(len(tokens) - n, 0):]


def pad(sequences, length=None, side="right"):
    """Stack id sequences into a (len(sequences), length) int array filled out with ``<pad>``.

    ``length`` defaults to the longest sequence; a longer one is an error
    (cut sequences before padding them).
    """
    length = max((len(s) for s in sequences), default=0) if length is None else length
    out = np.full((len(sequences), length), PAD_ID, dtype=ID_DTYPE)
    for row, seq in zip(out, sequences):
        if len(seq) > length:
            raise ValueError(f"a sequence of {len(seq)} ids does not fit in length {length}")
        if side == "right":
            row[:len(seq)] = seq
        elif len(seq):  # row[length - 0:] would be the whole row
            row[length - len(seq):] = seq
    return out


def _order(n, rng):
    """Indices 0..n-1, shuffled by ``rng`` when one is given."""
    return rng.permutation(n) if rng is not None else np.arange(n)


def batch_indices(n, batch_size, rng=None, drop_last=False, replacement=False):
    """The indices of each batch of one epoch over ``n`` examples.

    Without ``rng``: 0..n-1 in order. With it, shuffled: every example once,
    the last batch shorter unless ``drop_last``. With ``replacement`` as
    well: max(1, n // batch_size) batches of ``batch_size`` examples, each
    drawn uniformly at random, so an epoch may see one example twice and
    another not at all (the memory network authors' code draws its batches
    so).
    """
    if replacement and rng is not None:
        return (rng.integers(0, n, batch_size) for _ in range(batch_count(n, batch_size, replacement=True)))
    return _chunks(_order(n, rng), batch_size, drop_last)


def batch_count(n, batch_size, drop_last=False, replacement=False):
    """How many batches ``batch_indices`` gives an epoch of ``n`` examples."""
    if replacement:
        return max(1, n // batch_size)
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def _chunks(order, batch_size, drop_last):
    """Consecutive slices of ``order`` of ``batch_size`` (the last may be shorter unless dropped)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    for start in range(0, batch_count(len(order), batch_size, drop_last) * batch_size, batch_size):
        yield order[start:start + batch_size]


def split_question(tokens):
    """Split tokens into (story, question) where the question is the final sentence ending in ``?``."""
    if not tokens or tokens[-1] != "?":
        raise DataError("the text does not end with a question",
                        "End it with a question, e.g. 'Mary went to the garden. Where is Mary?'")
    start = max((i + 1 for i, w in enumerate(tokens[:-1]) if w in _SENTENCE_END), default=0)
    return tokens[:start], tokens[start:]
