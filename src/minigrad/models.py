"""The models a run file can describe, built on the layers.

* ``LanguageModel``: next-word prediction. An embedding, stacked recurrent
  cells, and a linear read-out give word scores at every time step.
* ``QuestionAnswerer``: bAbI question answering as in the well-known LSTM
  baselines. One recurrent encoder reads the story, another the question;
  their last hidden vectors side by side go through a linear layer that
  scores every word of the vocabulary as the answer.
* a ``Sequential`` of layers, applied to every time step (lm mode only).
* an end-to-end memory network (``minigrad.nn.memory``), mode memory only.
"""

from .errors import ConfigError
from .nn import Dropout, Embedding, Linear, ReLU, Sequential, Sigmoid, Tanh
from .nn.memory import memn2n
from .nn.module import Module
from .nn.recurrent import CELLS
from .tensor import concat


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


def _sequential(layers, vocab_size):
    """A Sequential from the run file's layer list; sizes chain from layer to layer."""
    built, size = [], None
    for spec in layers:
        if spec.type == "Embedding":
            built.append(Embedding(vocab_size, spec.dim))
            size = spec.dim
        elif spec.type == "Linear":
            n_outputs = vocab_size if spec.n_outputs == "vocab" else spec.n_outputs
            built.append(Linear(spec.n_inputs or size, n_outputs, bias=spec.bias))
            size = n_outputs
        else:
            built.append(_LAYERS_WITHOUT_SIZES[spec.type](**spec.model_dump(exclude={"type"})))
    return Sequential(built)


_LAYERS_WITHOUT_SIZES = {"Tanh": Tanh, "Sigmoid": Sigmoid, "ReLU": ReLU, "Dropout": Dropout}


def _memn2n(spec, vocab_size):
    """A memory network from the run file's ``model`` section (mode memory; see ``minigrad.nn.memory``)."""
    return memn2n(vocab_size, tying=spec.tying, embedding_dim=spec.embedding_dim, hops=spec.hops,
                  position_encoding=spec.position_encoding, temporal_encoding=spec.temporal_encoding,
                  memory_size=spec.memory_size, std=spec.init_std, empty_slots=spec.empty_slots)


def build_model(config, vocab_size):
    """The model a run config describes, for a vocabulary of ``vocab_size`` words."""
    spec, mode = config.model, config.data.mode
    if spec.type == "memn2n":
        return _memn2n(spec, vocab_size)
    if spec.type == "recurrent":
        kind = LanguageModel if mode == "lm" else QuestionAnswerer
        return kind(vocab_size, spec.embedding_dim, spec.cell, spec.hidden_size, spec.layers)
    if mode != "lm":
        raise ConfigError(f"model: a sequential model works in mode 'lm' only, not {mode!r}.",
                          hint="Use a recurrent model (embedding_dim, cell, hidden_size) for qa.")
    first = spec.layers[0]
    if first.type != "Embedding":
        raise ConfigError("model.layers[0].type: the first layer must be an Embedding (the inputs are word ids).")
    return _sequential(spec.layers, vocab_size)
