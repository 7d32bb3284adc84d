"""A question answerer of your own, for ``model: {class_path: my_model.py:RecencyBag}``.

It reads a bAbI story as a bag of words in which later words weigh more (a
word's weight grows with its position, so "Mary went to the garden" after
"Mary went to the kitchen" wins), adds the question's bag, and scores every
word of the vocabulary as the answer through one hidden layer.

minigrad constructs it as ``RecencyBag(**init_args, vocab_size=V, mode=M)``
(it passes ``vocab_size`` and ``mode`` because ``__init__`` names them) and
calls it on the batches of data mode qa: ``forward(stories, questions)``.
"""

import numpy as np

from minigrad import Embedding, Linear, Module, Tensor, concat

PAD = 0  # the vocabulary's <pad> id


class RecencyBag(Module):
    """(batch, story_len) and (batch, question_len) word ids -> (batch, vocab) answer scores.

    Args:
        vocab_size: words in the vocabulary (given by minigrad).
        mode: the run file's data mode (given by minigrad); this model reads qa batches only.
        dim: the length of every word vector.
        hidden: units of the hidden layer.
    """

    def __init__(self, vocab_size, mode, dim=32, hidden=64):
        if mode != "qa":
            raise ValueError(f"RecencyBag reads data.mode: qa, not {mode}")
        self.story = Embedding(vocab_size, dim, padding_idx=PAD)
        self.question = Embedding(vocab_size, dim, padding_idx=PAD)
        self.hidden = Linear(2 * dim, hidden)
        self.answer = Linear(hidden, vocab_size)

    def forward(self, stories, questions):
        # Stories are padded on the left, so the last column is the most recent word.
        steps = stories.shape[1]
        recency = Tensor(np.linspace(1.0 / steps, 1.0, steps, dtype=np.float32)[None, :, None])
        story = (self.story(stories) * recency).sum(dim=1)
        question = self.question(questions).sum(dim=1)
        return self.answer(self.hidden(concat([story, question], dim=-1)).relu())
