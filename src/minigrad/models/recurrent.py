"""The recurrent models a run file can describe (``model.type: recurrent``), built on the layers.

* ``LanguageModel``: next-word prediction. An embedding, stacked recurrent
  cells, and a linear read-out give word scores at every time step.
* ``QuestionAnswerer``: bAbI question answering as in the well-known LSTM
  baselines. One recurrent encoder reads the story, another the question;
  their last hidden vectors side by side go through a linear layer that
  scores every word of the vocabulary as the answer.
"""

from ..nn import Embedding, Linear
from ..nn.module import Module
from ..nn.recurrent import CELLS
from ..tensor import concat


def encode(embedding, cells, ids):
    """Hidden vectors (time, batch, hidden) of stacked ``cells`` over (batch, time) ``ids``.

    Everything runs time-major: the ids are looked up as (time, batch) in one
    op, and each cell runs the whole sequence at once (``Cell.run``). The
    first cell does the lookup itself (``Cell.run_on_ids``), so that it can
    fold its input product into the embedding table.
    """
    x, _ = cells[0].run_on_ids(embedding, ids.T)
    for cell in cells[1:]:
        x, _ = cell.run(x)
    return x


def make_cells(kind, n_inputs, n_hidden, n_layers):
    """``n_layers`` cells of type ``kind`` (rnn, lstm, gru) without output layers."""
    options = {"activation": "tanh"} if kind == "rnn" else {}
    sizes = [n_inputs] + [n_hidden] * (n_layers - 1)
    return [CELLS[kind](size, n_hidden, None, **options) for size in sizes]


class LanguageModel(Module):
    """Scores for the next word at every position of a (batch, time) id array."""

    def __init__(self, vocab_size, embedding_dim, cell, hidden_size, layers=1):
        self.embedding = Embedding(vocab_size, embedding_dim)
        self.cells = make_cells(cell, embedding_dim, hidden_size, layers)
        self.output = Linear(hidden_size, vocab_size)

    def forward(self, ids):
        """(batch, time) ids -> (batch, time, vocab) scores."""
        hiddens = encode(self.embedding, self.cells, ids)
        return self.output(hiddens).transpose(1, 0, 2)  # one product for all steps


class QuestionAnswerer(Module):
    """Scores for the answer word of a (story, question) pair of id arrays."""

    def __init__(self, vocab_size, embedding_dim, cell, hidden_size, layers=1):
        self.embedding = Embedding(vocab_size, embedding_dim)
        self.story_cells = make_cells(cell, embedding_dim, hidden_size, layers)
        self.question_cells = make_cells(cell, embedding_dim, hidden_size, layers)
        self.output = Linear(2 * hidden_size, vocab_size)

    def forward(self, stories, questions):
        """(batch, story_len) and (batch, question_len) ids -> (batch, vocab) scores."""
        story = encode(self.embedding, self.story_cells, stories)[-1]
        question = encode(self.embedding, self.question_cells, questions)[-1]
        return self.output(concat([story, question], dim=-1))
