"""Next-word prediction (``mode: lm``), the lesson's experiment.

Every line of the file (statements, and questions without their answers) is
one sequence; a batch is ``(inputs, targets)`` of shape (batch, time) with
``targets`` the inputs shifted left by one. Rows are padded on the **right**
with ``<pad>`` = 0, which the loss skips (``ignore_index=0``). A recurrent
model reads left to right, so padding after the words never changes what it
computes at a real word: the output after ``mary moved to the`` is the same
in a padded batch as for that context alone, and predicting the next word is
simply "feed the context, read the last output".
"""

from typing import NamedTuple

import numpy as np

from ..errors import DataError
from .babi import tokenize
from .batching import ID_DTYPE, batch_indices, pad


class LMBatch(NamedTuple):
    """Next-word batch: ``targets[:, t]`` is the word after ``inputs[:, t]``."""

    inputs: np.ndarray  # (batch, time) int
    targets: np.ndarray  # (batch, time) int, 0 where padded


def lm_sequences(stories, vocab, max_len=None):
    """Each line's ids, in file order, cut to its first ``max_len`` tokens if given."""
    return [vocab.encode(line.tokens[:max_len]) for story in stories for line in story.lines()]



class LMDataset:
    """Sentences as id sequences for next-word prediction (``mode: lm``)."""

    def __init__(self, sequences):
        # A one-word line has no next word to predict.
        self.sequences = [list(s) for s in sequences if len(s) >= 2]

    @classmethod
    def from_stories(cls, stories, vocab, max_len=None, limit=None):
        """The first ``limit`` lines of ``stories`` (all if None), each cut to ``max_len`` tokens."""
        return cls(lm_sequences(stories, vocab, max_len)[:limit])

    def __len__(self):
        return len(self.sequences)

    def subset(self, index):
        """The sentences at ``index`` (a slice), as a dataset of their own."""
        return LMDataset(self.sequences[index])

    lengths = ()  # each batch is as long as its longest sentence: nothing to pad to

    @classmethod
    def join(cls, parts, lengths=None):
        """The sentences of ``parts``, in order, as one dataset."""
        return cls([s for part in parts for s in part.sequences])

    def batches(self, batch_size, rng=None, drop_last=False, replacement=False):
        """Yield ``LMBatch`` es of up to ``batch_size`` sentences, drawn as ``batch_indices`` says.

        Each batch is as long as its longest sentence minus one (the last
        word is only a target, the first only an input).
        """
        for index in batch_indices(len(self), batch_size, rng, drop_last, replacement):
            chosen = [self.sequences[i] for i in index]
            # Pad inputs and targets separately, so a row's last word is never an input.
            yield LMBatch(pad([s[:-1] for s in chosen]), pad([s[1:] for s in chosen]))


# ---- prediction-time encoding ----------------------------------------------------------


def encode_context(text, vocab, unknown="error"):
    """A context such as ``"Mary moved to the"`` as a (1, time) id array for an ``lm`` model."""
    tokens = tokenize(text)
    if not tokens:
        raise DataError("the context has no words", "Give a few words, e.g. 'mary moved to the'.")
    return np.array([vocab.encode(tokens, unknown)], dtype=ID_DTYPE)
